-- Which request emails a person wants: the acknowledgement of a request they raise, replies
-- from the support team, and status changes made by others. Sign-in codes, password links
-- and invitations are always sent. Columns with defaults: the previous release ignores them.
ALTER TABLE users ADD COLUMN notify_created BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_replies BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_status BIGINT NOT NULL DEFAULT 1;
