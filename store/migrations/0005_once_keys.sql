-- Work done once per key outside any incident (digests).

CREATE TABLE once_keys (
	key TEXT   PRIMARY KEY,
	at  BIGINT NOT NULL
);
