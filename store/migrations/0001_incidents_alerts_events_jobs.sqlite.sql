-- Incidents, alerts, timeline and durable jobs. Times are Unix
-- milliseconds (BIGINT) so both engines store them alike; ids are
-- INTEGER PRIMARY KEY (the rowid) on SQLite, BIGSERIAL on PostgreSQL.

CREATE TABLE incidents (
	id          INTEGER PRIMARY KEY,
	group_key   TEXT    NOT NULL,
	status      TEXT    NOT NULL,
	severity    INTEGER NOT NULL,
	title       TEXT    NOT NULL,
	service     TEXT    NOT NULL DEFAULT '',
	category    TEXT    NOT NULL DEFAULT '',
	runbook     TEXT    NOT NULL DEFAULT '',
	source      TEXT    NOT NULL DEFAULT '',
	alert_count  INTEGER NOT NULL DEFAULT 0,
	firing_count INTEGER NOT NULL DEFAULT 0,
	opened_at   BIGINT  NOT NULL,
	acked_at    BIGINT  NOT NULL DEFAULT 0,
	acked_by    TEXT    NOT NULL DEFAULT '',
	resolved_at BIGINT  NOT NULL DEFAULT 0,
	resolved_by TEXT    NOT NULL DEFAULT '',
	ack_due     BIGINT  NOT NULL,
	resolve_due BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX incidents_open_group ON incidents (group_key) WHERE status <> 'resolved';
CREATE INDEX incidents_status ON incidents (status, severity);
CREATE INDEX incidents_group_resolved ON incidents (group_key, resolved_at);

CREATE TABLE alerts (
	id          INTEGER PRIMARY KEY,
	source      TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	incident_id BIGINT  REFERENCES incidents (id),
	status      TEXT    NOT NULL,
	data        TEXT    NOT NULL,
	hash        BIGINT  NOT NULL,
	first_seen  BIGINT  NOT NULL,
	last_seen   BIGINT  NOT NULL,
	repeats     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (source, fingerprint)
);
CREATE INDEX alerts_incident ON alerts (incident_id);

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	incident_id BIGINT  NOT NULL REFERENCES incidents (id),
	at          BIGINT  NOT NULL,
	kind        TEXT    NOT NULL,
	actor       TEXT    NOT NULL DEFAULT '',
	detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_incident ON events (incident_id, id);

CREATE TABLE jobs (
	id          INTEGER PRIMARY KEY,
	key         TEXT    NOT NULL UNIQUE,
	kind        TEXT    NOT NULL,
	incident_id BIGINT  NOT NULL REFERENCES incidents (id),
	state       TEXT    NOT NULL,
	stop_on     TEXT    NOT NULL DEFAULT '',
	target      TEXT    NOT NULL DEFAULT '',
	action      TEXT    NOT NULL DEFAULT '',
	due_at      BIGINT  NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	lease_until BIGINT  NOT NULL DEFAULT 0,
	payload     TEXT    NOT NULL DEFAULT '',
	last_error  TEXT    NOT NULL DEFAULT '',
	created_at  BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, due_at);
CREATE INDEX jobs_incident ON jobs (incident_id, state);
