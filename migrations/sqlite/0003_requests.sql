-- Requests (tickets): their messages, attachments, status timeline, full-text index, and the
-- operators' quick links. Times are Unix milliseconds, UTC. Request numbers start at 1001 and
-- are shown as REQ-1001.

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO sqlite_sequence (name, seq) VALUES ('requests', 1000);
CREATE INDEX requests_updated ON requests (updated_at, id);
CREATE INDEX requests_status ON requests (status, updated_at, id);
CREATE INDEX requests_site ON requests (site_id, updated_at, id);
CREATE INDEX requests_requester ON requests (requester_id, updated_at, id);
CREATE INDEX requests_assignee ON requests (assignee_id, updated_at, id);

-- internal: 1 for staff notes, which no customer ever sees.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    internal BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_request ON messages (request_id, id);

-- The bytes live in the attachment store under their sha256.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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

-- One row per request (rowid = requests.id): its subject and public messages, so searching
-- never reveals an internal note. Rebuilt for a request when a public message is added.
CREATE VIRTUAL TABLE request_search USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- roles: comma-separated roles that see the link.
CREATE TABLE quick_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    roles TEXT NOT NULL,
    position BIGINT NOT NULL
);

-- Staff who are emailed about customer replies to unassigned requests.
ALTER TABLE users ADD COLUMN watches_queue BIGINT NOT NULL DEFAULT 0;
