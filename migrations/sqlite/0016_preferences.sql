-- The language and time zone a person reads the portal in: a BCP 47 tag the portal speaks
-- (`en`, `de`) and an IANA zone name. NULL follows the browser. Nullable columns: the previous
-- release ignores them.
ALTER TABLE users ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
