-- Webhooks: the endpoints operators register, and one delivery per endpoint and event, written in
-- the transaction of the event and sent by any server's worker. Only adds.
--
-- events: the event names an endpoint wants, each between single spaces (' created assigned '),
-- or ' * ' for every event. secret_sealed: the signing secret, sealed with the server's secret
-- key (never stored in clear). state: active, or disabled (by an operator, or after failing for
-- a day: disabled_reason says which). failing_since: the first failed attempt since the last
-- delivered one.
CREATE TABLE webhook_endpoints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    state TEXT NOT NULL,
    disabled_reason TEXT,
    failing_since BIGINT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);

-- state: pending (waiting, or being sent until locked_until), delivered, or failed (given up,
-- or its endpoint was disabled). last_status: the HTTP status the last attempt got, if any.
-- resent_from: the delivery an operator sent again as this one.
CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    event TEXT NOT NULL,
    request_id BIGINT,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_status BIGINT,
    last_error TEXT,
    last_attempt_at BIGINT,
    delivered_at BIGINT,
    resent_from BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
