-- Deliveries are claimed per target, most urgent first: a hanging
-- target's backlog must not be scanned to claim another's.

CREATE INDEX jobs_pending_delivery ON jobs (target, priority, due_at) WHERE state = 'pending' AND kind = 'delivery';
