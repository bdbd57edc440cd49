-- no-transaction
-- A workflow's internal note (the `add-note` action) has no person for its author: author_id
-- becomes optional, and plugin names the plugin (name and version) that wrote it.
--
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt with the same rows, ids and
-- indexes, in one transaction, with foreign keys off meanwhile (attachments and inbound_mail
-- refer to messages by id, and the ids do not change), as SQLite's documentation prescribes.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE messages_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    author_id BIGINT REFERENCES users (id),
    body TEXT NOT NULL,
    internal BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'portal',
    html TEXT,
    html_renderer INTEGER NOT NULL DEFAULT 0,
    plugin TEXT
);
INSERT INTO messages_rebuilt (id, request_id, author_id, body, internal, created_at, channel, html, html_renderer)
    SELECT id, request_id, author_id, body, internal, created_at, channel, html, html_renderer FROM messages;
DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
CREATE INDEX messages_request ON messages (request_id, id);
CREATE INDEX messages_renderer ON messages (html_renderer, id);
COMMIT;
PRAGMA foreign_keys = ON;
