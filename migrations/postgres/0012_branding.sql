-- The portal's brand as operators set it: the name shown in every page's header and title, the
-- accent colour of buttons and focus rings, and a logo (a PNG, JPEG, GIF or WebP of at most
-- 256 KiB, kept here so every replica serves the same one). One row, id 1; none means the
-- built-in "Customer Portal". Only adds a table.
CREATE TABLE branding (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    accent TEXT NOT NULL,
    logo BYTEA,
    logo_type TEXT,
    updated_at BIGINT NOT NULL
);
