-- Request types and the custom fields operators define, and each request's values. Only adds.
--
-- request_types: the list operators edit (a request has one type or none). A retired type is
-- offered no more but stays on the requests that have it. The four below are where a new desk
-- starts; operators rename, retire or add to them.
CREATE TABLE request_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
INSERT INTO request_types (name, position, created_at) VALUES
    ('Question', 0, 0), ('Incident', 1, 0), ('Problem', 2, 0), ('Feature request', 3, 0);

ALTER TABLE requests ADD COLUMN type_id BIGINT REFERENCES request_types (id);
CREATE INDEX requests_type ON requests (type_id, updated_at, id);

-- custom_fields: key (what the API, filters and plugins name it by), label (what people read),
-- kind (text, number, date, choice, checkbox), options (a choice's, one per line), required
-- (1: the new-request form cannot be sent without it, and staff cannot clear it), customers
-- (1: shown to the customer's side), on_form (1: offered on the new-request form), retired (1:
-- no longer shown or set; its values are kept).
CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '',
    required BIGINT NOT NULL DEFAULT 0,
    customers BIGINT NOT NULL DEFAULT 0,
    on_form BIGINT NOT NULL DEFAULT 0,
    position BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- A request's value of a field, as text in the field's canonical form (a number as written
-- without spaces, a date as YYYY-MM-DD, a choice as the option, a checkbox as `yes`). No row
-- means no value.
CREATE TABLE request_values (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    field_id BIGINT NOT NULL REFERENCES custom_fields (id),
    value TEXT NOT NULL,
    PRIMARY KEY (request_id, field_id)
);
CREATE INDEX request_values_field ON request_values (field_id, value, request_id);
