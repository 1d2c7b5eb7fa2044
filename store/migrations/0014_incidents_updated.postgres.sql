-- Replicas sync the incidents changed since their last look.

CREATE INDEX incidents_updated ON incidents (updated_at);
