package store

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
)

// openReplica opens one more gateway's store on the shared database. The
// lease lasts an hour of the fake clock so that only the test renews it.
func openReplica(t *testing.T, dsn, name string, clk *clocktest.Clock) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), dsn, Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{},
		Instance: name, LeaseTTL: time.Hour, SyncEvery: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// twoReplicas opens two gateways' stores ("a" first, so it leads) on one
// fresh database, sharing a fake clock.
func twoReplicas(t *testing.T) (*clocktest.Clock, *Store, *Store) {
	t.Helper()
	dsn := postgresDSN(t)
	clk := newClock()
	return clk, openReplica(t, dsn, "a", clk), openReplica(t, dsn, "b", clk)
}

// One replica at a time holds the periodic-work lease; it passes on when
// the holder shuts down, or when the holder stops renewing it (died).
func TestPostgresLeaseHandover(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)
	require.True(t, a.Leader(), "the first replica takes the free lease")
	require.False(t, b.Leader())

	b.lead(ctx)
	require.False(t, b.Leader(), "a valid lease is not taken over")
	clk.Advance(59 * time.Minute)
	a.lead(ctx) // renewed: expires an hour from now
	clk.Advance(2 * time.Minute)
	b.lead(ctx)
	require.False(t, b.Leader(), "a renewed lease is not taken over")

	// a dies: it stops renewing; b takes over once the lease has run out.
	clk.Advance(time.Hour + time.Second)
	b.lead(ctx)
	require.True(t, b.Leader())
	a.lead(ctx)
	require.False(t, a.Leader(), "a replica that comes back finds the lease taken")

	// A clean shutdown hands over at once.
	require.NoError(t, b.Close())
	a.lead(ctx)
	require.True(t, a.Leader())
}

// An incident resolved through replica B is not kept open by replica A's
// repeat fast path: A's next copy of the alert is checked against the
// database and reopens the group.
func TestPostgresRepeatAfterResolveOnOtherReplica(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)

	x := firing("DiskFull", "db", "x")
	res, err := a.Ingest(ctx, []alert.Alert{x})
	require.NoError(t, err)
	require.Equal(t, []string{"INC-1"}, res.Incidents)
	res, err = a.Ingest(ctx, []alert.Alert{x})
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged, "a confirmed repeat is answered as unchanged")

	_, err = b.Resolve(ctx, 1, "bob", "fixed by hand")
	require.NoError(t, err)
	clk.Advance(time.Minute)
	res, err = a.Ingest(ctx, []alert.Alert{x})
	require.NoError(t, err)
	require.Zero(t, res.Unchanged, "the cached incident was resolved on another replica")
	require.Equal(t, []string{"INC-2"}, res.Incidents, "the still-firing alert opens a new incident")

	// The alert resolved through B, then fires again through A with the
	// content A saw before: stored as firing, not answered from A's cache.
	res, err = a.Ingest(ctx, []alert.Alert{x})
	require.NoError(t, err)
	require.Equal(t, 1, res.Unchanged)
	_, err = b.Ingest(ctx, []alert.Alert{resolved(x)})
	require.NoError(t, err)
	res, err = a.Ingest(ctx, []alert.Alert{x})
	require.NoError(t, err)
	require.Zero(t, res.Unchanged)
	require.Equal(t, []string{"INC-3"}, res.Incidents, "its incident resolved with it: the alert opens a new one")
	d, err := a.GetIncident(ctx, 3)
	require.NoError(t, err)
	require.Len(t, d.Alerts, 1)
	require.Equal(t, alert.StatusFiring, d.Alerts[0].Alert.Status)
}

// An ack through replica B stops the escalation step replica A claims.
func TestPostgresAckOnOtherReplicaStopsStep(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)
	_, err := a.Ingest(ctx, []alert.Alert{firing("Down", "api", "y")})
	require.NoError(t, err)
	_, err = b.Acknowledge(ctx, 1, "bob", "")
	require.NoError(t, err)
	ran := 0
	_, err = a.RunSteps(ctx, clk.Now(), 10, func(t *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
		ran++
		return StepOutcome{}, nil
	})
	require.NoError(t, err)
	require.Zero(t, ran, "the acked incident's on-call step was cancelled, not run")
	require.Equal(t, "cancelled", jobStates(t, a, 1)["INC-1/page/oncall#0"])
}

// Replicas starting together on an empty database migrate it once.
func TestPostgresConcurrentStartMigratesOnce(t *testing.T) {
	dsn := postgresDSN(t)
	clk := newClock()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(context.Background(), dsn, Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{}})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	var rows, version int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&rows, &version))
	require.Equal(t, 1, rows)
	require.Equal(t, SchemaVersion, version)
}

