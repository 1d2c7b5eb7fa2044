package store

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// toggle suppresses every alert while on.
type toggle struct {
	classifier
	on *atomic.Bool
}

func (c toggle) Suppress(*alert.Alert, *rules.Decision, time.Time, []rules.Silence, []rules.InhibitSource) (rules.Suppression, bool) {
	if c.on.Load() {
		return rules.Suppression{Kind: rules.KindMaintenance, ID: "sunday-upgrades"}, true
	}
	return rules.Suppression{}, false
}

func TestSuppressedAlertIsRecordedAndReleased(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		on := &atomic.Bool{}
		on.Store(true)
		clk := newClock()
		s := db.Open(t, Options{Now: clk.Now, Classifier: toggle{on: on}, Planner: planner{}})

		a := firing("DiskFull", "db", "d1")
		res, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, 1, res.Suppressed)
		require.Empty(t, res.Incidents)
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Empty(t, list, "a suppressed alert opens no incident and pages nobody")
		sup, err := s.SuppressedAlerts(ctx, 0)
		require.NoError(t, err)
		require.Len(t, sup, 1)
		require.Equal(t, "maintenance:sunday-upgrades", sup[0].SuppressedBy)

		res, err = s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, 1, res.Unchanged, "repeats of a suppressed alert are answered from memory")

		n, err := s.Reevaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "still suppressed")

		// The window ends while the alert still fires: it is evaluated afresh
		// and opens its incident, with its escalation.
		on.Store(false)
		n, err = s.Reevaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		list, err = s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobPending, "INC-1/page/cto#0": JobPending}, jobStates(t, s, 1))
		sup, err = s.SuppressedAlerts(ctx, 0)
		require.NoError(t, err)
		require.Empty(t, sup)
		res, err = s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
	})
}

func TestSilenceLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)

		_, err := s.CreateSilence(ctx, config.Silence{Matchers: []string{`alertname="Flaky"`}, EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339)})
		require.ErrorIs(t, err, ErrInvalid, "created_by is required")
		_, err = s.CreateSilence(ctx, config.Silence{Matchers: []string{`alertname=~"("`}, EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339), CreatedBy: "alice"})
		require.ErrorIs(t, err, ErrInvalid)
		sil, err := s.CreateSilence(ctx, config.Silence{Matchers: []string{`alertname="Flaky"`}, EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339),
			CreatedBy: "alice", Comment: "known issue", ExpireOnResolve: true})
		require.NoError(t, err)
		require.Equal(t, "active", sil.State)

		flaky := firing("Flaky", "web", "f1")
		res, err := s.Ingest(ctx, []alert.Alert{flaky})
		require.NoError(t, err)
		require.Equal(t, 1, res.Suppressed)
		other := firing("Other", "web", "o1")
		res, err = s.Ingest(ctx, []alert.Alert{other})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents, "the silence matches only its alerts")

		// expire_on_resolve: the silenced alert resolves, so the silence ends.
		_, err = s.Ingest(ctx, []alert.Alert{resolved(flaky)})
		require.NoError(t, err)
		all, err := s.ListSilences(ctx)
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.Equal(t, "expired", all[0].State)
		clk.Advance(time.Minute)
		res, err = s.Ingest(ctx, []alert.Alert{flaky})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents, "after the silence ended the alert pages")

		require.ErrorIs(t, s.ExpireSilence(ctx, "nope"), ErrNotFound)
	})
}

// CreateSilence answers with the silence as stored and listed (times at
// the store's millisecond precision).
func TestCreatedSilenceIsTheListedOne(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		clk.Advance(123456789 * time.Nanosecond)
		s := openWithDefaultRules(t, db, clk)
		sil, err := s.CreateSilence(ctx, config.Silence{Matchers: []string{`alertname="Flaky"`},
			StartsAt: clk.Now().Format(time.RFC3339Nano), EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339Nano), CreatedBy: "alice"})
		require.NoError(t, err)
		all, err := s.ListSilences(ctx)
		require.NoError(t, err)
		require.Equal(t, []Silence{*sil}, all)
		require.Equal(t, time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC), sil.StartsAt)
	})
}

func TestExpiringSilenceReleasesAlert(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)
		sil, err := s.CreateSilence(ctx, config.Silence{Matchers: []string{`service="web"`}, EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339), CreatedBy: "bob"})
		require.NoError(t, err)
		res, err := s.Ingest(ctx, []alert.Alert{firing("Down", "web", "w1")})
		require.NoError(t, err)
		require.Equal(t, 1, res.Suppressed)

		// Expiring triggers the re-evaluation in the background; running it
		// here as well must not open a second incident.
		require.NoError(t, s.ExpireSilence(ctx, sil.ID))
		_, err = s.Reevaluate(ctx)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			list, err := s.ListIncidents(ctx, IncidentFilter{})
			return err == nil && len(list) > 0
		}, 5*time.Second, 5*time.Millisecond)
		_, err = s.Reevaluate(ctx)
		require.NoError(t, err)
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}

func TestInhibitedAlertAttachesToInhibitingIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk) // default: an open P0 inhibits P1–P3 of its service

		down := firing("CheckoutDown", "checkout", "p0")
		res, err := s.Ingest(ctx, []alert.Alert{down})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents)

		slow := firing("CheckoutLatency", "checkout", "p2")
		slow.Labels["severity"], slow.SeverityHint = "warning", "warning"
		res, err = s.Ingest(ctx, []alert.Alert{slow})
		require.NoError(t, err)
		require.Equal(t, 1, res.Suppressed, "the P2 of the same service is inhibited")
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.EventSuppressed, d.Timeline[len(d.Timeline)-1].Kind)

		// Other services are not inhibited.
		res, err = s.Ingest(ctx, []alert.Alert{firing("SearchLatency", "search", "s1")})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents)

		// The P0 resolves: the inhibited alert still fires, so it pages now.
		_, err = s.Ingest(ctx, []alert.Alert{resolved(down)})
		require.NoError(t, err)
		_, err = s.Reevaluate(ctx) // the resolve also triggers it in the background
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			list, err := s.ListIncidents(ctx, IncidentFilter{Status: alert.IncidentTriggered})
			return err == nil && len(list) == 2
		}, 5*time.Second, 5*time.Millisecond)
		sup, err := s.SuppressedAlerts(ctx, 0)
		require.NoError(t, err)
		require.Empty(t, sup)
	})
}

func TestSilenceEndingByTimeReleasesAlert(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := openWithDefaultRules(t, db, clk)
		_, err := s.CreateSilence(ctx, config.Silence{Matchers: []string{`service="web"`}, EndsAt: clk.Now().Add(time.Hour).Format(time.RFC3339), CreatedBy: "bob"})
		require.NoError(t, err)
		res, err := s.Ingest(ctx, []alert.Alert{firing("Down", "web", "w1")})
		require.NoError(t, err)
		require.Equal(t, 1, res.Suppressed)

		clk.Advance(59 * time.Minute)
		n, err := s.Reevaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the silence still holds")
		clk.Advance(time.Minute)
		n, err = s.Reevaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the silence ended while the alert fires: evaluated afresh")
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}

// openWithDefaultRules opens a store classified by the default rules (and
// so the default inhibit rule: an open P0 inhibits P1–P3 of its service).
func openWithDefaultRules(t *testing.T, db *engineDB, clk *clocktest.Clock) *Store {
	t.Helper()
	eng, err := rules.New(config.Default())
	require.NoError(t, err)
	return db.Open(t, Options{Now: clk.Now, Classifier: eng, Planner: planner{}})
}
