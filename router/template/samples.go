package template

import (
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Samples returns one message of every kind a target may get, for an
// incident opened 40 minutes before now: pages (unacknowledged; and a
// leadership page of an acknowledged incident), the channel's
// announcement, an SLA breach, a status update and its reminder, the
// acknowledgement, the resolution and its summary, a ticket, a reopened
// (flapping) page and a digest. Target compiles templates against them;
// the golden tests render them.
func Samples(now time.Time) []*notify.Message {
	opened := now.Add(-40 * time.Minute)
	inc := alert.Incident{
		ID: 7, Key: "INC-7", Severity: alert.P0, Status: alert.IncidentTriggered,
		Title: "checkout returns 503", Service: "checkout", Category: "outage", Runbook: "service-outage",
		GroupKey: "CheckoutDown/checkout", Source: "alertmanager", AlertCount: 2, FiringCount: 2,
		OpenedAt: opened, AckDue: opened.Add(15 * time.Minute), ResolveDue: opened.Add(time.Hour), UpdatedAt: opened,
	}
	base := notify.Message{
		IdempotencyKey: "INC-7/page/oncall#0/pager", DedupKey: "alertgate/INC-7", Incident: inc,
		IncidentURL: "https://alertgate.example.com/incidents/INC-7",
		AckURL:      "https://alertgate.example.com/ack/v1.7.1767268800.sig",
		Runbook: &notify.Runbook{Name: "service-outage", Title: "Service Outage", URL: "https://runbooks.example.com/service-outage",
			Steps: []string{"curl -f http://api-gateway:4000/health", "kubectl rollout restart deployment/api-gateway",
				"kubectl logs -f deployment/api-gateway --tail=100", "Post a status update"}},
		Labels: map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical",
			"instance": "checkout-7f9c:8080", "job": "checkout"},
		Alerts: []notify.AlertSummary{
			{Fingerprint: "0eeee852e85422ff", Status: alert.StatusFiring, Title: "checkout returns 503",
				Description: "5xx ratio 12% over 5m (threshold 5%)",
				Labels:      map[string]string{"alertname": "CheckoutDown", "instance": "checkout-7f9c:8080", "job": "checkout"},
				StartsAt:    opened, GeneratorURL: "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22checkout%22%7D",
				RunbookURL: "https://wiki.example.com/checkout-down"},
			{Fingerprint: "c6eadffa33fcdf37", Status: alert.StatusFiring, Title: "checkout latency p99 > 2s",
				Labels:   map[string]string{"alertname": "CheckoutLatency", "instance": "checkout-2b1d:8080"},
				StartsAt: opened.Add(2 * time.Minute), GeneratorURL: "https://grafana.example.com/alerting/grafana/abc/view",
				SilenceURL:   "https://grafana.example.com/alerting/silence/new?matcher=alertname%3DCheckoutLatency",
				DashboardURL: "https://grafana.example.com/d/checkout", PanelURL: "https://grafana.example.com/d/checkout?viewPanel=4"},
		},
		At: now,
	}
	msg := func(kind notify.MessageKind, stepType, step string, edit func(m *notify.Message)) *notify.Message {
		m := base
		m.Incident = inc
		m.Kind, m.StepType, m.Step = kind, stepType, step
		if edit != nil {
			edit(&m)
		}
		return &m
	}
	acked := func(m *notify.Message) {
		m.Incident.Status = alert.IncidentAcknowledged
		m.Incident.AcknowledgedAt = opened.Add(12 * time.Minute)
		m.Incident.AcknowledgedBy = "alice"
		m.AckURL = ""
	}
	resolved := func(m *notify.Message) {
		acked(m)
		m.Incident.Status = alert.IncidentResolved
		m.Incident.ResolvedAt = now
		m.Incident.ResolvedBy = "alice"
		m.Incident.FiringCount = 0
		m.PostmortemURL = m.IncidentURL + "#h-pm"
		for i := range m.Alerts {
			m.Alerts[i].Status = alert.StatusResolved
		}
	}
	copyAlerts := func(m *notify.Message) { m.Alerts = append([]notify.AlertSummary(nil), m.Alerts...) }
	return []*notify.Message{
		msg(notify.KindPage, "page", "oncall#0", func(m *notify.Message) { m.Role = "oncall" }),
		msg(notify.KindPage, "page", "eng-manager#0", func(m *notify.Message) {
			acked(m)
			m.Role, m.Mark, m.IdempotencyKey = "eng-manager", 30*time.Minute, "INC-7/page/eng-manager#0/pager"
		}),
		msg(notify.KindInfo, "announce", "announce:#incidents", func(m *notify.Message) { m.Channel = "#incidents" }),
		msg(notify.KindInfo, "sla", "sla:response", func(m *notify.Message) {
			m.Detail = "response SLA breached: P0 (Critical) not acknowledged within 15m"
		}),
		msg(notify.KindInfo, "update", "update", func(m *notify.Message) {
			acked(m)
			m.Detail = "Rolled back release 42; error rate falling."
		}),
		msg(notify.KindInfo, "remind", "remind#0", func(m *notify.Message) {
			m.Detail = "No status update for INC-7 within its cadence (15m): post one with POST https://alertgate.example.com/api/v1/incidents/INC-7/updates."
		}),
		msg(notify.KindAcknowledge, "ack", "ack", acked),
		msg(notify.KindResolve, "resolve", "resolve", func(m *notify.Message) { copyAlerts(m); resolved(m) }),
		msg(notify.KindInfo, "postmortem", "postmortem", func(m *notify.Message) { copyAlerts(m); resolved(m); m.Alerts = nil }),
		msg(notify.KindTicket, "ticket", "ticket", nil),
		msg(notify.KindPage, "page", "oncall#0", func(m *notify.Message) {
			m.Role, m.Flap, m.Flapping = "oncall", 3, true
			m.Incident.Flaps = 3
		}),
		msg(notify.KindInfo, "digest", "digest:weekly", func(m *notify.Message) {
			title := "Weekly digest for eng-manager: 1 P2 incident(s)"
			m.Role, m.DedupKey, m.AckURL, m.Runbook, m.Labels = "eng-manager", "alertgate/digest", "", nil, nil
			m.Incident = alert.Incident{Key: "Digest", Title: title, Severity: alert.P2}
			m.Summary = title
			m.Text = title + ", 2026-02-23 09:00 UTC to 2026-03-02 09:00 UTC.\n" +
				"- INC-5 [P2] search latency — resolved; opened 2026-02-24T10:00:00Z, resolved 2026-02-24T12:00:00Z; response SLA met, resolution SLA met\n"
			m.Alerts = []notify.AlertSummary{{Fingerprint: "INC-5", Status: alert.StatusFiring, Title: "search latency", StartsAt: now.Add(-5 * 24 * time.Hour)}}
		}),
	}
}