// A delivery whose lease ran out while its sender was stuck is claimed
// again by another replica; the stuck sender's late result is dropped and
// the new claim's counts.
func TestPostgresLateResultOfExpiredClaimIsDropped(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)
	_, err := a.Ingest(ctx, []alert.Alert{firing("Down", "api", "z")})
	require.NoError(t, err)
	_, err = a.RunSteps(ctx, clk.Now(), 10, func(t *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
		return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), Target: "sink", Action: "page"}}}, nil
	})
	require.NoError(t, err)
	first, err := a.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
	require.NoError(t, err)
	require.Len(t, first, 1)
	none, err := b.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
	require.NoError(t, err)
	require.Empty(t, none, "a leased delivery is not claimed twice")

	clk.Advance(2 * time.Minute)
	second, err := b.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
	require.NoError(t, err)
	require.Len(t, second, 1)
	require.Equal(t, first[0].ID, second[0].ID)

	require.NoError(t, a.FinishDelivery(ctx, first[0], DeliveryResult{State: JobDead, Error: "late", EventKind: alert.EventNotified, EventDetail: "late result"}))
	require.Equal(t, JobRunning, jobStates(t, a, 1)[first[0].Key], "the late result did not overwrite the live claim")
	require.NoError(t, b.FinishDelivery(ctx, second[0], DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "sent"}))
	require.Equal(t, JobDone, jobStates(t, a, 1)[first[0].Key])
	d, err := a.GetIncident(ctx, 1)
	require.NoError(t, err)
	var details []string
	for _, ev := range d.Timeline {
		if ev.Kind == alert.EventNotified {
			details = append(details, ev.Detail)
		}
	}
	require.Equal(t, []string{"sent"}, details)
}

// An unreachable server is a clear error at start, without the password.
func TestPostgresUnreachableIsClearAndKeepsPasswordOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = OpenPostgres(context.Background(), "postgres://alertgate:hunter2@"+addr+"/alertgate?sslmode=disable",
		Options{Classifier: classifier{}, Planner: planner{}, Postgres: PostgresOptions{ConnectTimeout: 2 * time.Second}})
	require.Error(t, err)
	require.ErrorContains(t, err, "is unreachable")
	require.NotContains(t, err.Error(), "hunter2")

	_, err = OpenPostgres(context.Background(), "postgres://alertgate:hunter2@host:notaport/db", Options{Classifier: classifier{}, Planner: planner{}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

// A claim for work in progress is taken over once its lease ran out
// without Done (the claimant died mid-send); finished work stays claimed.
func TestClaimForTakesOverUnfinishedWork(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		claim := func() bool {
			ok, err := s.ClaimFor(ctx, "digest/oncall/daily/x/sink", 5*time.Minute)
			require.NoError(t, err)
			return ok
		}
		require.True(t, claim())
		require.False(t, claim(), "claimed and within its lease")
		clk.Advance(4 * time.Minute)
		require.False(t, claim())
		clk.Advance(2 * time.Minute)
		require.True(t, claim(), "the claimant never finished: taken over")
		require.NoError(t, s.Done(ctx, "digest/oncall/daily/x/sink"))
		clk.Advance(time.Hour)
		require.False(t, claim(), "done work is never claimed again")
	})
}

