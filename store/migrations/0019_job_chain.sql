-- An incident's future escalation steps (pages, SLA checks, reminders)
-- are one row, the next due, carrying the steps after it (chain, JSON);
-- each step writes its successor when it runs.

ALTER TABLE jobs ADD COLUMN chain TEXT NOT NULL DEFAULT '';
