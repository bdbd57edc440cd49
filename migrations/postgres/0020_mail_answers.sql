-- Answers to incoming mail are counted per address and day: an address is answered only so
-- often, whoever wrote its name on a message.
CREATE INDEX outbox_to ON outbox (to_addr, created_at);
