-- Sites, people, sessions, emailed tokens, rate limits, the audit log and the mail outbox.
-- Times are Unix milliseconds, UTC. Tokens, codes and session ids are stored only as SHA-256
-- hashes.

CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    maintenance_until TEXT,
    licences BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE site_domains (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (site_id, domain)
);
CREATE INDEX site_domains_domain ON site_domains (domain);

CREATE TABLE site_addresses (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    PRIMARY KEY (site_id, address)
);
CREATE INDEX site_addresses_address ON site_addresses (address);

-- state: choosing_site, pending_activation, active, invited, rejected, disabled.
-- role: customer, site_admin, agent, operator.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    site_id BIGINT REFERENCES sites (id),
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_site_state ON users (site_id, state);

-- stage: mfa (password given, code pending), password_change (temporary password given), full.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    persistent BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- purpose: signup (no user yet), reset, invite.
CREATE TABLE email_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

CREATE TABLE mfa_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT
);
CREATE INDEX mfa_codes_session ON mfa_codes (session_id);

CREATE TABLE trusted_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    user_id BIGINT,
    email TEXT NOT NULL,
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Mail waiting for delivery, written in the transaction of the change that causes it. Bodies are
-- cleared once the message is delivered.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT,
    html_body TEXT,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
