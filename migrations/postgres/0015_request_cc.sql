-- Colleagues of the same site a request is shared with (CC): they see it, reply to it and get
-- its emails as its requester does. Only adds a table.
CREATE TABLE request_cc (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    added_by BIGINT NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, user_id)
);
CREATE INDEX request_cc_user ON request_cc (user_id, request_id);
