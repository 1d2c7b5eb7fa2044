package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// pageUnlessSuppressed is what the router does with a due page step: hold
// it while the incident is suppressed, else run it (recorded in ran).
func pageUnlessSuppressed(mu *sync.Mutex, ran *[]string) func(*Tx, *Job, *alert.Incident) (StepOutcome, error) {
	return func(t *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
		h, held, err := t.Suppression(inc.ID)
		if err != nil {
			return StepOutcome{}, err
		}
		if held {
			return StepOutcome{Hold: &h}, nil
		}
		mu.Lock()
		*ran = append(*ran, j.Key)
		mu.Unlock()
		return StepOutcome{}, nil
	}
}

func eventDetails(t *testing.T, s *Store, inc int64, kind alert.EventKind) []string {
	t.Helper()
	d, err := s.GetIncident(context.Background(), inc)
	require.NoError(t, err)
	var out []string
	for _, e := range d.Timeline {
		if e.Kind == kind {
			out = append(out, e.Detail)
		}
	}
	return out
}

func insertSteps(t *testing.T, s *Store, inc int64, specs ...JobSpec) {
	t.Helper()
	require.NoError(t, s.withTx(context.Background(), func(tx *Tx) error { return tx.InsertJobs(inc, specs) }))
}

func createSilence(t *testing.T, s *Store, clk *clocktest.Clock, d time.Duration, matchers ...string) string {
	t.Helper()
	sil, err := s.CreateSilence(context.Background(), config.Silence{Matchers: matchers,
		EndsAt: clk.Now().Add(d).Format(time.RFC3339), CreatedBy: "alice", Comment: "deploy"})
	require.NoError(t, err)
	return sil.ID
}

func TestSuppressedIncidentHoldsStepsUntilReleased(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)
		var mu sync.Mutex
		var ran []string
		step := pageUnlessSuppressed(&mu, &ran)

		_, err := s.Ingest(ctx, []alert.Alert{firing("CheckoutDown", "checkout", "c1")})
		require.NoError(t, err)
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1/page/oncall#0"}, ran, "not silenced yet: it pages")

		clk.Advance(time.Minute)
		id := createSilence(t, s, clk, 2*time.Hour, `service="checkout"`)
		insertSteps(t, s, 1,
			JobSpec{Key: "INC-1/page/oncall#1", Kind: KindStep, DueAt: clk.Now().Add(4 * time.Minute), StopOn: alert.IncidentAcknowledged},
			JobSpec{Key: "INC-1/page/team-lead#0", Kind: KindStep, DueAt: clk.Now().Add(14 * time.Minute), StopOn: alert.IncidentAcknowledged})
		clk.Advance(14 * time.Minute)
		n, err := s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Len(t, ran, 1, "both steps held")
		states := jobStates(t, s, 1)
		require.Equal(t, JobHeld, states["INC-1/page/oncall#1"])
		require.Equal(t, JobHeld, states["INC-1/page/team-lead#0"])
		held := eventDetails(t, s, 1, alert.EventSuppressed)
		require.Len(t, held, 1, "one timeline entry per suppression")
		require.Regexp(t, `^suppressed by silence `+id+` until \S+ \(alice: deploy\): pages held from page/oncall#1 on$`, held[0])

		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, &Hold{By: "silence:" + id, Reason: held[0][:len(held[0])-len(": pages held from page/oncall#1 on")]}, d.Suppressed)
		require.Equal(t, []string{"page/oncall#1", "page/team-lead#0"}, d.Held)
		next, ok, err := s.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, clk.Now().Add(45*time.Minute), next, "held steps are not due: the next is the CTO's at 1h")

		n, err = s.ReleaseHeld(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "still silenced")

		clk.Advance(5 * time.Minute)
		require.NoError(t, s.ExpireSilence(ctx, id))
		states = jobStates(t, s, 1)
		require.Equal(t, JobPending, states["INC-1/page/oncall#1"], "released by the expiry itself")
		require.Equal(t, []string{"no longer suppressed by silence " + id + ": 2 held step(s) due now (page/oncall#1, page/team-lead#0)"},
			eventDetails(t, s, 1, alert.EventUnsuppressed))
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1/page/oncall#0", "INC-1/page/oncall#1", "INC-1/page/team-lead#0"}, ran)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Nil(t, d.Suppressed)
		require.Empty(t, d.Held)
	})
}

func TestHeldStepsAndIncidentChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)
		var mu sync.Mutex
		var ran []string
		step := pageUnlessSuppressed(&mu, &ran)

		_, err := s.Ingest(ctx, []alert.Alert{firing("CheckoutDown", "checkout", "c1")})
		require.NoError(t, err)
		first := createSilence(t, s, clk, time.Hour, `service="checkout"`)
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Empty(t, ran)

		// A second silence takes over before the first ends: still held,
		// and the timeline names the new one.
		second := createSilence(t, s, clk, 3*time.Hour, `alertname="CheckoutDown"`)
		require.NoError(t, s.ExpireSilence(ctx, first))
		require.Equal(t, JobHeld, jobStates(t, s, 1)["INC-1/page/oncall#0"])
		held := eventDetails(t, s, 1, alert.EventSuppressed)
		require.Len(t, held, 2)
		require.Regexp(t, `^suppressed by silence `+second+` .*: pages still held$`, held[1])
		require.Empty(t, eventDetails(t, s, 1, alert.EventUnsuppressed))

		// The acknowledgement drops the held page that stops on it; the
		// one that stops on resolution stays held.
		insertSteps(t, s, 1, JobSpec{Key: "INC-1/page/eng-manager#0", Kind: KindStep, DueAt: clk.Now(), StopOn: alert.IncidentResolved})
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		states := jobStates(t, s, 1)
		require.Equal(t, JobCancelled, states["INC-1/page/oncall#0"])
		require.Equal(t, JobHeld, states["INC-1/page/eng-manager#0"])
		require.Len(t, eventDetails(t, s, 1, alert.EventSuppressed), 2, "a second held step writes no second entry")

		// The second silence expires: the Eng Manager page is due now.
		require.NoError(t, s.ExpireSilence(ctx, second))
		require.Equal(t, JobPending, jobStates(t, s, 1)["INC-1/page/eng-manager#0"])

		// Resolving drops whatever is held.
		createSilence(t, s, clk, time.Hour, `service="checkout"`)
		insertSteps(t, s, 1, JobSpec{Key: "INC-1/page/cto#x", Kind: KindStep, DueAt: clk.Now(), StopOn: alert.IncidentResolved})
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, JobHeld, jobStates(t, s, 1)["INC-1/page/cto#x"])
		_, err = s.Resolve(ctx, 1, "alice", "")
		require.NoError(t, err)
		require.Equal(t, JobCancelled, jobStates(t, s, 1)["INC-1/page/cto#x"])
	})
}

// Inhibition keeps alerts from opening incidents; it does not hold an open
// incident's pages. Silence matchers see what they see for new alerts.
func TestOnlySilencesAndWindowsHoldAnIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)
		slow := firing("CheckoutLatency", "checkout", "l1")
		slow.Labels["severity"] = "error"
		res, err := s.Ingest(ctx, []alert.Alert{slow})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.P1, d.Incident.Severity)
		res, err = s.Ingest(ctx, []alert.Alert{firing("CheckoutDown", "checkout", "c1")})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents)
		check := func(inc int64) bool {
			var held bool
			require.NoError(t, s.withTx(ctx, func(tx *Tx) error {
				var err error
				_, held, err = tx.Suppression(inc)
				return err
			}))
			return held
		}
		require.False(t, check(1), "the open P0 of the service would inhibit a new P1, not an open one")
		require.False(t, check(2), "no silence")
		createSilence(t, s, clk, time.Hour, `service="other"`)
		require.False(t, check(2), "a silence of something else")
		createSilence(t, s, clk, time.Hour, `priority="P0"`, `service="checkout"`)
		require.True(t, check(2), "silence matchers see the decided priority")
		require.False(t, check(1))
	})
}

// Two replicas on one PostgreSQL database: a step held through one is
// seen held by the other (one timeline entry), a silence expired through
// the replica that does not lead releases at once, and replicas sweeping
// together release an incident once.
func TestPostgresHeldStepsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	clk := newClock()
	open := func(name string) *Store {
		eng, err := rules.New(config.Default())
		require.NoError(t, err)
		s, err := OpenPostgres(ctx, dsn, Options{Now: clk.Now, Classifier: eng, Planner: planner{},
			Instance: name, LeaseTTL: time.Hour, SyncEvery: time.Hour})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open("a"), open("b")
	require.True(t, a.Leader())
	require.False(t, b.Leader())
	var mu sync.Mutex
	var ran []string
	step := pageUnlessSuppressed(&mu, &ran)

	_, err := a.Ingest(ctx, []alert.Alert{firing("CheckoutDown", "checkout", "c1")})
	require.NoError(t, err)
	id := createSilence(t, a, clk, time.Hour, `service="checkout"`)
	require.NoError(t, b.loadSilences(ctx)) // b's sync loop
	_, err = b.RunSteps(ctx, clk.Now(), 10, step)
	require.NoError(t, err)
	insertSteps(t, a, 1, JobSpec{Key: "INC-1/page/team-lead#0", Kind: KindStep, DueAt: clk.Now(), StopOn: alert.IncidentAcknowledged})
	_, err = a.RunSteps(ctx, clk.Now(), 10, step)
	require.NoError(t, err)
	require.Empty(t, ran)
	require.Len(t, eventDetails(t, a, 1, alert.EventSuppressed), 1, "a sees what b held")

	require.NoError(t, b.ExpireSilence(ctx, id))
	require.Equal(t, JobPending, jobStates(t, a, 1)["INC-1/page/team-lead#0"], "released by b, which does not lead")
	n, err := a.ReleaseHeld(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to release")
	_, err = a.RunSteps(ctx, clk.Now(), 10, step)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"INC-1/page/oncall#0", "INC-1/page/team-lead#0"}, ran)

	// Held again; the silence runs out and both replicas sweep at once.
	createSilence(t, a, clk, time.Minute, `service="checkout"`)
	require.NoError(t, b.loadSilences(ctx))
	insertSteps(t, a, 1, JobSpec{Key: "INC-1/page/oncall#1", Kind: KindStep, DueAt: clk.Now(), StopOn: alert.IncidentAcknowledged})
	_, err = b.RunSteps(ctx, clk.Now(), 10, step)
	require.NoError(t, err)
	require.Equal(t, JobHeld, jobStates(t, a, 1)["INC-1/page/oncall#1"])
	clk.Advance(time.Minute)
	var wg sync.WaitGroup
	released := make([]int, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.ReleaseHeld(ctx)
			require.NoError(t, err)
			released[i] = n
		}()
	}
	wg.Wait()
	require.Equal(t, 1, released[0]+released[1], "released once")
	require.Len(t, eventDetails(t, a, 1, alert.EventUnsuppressed), 2)
}
