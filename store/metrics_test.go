package store

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// openGauges gathers alertgate_incidents_open as "severity/status" → value.
func openGauges(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	return gauges(t, c, "severity", "status")
}

func TestIncidentsCollectorCountsOpenBySeverityAndStatus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		c := s.IncidentsCollector()
		zero := map[string]float64{}
		for _, sev := range []string{"P0", "P1", "P2", "P3"} {
			zero[sev+"/triggered"], zero[sev+"/acknowledged"] = 0, 0
		}
		require.Equal(t, zero, openGauges(t, c), "no incident: every series at 0")

		_, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "a1"), firing("DiskFull", "db", "a2")})
		require.NoError(t, err)
		got := openGauges(t, c)
		require.Equal(t, 2.0, got["P0/triggered"])
		require.Equal(t, 0.0, got["P0/acknowledged"])

		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		got = openGauges(t, c)
		require.Equal(t, 1.0, got["P0/triggered"])
		require.Equal(t, 1.0, got["P0/acknowledged"])

		_, err = s.Resolve(ctx, 2, "alice", "")
		require.NoError(t, err)
		got = openGauges(t, c)
		require.Equal(t, 0.0, got["P0/triggered"], "a resolved incident is not open")
		require.Equal(t, 1.0, got["P0/acknowledged"])
		require.Len(t, got, 8)
	})
}
