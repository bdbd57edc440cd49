-- Installed rule plugins and which one is active in each slot.
-- Times are Unix milliseconds, UTC.

CREATE TABLE plugins (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    summary TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    wasm BYTEA NOT NULL,
    config TEXT NOT NULL,
    installed_at BIGINT NOT NULL,
    installed_by TEXT NOT NULL
);
CREATE INDEX plugins_slot_sha256 ON plugins (slot, sha256);

-- Every activation, newest last; a rollback marks the current one rolled back.
CREATE TABLE plugin_activations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot TEXT NOT NULL,
    plugin_id BIGINT NOT NULL REFERENCES plugins (id),
    activated_at BIGINT NOT NULL,
    activated_by TEXT NOT NULL,
    rolled_back_at BIGINT,
    rolled_back_by TEXT
);
CREATE INDEX plugin_activations_slot ON plugin_activations (slot, id);

-- The active plugin per slot; replicas poll `generation` to notice a change.
CREATE TABLE plugin_slots (
    slot TEXT PRIMARY KEY,
    plugin_id BIGINT NOT NULL REFERENCES plugins (id),
    generation BIGINT NOT NULL
);
