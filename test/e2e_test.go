package test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitPages waits (bounded) until the sink has n pages.
func waitPages(t *testing.T, sk *sink, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(sk.pages()) >= n }, 5*time.Second, 5*time.Millisecond,
		"want %d pages, got %v", n, sk.pages())
	return sk.pages()
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

type incidentView struct {
	Incident struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"incident"`
	Timeline []struct {
		Kind   string `json:"kind"`
		Detail string `json:"detail"`
	} `json:"timeline"`
}

func TestAlertmanagerToPagesEndToEnd(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	start := time.Now().Add(-time.Minute)
	a := amFiring("CheckoutDown", "checkout", "critical", start)

	// Firing: the On-Call page for a new P0 reaches the sink within a second,
	// with no clock advance (the engine runs on its own).
	sent := time.Now()
	require.NoError(t, am.send(t, a))
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))
	require.Less(t, time.Since(sent), time.Second)
	first := sk.all()
	var page hook
	for _, h := range first {
		if h.Kind == "page" {
			page = h
		}
	}
	require.Equal(t, "P0", page.Incident.Severity)
	require.Equal(t, "oncall", page.Role)
	require.Equal(t, "INC-1", page.Incident.ID)
	require.NotEmpty(t, page.AckURL)

	// The same alert re-sent (Alertmanager's group_interval/repeat_interval)
	// gives no second page and no second incident.
	require.NoError(t, am.send(t, a))
	require.NoError(t, am.send(t, a))
	g.advance(t, time.Minute)
	require.Equal(t, []string{"oncall#0"}, sk.pages())
	var list struct {
		Incidents []struct{ ID string } `json:"incidents"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents", &list))
	require.Len(t, list.Incidents, 1)

	// Unacknowledged, On-Call is paged again at 5m.
	g.advance(t, 4*time.Minute)
	require.Equal(t, []string{"oncall#0", "oncall#1"}, waitPages(t, sk, 2))

	// Acknowledge at 10m: On-Call and Team Lead stop, leadership does not.
	g.advance(t, 5*time.Minute)
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/incidents/INC-1/ack", `{"actor":"alice","note":"on it"}`))
	g.advance(t, 5*time.Minute)  // 15m: Team Lead would be due
	g.advance(t, 15*time.Minute) // 30m: Eng Manager is due
	require.Equal(t, []string{"oncall#0", "oncall#1", "oncall#2", "eng-manager#0"}, waitPages(t, sk, 4))

	// Resolved notification from Alertmanager resolves the incident.
	require.NoError(t, am.send(t, amResolved(a, time.Now().Add(-time.Second))))
	var inc incidentView
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc))
	require.Equal(t, "resolved", inc.Incident.Status)
	g.advance(t, 2*time.Hour)
	require.Equal(t, []string{"oncall#0", "oncall#1", "oncall#2", "eng-manager#0"}, sk.pages(), "CTO never paged after resolve")

	// Deliveries run in the background engine too: wait for the resolve.
	kinds := map[string]int{}
	require.Eventually(t, func() bool {
		clear(kinds)
		for _, h := range sk.all() {
			kinds[h.Kind]++
		}
		return kinds["resolve"] > 0
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, kinds["acknowledge"], "paged target told of the ack")
	require.Equal(t, 1, kinds["resolve"], "paged target told of the resolution")
	keys := map[string]int{}
	for _, h := range sk.all() {
		keys[h.IdempotencyKey]++
	}
	for k, n := range keys {
		require.Equal(t, 1, n, "delivery %s sent once", k)
	}
}

func TestUnackedIncidentEscalatesToTeamLead(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("PaymentsDown", "payments", "critical", time.Now())))
	waitPages(t, sk, 1)
	g.advance(t, 15*time.Minute)
	// One catch-up On-Call repeat (not one per missed interval) and the
	// Team Lead page.
	require.ElementsMatch(t, []string{"oncall#0", "oncall#1", "team-lead#0"}, waitPages(t, sk, 3))
}

func TestWrongTokenIsRejected(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "wrong")
	err := am.send(t, amFiring("CheckoutDown", "checkout", "critical", time.Now()))
	require.ErrorContains(t, err, "401")
	var list struct {
		Incidents []struct{ ID string } `json:"incidents"`
	}
	getJSON(t, g.url+"/api/v1/incidents", &list)
	require.Empty(t, list.Incidents)
	require.Empty(t, sk.all())
}

func TestProbeFailurePagesAsP1(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/alerts/probes", `{"check":"api-health","status":"down","message":"connection refused","url":"https://api.example.com/health"}`))
	waitPages(t, sk, 1)
	var page hook
	for _, h := range sk.all() {
		if h.Kind == "page" {
			page = h
		}
	}
	require.Equal(t, "P1", page.Incident.Severity)
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/alerts/probes", `{"check":"api-health","status":"up","message":"200 OK"}`))
	var inc incidentView
	getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
	require.Equal(t, "resolved", inc.Incident.Status)
	_ = context.Background()
}
