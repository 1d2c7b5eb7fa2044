package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// An outage P0 without a service must not mute an unrelated alert that
// also lacks one: the warning opens its own incident (and so pages).
func TestServicelessP0DoesNotInhibitUnrelatedAlerts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := openWithDefaultRules(t, db, newClock())
		partition := alert.Alert{Source: "am", SourceType: "alertmanager", Status: alert.StatusFiring, Fingerprint: "np",
			Labels: map[string]string{"alertname": "NetworkPartition", "category": "outage"}, Title: "NetworkPartition"}
		res, err := s.Ingest(ctx, []alert.Alert{partition})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents)

		cert := alert.Alert{Source: "am", SourceType: "alertmanager", Status: alert.StatusFiring, Fingerprint: "cert",
			Labels: map[string]string{"alertname": "CertificateExpiringSoon", "severity": "warning"}, Title: "CertificateExpiringSoon", SeverityHint: "warning"}
		res, err = s.Ingest(ctx, []alert.Alert{cert})
		require.NoError(t, err)
		require.Zero(t, res.Suppressed)
		require.Equal(t, []string{"INC-2"}, res.Incidents)

		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, alert.P0, list[1].Severity)
		require.Equal(t, alert.P2, list[0].Severity)
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
