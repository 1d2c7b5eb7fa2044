package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// migrations are applied in order; each runs once, in its own transaction.
// Times are Unix milliseconds (BIGINT) so both engines store them alike.
var migrations = []string{
	// 1: incidents, alerts, timeline and durable jobs.
	`
CREATE TABLE incidents (
	id          {{serial}},
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
	id          {{serial}},
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
	id          {{serial}},
	incident_id BIGINT  NOT NULL REFERENCES incidents (id),
	at          BIGINT  NOT NULL,
	kind        TEXT    NOT NULL,
	actor       TEXT    NOT NULL DEFAULT '',
	detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_incident ON events (incident_id, id);

CREATE TABLE jobs (
	id          {{serial}},
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
`,
	// 2: flap count and last escalation plan of incidents; suppression of
	// alerts (silence, maintenance, inhibition).
	`
ALTER TABLE incidents ADD COLUMN flaps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN escalated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_suppressed ON alerts (suppressed) WHERE suppressed <> '';
`,
	// 3: silences made through the API.
	`
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
`,
	// 4: settings the gateway keeps for itself (generated secrets).
	`
CREATE TABLE settings (
	name       TEXT   PRIMARY KEY,
	value      TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
`,
	// 5: work done once per key outside any incident (digests).
	`
CREATE TABLE once_keys (
	key TEXT   PRIMARY KEY,
	at  BIGINT NOT NULL
);
`,
	// 6: the ticket a ticket target filed for the incident.
	`
ALTER TABLE incidents ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
`,
	// 7: temporary on-call overrides.
	`
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
`,
	// 8: delivery priority (the incident's severity, 0 = P0): due
	// deliveries are claimed most urgent first.
	`
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 3;
`,
	// 9: what a target's service calls the incident (a status page
	// incident id), for its later messages.
	`
CREATE TABLE target_refs (
	incident_id BIGINT NOT NULL REFERENCES incidents (id),
	target      TEXT   NOT NULL,
	ref         TEXT   NOT NULL,
	PRIMARY KEY (incident_id, target)
);
`,
	// 10: leases elect the one replica that runs periodic work.
	`
CREATE TABLE leases (
	name       TEXT   PRIMARY KEY,
	holder     TEXT   NOT NULL,
	expires_at BIGINT NOT NULL
);
`,
	// 11: a once-key claimed for work still in progress (done = 0) can be
	// claimed again when its claimant died.
	`
ALTER TABLE once_keys ADD COLUMN done INTEGER NOT NULL DEFAULT 1;
`,
	// 12: the gateway processes on this database, with what they run.
	`
CREATE TABLE replicas (
	instance    TEXT   PRIMARY KEY,
	version     TEXT   NOT NULL,
	config_hash TEXT   NOT NULL,
	started_at  BIGINT NOT NULL,
	seen_at     BIGINT NOT NULL
);
`,
	// 13: which process holds a running delivery's claim.
	`
ALTER TABLE jobs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
`,
	// 14: replicas sync the incidents changed since their last look
	// (PostgreSQL only: a lone SQLite gateway never asks, and the index
	// would cost every incident update).
	`
{{shared}}CREATE INDEX incidents_updated ON incidents (updated_at);
`,
	// 15: an incident that keeps reopening is marked flapping (1).
	`
ALTER TABLE incidents ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
`,
	// 16: a step held back while every firing alert of its open incident
	// is silenced or in a maintenance window (state 'held') records what
	// held it ("silence:<id>").
	`
ALTER TABLE jobs ADD COLUMN held_by TEXT NOT NULL DEFAULT '';
`,
	// 17: ids of inbound webhook events already applied (PagerDuty), kept
	// until they could no longer pass the freshness check, so a replayed
	// event is refused on every replica.
	`
CREATE TABLE webhook_events (
	id         TEXT   PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_expires ON webhook_events (expires_at);
`,
	// 18: deliveries are claimed per target, most urgent first: a
	// hanging target's backlog must not be scanned to claim another's.
	`
CREATE INDEX jobs_pending_delivery ON jobs (target, priority, due_at) WHERE state = 'pending' AND kind = 'delivery';
`,
	// 19: an incident's future escalation steps (pages, SLA checks,
	// reminders) are one row, the next due, carrying the steps after it
	// (chain, JSON); each step inserts its successor when it runs.
	`
ALTER TABLE jobs ADD COLUMN chain TEXT NOT NULL DEFAULT '';
`,
}

// SchemaVersion is the schema version this binary writes.
var SchemaVersion = len(migrations)

// migrate brings the schema up to SchemaVersion. A database with a newer
// schema than this binary knows is refused.
func (s *Store) migrate(ctx context.Context) error {
	// One connection for the whole migration: on PostgreSQL it holds a
	// session advisory lock, so replicas starting together migrate one
	// after another and the later ones find the work done.
	c, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%w: migrate: %v", ErrUnavailable, err)
	}
	defer c.Close()
	if s.d.advisory {
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, s.lockClass, migrationLock); err != nil {
			return fmt.Errorf("migrate: take the migration lock: %w", err)
		}
		defer func() {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, s.lockClass, migrationLock)
		}()
	}
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	err = c.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := c.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("init schema_version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read schema_version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w (version %d, this binary knows up to %d): upgrade alertgate", ErrSchemaNewer, v, SchemaVersion)
	}
	for i := v; i < SchemaVersion; i++ {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.ddl(migrations[i])); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE schema_version SET version = ?`), i+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// ErrSchemaNewer: the database was migrated by a newer alertgate.
var ErrSchemaNewer = errors.New("the database schema is newer than this binary")

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name   string
	serial string
	// skipLocked is appended to claim sub-selects.
	skipLocked string
	dollar     bool
	// forUpdate locks a row read in a write transaction.
	forUpdate string
	// advisory: the engine has advisory locks (migrations and ingest
	// serialize on them across replicas).
	advisory bool
}

var sqliteDialect = dialect{name: "sqlite", serial: "INTEGER PRIMARY KEY"}

// ddl fills a migration's placeholders: {{serial}} is the id column type,
// and a line starting {{shared}} is only for databases several gateways
// share (PostgreSQL).
func (d dialect) ddl(s string) string {
	shared := "-- " // SQLite: the line is a comment
	if d.advisory {
		shared = ""
	}
	return strings.NewReplacer("{{serial}}", d.serial, "{{shared}}", shared).Replace(s)
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
