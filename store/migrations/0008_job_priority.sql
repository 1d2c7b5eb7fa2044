-- Delivery priority (the incident's severity, 0 = P0): due deliveries
-- are claimed most urgent first.

ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 3;
