package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// rows lists an incident's job rows: key → state.
func rows(t *testing.T, s *Store, inc int64) map[string]string {
	t.Helper()
	jobs, err := s.Jobs(context.Background(), inc)
	require.NoError(t, err)
	out := map[string]string{}
	for _, j := range jobs {
		out[j.Key] = j.State
	}
	return out
}

func TestFutureStepsAreOneRowThatMovesOn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		jobs, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		require.Len(t, jobs, 1, "the steps that stop on ack or resolve are one row")
		require.Equal(t, "INC-1/page/oncall#0", jobs[0].Key)
		require.Len(t, jobs[0].Later, 1)
		require.Equal(t, "INC-1/page/cto#0", jobs[0].Later[0].Key)
		require.Equal(t, clk.Now().Add(time.Hour), jobs[0].Later[0].DueAt)
		require.Equal(t, alert.IncidentResolved, jobs[0].Later[0].StopOn)

		var ran []string
		step := func(_ *Tx, j *Job, _ *alert.Incident) (StepOutcome, error) {
			ran = append(ran, j.Key)
			return StepOutcome{}, nil
		}
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1/page/oncall#0"}, ran)
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobDone, "INC-1/page/cto#0": JobPending}, rows(t, s, 1),
			"the next step became the row when the first ran")
		next, ok, err := s.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, clk.Now().Add(time.Hour), next)

		// Both due at once (a pass after a stop): one RunSteps runs both,
		// in due order.
		_, err = s.Ingest(ctx, []alert.Alert{firing("B", "checkout", "b")})
		require.NoError(t, err)
		clk.Advance(2 * time.Hour)
		ran = nil
		n, err := s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.Equal(t, []string{"INC-2/page/oncall#0", "INC-1/page/cto#0", "INC-2/page/cto#0"}, ran)
	})
}

// An acknowledgement cancels the steps that stop on it; the chain goes on
// with those that stop only on resolution, due as planned.
func TestAckMovesTheChainOnToResolutionSteps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		opened := clk.Now()
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		clk.Advance(time.Minute)
		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobCancelled, "INC-1/page/cto#0": JobPending}, rows(t, s, 1))
		jobs, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		for _, j := range jobs {
			if j.Key == "INC-1/page/cto#0" {
				require.Equal(t, opened.Add(time.Hour), j.DueAt, "due as planned at the opening")
			}
		}
		_, err = s.Resolve(ctx, 1, "alice", "")
		require.NoError(t, err)
		require.Equal(t, JobCancelled, rows(t, s, 1)["INC-1/page/cto#0"])
	})
}

// With a step runner, the steps due when an incident opens run in the
// group commit that opens it: one write transaction, the deliveries they
// imply and no step row; the runner sees every alert of the batch.
func TestImmediateStepsRunInTheOpeningCommit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		var ran []string
		var counts []int
		s.SetStepRunner(func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			ran = append(ran, j.Key)
			counts = append(counts, inc.AlertCount)
			return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/pager", Kind: KindDelivery, DueAt: clk.Now(), StopOn: j.StopOn, Target: "pager", Action: "page"}}},
				tx.AppendEvent(inc.ID, alert.EventEscalated, "router", "paged")
		})
		txs := s.WriteTransactions()
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a1"), firing("A", "checkout", "a2")})
		require.NoError(t, err)
		require.Equal(t, txs+1, s.WriteTransactions(), "one write transaction")
		require.Equal(t, []string{"INC-1/page/oncall#0"}, ran)
		require.Equal(t, []int{2}, counts, "the runner sees the batch's alerts that joined")
		require.Equal(t, map[string]string{"INC-1/page/oncall#0/pager": JobPending, "INC-1/page/cto#0": JobPending}, rows(t, s, 1))
		n, err := s.RunSteps(ctx, clk.Now(), 10, func(*Tx, *Job, *alert.Incident) (StepOutcome, error) {
			t.Fatal("no step left to run")
			return StepOutcome{}, nil
		})
		require.NoError(t, err)
		require.Zero(t, n)

		// Opened and resolved in one batch: the first page is moot, as
		// the resolution would have cancelled it.
		ran = nil
		_, err = s.Ingest(ctx, []alert.Alert{firing("B", "checkout", "b"), resolved(firing("B", "checkout", "b"))})
		require.NoError(t, err)
		require.Empty(t, ran)
		require.Equal(t, map[string]string{"INC-2/resolve": JobPending}, rows(t, s, 2), "no page left to run: only the resolution's step")
	})
}

