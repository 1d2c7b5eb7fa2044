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
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("ALERTGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set ALERTGATE_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
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

// The same lifecycle as on SQLite, on PostgreSQL: ingest, grouping,
// repeats, steps, claims (FOR UPDATE SKIP LOCKED), ack, resolve, reopen.
func TestPostgresLifecycle(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	clk := newClock()
	s, err := OpenPostgres(ctx, dsn, Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{}})
	require.NoError(t, err)
	defer s.Close()

	a1, a2 := firing("HighErrorRate", "checkout", "a1"), firing("HighErrorRate", "checkout", "a2")
	res, err := s.Ingest(ctx, []alert.Alert{a1, a2})
	require.NoError(t, err)
	require.Equal(t, []string{"INC-1"}, res.Incidents)
	res, err = s.Ingest(ctx, []alert.Alert{a1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged)

	d, err := s.GetIncident(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, 2, d.Incident.AlertCount)

	n, err := s.RunSteps(ctx, clk.Now(), 10, func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
		return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), Target: "sink", Action: "page"}}}, nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	jobs, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.NoError(t, s.FinishDelivery(ctx, jobs[0], DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "ok", Ref: "r1"}))
	ref, err := s.TargetRef(ctx, 1, "sink")
	require.NoError(t, err)
	require.Equal(t, "r1", ref)

	_, err = s.Acknowledge(ctx, 1, "alice", "")
	require.NoError(t, err)
	_, err = s.Ingest(ctx, []alert.Alert{resolved(a1), resolved(a2)})
	require.NoError(t, err)
	d, err = s.GetIncident(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, alert.IncidentResolved, d.Incident.Status)

	next, ok, err := s.NextDue(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, next.IsZero())
	ok, err = s.Claim(ctx, "digest/x")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.Claim(ctx, "digest/x")
	require.NoError(t, err)
	require.False(t, ok)
	key, err := s.Secret(ctx, "k")
	require.NoError(t, err)
	require.Len(t, key, 32)
}

// Two gateways on one database receive alerts of one new group at the
// same instant: one incident, every alert in it.
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
