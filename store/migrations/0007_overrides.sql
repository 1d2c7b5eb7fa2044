-- Temporary on-call overrides.

CREATE TABLE overrides (
	id         TEXT   PRIMARY KEY,
	role       TEXT   NOT NULL,
	member     TEXT   NOT NULL,
	targets    TEXT   NOT NULL,
	starts_at  BIGINT NOT NULL,
	ends_at    BIGINT NOT NULL,
	created_by TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX overrides_ends ON overrides (ends_at);
