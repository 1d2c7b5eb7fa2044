package store

import (
	"context"
	"testing"

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
