package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// The groups of a batch are read once, before it is applied: a new alert
// joins its group's open incident, reopens the group's recently resolved
// one, or opens a new incident when the resolved one is past the
// window; an alert that resolves the group's incident in the batch
// makes the next alert of that group read the group again, so it reopens
// what the batch just resolved.
func TestBatchReadsItsGroups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk, rp := newClock(), &recPlanner{}
		s := flapStore(t, db, clk, rp)
		open1 := firing("Open", "checkout", "open-1")
		recent1 := firing("Recent", "checkout", "recent-1")
		old1 := firing("Old", "checkout", "old-1")
		churn1 := firing("Churn", "checkout", "churn-1")
		_, err := s.Ingest(ctx, []alert.Alert{open1, recent1, old1, churn1}) // INC-1..4
		require.NoError(t, err)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(old1)})
		require.NoError(t, err)
		clk.Advance(20 * time.Minute) // past reopen_within for Old
		_, err = s.Ingest(ctx, []alert.Alert{resolved(recent1)})
		require.NoError(t, err)
		clk.Advance(time.Minute)

		res, err := s.Ingest(ctx, []alert.Alert{
			firing("Open", "checkout", "open-2"),     // joins INC-1
			firing("Recent", "checkout", "recent-2"), // reopens INC-2
			firing("Old", "checkout", "old-2"),       // opens INC-5
			resolved(churn1),                         // resolves INC-4 ...
			firing("Churn", "checkout", "churn-2"),   // ... which reopens
			firing("New", "checkout", "new-1"),       // opens INC-6
		})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1", "INC-2", "INC-4", "INC-5", "INC-6"}, res.Incidents)
		for id, want := range map[int64]struct {
			status         alert.IncidentStatus
			alerts, firing int
			flaps          int
		}{
			1: {alert.IncidentTriggered, 2, 2, 0},
			2: {alert.IncidentTriggered, 2, 1, 1},
			3: {alert.IncidentResolved, 1, 0, 0},
			4: {alert.IncidentTriggered, 2, 1, 1},
			5: {alert.IncidentTriggered, 1, 1, 0},
			6: {alert.IncidentTriggered, 1, 1, 0},
		} {
			inc := getIncident(t, s, id)
			require.Equal(t, want.status, inc.Status, inc.Key)
			require.Equal(t, want.alerts, inc.AlertCount, inc.Key)
			require.Equal(t, want.firing, inc.FiringCount, inc.Key)
			require.Equal(t, want.flaps, inc.Flaps, inc.Key)
		}
		require.Equal(t, []Change{ChangeReopened, ChangeReopened}, rp.changes())
	})
}
