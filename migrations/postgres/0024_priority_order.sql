-- Lists ordered by priority, most urgent first, then by last change: the index holds the
-- priority's rank as the lists compute it (host/src/db/requests/list.rs, RANK). Only adds.
CREATE INDEX requests_by_priority ON requests (
    (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END),
    updated_at,
    id
);
