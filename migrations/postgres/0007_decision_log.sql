-- The decision log: every decision a plugin made on the request path, with its (redacted)
-- question, its answer and its cost. Written in batches by each server; pruned by age and count.
CREATE TABLE plugin_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decided_at BIGINT NOT NULL,
    slot TEXT NOT NULL,
    function TEXT NOT NULL,
    plugin_id BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    request_id BIGINT,
    input TEXT NOT NULL,
    answer TEXT,
    outcome TEXT NOT NULL,
    micros BIGINT NOT NULL
);
CREATE INDEX plugin_decisions_at ON plugin_decisions (decided_at);
CREATE INDEX plugin_decisions_slot ON plugin_decisions (slot, id);
CREATE INDEX plugin_decisions_plugin ON plugin_decisions (plugin_id, id);
CREATE INDEX plugin_decisions_request ON plugin_decisions (request_id, id);
