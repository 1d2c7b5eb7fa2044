package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
)

// anyTarget claims up to n deliveries of any target.
func anyTarget(n int) map[string]int { return map[string]int{"": n} }

// addDeliveries opens an incident and adds deliveries, one per (key
// suffix, target, priority), due now unless the spec says when.
func addDeliveries(t *testing.T, s *Store, clk *clocktest.Clock, specs ...JobSpec) {
	t.Helper()
	ctx := context.Background()
	_, err := s.Ingest(ctx, []alert.Alert{firing("Down", "api", "c")})
	require.NoError(t, err)
	_, err = s.RunSteps(ctx, clk.Now(), 10, func(_ *Tx, j *Job, _ *alert.Incident) (StepOutcome, error) {
		out := StepOutcome{}
		for _, sp := range specs {
			sp.Key, sp.Kind, sp.Action = j.Key+"/"+sp.Key, KindDelivery, "page"
			if sp.DueAt.IsZero() {
				sp.DueAt = clk.Now()
			}
			out.Jobs = append(out.Jobs, sp)
		}
		return out, nil
	})
	require.NoError(t, err)
}

func claimedKeys(jobs []*Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Key[len("INC-1/page/oncall#0/"):])
	}
	return out
}

// A claim takes at most what each target can start now, most urgent
// first; a target with no room (a hanging one) keeps its backlog pending
// and does not use up the claim of the others. Targets not listed share
// the "" budget.
func TestClaimDeliveriesPerTarget(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk,
			JobSpec{Key: "hang-p3", Target: "hang", Priority: 3},
			JobSpec{Key: "hang-p0", Target: "hang", Priority: 0},
			JobSpec{Key: "hang-p1", Target: "hang", Priority: 1},
			JobSpec{Key: "ok-a", Target: "ok", Priority: 2},
			JobSpec{Key: "ok-b", Target: "ok", Priority: 2},
			JobSpec{Key: "gone", Target: "gone", Priority: 0},
		)
		tests := []struct {
			name   string
			limits map[string]int
			want   []string
		}{
			{"a full target gets nothing", map[string]int{"hang": 0, "ok": 1}, []string{"ok-a"}},
			{"most urgent first within the room", map[string]int{"hang": 2, "ok": 0}, []string{"hang-p0", "hang-p1"}},
			{"unlisted targets share the rest", map[string]int{"hang": 0, "ok": 0, "": 5}, []string{"gone"}},
			{"what is left, most urgent first", map[string]int{"hang": 5, "ok": 5}, []string{"ok-b", "hang-p3"}},
			{"nothing due", map[string]int{"hang": 5, "ok": 5, "": 5}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				jobs, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, tc.limits)
				require.NoError(t, err)
				require.Equal(t, tc.want, claimedKeys(jobs))
			})
		}
	})
}

// A stale claim (lease over) counts against its target's room, and an
// unsent result (breaker open, 429) gives the attempt back.
func TestClaimStaleWithinRoomAndUnsent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk, JobSpec{Key: "a", Target: "ok", Priority: 2}, JobSpec{Key: "b", Target: "ok", Priority: 0})
		first, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"b"}, claimedKeys(first))
		clk.Advance(2 * time.Minute)
		again, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"b"}, claimedKeys(again), "the stale claim takes the one slot")
		require.Equal(t, 2, again[0].Attempts)

		require.NoError(t, s.FinishDelivery(ctx, again[0], DeliveryResult{State: JobPending, RetryAt: clk.Now(), Unsent: true, Error: "breaker open"}))
		jobs, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		for _, j := range jobs {
			if j.Key == again[0].Key {
				require.Equal(t, 1, j.Attempts, "a claim that sent nothing is not an attempt")
			}
		}
	})
}

