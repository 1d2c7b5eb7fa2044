package test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/server"
)

// getJSONAs is getJSON with the API token.
func getJSONAs(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

// The built-in defaults listen on loopback; an address other hosts reach
// while something takes requests without credentials refuses to start —
// before the database is opened — saying what to set, unless
// allow_unauthenticated, which is logged as a warning at each start.
func TestExposedListenAddressRefusesToStart(t *testing.T) {
	require.Equal(t, "127.0.0.1:8080", config.Default().Server.Listen)

	cfg := config.Default()
	cfg.Server.Listen = "0.0.0.0:0"
	dbPath := filepath.Join(t.TempDir(), "alertgate.db")
	cfg.Storage.Path = dbPath
	_, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{})
	require.EqualError(t, err, `server: listen "0.0.0.0:0" is reachable from other hosts while the write API (set server.api_token); `+
		`source alertmanager (set sources[0].auth: bearer_token, basic or hmac); source grafana (set sources[1].auth: bearer_token, basic or hmac); `+
		`source probes (set sources[2].auth: bearer_token, basic or hmac) take requests without credentials: `+
		`set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`)
	_, statErr := os.Stat(dbPath)
	require.True(t, os.IsNotExist(statErr), "nothing was opened")

	cfg.Server.AllowUnauthenticated = true
	core, logs := observer.New(zapcore.WarnLevel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{Logger: zap.New(core), Listener: ln})
	require.NoError(t, err)
	ln.Close()
	require.NoError(t, g.Close())
	warned := logs.FilterMessageSnippet("server.allow_unauthenticated is set").All()
	require.Len(t, warned, 1)
	require.Equal(t, "0.0.0.0:0", warned[0].ContextMap()["listen"])
	require.Len(t, warned[0].ContextMap()["unauthenticated"], 4, "the API and three sources")
}

// With api_token, reads need it too unless public_reads; /metrics,
// /healthz and /readyz stay open and carry no value of an alert's labels.
func TestReadsAndMonitoringEndpoints(t *testing.T) {
	tests := []struct {
		name         string
		server       string
		wantAnonRead int
	}{
		{"no token: loopback is open", `server: { listen: "127.0.0.1:8080" }`, http.StatusOK},
		{"token guards reads", `server: { listen: "127.0.0.1:8080", api_token: apitoken }`, http.StatusUnauthorized},
		{"public reads", `server: { listen: "127.0.0.1:8080", api_token: apitoken, public_reads: true }`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := newSink(t)
			g := startGateway(t, strings.Replace(issueConfig, `server: { listen: "127.0.0.1:8080" }`, tt.server, 1), sk)
			am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
			a := amFiring("ZqxSecretAlertName", "zqx-secret-service", "critical", time.Now())
			a.Labels["instance"] = "zqx-secret-host:9100"
			a.Labels["customer"] = "zqx-acme-corp"
			require.NoError(t, am.send(t, a))
			waitPages(t, sk, 1)

			for _, path := range []string{"/api/v1/incidents", "/api/v1/incidents/INC-1", "/api/v1/incidents/INC-1/postmortem",
				"/api/v1/oncall", "/api/v1/deliveries", "/api/v1/silences", "/api/v1/alerts?state=suppressed", "/api/v1/replicas"} {
				resp, err := http.Get(g.url + path)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, tt.wantAnonRead, resp.StatusCode, path)
				require.Equal(t, http.StatusOK, getJSONAs(t, g.url+path, "apitoken", nil), path)
			}
			for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
				resp, err := http.Get(g.url + path)
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode, path)
				require.NotContains(t, strings.ToLower(string(b)), "zqx", "%s carries an alert's label value", path)
				if path == "/metrics" {
					require.Contains(t, string(b), `alertgate_alerts_received_total{source="alertmanager",status="firing"} 1`)
				}
			}
		})
	}
}

