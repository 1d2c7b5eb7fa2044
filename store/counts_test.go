package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
)

// handResolved opens a store that reopens within 30 minutes, sends the
// given alerts (one group: INC-1) and resolves INC-1 by hand a minute
// later, while they still fire.
func handResolved(t *testing.T, db *engineDB, alerts ...alert.Alert) (*Store, *clocktest.Clock) {
	t.Helper()
	clock := newClock()
	opts := testOptions(clock)
	opts.ReopenWithin = 30 * time.Minute
	s := db.Open(t, opts)
	_, err := s.Ingest(context.Background(), alerts)
	require.NoError(t, err)
	clock.Advance(time.Minute)
	_, err = s.Resolve(context.Background(), 1, "alice", "failed over")
	require.NoError(t, err)
	return s, clock
}

// requireIncident checks an incident's status and alert and firing counts.
func requireIncident(t *testing.T, s *Store, id int64, status alert.IncidentStatus, alerts, firing int) {
	t.Helper()
	d, err := s.GetIncident(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, status, d.Incident.Status)
	require.Equal(t, [2]int{alerts, firing}, [2]int{d.Incident.AlertCount, d.Incident.FiringCount}, "alert and firing counts")
}

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
				a1 := firing("DBDown", "orders-db", "a1")
				a2 := firing("DBDown", "orders-db", "a2")
				s, clock := handResolved(t, db, a1, a2)
				requireIncident(t, s, 1, alert.IncidentResolved, 2, 2) // both still fire at the source

				if tc.resolvedFirst {
					clock.Advance(time.Minute)
					_, err := s.Ingest(ctx, []alert.Alert{resolved(a1)})
					require.NoError(t, err)
					requireIncident(t, s, 1, alert.IncidentResolved, 2, 1)
				}

				clock.Advance(time.Minute)
				res, err := s.Ingest(ctx, []alert.Alert{a1})
				require.NoError(t, err)
				require.Equal(t, []string{"INC-1"}, res.Incidents, "the flap reopens the incident")
				requireIncident(t, s, 1, alert.IncidentTriggered, 2, 2)

				clock.Advance(time.Minute)
				_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
				require.NoError(t, err)
				requireIncident(t, s, 1, alert.IncidentTriggered, 2, 1)
				_, err = s.Ingest(ctx, []alert.Alert{resolved(a2)})
				require.NoError(t, err)
				requireIncident(t, s, 1, alert.IncidentResolved, 2, 0)
			})
		})
	}
}

// In one batch, one alert of a hand-resolved incident resolves and another
// fires again: the reopened incident counts exactly the one that fires.
func TestCountsAfterManualResolveInOneBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		a1 := firing("DBDown", "orders-db", "a1")
		a2 := firing("DBDown", "orders-db", "a2")
		s, clock := handResolved(t, db, a1, a2)

		clock.Advance(time.Minute)
		_, err := s.Ingest(ctx, []alert.Alert{resolved(a2), a1})
		require.NoError(t, err)
		requireIncident(t, s, 1, alert.IncidentTriggered, 2, 1)

		clock.Advance(time.Minute)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
		require.NoError(t, err)
		requireIncident(t, s, 1, alert.IncidentResolved, 2, 0)
	})
}

// A hand-resolved incident's firing alert that fires after the reopen
// window opens a new incident and leaves the old one's firing count.
func TestFiringAlertMovesOutOfHandResolvedIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		a1 := firing("DBDown", "orders-db", "a1")
		s, clock := handResolved(t, db, a1)

		clock.Advance(time.Hour)
		a1.Annotations = map[string]string{"summary": "still down"} // changed: not a repeat
		res, err := s.Ingest(ctx, []alert.Alert{a1})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents)
		requireIncident(t, s, 1, alert.IncidentResolved, 1, 0)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
		require.NoError(t, err)
		requireIncident(t, s, 2, alert.IncidentResolved, 1, 0)
	})
}