// A step of a new incident that the runner holds (a silence) is written
// as a held step, released like any other.
func TestImmediateStepHeldIsARow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		s.SetStepRunner(func(*Tx, *Job, *alert.Incident) (StepOutcome, error) {
			return StepOutcome{Hold: &Hold{By: "silence:s-1", Reason: "suppressed by silence s-1"}}, nil
		})
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobHeld, "INC-1/page/cto#0": JobPending}, rows(t, s, 1))
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"page/oncall#0"}, d.Held)
	})
}

// A chain led by a step that stops only on resolution drops the steps
// behind it that stop on acknowledgement when the incident is
// acknowledged: the plan no longer lists them.
func TestAckTrimsTheChainBehindAResolutionStep(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		insertSteps(t, s, 1,
			JobSpec{Key: "INC-1/remind#0", Kind: KindStep, DueAt: clk.Now().Add(10 * time.Minute), StopOn: alert.IncidentResolved},
			JobSpec{Key: "INC-1/page/team-lead#0", Kind: KindStep, DueAt: clk.Now().Add(20 * time.Minute), StopOn: alert.IncidentAcknowledged},
			JobSpec{Key: "INC-1/sla/resolution", Kind: KindStep, DueAt: clk.Now().Add(30 * time.Minute), StopOn: alert.IncidentResolved})
		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		jobs, err := s.Jobs(ctx, 1)
		require.NoError(t, err)
		later := map[string][]string{}
		for _, j := range jobs {
			if j.State != JobPending {
				continue
			}
			for _, l := range j.Later {
				later[j.Key] = append(later[j.Key], l.Key)
			}
		}
		require.Equal(t, []string{"INC-1/sla/resolution"}, later["INC-1/remind#0"])

		var ran []string
		clk.Advance(time.Hour)
		_, err = s.RunSteps(ctx, clk.Now(), 10, func(_ *Tx, j *Job, _ *alert.Incident) (StepOutcome, error) {
			ran = append(ran, j.Key)
			return StepOutcome{}, nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1/remind#0", "INC-1/sla/resolution", "INC-1/page/cto#0"}, ran)
	})
}

