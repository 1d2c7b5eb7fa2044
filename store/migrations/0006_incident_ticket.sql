-- The ticket a ticket target filed for the incident.

ALTER TABLE incidents ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
