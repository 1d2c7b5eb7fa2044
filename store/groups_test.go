package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
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

// A batch's new incidents take consecutive numbers, and the next batch's
// follow on: on PostgreSQL the ids reserved for a batch's new incidents
// are the ones they use, whatever else the batch holds — an alert that
// joins an open incident, a second alert of a new group, an alert held by
// a silence, one inhibited by an incident open before the batch, one that
// reopens its group's recently resolved incident.
func TestNewIncidentsTakeConsecutiveNumbers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		eng, err := rules.New(config.Default())
		require.NoError(t, err)
		s := db.Open(t, Options{Now: clk.Now, Classifier: eng, Planner: planner{}, ReopenWithin: 10 * time.Minute})
		warning := func(name, svc, fp string) alert.Alert {
			a := firing(name, svc, fp)
			a.Labels["severity"] = "warning"
			return a
		}
		silenced := warning("Held", "search", "held-1")
		silenced.Labels["env"] = "staging"
		recent := warning("Recent", "search", "recent-1")
		res, err := s.Ingest(ctx, []alert.Alert{firing("CheckoutDown", "checkout", "down-1"), recent}) // INC-1, INC-2
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1", "INC-2"}, res.Incidents)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(recent)})
		require.NoError(t, err)
		createSilence(t, s, clk, time.Hour, `env="staging"`)

		res, err = s.Ingest(ctx, []alert.Alert{
			firing("CheckoutDown", "checkout", "down-2"), // joins INC-1
			warning("A", "search", "a-1"),                // opens INC-3
			silenced,                                     // held by the silence
			warning("Slow", "checkout", "slow-1"),        // inhibited by INC-1 (P0)
			warning("Recent", "search", "recent-2"),      // reopens INC-2
			warning("A", "search", "a-2"),                // joins INC-3
			warning("B", "search", "b-1"),                // opens INC-4
		})
		require.NoError(t, err)
		held, err := s.SuppressedAlerts(ctx, 0)
		require.NoError(t, err)
		var by []string
		for _, a := range held {
			by = append(by, a.Fingerprint+" "+strings.SplitN(a.SuppressedBy, ":", 2)[0])
		}
		require.ElementsMatch(t, []string{"held-1 silence", "slow-1 inhibited"}, by)
		require.Equal(t, []string{"INC-1", "INC-2", "INC-3", "INC-4"}, res.Incidents)

		res, err = s.Ingest(ctx, []alert.Alert{warning("C", "search", "c-1")})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-5"}, res.Incidents, "no number skipped")
	})
}
