package test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flapConfig is the issue's config with the internal channels on the sink
// too, so the channel messages are seen.
var flapConfig = issueConfig + `
communication:
  channels:
    - { name: "#incidents", severities: [P0, P1], targets: [sink] }
    - { name: "#alerts", severities: [P2, P3], targets: [sink] }
`

// waitHook waits (bounded) until the sink has received a hook that ok
// accepts, and returns it.
func waitHook(t *testing.T, sk *sink, what string, ok func(h hook) bool) hook {
	t.Helper()
	var got hook
	require.Eventually(t, func() bool {
		for _, h := range sk.all() {
			if ok(h) {
				got = h
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "no %s among %+v", what, sk.all())
	return got
}

// A P0 that was acknowledged and resolved, then fires again, pages again
// (Alertmanager's own webhook notifier sends every notification): the
// channel is told, On-Call is paged with "REOPENED (flap #n)". The third
// reopen within the hour marks it flapping: one "flapping" page; the
// fourth only tells the channel.
func TestReopenedP0PagesAgainEndToEnd(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, flapConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	a := amFiring("CheckoutDown", "checkout", "critical", time.Now().Add(-time.Minute))

	require.NoError(t, am.send(t, a))
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/incidents/INC-1/ack", `{"actor":"alice"}`))
	g.advance(t, time.Minute)

	// resolveAndFire sends the resolution, lets a minute pass on the
	// gateway's clock, and sends the alert firing again.
	resolveAndFire := func() {
		t.Helper()
		require.NoError(t, am.send(t, amResolved(a, time.Now().Add(-time.Second))))
		var inc incidentView
		require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc))
		require.Equal(t, "resolved", inc.Incident.Status)
		g.advance(t, time.Minute)
		require.NoError(t, am.send(t, a))
	}
	isPage := func(flap int) func(h hook) bool {
		return func(h hook) bool { return h.Kind == "page" && h.Flap == flap }
	}
	isChannel := func(flap int) func(h hook) bool {
		return func(h hook) bool { return h.Kind == "info" && h.Channel == "#incidents" && h.Flap == flap }
	}

	// Flap #1: acknowledged before, pages again all the same.
	resolveAndFire()
	page := waitHook(t, sk, "page of flap #1", isPage(1))
	require.Equal(t, "oncall#0", page.Step)
	require.Equal(t, "triggered", page.Incident.Status)
	require.Equal(t, "REOPENED (flap #1) [P0] INC-1 checkout: CheckoutDown on checkout", page.Summary)
	require.NotEmpty(t, page.AckURL)
	require.False(t, page.Flapping)
	waitHook(t, sk, "channel message of flap #1", isChannel(1))

	// Flap #2 escalates afresh too; flap #3 within the hour is flapping:
	// one page that says so.
	resolveAndFire()
	waitHook(t, sk, "page of flap #2", isPage(2))
	resolveAndFire()
	page = waitHook(t, sk, "page of flap #3", isPage(3))
	require.True(t, page.Flapping)
	require.Equal(t, "REOPENED (flap #3) FLAPPING [P0] INC-1 checkout: CheckoutDown on checkout", page.Summary)
	waitHook(t, sk, "channel message of flap #3", isChannel(3))
	g.advance(t, 10*time.Minute)
	require.Equal(t, []string{"oncall#0", "oncall#0", "oncall#0", "oncall#0"}, sk.pages(), "the flapping page does not repeat")

	// Flap #4: the channel hears of it, nobody is paged.
	resolveAndFire()
	ch := waitHook(t, sk, "channel message of flap #4", isChannel(4))
	require.True(t, ch.Flapping)
	g.advance(t, 30*time.Minute)
	require.Len(t, sk.pages(), 4)
	var inc struct {
		Incident struct {
			Status   string `json:"status"`
			Flaps    int    `json:"flaps"`
			Flapping bool   `json:"flapping"`
		} `json:"incident"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc))
	require.Equal(t, "triggered", inc.Incident.Status)
	require.Equal(t, 4, inc.Incident.Flaps)
	require.True(t, inc.Incident.Flapping)
}
