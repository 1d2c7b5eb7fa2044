-- Which process holds a running delivery's claim.

ALTER TABLE jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
