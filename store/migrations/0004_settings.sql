-- Settings the gateway keeps for itself (generated secrets).

CREATE TABLE settings (
	name       TEXT   PRIMARY KEY,
	value      TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