// A search_path naming no existing schema is a clear error at start.
func TestPostgresMissingSchemaIsClear(t *testing.T) {
	dsn := postgresDSN(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", "no_such_schema_here")
	u.RawQuery = q.Encode()
	_, err = OpenPostgres(context.Background(), u.String(), Options{Classifier: classifier{}, Planner: planner{}})
	require.ErrorContains(t, err, "the search_path names no existing schema")
}

// The pool's statement timeout is set on every connection: a statement
// running longer is cancelled by the server.
func TestPostgresStatementTimeout(t *testing.T) {
	dsn := postgresDSN(t)
	s, err := OpenPostgres(context.Background(), dsn, Options{Classifier: classifier{}, Planner: planner{},
		Postgres: PostgresOptions{StatementTimeout: 150 * time.Millisecond, MaxOpenConns: 5}})
	require.NoError(t, err)
	defer s.Close()
	// Migrating the fresh schema ran without the timeout (a busy machine
	// could take longer than 150 ms for one migration); every connection
	// has it afterwards, the writer's too.
	var v string
	require.NoError(t, s.r.QueryRow(`SHOW statement_timeout`).Scan(&v))
	require.Equal(t, "150ms", v)
	require.NoError(t, s.w.QueryRow(`SHOW statement_timeout`).Scan(&v))
	require.Equal(t, "150ms", v)
	_, err = s.r.Exec(`SELECT pg_sleep(2)`)
	require.ErrorContains(t, err, "statement timeout")
	require.Equal(t, 5, s.r.Stats().MaxOpenConnections)
}

// Replicas see each other, which one leads, and what each runs; a replica
// that shut down or stopped heart-beating drops off the list.
func TestPostgresReplicaList(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)
	require.NoError(t, a.SetIdentity(ctx, "v1", "aaaaaaaaaaaa"))
	clk.Advance(time.Second)
	require.NoError(t, b.SetIdentity(ctx, "v1", "bbbbbbbbbbbb"))

	list, err := b.Replicas(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{"a", "b"}, []string{list[0].Instance, list[1].Instance})
	require.True(t, list[0].Leader, "a took the lease first")
	require.False(t, list[1].Leader)
	require.True(t, list[1].Self)
	require.Equal(t, "bbbbbbbbbbbb", list[1].ConfigHash)

	a.checkConfigs(ctx)
	n, configs := a.ReplicaCounts()
	require.Equal(t, int64(2), n)
	require.Equal(t, int64(2), configs, "two replicas, two configs")

	// b stops heart-beating (died): after three lease periods it is gone.
	clk.Advance(3*time.Hour + time.Second)
	require.NoError(t, a.heartbeat(ctx))
	list, err = a.Replicas(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "a", list[0].Instance)

	// A clean shutdown leaves the list at once.
	require.NoError(t, b.heartbeat(ctx))
	require.NoError(t, b.Close())
	list, err = a.Replicas(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

// The once-a-second reload of open incidents runs while the writer opens
// new ones (run with -race).
func TestPostgresReloadWhileIngesting(t *testing.T) {
	ctx := context.Background()
	_, a, _ := twoReplicas(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 40 {
			_, err := a.Ingest(ctx, []alert.Alert{firing(fmt.Sprintf("Down%d", i), "api", fmt.Sprintf("r%d", i))})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reloads := 0; ; reloads++ {
		require.NoError(t, a.reloadOpenIncidents(ctx))
		select {
		case <-done:
			require.NoError(t, a.reloadOpenIncidents(ctx))
			require.Empty(t, a.open.sources(), "the test classifier inhibits nothing")
			a.open.mu.RLock()
			n := len(a.open.all)
			a.open.mu.RUnlock()
			require.Equal(t, 40, n, "every opened incident is in the open view after a reload")
			return
		default:
		}
	}
}

// A process that claims its own in-flight delivery again (its lease ran
// out on a slow send) still records the send's result: only another
// replica's claim fences it off.
func TestOwnReclaimKeepsResult(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("Down", "api", "w")})
		require.NoError(t, err)
		_, err = s.RunSteps(ctx, clk.Now(), 10, func(t *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), Target: "sink", Action: "page"}}}, nil
		})
		require.NoError(t, err)
		first, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, first, 1)
		clk.Advance(2 * time.Minute)
		again, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.NoError(t, s.FinishDelivery(ctx, first[0], DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "sent"}))
		require.Equal(t, JobDone, jobStates(t, s, 1)[first[0].Key])
	})
}

// The open-incident view follows other replicas' openings and closings
// between full reloads, from the incidents changed since the last sync.
func TestPostgresSyncFollowsOtherReplica(t *testing.T) {
	ctx := context.Background()
	clk, a, b := twoReplicas(t)
	require.NoError(t, a.syncOpenIncidents(ctx)) // the first sync is a full reload
	isOpen := func(id int64) bool {
		a.open.mu.RLock()
		defer a.open.mu.RUnlock()
		_, ok := a.open.all[id]
		return ok
	}

	entry := func(id int64) inhibitEntry {
		a.open.mu.RLock()
		defer a.open.mu.RUnlock()
		return a.open.all[id]
	}

	clk.Advance(10 * time.Second)
	warn := firing("Down", "api", "s1")
	warn.Labels = map[string]string{"alertname": "Down", "service": "api", "severity": "warning"}
	_, err := b.Ingest(ctx, []alert.Alert{warn})
	require.NoError(t, err)
	require.False(t, isOpen(1), "not seen before a sync")
	clk.Advance(time.Second)
	require.NoError(t, a.syncOpenIncidents(ctx))
	require.True(t, isOpen(1), "opened through b, seen by a")
	require.Equal(t, a.lastFullSync, clk.Now().Add(-11*time.Second), "an incremental sync, not a full reload")
	require.Equal(t, "s1", entry(1).src.Alert.Fingerprint, "with its first alert")
	require.Equal(t, getIncident(t, b, 1).Severity, entry(1).src.Severity)

	// A more urgent alert raises it through b: a's view takes the new
	// severity (the first alert stays the first).
	clk.Advance(time.Second)
	_, err = b.Ingest(ctx, []alert.Alert{firing("Down", "api", "s2")})
	require.NoError(t, err)
	raised := getIncident(t, b, 1).Severity
	require.NotEqual(t, entry(1).src.Severity, raised)
	clk.Advance(time.Second)
	require.NoError(t, a.syncOpenIncidents(ctx))
	require.Equal(t, raised, entry(1).src.Severity)
	require.Equal(t, "s1", entry(1).src.Alert.Fingerprint)

	clk.Advance(time.Second)
	_, err = b.Resolve(ctx, 1, "bob", "")
	require.NoError(t, err)
	clk.Advance(time.Second)
	require.NoError(t, a.syncOpenIncidents(ctx))
	require.False(t, isOpen(1), "resolved through b, gone from a's view")
}
