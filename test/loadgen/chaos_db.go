package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// chaosDB reads a chaos run's database beside the gateway (SQLite in WAL
// mode lets a reader in while the gateway writes).
type chaosDB struct{ db *sql.DB }

// openChaosDB opens the SQLite file at path, or the PostgreSQL DSN when
// postgres is set.
func openChaosDB(path, postgres string) (*chaosDB, error) {
	var db *sql.DB
	var err error
	if postgres != "" {
		db, err = sql.Open("pgx", postgres)
	} else {
		db, err = sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	}
	if err != nil {
		return nil, fmt.Errorf("chaos database: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &chaosDB{db: db}, nil
}

func (c *chaosDB) close() { c.db.Close() }

// unsettled counts the work the drain waits for: page steps not yet run
// (a row, or in the chain of a pending step) and deliveries to the given
// targets pending or running.
func (c *chaosDB) unsettled(ctx context.Context, targets []string) (int, error) {
	quoted := make([]string, len(targets))
	for i, t := range targets {
		quoted[i] = "'" + t + "'" // fixed target names, no quotes in them
	}
	var n int
	err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE (kind = 'step' AND (key LIKE '%/page/%' OR chain LIKE '%/page/%') AND state = 'pending')
OR (kind = 'delivery' AND state IN ('pending', 'running') AND target IN (`+strings.Join(quoted, ", ")+`))`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("chaos database: %w", err)
	}
	return n, nil
}

// read fills rec's incidents, alerts and jobs.
func (c *chaosDB) read(ctx context.Context, rec *chaosRecords) error {
	rows, err := c.db.QueryContext(ctx, `SELECT id, severity, alert_count, firing_count, opened_at FROM incidents ORDER BY id`)
	if err != nil {
		return fmt.Errorf("chaos database: incidents: %w", err)
	}
	for rows.Next() {
		var r incidentRow
		var opened int64
		if err := rows.Scan(&r.ID, &r.Severity, &r.AlertCount, &r.FiringCount, &opened); err != nil {
			rows.Close()
			return fmt.Errorf("chaos database: incidents: %w", err)
		}
		r.OpenedAt = time.UnixMilli(opened)
		rec.Incidents = append(rec.Incidents, r)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("chaos database: incidents: %w", err)
	}

	rows, err = c.db.QueryContext(ctx, `SELECT fingerprint, COALESCE(incident_id, 0), status FROM alerts`)
	if err != nil {
		return fmt.Errorf("chaos database: alerts: %w", err)
	}
	for rows.Next() {
		var r alertRow
		var status string
		if err := rows.Scan(&r.Fingerprint, &r.IncidentID, &status); err != nil {
			rows.Close()
			return fmt.Errorf("chaos database: alerts: %w", err)
		}
		r.Firing = status == "firing"
		rec.Alerts = append(rec.Alerts, r)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("chaos database: alerts: %w", err)
	}

	rows, err = c.db.QueryContext(ctx, `SELECT key, kind, state FROM jobs`)
	if err != nil {
		return fmt.Errorf("chaos database: jobs: %w", err)
	}
	for rows.Next() {
		var r jobRow
		if err := rows.Scan(&r.Key, &r.Kind, &r.State); err != nil {
			rows.Close()
			return fmt.Errorf("chaos database: jobs: %w", err)
		}
		rec.Jobs = append(rec.Jobs, r)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("chaos database: jobs: %w", err)
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
