package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
)

// The P0 of the procedures, step by step: On-Call at once and again at 5m,
// #incidents and the status page at open, the response SLA breached and
// the first update reminder at 15m with the Team Lead page — unless
// acknowledged: an ack at 10m stops On-Call and Team Lead but not
// leadership (Eng Manager at 30m); resolve at 50m stops everything
// (no CTO at 1h) and drafts the post-mortem.
func TestP0AsTheProceduresRead(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets = append(c.Targets, config.Target{Name: "status", Type: "webhook", Settings: &webhook.Settings{URL: "http://status.invalid/"}})
		c.Communication.StatusPage.Targets = []string{"status"}
	})
	h.ingest(critical("PaymentsDown", "payments"))

	got := h.at(0)
	require.Equal(t, []string{"oncall#0"}, pages(got))
	require.ElementsMatch(t, []string{"chat:announce:#incidents", "status:announce:status-page"}, steps(got, notify.KindInfo))
	require.Equal(t, []string{"oncall#1"}, pages(h.at(5*time.Minute)))

	h.clk.Advance(5 * time.Minute) // 10m
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "looking")
	require.NoError(t, err)
	require.Equal(t, []sent{
		{Target: "pager", Kind: notify.KindAcknowledge, Step: "ack", At: 10 * time.Minute},
		{Target: "status", Kind: notify.KindAcknowledge, Step: "ack", At: 10 * time.Minute},
	}, h.at(10*time.Minute), "the paged target and the status page (now identified) hear of the ack")

	got = h.at(15 * time.Minute)
	require.Empty(t, pages(got), "no On-Call repeat, no Team Lead: acknowledged")
	require.NotContains(t, steps(got, notify.KindInfo), "chat:sla:response", "acknowledged within 15m: no breach")
	require.Contains(t, steps(got, notify.KindInfo), "chat:remind#0", "no update posted in 15m")

	var leader *notify.Message
	h.rec.onSend = func(m *notify.Message) {
		if m.Step == "eng-manager#0" {
			leader = m
		}
	}
	require.Equal(t, []string{"eng-manager#0"}, pages(h.at(30*time.Minute)), "leadership is told while unresolved")
	require.Equal(t, 30*time.Minute, leader.Mark, "the page knows its mark")
	require.Equal(t, alert.IncidentAcknowledged, leader.Incident.Status)
	require.Contains(t, leader.Text, "was acknowledged by alice 20 min ago — eng-manager is told because it is still unresolved at 30 min")

	h.clk.Advance(20 * time.Minute) // 50m
	_, err = h.st.Resolve(context.Background(), 1, "alice", "payments provider recovered")
	require.NoError(t, err)
	var postmortem string
	h.rec.onSend = func(m *notify.Message) {
		if m.Step == "postmortem" {
			postmortem = m.Text
		}
	}
	got = h.at(50 * time.Minute)
	require.ElementsMatch(t, []string{"chat:resolve", "pager:resolve", "status:resolve"}, steps(got, notify.KindResolve))
	require.Equal(t, "INC-1 resolved by alice after 50 min.\nResponse SLA (15m): met. Resolution SLA (1h): met.\nAlerts: 1.\n"+
		"Post-mortem draft: http://localhost:8080/incidents/INC-1#h-pm\n", postmortem,
		"#incidents gets a short resolution summary linking the draft, not the draft")
	require.Empty(t, h.at(2*time.Hour), "nothing after the resolution: no CTO page, no reminder, no SLA check")

	d, err := h.st.GetIncident(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, alert.IncidentResolved, d.Incident.Status)
	require.Empty(t, timeline(t, h, alert.EventSLABreached), "acknowledged in 10m, resolved in 50m: both SLAs met")
}
