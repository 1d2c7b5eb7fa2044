-- The gateway processes on this database, with what they run.

CREATE TABLE replicas (
	instance    TEXT   PRIMARY KEY,
	version     TEXT   NOT NULL,
	config_hash TEXT   NOT NULL,
	started_at  BIGINT NOT NULL,
	seen_at     BIGINT NOT NULL
);