// The steps that run in the opening commit read the new incident's alerts
// from what the batch wrote, as the database lists them (firing first, id
// order) and exactly as a read of their rows decodes them (a time in a
// named zone, one with a monotonic reading, an empty map): a batch of new
// alerts, an alert sent twice in one batch, an alert stored before that
// joins a new incident (its older id first).
func TestImmediateStepsSeeTheBatchAlertsAsStored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		var seen [][]string
		var fromBatch []bool
		var got, want [][]alert.Alert
		var incs, storedIncs []alert.Incident
		var holds, storedHolds []string
		s.SetStepRunner(func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			g, err := tx.Alerts(inc.ID, 20)
			if err != nil {
				return StepOutcome{}, err
			}
			w, err := tx.storedAlerts(inc.ID, 20)
			if err != nil {
				return StepOutcome{}, err
			}
			got, want = append(got, g), append(want, w)
			// The incident and its suppression as the database has them.
			stored, err := tx.incident(inc.ID)
			if err != nil {
				return StepOutcome{}, err
			}
			incs, storedIncs = append(incs, *inc), append(storedIncs, *stored)
			h, held, err := tx.Suppression(inc.ID)
			if err != nil {
				return StepOutcome{}, err
			}
			hs, heldS, err := tx.s.suppression(tx.pol, rowsData(func() (*sql.Rows, error) {
				return tx.query(tx.ctx, `SELECT data FROM alerts WHERE incident_id = ? AND status = 'firing' AND suppressed = ''`, inc.ID)
			}), tx.s.now())
			if err != nil {
				return StepOutcome{}, err
			}
			holds, storedHolds = append(holds, fmt.Sprint(h, held)), append(storedHolds, fmt.Sprint(hs, heldS))
			var fps []string
			for _, a := range g {
				fps = append(fps, a.Fingerprint)
			}
			seen = append(seen, fps)
			_, ok := tx.written[inc.ID]
			fromBatch = append(fromBatch, ok && tx.written[inc.ID] != nil)
			return StepOutcome{}, nil
		})
		a1, a2, a3 := firing("A", "checkout", "a1"), firing("A", "checkout", "a2"), firing("A", "checkout", "a3")
		a1.Annotations = map[string]string{}
		a2.Annotations = map[string]string{"summary": "second"}
		a2.StartsAt = time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("CET", 3600))
		a3.StartsAt = time.Now()
		_, err := s.Ingest(ctx, []alert.Alert{a1, a2, a3})
		require.NoError(t, err)
		require.Equal(t, [][]string{{"a1", "a2", "a3"}}, seen)
		require.Equal(t, []bool{true}, fromBatch, "read from the batch")

		// The same alert twice in the batch: read from the database.
		seen, fromBatch = nil, nil
		b := firing("B", "checkout", "b")
		b2 := b
		b2.Title = "B changed"
		_, err = s.Ingest(ctx, []alert.Alert{b, firing("B", "checkout", "b1"), b2})
		require.NoError(t, err)
		require.Equal(t, [][]string{{"b", "b1"}}, seen)
		require.Equal(t, []bool{false}, fromBatch)

		// An alert stored before joins a new incident of its group behind
		// a new alert: the stored one has the older id and comes first.
		_, err = s.Ingest(ctx, []alert.Alert{firing("C", "checkout", "c-old")})
		require.NoError(t, err)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(firing("C", "checkout", "c-old"))})
		require.NoError(t, err)
		clk.Advance(48 * time.Hour)
		seen, fromBatch = nil, nil
		_, err = s.Ingest(ctx, []alert.Alert{firing("C", "checkout", "c-new"), firing("C", "checkout", "c-old")})
		require.NoError(t, err)
		require.Equal(t, [][]string{{"c-old", "c-new"}}, seen)
		require.Equal(t, []bool{false}, fromBatch)
		require.Len(t, got, 4)
		require.Equal(t, want, got, "the batch's alerts as the database reads them")
		require.Equal(t, storedIncs, incs, "the new incidents as the database reads them")
		require.Equal(t, storedHolds, holds)
	})
}

// A chain whose head exists already is led by its next step, also for an
// incident opened in the same transaction once its first chain is written
// (that one alone needs no asking): nothing of the second chain is lost.
func TestSecondChainOfAFreshIncidentKeepsItsSteps(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("Down", "api", "x")})
		require.NoError(t, err)
		step := func(key string, in time.Duration) JobSpec {
			return JobSpec{Key: key, Kind: KindStep, DueAt: clk.Now().Add(in), StopOn: alert.IncidentAcknowledged}
		}
		require.NoError(t, s.withTx(ctx, func(tx *Tx) error {
			tx.fresh = map[int64]bool{1: true} // as if opened in this transaction
			if err := tx.insertJobs(1, []JobSpec{step("INC-1/test/a", time.Hour)}); err != nil {
				return err
			}
			return tx.insertJobs(1, []JobSpec{step("INC-1/test/a", time.Hour), step("INC-1/test/b", 2*time.Hour)})
		}))
		states := jobStates(t, s, 1)
		require.Equal(t, JobPending, states["INC-1/test/a"])
		require.Equal(t, JobPending, states["INC-1/test/b"], "the second chain's next step leads it")
	})
}

// A batch's new incidents run their immediate steps most urgent first,
// whatever order their alerts came in — also a P0 one of whose alerts
// resolved in the batch (the batch then reads that incident back).
func TestImmediateStepsRunMostUrgentFirst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk := newClock()
		s := db.openTest(t, clk)
		var ran []string
		s.SetStepRunner(func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			ran = append(ran, inc.Key+" "+inc.Severity.String())
			return StepOutcome{}, nil
		})
		warn := func(name string) alert.Alert {
			a := firing(name, "search", name)
			a.Labels["severity"] = "warning"
			return a
		}
		_, err := s.Ingest(context.Background(), []alert.Alert{warn("W1"), firing("Down", "checkout", "d"),
			firing("Down", "checkout", "d2"), resolved(firing("Down", "checkout", "d2")), warn("W2"), firing("Gone", "api", "g")})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2 P0", "INC-4 P0", "INC-1 P2", "INC-3 P2"}, ran)
	})
}
