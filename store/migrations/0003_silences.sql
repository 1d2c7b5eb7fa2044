-- Silences made through the API.

CREATE TABLE silences (
	id                TEXT    PRIMARY KEY,
	matchers          TEXT    NOT NULL,
	starts_at         BIGINT  NOT NULL,
	ends_at           BIGINT  NOT NULL,
	created_by        TEXT    NOT NULL,
	comment           TEXT    NOT NULL DEFAULT '',
	expire_on_resolve INTEGER NOT NULL DEFAULT 0,
	created_at        BIGINT  NOT NULL,
	updated_at        BIGINT  NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);
