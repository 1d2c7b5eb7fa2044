package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

func TestIncidentsChangedSince(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		clk.Advance(time.Minute)
		mark := clk.Now()
		_, err = s.Ingest(ctx, []alert.Alert{firing("B", "payments", "b")})
		require.NoError(t, err)

		got, err := s.IncidentsChangedSince(ctx, mark, 0)
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, keys(got))

		clk.Advance(time.Minute)
		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		got, err = s.IncidentsChangedSince(ctx, mark, 0)
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2", "INC-1"}, keys(got), "oldest change first")
		require.Equal(t, alert.IncidentAcknowledged, got[1].Status)
	})
}

func TestPaged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a"), firing("B", "payments", "b")})
		require.NoError(t, err)
		require.NoError(t, s.withTx(ctx, func(tx *Tx) error {
			if err := tx.AppendEvent(1, alert.EventEscalated, "", "paged oncall alice by rotation (oncall#0)"); err != nil {
				return err
			}
			return tx.AppendEvent(1, alert.EventEscalated, "", "paged cto (cto#0)")
		}))
		got, err := s.Paged(ctx, []int64{1, 2})
		require.NoError(t, err)
		require.Equal(t, map[int64][]string{1: {"oncall alice", "cto"}}, got)

		none, err := s.Paged(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}

func TestFiringAlerts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		a, b := firing("A", "checkout", "a"), firing("B", "payments", "b")
		_, err := s.Ingest(ctx, []alert.Alert{a, b})
		require.NoError(t, err)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a)})
		require.NoError(t, err)
		got, err := s.FiringAlerts(ctx, 0)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "b", got[0].Fingerprint)
		require.Equal(t, "INC-2", got[0].IncidentKey)
	})
}

func keys(list []alert.Incident) []string {
	out := make([]string, 0, len(list))
	for _, inc := range list {
		out = append(out, inc.Key)
	}
	return out
}

func TestSetSeverity(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("A", "checkout", "a")})
		require.NoError(t, err)
		clk.Advance(time.Minute)

		inc, err := s.SetSeverity(ctx, 1, alert.P2, "alice", "only staging")
		require.NoError(t, err)
		require.Equal(t, alert.P2, inc.Severity)
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.P2, d.Incident.Severity)
		last := d.Timeline[len(d.Timeline)-1]
		require.Equal(t, alert.EventLowered, last.Kind)
		require.Equal(t, "alice", last.Actor)
		require.Equal(t, "severity P0 → P2: only staging", last.Detail)
		states := jobStates(t, s, 1)
		require.Equal(t, JobCancelled, states["INC-1/page/cto#0"], "the old level's pages give way")
		changed, err := s.IncidentsChangedSince(ctx, clk.Now(), 0)
		require.NoError(t, err)
		require.Len(t, changed, 1, "the board hears of it")

		_, err = s.SetSeverity(ctx, 1, alert.P1, "bob", "")
		require.NoError(t, err)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.EventRaised, d.Timeline[len(d.Timeline)-1].Kind)

		_, err = s.SetSeverity(ctx, 1, alert.Severity(9), "bob", "")
		require.ErrorIs(t, err, ErrInvalid)
		_, err = s.Resolve(ctx, 1, "bob", "")
		require.NoError(t, err)
		_, err = s.SetSeverity(ctx, 1, alert.P0, "bob", "")
		require.ErrorIs(t, err, ErrConflict)
		_, err = s.SetSeverity(ctx, 9, alert.P0, "bob", "")
		require.ErrorIs(t, err, ErrNotFound)
	})
}
