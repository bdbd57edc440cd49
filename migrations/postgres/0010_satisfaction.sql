-- A customer's rating of a closed request: good or bad, with an optional comment. One per
-- request; the requester may change it while the request stays closed. Only adds a table, so
-- a server of the previous release keeps working beside one that ran this.
CREATE TABLE satisfaction (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')),
    comment TEXT NOT NULL DEFAULT '',
    user_id BIGINT NOT NULL REFERENCES users (id),
    rated_at BIGINT NOT NULL
);
