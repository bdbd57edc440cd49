-- The servers serving this database, each under an id of its own, and when each last said so:
-- a replica seen within the last few seconds is live.
CREATE TABLE plugin_replicas (
    replica TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- Which replica has compiled which installation, ready to switch to it in milliseconds, or why
-- it could not. A plugin is activated only once every live replica has compiled it.
CREATE TABLE plugin_compiled (
    plugin_id BIGINT NOT NULL REFERENCES plugins (id),
    replica TEXT NOT NULL,
    compiled_at BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (plugin_id, replica)
);
