-- Answers staff keep to insert into replies: their own (owner_id) or shared with every agent
-- (owner_id NULL). Only adds a table.
CREATE TABLE saved_replies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id BIGINT REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_replies_owner ON saved_replies (owner_id, title);
