-- A workflow's internal note (the `add-note` action) has no person for its author: author_id
-- becomes optional, and plugin names the plugin (name and version) that wrote it.
ALTER TABLE messages ALTER COLUMN author_id DROP NOT NULL;
ALTER TABLE messages ADD COLUMN plugin TEXT;
