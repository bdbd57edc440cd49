-- An agent's saved queue views: a name and the queue's filter as its query string
-- (status, q, site, assignee, sort). Only adds a table.
CREATE TABLE queue_views (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX queue_views_owner ON queue_views (owner_id, id);
