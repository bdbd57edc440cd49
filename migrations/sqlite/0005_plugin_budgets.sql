-- An installation's own budget (instructions, memory, output, backstop) as the JSON of the
-- parts it changes from its slot's default; '{}' for the default.
ALTER TABLE plugins ADD COLUMN budget TEXT NOT NULL DEFAULT '{}';
