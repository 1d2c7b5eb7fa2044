package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
)

// planCall is one call of a recording planner.
type planCall struct {
	change   Change
	tag      string
	base     time.Time
	status   alert.IncidentStatus
	flapping bool
	ackedBy  string
}

// recPlanner is the test planner that also records the re-plans it is
// asked for, and plans one page per reopen.
type recPlanner struct {
	planner
	mu    sync.Mutex
	calls []planCall
}

func (p *recPlanner) Plan(c Change, inc *alert.Incident, opt PlanOptions) []JobSpec {
	switch c {
	case ChangeOpened, ChangeResolved, ChangeAcknowledged:
		return p.planner.Plan(c, inc, opt)
	}
	p.mu.Lock()
	p.calls = append(p.calls, planCall{c, opt.Tag, opt.Base, inc.Status, inc.Flapping, inc.AcknowledgedBy})
	p.mu.Unlock()
	return []JobSpec{{Key: inc.Key + "/" + opt.Tag + "/page/oncall#0", Kind: KindStep, DueAt: opt.Base, StopOn: alert.IncidentAcknowledged}}
}

func (p *recPlanner) changes() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Change
	for _, c := range p.calls {
		out = append(out, c.change)
	}
	return out
}

// flapStore opens a store that reopens within 10m and marks incidents
// flapping after 3 reopens within an hour.
func flapStore(t *testing.T, db *engineDB, clk *clocktest.Clock, rp *recPlanner) *Store {
	t.Helper()
	opts := testOptions(clk)
	opts.Planner, opts.ReopenWithin = rp, 10*time.Minute
	opts.Flapping = Flapping{Reopens: 3, Window: time.Hour}
	return db.Open(t, opts)
}

// cycle resolves a after resolveAfter and fires it again fireAfter later.
func cycle(t *testing.T, s *Store, clk *clocktest.Clock, a alert.Alert, resolveAfter, fireAfter time.Duration) IngestResult {
	t.Helper()
	ctx := context.Background()
	clk.Advance(resolveAfter)
	_, err := s.Ingest(ctx, []alert.Alert{resolved(a)})
	require.NoError(t, err)
	clk.Advance(fireAfter)
	res, err := s.Ingest(ctx, []alert.Alert{a})
	require.NoError(t, err)
	return res
}

func getIncident(t *testing.T, s *Store, id int64) alert.Incident {
	t.Helper()
	d, err := s.GetIncident(context.Background(), id)
	require.NoError(t, err)
	return d.Incident
}

// A reopen triggers the incident again whoever acknowledged it, and asks
// for a fresh plan tagged with the flap number, counted from the reopen.
func TestReopenClearsAckAndReplans(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk, rp := newClock(), &recPlanner{}
		s := flapStore(t, db, clk, rp)
		a := firing("CheckoutDown", "checkout", "f1")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)

		res := cycle(t, s, clk, a, time.Minute, 2*time.Minute)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
		inc := getIncident(t, s, 1)
		require.Equal(t, alert.IncidentTriggered, inc.Status)
		require.Empty(t, inc.AcknowledgedBy)
		require.True(t, inc.AcknowledgedAt.IsZero())
		require.Equal(t, 1, inc.Flaps)
		require.False(t, inc.Flapping)
		require.Equal(t, []planCall{{ChangeReopened, "r1", clk.Now(), alert.IncidentTriggered, false, ""}}, rp.calls)
		require.Equal(t, JobPending, jobStates(t, s, 1)["INC-1/r1/page/oncall#0"])

		// It can be acknowledged again.
		got, err := s.Acknowledge(ctx, 1, "bob", "")
		require.NoError(t, err)
		require.Equal(t, "bob", got.AcknowledgedBy)
	})
}

// The third reopen within the window marks the incident flapping; a
// flapping incident reopens (as ChangeFlapped) while it has been resolved
// for less than the window, even past reopen_within; once it stayed
// resolved for the window, its group opens a new incident. The flag is
// durable.
func TestFlappingHysteresis(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk, rp := newClock(), &recPlanner{}
		s := flapStore(t, db, clk, rp)
		a := firing("CheckoutDown", "checkout", "f1")
		_, err := s.Ingest(context.Background(), []alert.Alert{a})
		require.NoError(t, err)

		cycle(t, s, clk, a, time.Minute, time.Minute)
		cycle(t, s, clk, a, time.Minute, time.Minute)
		require.False(t, getIncident(t, s, 1).Flapping)
		cycle(t, s, clk, a, time.Minute, time.Minute)
		require.True(t, getIncident(t, s, 1).Flapping)
		require.Equal(t, []Change{ChangeReopened, ChangeReopened, ChangeFlapping}, rp.changes())

		// 20 minutes resolved: past reopen_within, inside the window.
		res := cycle(t, s, clk, a, time.Minute, 20*time.Minute)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
		require.Equal(t, []Change{ChangeReopened, ChangeReopened, ChangeFlapping, ChangeFlapped}, rp.changes())
		require.Equal(t, planCall{ChangeFlapped, "r4", clk.Now(), alert.IncidentTriggered, true, ""}, rp.calls[3])

		// The flag survives a restart.
		require.NoError(t, s.Close())
		s = flapStore(t, db, clk, rp)
		inc := getIncident(t, s, 1)
		require.True(t, inc.Flapping)
		require.Equal(t, 4, inc.Flaps)
		list, err := s.ListIncidents(context.Background(), IncidentFilter{})
		require.NoError(t, err)
		require.True(t, list[0].Flapping)

		// Resolved for the whole window: a new incident.
		res = cycle(t, s, clk, a, time.Minute, time.Hour)
		require.Equal(t, []string{"INC-2"}, res.Incidents)
		require.Len(t, rp.changes(), 4)
		require.False(t, getIncident(t, s, 2).Flapping)
	})
}

// Reopens spread wider than the window never make an incident flapping.
func TestReopensOutsideTheWindowAreNotFlapping(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk, rp := newClock(), &recPlanner{}
		s := flapStore(t, db, clk, rp)
		a := firing("CheckoutDown", "checkout", "f1")
		_, err := s.Ingest(context.Background(), []alert.Alert{a})
		require.NoError(t, err)
		for range 5 {
			cycle(t, s, clk, a, 25*time.Minute, 5*time.Minute) // a reopen every 30m: two per hour
		}
		require.Equal(t, []Change{ChangeReopened, ChangeReopened, ChangeReopened, ChangeReopened, ChangeReopened}, rp.changes())
		require.False(t, getIncident(t, s, 1).Flapping)
	})
}

// A reload that turns the hysteresis off ends flapping: the next reopen
// escalates afresh and clears the flag.
func TestFlappingOffByReload(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk, rp := newClock(), &recPlanner{}
		s := flapStore(t, db, clk, rp)
		a := firing("CheckoutDown", "checkout", "f1")
		_, err := s.Ingest(context.Background(), []alert.Alert{a})
		require.NoError(t, err)
		for range 3 {
			cycle(t, s, clk, a, time.Minute, time.Minute)
		}
		require.True(t, getIncident(t, s, 1).Flapping)

		s.SetPolicy(classifier{}, rp, 10*time.Minute, Flapping{})
		cycle(t, s, clk, a, time.Minute, time.Minute)
		require.Equal(t, []Change{ChangeReopened, ChangeReopened, ChangeFlapping, ChangeReopened}, rp.changes())
		require.False(t, getIncident(t, s, 1).Flapping)
	})
}
