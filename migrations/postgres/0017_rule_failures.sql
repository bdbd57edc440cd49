-- A rule that failed where it acted on its own (an automatic move after an event): what it was
-- asked, which plugin failed and how. The request goes on without the rule's action; staff see
-- the failure in the request's timeline, operators on the plugin console.
CREATE TABLE rule_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT REFERENCES requests (id),
    slot TEXT NOT NULL,
    function TEXT NOT NULL,
    cause TEXT NOT NULL,
    plugin_id BIGINT NOT NULL,
    plugin_name TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    plugin_sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX rule_failures_request ON rule_failures (request_id, id);
CREATE INDEX rule_failures_slot ON rule_failures (slot, at);

-- What a failed decision failed with (the trap, what was malformed), beside its kind.
ALTER TABLE plugin_decisions ADD COLUMN error TEXT;
