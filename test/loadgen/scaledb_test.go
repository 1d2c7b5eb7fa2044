package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseScale(t *testing.T) {
	got, err := parseScale("1000000, 100000")
	require.NoError(t, err)
	require.Equal(t, scaleSize{Alerts: 1000000, Open: 100000}, got)
	for _, bad := range []string{"", "1000", "a,b", "10,0", "10,6", "-1,1"} {
		t.Run(bad, func(t *testing.T) {
			_, err := parseScale(bad)
			require.Error(t, err)
		})
	}
}

func TestScaleCacheName(t *testing.T) {
	require.Equal(t, "scale-1000000-alerts-100000-open-schema18-b1.db", scaleCacheName(scaleSize{1000000, 100000}, 18))
	require.NotEqual(t, scaleCacheName(scaleSize{10, 2}, 18), scaleCacheName(scaleSize{10, 2}, 19), "a new schema builds again")
}

// tinySchema is the part of the gateway's schema the builder writes, as
// migrated (the builder names its columns; the others keep defaults).
const tinySchema = `
CREATE TABLE incidents (id INTEGER PRIMARY KEY AUTOINCREMENT, group_key TEXT NOT NULL, status TEXT NOT NULL, severity INTEGER NOT NULL,
	title TEXT NOT NULL, service TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT '', runbook TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '', alert_count INTEGER NOT NULL DEFAULT 0, firing_count INTEGER NOT NULL DEFAULT 0,
	opened_at BIGINT NOT NULL, acked_at BIGINT NOT NULL DEFAULT 0, acked_by TEXT NOT NULL DEFAULT '', resolved_at BIGINT NOT NULL DEFAULT 0,
	resolved_by TEXT NOT NULL DEFAULT '', ack_due BIGINT NOT NULL, resolve_due BIGINT NOT NULL, updated_at BIGINT NOT NULL,
	escalated_at BIGINT NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX incidents_open_group ON incidents (group_key) WHERE status <> 'resolved';
CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, fingerprint TEXT NOT NULL, incident_id BIGINT,
	status TEXT NOT NULL, data TEXT NOT NULL, hash BIGINT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
	repeats INTEGER NOT NULL DEFAULT 0, UNIQUE (source, fingerprint));
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id BIGINT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, incident_id BIGINT NOT NULL,
	state TEXT NOT NULL, stop_on TEXT NOT NULL DEFAULT '', target TEXT NOT NULL DEFAULT '', action TEXT NOT NULL DEFAULT '',
	due_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL, priority INTEGER NOT NULL DEFAULT 3);
`

// tinyDB creates a database of tinySchema named name in the test's
// temporary directory and returns its path and an open handle.
func tinyDB(t *testing.T, name string) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := openSQLite(path)
	require.NoError(t, err)
	_, err = db.ExecContext(context.Background(), tinySchema)
	require.NoError(t, err)
	return path, db
}

// The builder on a tiny size: the counts add up, the open incidents hold
// firing alerts and the resolved ones resolved alerts, every alert's data
// is an alert, and no job is pending.
func TestFillScaleDB(t *testing.T) {
	ctx := context.Background()
	path, db := tinyDB(t, "tiny.db")
	require.NoError(t, db.Close())

	sz := scaleSize{Alerts: 23, Open: 5} // 10 incidents, 2 or 3 alerts each
	chunk := scaleChunk
	scaleChunk = 3 // four transactions, the last one short
	t.Cleanup(func() { scaleChunk = chunk })
	require.NoError(t, fillScaleDB(ctx, path, sz, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)))

	db, err := openSQLite(path)
	require.NoError(t, err)
	defer db.Close()
	count := func(q string) int {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, q).Scan(&n), q)
		return n
	}
	require.Equal(t, 10, count(`SELECT count(*) FROM incidents`))
	require.Equal(t, 5, count(`SELECT count(*) FROM incidents WHERE status = 'triggered'`))
	require.Equal(t, 23, count(`SELECT count(*) FROM alerts`))
	require.Equal(t, 23, count(`SELECT sum(alert_count) FROM incidents`))
	require.Equal(t, 0, count(`SELECT count(*) FROM alerts a JOIN incidents i ON i.id = a.incident_id
		WHERE (a.status = 'firing') <> (i.status = 'triggered')`), "firing alerts exactly in open incidents")
	require.Equal(t, count(`SELECT count(*) FROM alerts WHERE status = 'firing'`), count(`SELECT sum(firing_count) FROM incidents`))
	require.Equal(t, 0, count(`SELECT count(*) FROM alerts WHERE json_extract(data, '$.fingerprint') <> fingerprint`))
	require.Equal(t, 10*3+5, count(`SELECT count(*) FROM events`))
	require.Equal(t, 10*2+5, count(`SELECT count(*) FROM jobs WHERE state = 'done'`))
	require.Equal(t, 0, count(`SELECT count(*) FROM jobs WHERE state <> 'done'`))
	require.Equal(t, 10, count(`SELECT count(DISTINCT group_key) FROM incidents`))

	var maxID sql.NullInt64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT max(id) FROM incidents`).Scan(&maxID))
	require.Equal(t, int64(10), maxID.Int64)
}
