package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

func TestOpening(t *testing.T) {
	d := &rules.Decision{Severity: alert.P1, Category: "database", Runbook: "rb/db", GroupKey: "g1"}
	cases := []struct {
		name      string
		a         alert.Alert
		wantTitle string
	}{
		{"titled by the alert", alert.Alert{Title: "Postgres down", Service: "db", Source: "am", Fingerprint: "f1"}, "Postgres down"},
		{"untitled: by its fingerprint", alert.Alert{Service: "db", Source: "am", Fingerprint: "f1"}, "f1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := alert.Incident{Severity: alert.P1, Status: alert.IncidentTriggered, Title: c.wantTitle, Service: "db",
				Category: "database", Runbook: "rb/db", GroupKey: "g1", Source: "am", AlertCount: 1, FiringCount: 1,
				OpenedAt: t0, UpdatedAt: t0}
			require.Equal(t, want, Opening(&c.a, d, t0))
		})
	}
}

func TestManual(t *testing.T) {
	cases := []struct {
		name   string
		decide func(alert.IncidentStatus) Manual
		st     alert.IncidentStatus
		want   Manual
	}{
		{"acknowledge triggered", Acknowledge, alert.IncidentTriggered, Applies},
		{"acknowledge acknowledged", Acknowledge, alert.IncidentAcknowledged, Unchanged},
		{"acknowledge resolved", Acknowledge, alert.IncidentResolved, Refused},
		{"resolve triggered", Resolve, alert.IncidentTriggered, Applies},
		{"resolve acknowledged", Resolve, alert.IncidentAcknowledged, Applies},
		{"resolve resolved", Resolve, alert.IncidentResolved, Unchanged},
		{"set severity of an acknowledged incident", Relevels, alert.IncidentAcknowledged, Applies},
		{"set severity of a resolved incident", Relevels, alert.IncidentResolved, Refused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.decide(c.st))
		})
	}
}
