-- Shadow mode: a candidate put in shadow for a slot is asked every live decision of that slot
-- beside the active plugin, off the request path. `asked` and `disagreed` add up what every
-- server compared since `started_at`; each disagreement is a row of `plugin_decisions` by the
-- shadow, carrying the live plugin's answer beside its own.
CREATE TABLE plugin_shadows (
    slot TEXT PRIMARY KEY,
    plugin_id BIGINT NOT NULL REFERENCES plugins (id),
    started_at BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    asked BIGINT NOT NULL DEFAULT 0,
    disagreed BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE plugin_decisions ADD COLUMN live_plugin_id BIGINT;
ALTER TABLE plugin_decisions ADD COLUMN live_outcome TEXT;
ALTER TABLE plugin_decisions ADD COLUMN live_answer TEXT;
CREATE INDEX plugin_decisions_disagreements ON plugin_decisions (plugin_id, id)
    WHERE live_plugin_id IS NOT NULL;
