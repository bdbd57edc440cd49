-- Requests (tickets): their messages, attachments, status timeline, full-text index, and the
-- operators' quick links. Times are Unix milliseconds, UTC. Request numbers start at 1001 and
-- are shown as REQ-1001.

CREATE TABLE requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 1001) PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    requester_id BIGINT NOT NULL REFERENCES users (id),
    assignee_id BIGINT REFERENCES users (id),
    subject TEXT NOT NULL,
    -- A key of the active workflow plugin's statuses (or of an earlier plugin's, until mapped).
    status TEXT NOT NULL,
    status_since BIGINT NOT NULL,
    -- Raised by every change; writers that read an older version get a conflict.
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX requests_updated ON requests (updated_at, id);
CREATE INDEX requests_status ON requests (status, updated_at, id);
CREATE INDEX requests_site ON requests (site_id, updated_at, id);
CREATE INDEX requests_requester ON requests (requester_id, updated_at, id);
CREATE INDEX requests_assignee ON requests (assignee_id, updated_at, id);

-- internal: 1 for staff notes, which no customer ever sees.
CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    internal BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_request ON messages (request_id, id);

-- The bytes live in the attachment store under their sha256.
CREATE TABLE attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id, id);

-- from_status is NULL for the status a request was created in; actor_id is NULL for moves the
-- workflow made on an event. The plugin that allowed the change is recorded beside it.
CREATE TABLE status_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    actor_role TEXT NOT NULL,
    cause TEXT NOT NULL,
    plugin_id BIGINT NOT NULL,
    plugin_name TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    plugin_sha256 TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX status_changes_request ON status_changes (request_id, id);

-- One row per request: its subject and public messages, so searching never reveals an
-- internal note. Each public message is appended to the request's document.
CREATE TABLE request_search (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    doc tsvector NOT NULL
);
CREATE INDEX request_search_doc ON request_search USING gin (doc);

-- roles: comma-separated roles that see the link.
CREATE TABLE quick_links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    roles TEXT NOT NULL,
    position BIGINT NOT NULL
);

-- Staff who are emailed about customer replies to unassigned requests.
ALTER TABLE users ADD COLUMN watches_queue BIGINT NOT NULL DEFAULT 0;
