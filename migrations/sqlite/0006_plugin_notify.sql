-- On PostgreSQL, this migration makes changes of `plugin_slots` and new installations announce
-- themselves to every replica (LISTEN/NOTIFY). SQLite serves one server, which makes every change
-- itself: nothing to announce. Kept so that both backends number their migrations alike.
SELECT 1;
