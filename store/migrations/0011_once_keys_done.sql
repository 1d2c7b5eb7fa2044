-- A once-key claimed for work still in progress (done = 0) can be
-- claimed again when its claimant died.

ALTER TABLE once_keys ADD COLUMN done INTEGER NOT NULL DEFAULT 1;
