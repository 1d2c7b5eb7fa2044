-- A step held back while every firing alert of its open incident is
-- silenced or in a maintenance window (state 'held') records what held
-- it ("silence:<id>").

ALTER TABLE jobs ADD COLUMN held_by TEXT NOT NULL DEFAULT '';