// A restarted gateway sends its predecessor's cut-off deliveries at once:
// on SQLite (one process) every running claim at open is stale; on
// PostgreSQL the claims of a replica whose heartbeat is older than the
// lease TTL are taken over without waiting for the delivery lease.
func TestRestartReclaimsAtOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		opts := testOptions(clk)
		opts.Instance, opts.LeaseTTL, opts.SyncEvery = "old", 15*time.Second, time.Hour
		old := db.Open(t, opts)
		require.NoError(t, old.SetIdentity(ctx, "v1", "cfg"))
		addDeliveries(t, old, clk, JobSpec{Key: "cut", Target: "ok"})
		first, err := old.ClaimDeliveries(ctx, clk.Now(), 2*time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, first, 1)

		opts.Instance = "new"
		if !db.postgres() {
			require.NoError(t, old.Close())
			clk.Advance(time.Second)
			s := db.Open(t, opts)
			got, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Minute, anyTarget(10))
			require.NoError(t, err)
			require.Equal(t, []string{"cut"}, claimedKeys(got), "reclaimed at once, not after the 2m lease")
			require.Equal(t, first[0].Key, got[0].Key, "same key: same idempotency key")
			return
		}
		// PostgreSQL: "old" dies (stops heartbeating, never leaves).
		s := db.Open(t, opts)
		clk.Advance(10 * time.Second)
		require.NoError(t, s.SetIdentity(ctx, "v1", "cfg"))
		got, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Empty(t, got, "a replica seen 10s ago is alive: its claim stands")
		clk.Advance(6 * time.Second)
		require.NoError(t, s.SetIdentity(ctx, "v1", "cfg"))
		got, err = s.ClaimDeliveries(ctx, clk.Now(), 2*time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Equal(t, []string{"cut"}, claimedKeys(got), "taken over 16s after the last heartbeat, not after the lease")
		require.NoError(t, old.FinishDelivery(ctx, first[0], DeliveryResult{State: JobDone}))
		require.Equal(t, JobRunning, jobStates(t, s, 1)[first[0].Key], "the dead replica's late result is fenced off")
	})
}

// Stale claims are looked for at most once a second per target: a claim
// whose lease runs out just after a look is taken at the first look a
// second later, not at the next claim.
func TestStaleClaimsLookedForOnceASecond(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk, JobSpec{Key: "a", Target: "ok"}, JobSpec{Key: "b", Target: "ok"})
		first, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Len(t, first, 1)
		clk.Advance(time.Minute - 500*time.Millisecond) // a look: nothing stale yet
		second, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Len(t, second, 1)
		require.NotEqual(t, first[0].Key, second[0].Key)

		clk.Advance(500 * time.Millisecond) // the first lease ran out, the last look was 0.5 s ago
		none, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Empty(t, none)

		clk.Advance(500 * time.Millisecond)
		again, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, claimedKeys(first), claimedKeys(again), "a second after the last look")
	})
}

// The engine's look for claimable deliveries (on a reader, before any
// claim transaction) includes stale claims at most once a second too.
func TestDeliveriesDueLooksForStaleClaimsOnceASecond(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk, JobSpec{Key: "a", Target: "ok"})
		_, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		clk.Advance(time.Minute - 500*time.Millisecond)
		due, looked, err := s.deliveriesDue(ctx, clk.Now())
		require.NoError(t, err)
		require.False(t, due, "nothing pending, the claim still leased")
		require.True(t, looked, "stale claims looked for")
		clk.Advance(500 * time.Millisecond) // the lease ran out, the last look was 0.5 s ago
		due, looked, err = s.deliveriesDue(ctx, clk.Now())
		require.NoError(t, err)
		require.False(t, due)
		require.False(t, looked)
		clk.Advance(500 * time.Millisecond)
		due, looked, err = s.deliveriesDue(ctx, clk.Now())
		require.NoError(t, err)
		require.True(t, due, "a second after the last look")
		require.True(t, looked)
	})
}

// NextDueAfter is the earliest pending job due after a time: the engine's
// next wake-up once it has run what was due.
func TestNextDueAfter(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		now := clk.Now()
		addDeliveries(t, s, clk, JobSpec{Key: "due", Target: "ok"}, JobSpec{Key: "retry", Target: "ok", DueAt: now.Add(2 * time.Second)})
		got, ok, err := s.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, now, got, "the delivery due now")
		got, ok, err = s.NextDueAfter(ctx, now)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, now.Add(2*time.Second), got, "what is due by now is not the next wake-up")
		_, ok, err = s.NextDueAfter(ctx, now.Add(365*24*time.Hour))
		require.NoError(t, err)
		require.False(t, ok)
	})
}

// A delivery written with a Claim is stored as a claim leaves one —
// running, claimed by this process, leased, one attempt — and Claim.Job
// is the row as the database reads it back (built from what was written,
// times in whole milliseconds as stored); a delivery of the same key
// written again is left as it is and claims nothing. Nothing else can
// claim it while its lease holds.
func TestDeliveryClaimedAsItIsWritten(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("Down", "api", "c")})
		require.NoError(t, err)
		clk.Advance(1500 * time.Microsecond) // not a whole millisecond
		spec := func() JobSpec {
			return JobSpec{Key: "INC-1/page/oncall#0/pager", Kind: KindDelivery, DueAt: clk.Now(), Target: "pager",
				Action: "page", Payload: []byte(`{"kind":"page"}`), Priority: 0, StopOn: alert.IncidentResolved,
				Claim: &ClaimAtWrite{Lease: time.Minute}}
		}
		first, again := spec(), spec()
		insertSteps(t, s, 1, first)
		require.NotNil(t, first.Claim.Job)
		jobs, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		var stored *Job
		for _, j := range jobs {
			if j.Key == first.Key {
				stored = j
			}
		}
		require.NotNil(t, stored)
		require.Equal(t, stored, first.Claim.Job, "the claimed job is the row as read back")
		require.Equal(t, JobRunning, stored.State)
		require.Equal(t, 1, stored.Attempts)
		var claimedBy string
		var lease int64
		require.NoError(t, s.r.QueryRowContext(ctx, s.d.rebind(`SELECT claimed_by, lease_until FROM jobs WHERE id = ?`), stored.ID).Scan(&claimedBy, &lease))
		require.Equal(t, s.instance, claimedBy)
		require.Equal(t, ms(clk.Now().Add(time.Minute)), lease)

		claimed, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Empty(t, claimed, "held by its claim until the lease runs out")

		insertSteps(t, s, 1, again)
		require.Nil(t, again.Claim.Job, "the key existed: nothing claimed")
		after, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, jobs, after)

		require.NoError(t, s.FinishDelivery(ctx, first.Claim.Job, DeliveryResult{State: JobDone}))
		require.Equal(t, JobDone, jobStates(t, s, 1)[first.Key], "its result is recorded under the claim")
	})
}

