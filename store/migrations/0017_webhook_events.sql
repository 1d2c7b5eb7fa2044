-- Ids of inbound webhook events already applied (PagerDuty), kept
-- until they could no longer pass the freshness check, so a replayed
-- event is refused on every replica.

CREATE TABLE webhook_events (
	id         TEXT   PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_expires ON webhook_events (expires_at);
