-- Email in both directions. A notification about a request carries a reply address holding a
-- random token: the token itself is kept only until the message is delivered (like the bodies),
-- its sha256 stays so a reply can be matched to the request and the recipient it was sent to.
ALTER TABLE outbox ADD COLUMN request_id BIGINT;
ALTER TABLE outbox ADD COLUMN reply_token TEXT;
ALTER TABLE outbox ADD COLUMN reply_token_sha256 TEXT;
-- RFC 3834: `auto-generated` for notifications, `auto-replied` for answers to incoming mail.
ALTER TABLE outbox ADD COLUMN auto_submitted TEXT NOT NULL DEFAULT 'auto-generated';
CREATE UNIQUE INDEX outbox_reply_token ON outbox (reply_token_sha256);

-- Where a message came from: portal, api or email.
ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'portal';

-- Every message read from the support mailbox, whatever became of it. `message_key` is its
-- Message-ID (or the sha256 of its bytes when it has none): a message is acted on once, however
-- many replicas fetch it and however often a crash makes one fetch it again. The row is written
-- in the transaction of what the message caused. outcome: replied, opened, answered (an unknown
-- or inactive sender was told how to join), ignored (auto-reply, bulk, rate limit, repeated
-- unknown sender), bounce, refused (bad mail; the sender was told why), failed (bad mail, nobody
-- told).
CREATE TABLE inbound_mail (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_key TEXT NOT NULL UNIQUE,
    mailbox TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    from_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    request_id BIGINT REFERENCES requests (id),
    message_id BIGINT REFERENCES messages (id),
    -- The original message, in the attachment store.
    eml_sha256 TEXT,
    size BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX inbound_mail_from ON inbound_mail (from_addr, received_at);
CREATE INDEX inbound_mail_message ON inbound_mail (message_id);
CREATE INDEX inbound_mail_eml ON inbound_mail (eml_sha256);
-- A message still in the mailbox that was already dealt with is only moved on, not read again.
CREATE INDEX inbound_mail_uid ON inbound_mail (mailbox, uid_validity, uid);

-- Set when a delivery status notification reports mail to this address as undeliverable.
ALTER TABLE users ADD COLUMN bouncing_since BIGINT;
ALTER TABLE users ADD COLUMN bounce_reason TEXT;

-- Wording operators set for the answers to incoming mail (`join`: to an unknown or inactive
-- address); the built-in wording applies where none is set.
CREATE TABLE mail_wording (
    kind TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
