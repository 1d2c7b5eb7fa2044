package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

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
