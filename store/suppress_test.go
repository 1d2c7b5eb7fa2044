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

// openWithDefaultRules opens a store classified by the default rules (and
// so the default inhibit rule: an open P0 inhibits P1–P3 of its service).
func openWithDefaultRules(t *testing.T, db *engineDB, clk *clocktest.Clock) *Store {
	t.Helper()
	eng, err := rules.New(config.Default())
	require.NoError(t, err)
	return db.Open(t, Options{Now: clk.Now, Classifier: eng, Planner: planner{}})
}