// OnRollback runs when the transaction rolls back, each attempt withTx
// runs again included, and not when it commits.
func TestOnRollbackRunsOnlyOnRollback(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		var undone []string
		require.NoError(t, s.withTx(context.Background(), func(tx *Tx) error {
			tx.OnRollback(func() { undone = append(undone, "committed") })
			return nil
		}))
		boom := errors.New("boom")
		require.ErrorIs(t, s.withTx(context.Background(), func(tx *Tx) error {
			tx.OnRollback(func() { undone = append(undone, "rolled back") })
			return boom
		}), boom)
		require.Equal(t, []string{"rolled back"}, undone)

		// The first attempt loses a race (serialization failure): its own
		// undo runs, the committed attempt's does not.
		undone, tries := nil, 0
		err := s.withTx(context.Background(), func(tx *Tx) error {
			tries++
			attempt := fmt.Sprint("attempt ", tries)
			tx.OnRollback(func() { undone = append(undone, attempt) })
			if tries == 1 {
				return &pgconn.PgError{Code: "40001"}
			}
			return nil
		})
		require.Equal(t, []string{"attempt 1"}, undone)
		if db.postgres() {
			require.NoError(t, err)
			require.Equal(t, 2, tries, "run again")
		} else {
			require.Error(t, err, "one writer, no races: not run again")
		}
	})
}

// A transaction whose context ends stops at its next statement: on
// SQLite the statements themselves run without the context's
// cancellation (Tx.stmtCtx), so the check before each one is what stops
// it, and nothing it wrote is kept.
func TestTxStopsAtTheStatementAfterItsContextEnds(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		ctx, cancel := context.WithCancel(context.Background())
		var after error
		err := s.withTx(ctx, func(tx *Tx) error {
			if _, err := tx.exec(tx.ctx, `INSERT INTO settings (name, value, created_at) VALUES ('stop-test', 'x', 0)`); err != nil {
				return err
			}
			var n int
			require.NoError(t, tx.queryRow(tx.ctx, `SELECT count(*) FROM settings WHERE name = 'stop-test'`).Scan(&n))
			require.Equal(t, 1, n, "the transaction sees its own write")
			cancel()
			_, after = tx.exec(tx.ctx, `UPDATE settings SET value = 'y' WHERE name = 'stop-test'`)
			return after
		})
		require.ErrorIs(t, after, context.Canceled)
		require.ErrorIs(t, err, context.Canceled)
		var n int
		require.NoError(t, s.r.QueryRowContext(context.Background(), `SELECT count(*) FROM settings WHERE name = 'stop-test'`).Scan(&n))
		require.Zero(t, n, "rolled back")
	})
}

// The engine's look on a reader and the claim that follows it look for
// stale claims on one clock: a stale claim the look found is claimed by
// that same call, not by a pass up to a second later (two clocks could
// disagree after a look that found nothing to claim).
func TestClaimTakesTheStaleClaimItsLookFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk, JobSpec{Key: "a", Target: "ok"}, JobSpec{Key: "b", Target: "ok", DueAt: clk.Now().Add(1500 * time.Millisecond)})
		first, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Second, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, claimedKeys(first))

		clk.Advance(time.Second) // a look that finds nothing to claim: "a" is leased, "b" not due
		none, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Second, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Empty(t, none)

		clk.Advance(500 * time.Millisecond) // "b" falls due
		second, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Second, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"b"}, claimedKeys(second))

		clk.Advance(500 * time.Millisecond) // "a"'s lease ran out; the last look was a second ago
		again, err := s.ClaimDeliveries(ctx, clk.Now(), 2*time.Second, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, claimedKeys(again), "the stale claim the look found")
	})
}
