package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// An incident resolved by hand while its alerts still fire keeps counting
// them right, however they come back: a flap reopens it with one firing
// alert per alert firing at the source, and it resolves itself when they
// resolve.
func TestCountsAfterManualResolve(t *testing.T) {
	tests := []struct {
		name string
		// between the manual resolve and the re-fire
		resolvedFirst bool
	}{
		{name: "alert fires on after the manual resolve"},
		{name: "alert resolves, then fires again", resolvedFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, db *engineDB) {
				ctx := context.Background()
				clock := newClock()
				opts := testOptions(clock)
				opts.ReopenWithin = 30 * time.Minute
				s := db.Open(t, opts)
				counts := func(wantStatus alert.IncidentStatus, alerts, firing int) {
					t.Helper()
					d, err := s.GetIncident(ctx, 1)
					require.NoError(t, err)
					require.Equal(t, wantStatus, d.Incident.Status)
					require.Equal(t, [2]int{alerts, firing}, [2]int{d.Incident.AlertCount, d.Incident.FiringCount}, "alert and firing counts")
				}
				a1 := firing("DBDown", "orders-db", "a1")
				a2 := firing("DBDown", "orders-db", "a2")
				_, err := s.Ingest(ctx, []alert.Alert{a1, a2})
				require.NoError(t, err)
				counts(alert.IncidentTriggered, 2, 2)

				clock.Advance(time.Minute)
				_, err = s.Resolve(ctx, 1, "alice", "failed over")
				require.NoError(t, err)
				counts(alert.IncidentResolved, 2, 2) // both still fire at the source

				if tc.resolvedFirst {
					clock.Advance(time.Minute)
					_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
					require.NoError(t, err)
					counts(alert.IncidentResolved, 2, 1)
				}

				clock.Advance(time.Minute)
				res, err := s.Ingest(ctx, []alert.Alert{a1})
				require.NoError(t, err)
				require.Equal(t, []string{"INC-1"}, res.Incidents, "the flap reopens the incident")
				counts(alert.IncidentTriggered, 2, 2)

				clock.Advance(time.Minute)
				_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
				require.NoError(t, err)
				counts(alert.IncidentTriggered, 2, 1)
				_, err = s.Ingest(ctx, []alert.Alert{resolved(a2)})
				require.NoError(t, err)
				counts(alert.IncidentResolved, 2, 0)
			})
		})
	}
}

// In one batch, one alert of a hand-resolved incident resolves and another
// fires again: the reopened incident counts exactly the one that fires.
func TestCountsAfterManualResolveInOneBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clock := newClock()
		opts := testOptions(clock)
		opts.ReopenWithin = 30 * time.Minute
		s := db.Open(t, opts)
		a1 := firing("DBDown", "orders-db", "a1")
		a2 := firing("DBDown", "orders-db", "a2")
		_, err := s.Ingest(ctx, []alert.Alert{a1, a2})
		require.NoError(t, err)
		clock.Advance(time.Minute)
		_, err = s.Resolve(ctx, 1, "alice", "failed over")
		require.NoError(t, err)

		clock.Advance(time.Minute)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a2), a1})
		require.NoError(t, err)
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentTriggered, d.Incident.Status)
		require.Equal(t, 1, d.Incident.FiringCount)

		clock.Advance(time.Minute)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
		require.NoError(t, err)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentResolved, d.Incident.Status, "all its alerts resolved")
		require.Zero(t, d.Incident.FiringCount)
	})
}

// A hand-resolved incident's firing alert that fires after the reopen
// window opens a new incident and leaves the old one's firing count.
func TestFiringAlertMovesOutOfHandResolvedIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clock := newClock()
		opts := testOptions(clock)
		opts.ReopenWithin = 30 * time.Minute
		s := db.Open(t, opts)
		a1 := firing("DBDown", "orders-db", "a1")
		_, err := s.Ingest(ctx, []alert.Alert{a1})
		require.NoError(t, err)
		_, err = s.Resolve(ctx, 1, "alice", "")
		require.NoError(t, err)

		clock.Advance(time.Hour)
		a1.Annotations = map[string]string{"summary": "still down"} // changed: not a repeat
		res, err := s.Ingest(ctx, []alert.Alert{a1})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents)
		old, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Zero(t, old.Incident.FiringCount)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
		require.NoError(t, err)
		d, err := s.GetIncident(ctx, 2)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentResolved, d.Incident.Status)
	})
}
