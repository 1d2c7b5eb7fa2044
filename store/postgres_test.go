package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// postgresDSN returns a DSN for a fresh schema of the test database named
// by ALERTGATE_TEST_POSTGRES_DSN, or skips the test.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ALERTGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set ALERTGATE_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	// The pid keeps schemas of test binaries running at once apart.
	schema := fmt.Sprintf("t_%d_%d", os.Getpid(), time.Now().UnixNano())
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Two gateways on one database receive alerts of one new group at the
// same instant: one incident, every alert in it. PostgreSQL only: a SQLite
// database has one gateway, its one writer.
func TestPostgresTwoReplicasOneIncident(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	clk := newClock()
	a, err := OpenPostgres(ctx, dsn, Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{}})
	require.NoError(t, err)
	defer a.Close()
	b, err := OpenPostgres(ctx, dsn, Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{}})
	require.NoError(t, err)
	defer b.Close()

	const n = 40
	errs := make(chan error, n)
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		go func() {
			_, err := s.Ingest(ctx, []alert.Alert{firing("Storm", "api", fmt.Sprintf("fp-%d", i))})
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	list, err := a.ListIncidents(ctx, IncidentFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1, "one incident for the group")
	require.Equal(t, n, list[0].AlertCount)
}

// A batch of more groups than maxGroupLocks, while another replica
// ingests alerts of one of its groups, leaves one incident per group with
// every alert counted (which lock it takes: the test below).
func TestPostgresWideBatchAlongsideNarrowOnes(t *testing.T) {
	ctx := context.Background()
	_, a, b := twoReplicas(t)

	wide := []alert.Alert{firing("Storm", "api", "wide")}
	for i := range 2 * maxGroupLocks {
		wide = append(wide, firing(fmt.Sprintf("Other%d", i), "api", fmt.Sprintf("o-%d", i)))
	}
	const n = 20
	errs := make(chan error, n+1)
	go func() {
		_, err := a.Ingest(ctx, wide)
		errs <- err
	}()
	for i := range n {
		go func() {
			_, err := b.Ingest(ctx, []alert.Alert{firing("Storm", "api", fmt.Sprintf("fp-%d", i))})
			errs <- err
		}()
	}
	for range n + 1 {
		require.NoError(t, <-errs)
	}
	list, err := a.ListIncidents(ctx, IncidentFilter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, list, 1+2*maxGroupLocks, "one incident per group")
	storms := 0
	for _, inc := range list {
		if inc.Title == "Storm" {
			storms++
			require.Equal(t, n+1, inc.AlertCount)
		}
	}
	require.Equal(t, 1, storms)
}

// Which lock a batch takes: with the ingest lock held shared elsewhere
// (as every narrow batch holds it), a batch of one group goes through and
// a batch of more than maxGroupLocks groups waits for the exclusive lock
// until it is released.
func TestPostgresWideBatchWaitsForTheIngestLock(t *testing.T) {
	ctx := context.Background()
	_, a, _ := twoReplicas(t)
	const groupsLockObjID = uint32(1<<32 + int64(groupsLock)) // the keys as pg_locks shows them (oids)
	holder, err := a.w.Conn(ctx)
	require.NoError(t, err)
	defer holder.Close()
	_, err = holder.ExecContext(ctx, `BEGIN`)
	require.NoError(t, err)
	_, err = holder.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1, $2)`, a.lockClass, groupsLock)
	require.NoError(t, err)

	narrowCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = a.Ingest(narrowCtx, []alert.Alert{firing("Narrow", "api", "n")})
	require.NoError(t, err, "a narrow batch shares the ingest lock")

	var wide []alert.Alert
	for i := range 3 * maxGroupLocks { // groups share buckets: well over maxGroupLocks of them
		wide = append(wide, firing(fmt.Sprintf("Wide%d", i), "api", fmt.Sprintf("w-%d", i)))
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.Ingest(ctx, wide)
		done <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := a.r.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1 AND classid = $2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			groupsLockObjID, uint32(a.lockClass)).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 10*time.Millisecond, "the wide batch waits for the ingest lock")
	_, err = holder.ExecContext(ctx, `COMMIT`)
	require.NoError(t, err)
	require.NoError(t, <-done)
}
