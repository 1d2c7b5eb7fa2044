package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router"
)

func resolvedCopy(a alert.Alert) alert.Alert {
	a.Status = alert.StatusResolved
	return a
}

func incident(t *testing.T, h *harness, id int64) alert.Incident {
	t.Helper()
	d, err := h.st.GetIncident(context.Background(), id)
	require.NoError(t, err)
	return d.Incident
}

func pages(s []sent) []string {
	var out []string
	for _, m := range s {
		if m.Kind == router.KindPage {
			out = append(out, m.Step)
		}
	}
	return out
}

func TestFlapReopensWithHoldDown(t *testing.T) {
	h := newHarness(t, nil)
	a := critical("CheckoutDown", "checkout")
	h.ingest(a)
	require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))

	h.clk.Advance(2 * time.Minute)
	h.ingest(resolvedCopy(a))
	require.Equal(t, alert.IncidentResolved, incident(t, h, 1).Status)
	h.at(2 * time.Minute)

	// Fires again 2 minutes after resolving: the same incident reopens,
	// but it already paged within the 10m window, so it waits.
	h.clk.Advance(2 * time.Minute)
	h.ingest(a)
	inc := incident(t, h, 1)
	require.Equal(t, alert.IncidentTriggered, inc.Status)
	require.Equal(t, 1, inc.Flaps)
	require.Empty(t, pages(h.at(4*time.Minute)), "hold-down: no second page within the window")
	require.Empty(t, pages(h.at(9*time.Minute)))
	require.Equal(t, []string{"oncall#0"}, pages(h.at(10*time.Minute)), "one page once the window has passed")

	list, err := h.st.ListIncidents(context.Background(), storeFilter())
	require.NoError(t, err)
	require.Len(t, list, 1, "a flap never opens a second incident")
}

func TestAcknowledgedFlapDoesNotPage(t *testing.T) {
	h := newHarness(t, nil)
	a := critical("CheckoutDown", "checkout")
	h.ingest(a)
	h.at(0)
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	h.at(time.Minute)
	h.clk.Advance(time.Minute)
	h.ingest(resolvedCopy(a))
	h.at(2 * time.Minute)
	h.clk.Advance(10 * time.Minute) // outside the hold-down, inside reopen_within of the resolve
	h.ingest(a)
	inc := incident(t, h, 1)
	require.Equal(t, alert.IncidentAcknowledged, inc.Status)
	require.Equal(t, 1, inc.Flaps)
	require.Empty(t, pages(h.at(13*time.Minute)))
	require.Empty(t, pages(h.at(20*time.Minute)))
}

func TestFiringAfterReopenWindowOpensNewIncident(t *testing.T) {
	h := newHarness(t, nil)
	a := critical("CheckoutDown", "checkout")
	h.ingest(a)
	h.at(0)
	h.clk.Advance(time.Minute)
	h.ingest(resolvedCopy(a))
	h.clk.Advance(11 * time.Minute)
	res, err := h.st.Ingest(context.Background(), []alert.Alert{a})
	require.NoError(t, err)
	require.Equal(t, []string{"INC-2"}, res.Incidents)
	require.Equal(t, []string{"oncall#0"}, pages(h.at(12*time.Minute)))
}

func TestSeverityRaiseReplansAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	warn := critical("CheckoutErrors", "checkout")
	warn.Fingerprint, warn.SeverityHint = "w1", "warning"
	warn.Labels = map[string]string{"alertname": "CheckoutErrors", "service": "checkout", "severity": "warning"}
	h.ingest(warn)
	got := h.at(0)
	require.Equal(t, []sent{{Target: "chat", Kind: router.KindInfo, Step: "announce:#alerts"}}, got, "P2: #alerts told, On-Call only at 2h")
	require.Equal(t, alert.P2, incident(t, h, 1).Severity)

	// 20 minutes in, a critical alert joins the group: P0 now, and every
	// P0 step already due pages at once.
	h.clk.Advance(20 * time.Minute)
	crit := critical("CheckoutErrors", "checkout")
	crit.Fingerprint = "c1"
	h.ingest(crit)
	inc := incident(t, h, 1)
	require.Equal(t, alert.P0, inc.Severity)
	require.Equal(t, inc.OpenedAt.Add(15*time.Minute), inc.AckDue)
	got = h.at(20 * time.Minute)
	require.Equal(t, []string{"oncall#0", "team-lead#0"}, pages(got))
	require.Contains(t, got, sent{Target: "chat", Kind: router.KindInfo, Step: "announce:#incidents", At: 20 * time.Minute})

	// A warning arriving later never lowers it; the P2 On-Call step at 2h
	// was replaced by the P0 plan.
	h.clk.Advance(time.Minute)
	warn2 := warn
	warn2.Fingerprint = "w2"
	h.ingest(warn2)
	require.Equal(t, alert.P0, incident(t, h, 1).Severity)
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	for _, off := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		for _, p := range pages(h.at(off)) {
			require.NotEqual(t, "oncall#0", p, "no P2-era On-Call page at %s", off)
		}
	}
}
