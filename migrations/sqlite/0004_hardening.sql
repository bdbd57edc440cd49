-- Hardening: wrong passwords per account and client address (a password right after failures
-- from several addresses also needs the emailed code), the attachment sweep's lookup by
-- content, outbox messages given up on, and pruning of old rate-limit counters.

CREATE TABLE login_failures (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, ip)
);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE INDEX attachments_sha256 ON attachments (sha256);

-- Set when delivery stopped for good (a permanent refusal, an address the mailer cannot parse,
-- or too many attempts); the bodies are cleared then, and operators see the message.
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;

CREATE INDEX rate_limits_window ON rate_limits (window_start);
