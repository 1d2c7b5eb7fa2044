package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

func steps(s []sent, kind notify.MessageKind) []string {
	var out []string
	for _, m := range s {
		if m.Kind == kind {
			out = append(out, m.Target+":"+m.Step)
		}
	}
	return out
}

func timeline(t *testing.T, h *harness, kind alert.EventKind) []string {
	t.Helper()
	d, err := h.st.GetIncident(context.Background(), 1)
	require.NoError(t, err)
	var out []string
	for _, e := range d.Timeline {
		if e.Kind == kind {
			out = append(out, e.Detail)
		}
	}
	return out
}

// An unacknowledged P0, as the procedures read: On-Call at once and every
// 5 minutes, Team Lead at 15m with the response SLA breach and the first
// update reminder; a posted update resets the reminder cadence.
func TestP0SLAAndUpdateCadence(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Escalation.Matrix[0].Repeat = nil })
	h.ingest(critical("CheckoutDown", "checkout"))
	require.Equal(t, []string{"chat:announce:#incidents"}, steps(h.at(0), notify.KindInfo))
	require.Empty(t, timeline(t, h, alert.EventSLABreached))

	got := h.at(15 * time.Minute)
	require.Equal(t, []string{"team-lead#0"}, pages(got))
	require.ElementsMatch(t, []string{"chat:sla:response", "chat:remind#0", "pager:remind#0"}, steps(got, notify.KindInfo))
	require.Equal(t, []string{"response SLA breached: P0 (Critical) not acknowledged within 15m via chat"}, timeline(t, h, alert.EventSLABreached))

	// A status update at 20m goes to #incidents; the next reminder is
	// due 15m after it, not 15m after the last reminder.
	h.clk.Advance(5 * time.Minute)
	_, err := h.st.PostUpdate(context.Background(), 1, "alice", "rolling back release 42")
	require.NoError(t, err)
	require.Equal(t, []string{"chat:update"}, steps(h.at(20*time.Minute), notify.KindInfo))
	require.Empty(t, steps(h.at(30*time.Minute), notify.KindInfo), "an update was posted 10m ago")
	require.ElementsMatch(t, []string{"chat:remind#2", "pager:remind#2"}, steps(h.at(35*time.Minute), notify.KindInfo))

	// Unresolved at 1h: the resolution SLA is breached too.
	got = h.at(time.Hour)
	require.Contains(t, steps(got, notify.KindInfo), "chat:sla:resolution")
	require.Len(t, timeline(t, h, alert.EventSLABreached), 2)
}

func TestAckedInTimeIsNoBreach(t *testing.T) {
	h := newHarness(t, nil)
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	h.at(14 * time.Minute)
	_, err = h.st.Resolve(context.Background(), 1, "alice", "fixed")
	require.NoError(t, err)
	h.at(2 * time.Hour)
	require.Empty(t, timeline(t, h, alert.EventSLABreached))
}

// A P2, as the procedures read: #alerts at once, On-Call at 2h, Team Lead
// at 4h, Eng Manager in the next-day digest and the CTO in the weekly one;
// updates every 2h; response SLA 2h, resolution 24h.
func TestP2PerSeed(t *testing.T) {
	h := newHarness(t, nil) // Friday 10:00 UTC
	warn := critical("CheckoutSlow", "checkout")
	warn.Labels["severity"], warn.SeverityHint = "warning", "warning"
	h.ingest(warn)
	require.Equal(t, alert.P2, incident(t, h, 1).Severity)
	got := h.at(0)
	require.Equal(t, []string{"chat:announce:#alerts"}, steps(got, notify.KindInfo))
	require.Empty(t, pages(got))
	require.Empty(t, pages(h.at(time.Hour+59*time.Minute)))

	got = h.at(2 * time.Hour)
	require.Equal(t, []string{"oncall#0"}, pages(got))
	require.ElementsMatch(t, []string{"chat:sla:response", "chat:remind#0", "pager:remind#0"}, steps(got, notify.KindInfo))

	h.clk.Advance(time.Minute)
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	require.Empty(t, pages(h.at(4*time.Hour)), "Team Lead stops on acknowledge")

	// Saturday 09:00: Eng Manager's next-day digest lists the P2.
	var digest string
	h.rec.onSend = func(m *notify.Message) {
		if m.Step == "digest:next-day" && m.Role == "eng-manager" {
			digest = m.Text
		}
	}
	h.at(23 * time.Hour)
	require.Contains(t, digest, "INC-1 [P2] CheckoutSlow — acknowledged")
	require.Contains(t, digest, "response SLA missed")
}

// The update reminder names the API address that takes a status update
// (the incident_url is the console's page, which has no /updates).
func TestUpdateReminderNamesTheUpdatesEndpoint(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Server.ExternalURL = "https://alertgate.example.com/" })
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)
	msgs := messages(h)
	h.at(15 * time.Minute)
	var details []string
	for _, m := range *msgs {
		if m.StepType == "remind" {
			details = append(details, m.Detail)
		}
	}
	require.NotEmpty(t, details)
	for _, d := range details {
		require.Contains(t, d, "POST https://alertgate.example.com/api/v1/incidents/INC-1/updates")
	}
}
