-- A request's priority and tags, and the timeline of changes to its fields. Only adds.
--
-- priority: low, normal, high or urgent. tags: the request's tags, sorted and separated by
-- single spaces, as lists show them; request_tags holds one row per tag, for finding requests
-- by tag. Both are written in the same transaction.
ALTER TABLE requests ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE requests ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_priority ON requests (priority, updated_at, id);

CREATE TABLE request_tags (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, request_id)
);
CREATE INDEX request_tags_request ON request_tags (request_id);

-- One row per change of a field (priority, tags): what it was and became, as text, who changed
-- it (actor_id NULL for the system), why (`requested` by a person, `event:<name>` by the
-- workflow's answer to an event) and, for the workflow, which plugin (name and version).
CREATE TABLE field_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    actor_role TEXT NOT NULL,
    cause TEXT NOT NULL,
    plugin TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX field_changes_request ON field_changes (request_id, id);

-- The timers workflows set on requests: one per name and request, due at `due_at` (Unix ms).
-- A sweep reads what is due by its index, so it costs what is due, not what exists.
CREATE TABLE request_timers (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    name TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, name)
);
CREATE INDEX request_timers_due ON request_timers (due_at, request_id, name);