// A reload keeps the address the process serves (here set past the file,
// as serve --listen does): a source without auth is refused there, while
// the file alone would pass.
func TestReloadRefusesAnOpenSourceOnAnExposedAddress(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alertgate.yml")
	secured := "server: { listen: \"127.0.0.1:0\", api_token: apitoken }\nstorage: { driver: sqlite, path: " + filepath.Join(dir, "a.db") + " }\n" +
		"sources:\n  - { name: probes, type: healthcheck, auth: { bearer_token: probetoken } }\n"
	require.NoError(t, os.WriteFile(path, []byte(secured), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	cfg.Server.Listen = "0.0.0.0:0" // as serve --listen or $ALERTGATE_LISTEN
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{Listener: ln, ConfigPath: path})
	require.NoError(t, err)
	defer g.Close()
	defer ln.Close()

	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(secured, ", auth: { bearer_token: probetoken }", "", 1)), 0o600))
	_, err = config.Load(path)
	require.NoError(t, err, "the file alone listens on loopback")
	err = g.Reload(context.Background())
	require.EqualError(t, err, `server: listen "0.0.0.0:0" is reachable from other hosts while source probes `+
		`(set sources[0].auth: bearer_token, basic or hmac) take requests without credentials: `+
		`set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`)

	require.NoError(t, os.WriteFile(path, []byte(secured), 0o600))
	require.NoError(t, g.Reload(context.Background()))

	// The process still serves 0.0.0.0 after a reload of a file that says
	// 127.0.0.1: the next reload is held to the address it serves.
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(secured, ", auth: { bearer_token: probetoken }", "", 1)), 0o600))
	require.ErrorContains(t, g.Reload(context.Background()), `server: listen "0.0.0.0:0" is reachable from other hosts while source probes`)
}

// signedPagerDuty posts a PagerDuty v3 event for INC-1, signed with the
// subscription secret of pdConfig, and answers the status code.
func signedPagerDuty(t *testing.T, base, id, verb string, at time.Time) int {
	t.Helper()
	body := fmt.Sprintf(`{"event":{"id":%q,"event_type":"incident.%s","resource_type":"incident","occurred_at":%q,
"agent":{"id":"P1","summary":"Jane Doe","type":"user_reference"},
"data":{"id":"Q1","type":"incident","status":%q,"incident_key":"alertgate/INC-1"}}}`, id, verb, at.UTC().Format(time.RFC3339Nano), verb)
	mac := hmac.New(sha256.New, []byte("pd-signing-secret"))
	mac.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/webhooks/pagerduty", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-PagerDuty-Signature", "v1="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// A correctly signed PagerDuty event is applied once: replayed — to the
// same gateway on SQLite, to another replica on PostgreSQL — it is
// refused (409), and an old one (occurred_at in 2020) is refused (400)
// and resolves nothing.
func TestPagerDutyReplayAndStaleEvents(t *testing.T) {
	pdConfig := strings.Replace(issueConfig, `  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook" }`,
		`  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook" }
  - { name: pd, type: pagerduty, routing_key: 0123456789abcdef0123456789abcdef, url: "http://127.0.0.1:9999/pd", webhook_secret: pd-signing-secret }`, 1)
	engines := []struct {
		name    string
		storage func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return postgresSchemaDSN(t, "pdreplay") }},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			cfg := pdConfig
			if dsn := e.storage(t); dsn != "" {
				cfg = onPostgres(t, cfg, dsn)
			}
			sk := newSink(t)
			a := startGateway(t, cfg, sk)
			b := a
			if e.name == "postgres" {
				b = startGateway(t, cfg, sk) // a second replica on the database
			}
			am := newAMNotifier(t, a.url+"/api/v1/alerts/alertmanager", "s3cret")
			require.NoError(t, am.send(t, amFiring("PaymentsDown", "payments", "critical", time.Now())))
			waitPages(t, sk, 1)
			now := a.clk.Now()

			require.Equal(t, http.StatusBadRequest, signedPagerDuty(t, a.url, "OLD1", "resolved", time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)))
			require.Equal(t, http.StatusAccepted, signedPagerDuty(t, a.url, "ACK1", "acknowledged", now))
			require.Equal(t, http.StatusConflict, signedPagerDuty(t, b.url, "ACK1", "acknowledged", now))
			require.Equal(t, http.StatusConflict, signedPagerDuty(t, a.url, "ACK1", "acknowledged", now))
			var inc incidentView
			getJSON(t, b.url+"/api/v1/incidents/INC-1", &inc)
			require.Equal(t, "acknowledged", inc.Incident.Status, "the stale resolve resolved nothing")
			acks := 0
			for _, ev := range inc.Timeline {
				if ev.Kind == "acknowledged" {
					acks++
				}
			}
			require.Equal(t, 1, acks, "applied once")
		})
	}
}
