-- Flap count and last escalation plan of incidents; suppression of
-- alerts (silence, maintenance, inhibition).

ALTER TABLE incidents ADD COLUMN flaps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN escalated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_suppressed ON alerts (suppressed) WHERE suppressed <> '';
