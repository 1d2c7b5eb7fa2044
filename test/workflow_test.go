package test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
)

// The response workflow through the API: a status update, an
// acknowledgement from PagerDuty, the resolution and the post-mortem draft.
func TestResponseWorkflowEndToEnd(t *testing.T) {
	sk := newSink(t)
	cfg := strings.Replace(issueConfig, `  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook" }`,
		`  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook" }
  - { name: pd, type: pagerduty, routing_key: 0123456789abcdef0123456789abcdef, url: "http://127.0.0.1:9999/pd", webhook_secret: pd-signing-secret }`, 1)
	cfg = strings.Replace(cfg, "team-lead: { targets: [sink] }", "team-lead: { targets: [sink, pd] }", 1)
	g := startGateway(t, cfg, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("PaymentsDown", "payments", "critical", time.Now())))
	waitPages(t, sk, 1)

	// A status update goes on the timeline and out to #incidents.
	require.Equal(t, http.StatusBadRequest, post(t, g.url+"/api/v1/incidents/INC-1/updates", `{"actor":"alice"}`))
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/incidents/INC-1/updates", `{"actor":"alice","text":"rolling back"}`))
	g.advance(t, time.Second)
	var inc incidentView
	require.Eventually(t, func() bool {
		getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
		for _, e := range inc.Timeline {
			if e.Kind == "notified" && strings.HasPrefix(e.Detail, "status update sent") {
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond)

	// Acknowledged in PagerDuty: the signed webhook acknowledges here.
	pdEvent := func(id, verb string, at time.Time) string {
		return fmt.Sprintf(`{"event":{"id":%q,"event_type":"incident.%s","resource_type":"incident","occurred_at":%q,
"agent":{"id":"P1","summary":"Jane Doe","type":"user_reference"},
"data":{"id":"Q1","type":"incident","html_url":"https://acme.pagerduty.com/incidents/Q1","status":%q,"incident_key":"alertgate/INC-1","title":"PaymentsDown"}}}`,
			id, verb, at.UTC().Format(time.RFC3339), verb)
	}
	sendPD := func(body string) int {
		mac := hmac.New(sha256.New, []byte("pd-signing-secret"))
		mac.Write([]byte(body))
		req, _ := http.NewRequest(http.MethodPost, g.url+"/api/v1/webhooks/pagerduty", strings.NewReader(body))
		req.Header.Set("X-PagerDuty-Signature", "v1="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	ack := pdEvent("01", "acknowledged", g.clk.Now().Add(-time.Minute))
	require.Equal(t, http.StatusAccepted, sendPD(ack))
	getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
	require.Equal(t, "acknowledged", inc.Incident.Status)
	// Replayed, correctly signed: refused, on the database's memory of ids;
	// an old signed resolve is refused as stale and resolves nothing.
	require.Equal(t, http.StatusConflict, sendPD(ack))
	require.Equal(t, http.StatusBadRequest, sendPD(pdEvent("02", "resolved", time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC))))
	getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
	require.Equal(t, "acknowledged", inc.Incident.Status)

	// Escalation that stops on acknowledge is over: no Team Lead page at 15m.
	g.advance(t, 15*time.Minute)
	for _, p := range sk.pages() {
		require.NotEqual(t, "team-lead#0", p)
	}

	// Resolve, then the post-mortem draft.
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/incidents/INC-1/resolve", `{"actor":"alice","note":"fixed"}`))
	resp, err := http.Get(g.url + "/api/v1/incidents/INC-1/postmortem")
	require.NoError(t, err)
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/markdown")
	for _, want := range []string{"# Post-mortem: INC-1", "## 1. Summary", "## 2. Timeline", "Detection", "Response", "Resolution",
		"## 3. Root Cause", "## 4. Actions", "pagerduty:Jane Doe", "rolling back"} {
		require.Contains(t, string(md), want, "post-mortem has %q", want)
	}
}

// Every page carries a signed one-click link: GET only shows a confirm
// page (link previews must not acknowledge), POST acknowledges, without
// the API token.
func TestOneClickAckLinkFromAPage(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, strings.Replace(issueConfig, `server: { listen: "127.0.0.1:8080" }`, `server: { listen: "127.0.0.1:8080", api_token: apitoken }`, 1), sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("CheckoutDown", "checkout", "critical", time.Now())))
	waitPages(t, sk, 1)
	var link string
	for _, h := range sk.all() {
		if h.Kind == "page" {
			link = h.AckURL
		}
	}
	require.Contains(t, link, g.url+"/ack/")

	resp, err := http.Get(link)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "INC-1")
	var inc incidentView
	require.Equal(t, http.StatusUnauthorized, getJSON(t, g.url+"/api/v1/incidents/INC-1", nil), "reads need the API token too")
	require.Equal(t, http.StatusOK, getJSONAs(t, g.url+"/api/v1/incidents/INC-1", "apitoken", &inc))
	require.Equal(t, "triggered", inc.Incident.Status, "a GET never acknowledges")

	require.Equal(t, http.StatusUnauthorized, post(t, g.url+"/api/v1/incidents/INC-1/ack", `{}`), "the API still needs its token")
	resp, err = http.PostForm(link, map[string][]string{"actor": {"bob"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	getJSONAs(t, g.url+"/api/v1/incidents/INC-1", "apitoken", &inc)
	require.Equal(t, "acknowledged", inc.Incident.Status)

	resp, err = http.Get(g.url + "/ack/forged.token")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestOnCallAPI(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	var oc struct {
		OnCall []struct {
			Role, Member, Source string
			Targets              []string
		} `json:"oncall"`
		Overrides []struct{ ID, Member string } `json:"overrides"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/oncall", &oc))
	require.Len(t, oc.OnCall, 4)
	require.Empty(t, oc.Overrides)

	require.Equal(t, http.StatusBadRequest, post(t, g.url+"/api/v1/oncall/overrides", `{"role":"nope","member":"x","targets":["sink"],"duration":"1h","created_by":"lead"}`))
	resp, err := http.Post(g.url+"/api/v1/oncall/overrides", "application/json",
		strings.NewReader(`{"role":"oncall","member":"carol","targets":["log"],"duration":"8h","created_by":"lead"}`))
	require.NoError(t, err)
	var created struct{ ID string }
	require.NoError(t, jsonDecode(resp.Body, &created))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/oncall", &oc))
	require.Len(t, oc.Overrides, 1)
	for _, o := range oc.OnCall {
		if o.Role == "oncall" {
			require.Equal(t, "carol", o.Member)
			require.Equal(t, "override", o.Source)
		}
	}
	require.Equal(t, http.StatusOK, del(t, g.url+"/api/v1/oncall/overrides/"+created.ID))
	require.Equal(t, http.StatusNotFound, del(t, g.url+"/api/v1/oncall/overrides/"+created.ID))
}

// The gateway on PostgreSQL (one replica): an Alertmanager alert pages,
// a repeat does not, a resolve resolves.
func TestGatewayOnPostgres(t *testing.T) {
	cfg := onPostgres(t, issueConfig, postgresSchemaDSN(t, "e2e"))
	sk := newSink(t)
	g := startGateway(t, cfg, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	a := amFiring("CheckoutDown", "checkout", "critical", time.Now())
	require.NoError(t, am.send(t, a))
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))
	require.NoError(t, am.send(t, a))
	g.advance(t, time.Minute)
	require.Equal(t, []string{"oncall#0"}, sk.pages())
	require.NoError(t, am.send(t, amResolved(a, time.Now().Add(-time.Second))))
	var inc incidentView
	getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
	require.Equal(t, "resolved", inc.Incident.Status)
}

// On SQLite the gateway is alone on its database: it lists itself, as the
// leader, with its version and config fingerprint.
func TestReplicaListOnSQLite(t *testing.T) {
	g := startGateway(t, issueConfig, newSink(t))
	var view struct {
		Replicas []struct {
			Version    string `json:"version"`
			ConfigHash string `json:"config_hash"`
			Leader     bool   `json:"leader"`
			Self       bool   `json:"self"`
		} `json:"replicas"`
		SameConfig bool `json:"same_config"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/replicas", &view))
	require.Len(t, view.Replicas, 1)
	r := view.Replicas[0]
	require.True(t, r.Leader && r.Self && view.SameConfig)
	require.Equal(t, "test", r.Version)
	require.Len(t, r.ConfigHash, 12)
}
