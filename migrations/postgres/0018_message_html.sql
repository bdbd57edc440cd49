-- Each message's HTML, rendered once when it is written, and the version of the rendering rules
-- it was rendered by (0: not yet rendered; the server renders those in the background).
ALTER TABLE messages ADD COLUMN html TEXT;
ALTER TABLE messages ADD COLUMN html_renderer BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_renderer ON messages (html_renderer, id);
