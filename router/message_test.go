package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// A page carries what the templates need: the step's type, the alert's
// own runbook and Grafana links from its annotations; a resolution
// carries the post-mortem draft's link.
func TestMessageCarriesTheAlertsLinks(t *testing.T) {
	h := newHarness(t, nil)
	a := critical("CheckoutDown", "checkout")
	a.GeneratorURL = "http://prometheus:9090/graph?g0.expr=up"
	a.StartsAt = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a.Annotations = map[string]string{
		"runbook_url": "https://wiki.example.com/checkout", "silence_url": "https://grafana/silence",
		"dashboard_url": "https://grafana/d/1", "panel_url": "https://grafana/d/1?viewPanel=2",
	}
	var got []*notify.Message
	h.rec.onSend = func(m *notify.Message) { got = append(got, m) }
	h.ingest(a)
	h.at(0)
	var page *notify.Message
	for _, m := range got {
		if m.Kind == notify.KindPage {
			page = m
		}
	}
	require.NotNil(t, page)
	require.Equal(t, "page", page.StepType)
	require.Zero(t, page.Mark, "On-Call is paged at once")
	require.Zero(t, page.Flap)
	require.Empty(t, page.PostmortemURL)
	require.Equal(t, []notify.AlertSummary{{
		Fingerprint: a.Fingerprint, Status: alert.StatusFiring, Title: "CheckoutDown", Labels: a.Labels, StartsAt: a.StartsAt,
		GeneratorURL: a.GeneratorURL, RunbookURL: "https://wiki.example.com/checkout", SilenceURL: "https://grafana/silence",
		DashboardURL: "https://grafana/d/1", PanelURL: "https://grafana/d/1?viewPanel=2",
	}}, page.Alerts)

	got = nil
	h.clk.Advance(20 * time.Minute)
	_, err := h.st.Resolve(context.Background(), 1, "alice", "fixed")
	require.NoError(t, err)
	h.at(20 * time.Minute)
	kinds := map[string]*notify.Message{}
	for _, m := range got {
		kinds[m.StepType] = m
	}
	require.Equal(t, "http://localhost:8080/incidents/INC-1#h-pm", kinds["resolve"].PostmortemURL)
	require.Equal(t, "http://localhost:8080/incidents/INC-1#h-pm", kinds["postmortem"].PostmortemURL)
}
