package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The encoder must write bodies byte for byte as Alertmanager does: the
// fixture is a captured Alertmanager 0.27.0 body, re-encoded.
func TestEncodeWebhookMatchesAlertmanager(t *testing.T) {
	wire, err := os.ReadFile("testdata/alertmanager-firing.wire-reconstructed.json")
	require.NoError(t, err)
	var msg webhookMessage
	require.NoError(t, json.Unmarshal(wire, &msg))
	got, err := encodeWebhook(&msg)
	require.NoError(t, err)
	require.Equal(t, string(wire), string(got))
}

func TestStormBodies(t *testing.T) {
	s, err := newStorm(time.Date(2026, 8, 24, 10, 34, 30, 583e6, time.UTC))
	require.NoError(t, err)
	body := s.forWorker()

	tests := []struct {
		name      string
		id        uint64
		alertname string
		service   string
		instance  string
	}{
		{name: "first", id: 0, alertname: alertNames[0], service: services[0], instance: "node-0000000000:9100"},
		{name: "group wraps", id: 100, alertname: alertNames[0], service: services[0], instance: "node-0000000100:9100"},
		{name: "pair of group 57", id: 57, alertname: alertNames[17], service: services[7], instance: "node-0000000057:9100"},
		{name: "large id", id: 1<<40 + 3, alertname: alertNames[(1<<40+3)%100%20], service: services[(1<<40+3)%100%50],
			instance: fmt.Sprintf("node-%010d:9100", uint64(1<<40+3)%10_000_000_000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := body(tc.id)
			require.Equal(t, byte('\n'), b[len(b)-1], "trailing newline")
			var msg webhookMessage
			require.NoError(t, json.Unmarshal(b, &msg))
			require.Len(t, msg.Alerts, 1)
			a := msg.Alerts[0]
			require.Equal(t, tc.alertname, a.Labels["alertname"])
			require.Equal(t, tc.service, a.Labels["service"])
			require.Equal(t, tc.instance, a.Labels["instance"])
			require.Equal(t, a.Labels, msg.CommonLabels)
			require.Equal(t, fmt.Sprintf("%016x", fingerprint(tc.id)), a.Fingerprint)
			require.Equal(t, "4", msg.Version)
			require.True(t, a.EndsAt.IsZero())
		})
	}
}

func TestGroupsAreDistinct(t *testing.T) {
	seen := map[[2]string]bool{}
	for g := range numGroups {
		seen[[2]string{alertNames[g%len(alertNames)], services[g%len(services)]}] = true
	}
	require.Len(t, seen, numGroups)
}

func TestPoolRepeatsDistinctAlerts(t *testing.T) {
	s, err := newStorm(time.Now())
	require.NoError(t, err)
	p := newPool(s, 1000)
	body := p.forWorker()
	fps := map[string]bool{}
	for id := range uint64(1000) {
		var msg webhookMessage
		require.NoError(t, json.Unmarshal(body(id), &msg))
		fps[msg.Alerts[0].Fingerprint] = true
	}
	require.Len(t, fps, 1000)
	require.Equal(t, body(7), body(1007), "round-robin")
}

func TestGroupedStormBodies(t *testing.T) {
	const n = 25
	s, err := newGroupedStorm(n, time.Date(2026, 8, 24, 10, 34, 30, 583e6, time.UTC))
	require.NoError(t, err)
	require.Equal(t, n, s.alertsPerRequest())
	body := s.forWorker()
	fps := map[string]bool{}
	for _, id := range []uint64{0, 1, 57, 100, 1<<40 + 3} {
		var msg webhookMessage
		require.NoError(t, json.Unmarshal(body(id), &msg))
		require.Len(t, msg.Alerts, n)
		g := id % numGroups
		require.Equal(t, map[string]string{"alertname": alertNames[g%20], "service": services[g%50]}, msg.GroupLabels)
		require.NotContains(t, msg.CommonLabels, "instance", "instances differ within a group")
		require.Equal(t, alertNames[g%20], msg.CommonLabels["alertname"])
		for j, a := range msg.Alerts {
			alertID := id*n + uint64(j)
			require.Equal(t, fmt.Sprintf("%016x", fingerprint(alertID)), a.Fingerprint, "alert %d of request %d", j, id)
			require.Equal(t, fmt.Sprintf("node-%010d:9100", alertID%10_000_000_000), a.Labels["instance"])
			require.Equal(t, services[g%50], a.Labels["service"])
			fps[a.Fingerprint] = true
		}
	}
	require.Len(t, fps, 5*n, "every alert of every request is new")
}

// -workloads accepts exactly the workloads there are.
func TestWorkloadNames(t *testing.T) {
	all, err := newWorkloads(time.Now(), 3)
	require.NoError(t, err)
	require.ElementsMatch(t, workloadNames, slices.Collect(maps.Keys(all)))
	for name, wl := range all {
		require.Equal(t, name, wl.Name)
	}
}
