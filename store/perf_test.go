package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// An alert about to open an incident is checked only against the open
// incidents that could inhibit it (with the default rule: the open P0s of
// its service), in incident order; without a shared equal label, against
// every candidate.
func TestInhibitSourcesByKey(t *testing.T) {
	eng, err := rules.New(config.Default())
	require.NoError(t, err)
	p0 := func(id int64, svc string) rules.InhibitSource {
		return rules.InhibitSource{IncidentID: id, Severity: alert.P0, Alert: alert.Alert{Labels: map[string]string{"service": svc}}}
	}
	o := newOpenIncidents()
	o.recheck(eng.CanInhibit, eng)
	for _, src := range []rules.InhibitSource{p0(3, "api"), p0(1, "api"), p0(2, "db"), p0(4, "")} {
		o.set(src.IncidentID, "g", src)
	}
	o.set(5, "g", rules.InhibitSource{IncidentID: 5, Severity: alert.P2, Alert: alert.Alert{Labels: map[string]string{"service": "api"}}})
	ids := func(svc string) []int64 {
		var out []int64
		for _, s := range o.sourcesFor(&alert.Alert{Labels: map[string]string{"service": svc}}, &rules.Decision{Severity: alert.P2}) {
			out = append(out, s.IncidentID)
		}
		return out
	}
	require.Equal(t, []int64{1, 3}, ids("api"), "the open P0s of the service, in order")
	require.Equal(t, []int64{2}, ids("db"))
	require.Empty(t, ids("web"))
	require.Empty(t, ids(""), "without a service nothing inhibits")

	o.remove(1)
	o.severity(3, alert.P1) // no longer a P0: no longer a candidate
	o.severity(5, alert.P0) // now one
	require.Equal(t, []int64{5}, ids("api"))

	cfg := config.Default()
	cfg.Inhibit = append(cfg.Inhibit, config.InhibitRule{Name: "any", SourceMatchers: []string{`priority="P0"`}, TargetMatchers: []string{`priority="P3"`}})
	noIndex, err := rules.New(cfg)
	require.NoError(t, err)
	o.recheck(noIndex.CanInhibit, noIndex)
	require.Equal(t, []int64{2, 4, 5}, ids("web"), "no shared equal label: every candidate")
}

// A new candidate (the highest incident id so far) is appended to the
// lists already built; one with a lower id, or a changed one, has them
// built again; either way they stay in incident order, and a list handed
// out before does not change.
func TestInhibitSourceListsGrowInOrder(t *testing.T) {
	eng, err := rules.New(config.Default())
	require.NoError(t, err)
	p0 := func(id int64, svc string) rules.InhibitSource {
		return rules.InhibitSource{IncidentID: id, Severity: alert.P0, Alert: alert.Alert{Labels: map[string]string{"service": svc}}}
	}
	api := &alert.Alert{Labels: map[string]string{"service": "api"}}
	d := &rules.Decision{Severity: alert.P2}
	ids := func(l []rules.InhibitSource) []int64 {
		var out []int64
		for _, s := range l {
			out = append(out, s.IncidentID)
		}
		return out
	}
	o := newOpenIncidents()
	o.recheck(eng.CanInhibit, eng)
	o.set(2, "g", p0(2, "api"))
	first := o.sourcesFor(api, d)
	all := o.sources()
	require.Equal(t, []int64{2}, ids(first))
	for id := int64(3); id <= 6; id++ {
		o.set(id, "g", p0(id, "api"))
		require.Len(t, o.lists, 1, "appended, not dropped")
		require.NotNil(t, o.list)
	}
	require.Equal(t, []int64{2, 3, 4, 5, 6}, ids(o.sourcesFor(api, d)))
	require.Equal(t, []int64{2, 3, 4, 5, 6}, ids(o.sources()))
	require.Equal(t, []int64{2}, ids(first), "a list handed out before is unchanged")
	require.Equal(t, []int64{2}, ids(all))

	o.set(1, "g", p0(1, "api")) // a lower id (loaded from a replica)
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, ids(o.sourcesFor(api, d)))
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, ids(o.sources()))
	o.severity(4, alert.P1)
	o.set(7, "g", p0(7, "api"))
	require.Equal(t, []int64{1, 2, 3, 5, 6, 7}, ids(o.sourcesFor(api, d)))
	require.Equal(t, []int64{1, 2, 3, 5, 6, 7}, ids(o.sources()))
	o.severity(4, alert.P0) // a candidate again, with a lower id
	o.remove(6)
	o.set(8, "g", p0(8, "api"))
	require.Equal(t, []int64{1, 2, 3, 4, 5, 7, 8}, ids(o.sourcesFor(api, d)))
	require.Equal(t, []int64{1, 2, 3, 4, 5, 7, 8}, ids(o.sources()))
	src := p0(8, "api")
	src.Alert.Title = "changed"
	o.set(8, "g", src) // the same candidate set again: its new value
	l := o.sourcesFor(api, d)
	require.Equal(t, "changed", l[len(l)-1].Alert.Title)
	require.Equal(t, []int64{1, 2, 3, 4, 5, 7, 8}, ids(l))
	require.Equal(t, []int64{1, 2, 3, 4, 5, 7, 8}, ids(o.sources()), "set again: listed once")
}

// The writer's counters: one transaction per ingest batch, the statements
// it ran, nothing for a repeat answered from memory.
func TestWriterCounters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		ctx := context.Background()
		tx0, st0 := s.WriteTransactions(), s.Statements()
		a := firing("DiskFull", "db", "fp1")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, uint64(1), s.WriteTransactions()-tx0, "one group commit")
		opened := s.Statements() - st0
		require.Greater(t, opened, uint64(3), "alert, incident, timeline, jobs")

		tx1, st1 := s.WriteTransactions(), s.Statements()
		_, err = s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Zero(t, s.WriteTransactions()-tx1, "an unchanged repeat writes nothing")
		require.Zero(t, s.Statements()-st1)

		_, err = s.Secret(ctx, "x")
		require.NoError(t, err)
		require.Equal(t, uint64(1), s.WriteTransactions()-tx1)
	})
}

// An engine pass with no step due begins no write transaction (an idle
// gateway's cost); once a step is due, the pass runs it.
func TestRunStepsWritesOnlyWhenAStepIsDue(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk := newClock()
		s := db.openTest(t, clk)
		ctx := context.Background()
		_, err := s.Ingest(ctx, []alert.Alert{firing("DiskFull", "db", "fp1")})
		require.NoError(t, err)
		ran := 0
		step := func(*Tx, *Job, *alert.Incident) (StepOutcome, error) {
			ran++
			return StepOutcome{}, nil
		}
		_, err = s.RunSteps(ctx, clk.Now(), 100, step) // the immediate steps
		require.NoError(t, err)
		next, ok, err := s.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok, "later steps are pending")

		tx0, ran0 := s.WriteTransactions(), ran
		n, err := s.RunSteps(ctx, next.Add(-time.Millisecond), 100, step)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Zero(t, s.WriteTransactions()-tx0, "nothing due: no write transaction")
		require.Equal(t, ran0, ran)

		n, err = s.RunSteps(ctx, next, 100, step)
		require.NoError(t, err)
		require.Positive(t, n)
		require.Equal(t, uint64(1), s.WriteTransactions()-tx0)
	})
}
