package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

const (
	testToken    = "tok-7f3a9c-bearer-secret"
	testUser     = "grafana"
	testPassword = "pw-51d0e8-basic-secret"
	testHMACKey  = "key-c0ffee-hmac-secret"
	alertBody    = `{"alerts":[{"status":"firing","name":"HighLatency"}]}`
)

func sign(key, ts, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	if ts != "" {
		m.Write([]byte(ts + ":"))
	}
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func unixTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

var (
	bearerAuth = config.Auth{BearerToken: testToken}
	basicAuth  = config.Auth{Basic: &config.BasicAuth{Username: testUser, Password: testPassword}}
	eitherAuth = config.Auth{BearerToken: testToken, Basic: &config.BasicAuth{Username: testUser, Password: testPassword}}
	hmacAuth_  = config.Auth{HMAC: &config.HMACAuth{Secret: testHMACKey}}
	grafanaTS  = config.Auth{HMAC: &config.HMACAuth{
		Secret: testHMACKey, Header: "X-Grafana-Alerting-Signature", TimestampHeader: "X-Grafana-Alerting-Timestamp",
	}}
	bearerHMAC = config.Auth{BearerToken: testToken, HMAC: &config.HMACAuth{Secret: testHMACKey}}
)

func TestSourceAuth(t *testing.T) {
	now := unixTS(testNow)
	tests := []struct {
		name          string
		auth          config.Auth
		body          string
		headers       []string
		wantCode      int
		wantErr       string
		wantChallenge string
	}{
		{name: "open source", wantCode: http.StatusOK},

		{name: "bearer ok", auth: bearerAuth, headers: []string{"Authorization", "Bearer " + testToken}, wantCode: http.StatusOK},
		{name: "bearer scheme is case-insensitive", auth: bearerAuth, headers: []string{"Authorization", "bearer " + testToken}, wantCode: http.StatusOK},
		{name: "bearer wrong", auth: bearerAuth, headers: []string{"Authorization", "Bearer nope"}, wantCode: http.StatusUnauthorized, wantErr: "invalid bearer token", wantChallenge: `Bearer realm="alertgate"`},
		{name: "bearer prefix of token", auth: bearerAuth, headers: []string{"Authorization", "Bearer " + testToken[:5]}, wantCode: http.StatusUnauthorized, wantErr: "invalid bearer token"},
		{name: "bearer missing", auth: bearerAuth, wantCode: http.StatusUnauthorized, wantErr: "missing credentials", wantChallenge: `Bearer realm="alertgate"`},
		{name: "basic sent to bearer source", auth: bearerAuth, headers: []string{"Authorization", basic(testUser, testToken)}, wantCode: http.StatusUnauthorized, wantErr: "unsupported authorization scheme"},

		{name: "basic ok", auth: basicAuth, headers: []string{"Authorization", basic(testUser, testPassword)}, wantCode: http.StatusOK},
		{name: "basic wrong password", auth: basicAuth, headers: []string{"Authorization", basic(testUser, "x")}, wantCode: http.StatusUnauthorized, wantErr: "invalid basic credentials", wantChallenge: `Basic realm="alertgate", charset="UTF-8"`},
		{name: "basic wrong user", auth: basicAuth, headers: []string{"Authorization", basic("root", testPassword)}, wantCode: http.StatusUnauthorized, wantErr: "invalid basic credentials"},
		{name: "basic malformed", auth: basicAuth, headers: []string{"Authorization", "Basic !!!"}, wantCode: http.StatusUnauthorized, wantErr: "malformed basic credentials"},
		{name: "basic without colon", auth: basicAuth, headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser))}, wantCode: http.StatusUnauthorized, wantErr: "malformed basic credentials"},

		{name: "either: bearer", auth: eitherAuth, headers: []string{"Authorization", "Bearer " + testToken}, wantCode: http.StatusOK},
		{name: "either: basic", auth: eitherAuth, headers: []string{"Authorization", basic(testUser, testPassword)}, wantCode: http.StatusOK},
		{name: "either: none", auth: eitherAuth, wantCode: http.StatusUnauthorized, wantErr: "missing credentials", wantChallenge: `Bearer realm="alertgate", Basic realm="alertgate", charset="UTF-8"`},

		{name: "hmac ok", auth: hmacAuth_, headers: []string{"X-Signature-256", sign(testHMACKey, "", alertBody)}, wantCode: http.StatusOK},
		{name: "hmac sha256= prefix", auth: hmacAuth_, headers: []string{"X-Signature-256", "sha256=" + sign(testHMACKey, "", alertBody)}, wantCode: http.StatusOK},
		{name: "hmac upper-case hex", auth: hmacAuth_, headers: []string{"X-Signature-256", strings.ToUpper(sign(testHMACKey, "", alertBody))}, wantCode: http.StatusOK},
		{name: "hmac wrong key", auth: hmacAuth_, headers: []string{"X-Signature-256", sign("other", "", alertBody)}, wantCode: http.StatusUnauthorized, wantErr: "invalid signature", wantChallenge: `HMAC-SHA256 realm="alertgate", header="X-Signature-256"`},
		{name: "hmac of another body", auth: hmacAuth_, headers: []string{"X-Signature-256", sign(testHMACKey, "", alertBody+" ")}, wantCode: http.StatusUnauthorized, wantErr: "invalid signature"},
		{name: "hmac missing", auth: hmacAuth_, wantCode: http.StatusUnauthorized, wantErr: "missing signature header X-Signature-256"},
		{name: "hmac not hex", auth: hmacAuth_, headers: []string{"X-Signature-256", "zz"}, wantCode: http.StatusUnauthorized, wantErr: "malformed signature"},
		{name: "hmac truncated", auth: hmacAuth_, headers: []string{"X-Signature-256", sign(testHMACKey, "", alertBody)[:32]}, wantCode: http.StatusUnauthorized, wantErr: "malformed signature"},

		{name: "grafana timestamp ok", auth: grafanaTS, headers: []string{"X-Grafana-Alerting-Timestamp", now, "X-Grafana-Alerting-Signature", sign(testHMACKey, now, alertBody)}, wantCode: http.StatusOK},
		{
			name: "grafana timestamp 4m old", auth: grafanaTS, wantCode: http.StatusOK,
			headers: []string{"X-Grafana-Alerting-Timestamp", unixTS(testNow.Add(-4 * time.Minute)), "X-Grafana-Alerting-Signature", sign(testHMACKey, unixTS(testNow.Add(-4*time.Minute)), alertBody)},
		},
		{
			name: "grafana replayed 10m later", auth: grafanaTS, wantCode: http.StatusUnauthorized, wantErr: "timestamp outside the allowed skew of 5m0s",
			headers: []string{"X-Grafana-Alerting-Timestamp", unixTS(testNow.Add(-10 * time.Minute)), "X-Grafana-Alerting-Signature", sign(testHMACKey, unixTS(testNow.Add(-10*time.Minute)), alertBody)},
		},
		{
			name: "grafana timestamp in the future", auth: grafanaTS, wantCode: http.StatusUnauthorized, wantErr: "timestamp outside the allowed skew",
			headers: []string{"X-Grafana-Alerting-Timestamp", unixTS(testNow.Add(6 * time.Minute)), "X-Grafana-Alerting-Signature", sign(testHMACKey, unixTS(testNow.Add(6*time.Minute)), alertBody)},
		},
		{
			name: "grafana timestamp not signed", auth: grafanaTS, wantCode: http.StatusUnauthorized, wantErr: "invalid signature",
			headers: []string{"X-Grafana-Alerting-Timestamp", now, "X-Grafana-Alerting-Signature", sign(testHMACKey, "", alertBody)},
		},
		{
			name: "grafana timestamp swapped", auth: grafanaTS, wantCode: http.StatusUnauthorized, wantErr: "invalid signature",
			headers: []string{"X-Grafana-Alerting-Timestamp", unixTS(testNow.Add(time.Second)), "X-Grafana-Alerting-Signature", sign(testHMACKey, now, alertBody)},
		},
		{name: "grafana timestamp missing", auth: grafanaTS, headers: []string{"X-Grafana-Alerting-Signature", sign(testHMACKey, now, alertBody)}, wantCode: http.StatusUnauthorized, wantErr: "missing timestamp header X-Grafana-Alerting-Timestamp"},
		{
			name: "grafana timestamp malformed", auth: grafanaTS, wantCode: http.StatusUnauthorized, wantErr: "malformed timestamp",
			headers: []string{"X-Grafana-Alerting-Timestamp", "soon", "X-Grafana-Alerting-Signature", sign(testHMACKey, "soon", alertBody)},
		},

		{name: "bearer and hmac: both", auth: bearerHMAC, headers: []string{"Authorization", "Bearer " + testToken, "X-Signature-256", sign(testHMACKey, "", alertBody)}, wantCode: http.StatusOK},
		{name: "bearer and hmac: bearer only", auth: bearerHMAC, headers: []string{"Authorization", "Bearer " + testToken}, wantCode: http.StatusUnauthorized, wantErr: "missing signature header"},
		{name: "bearer and hmac: hmac only", auth: bearerHMAC, headers: []string{"X-Signature-256", sign(testHMACKey, "", alertBody)}, wantCode: http.StatusUnauthorized, wantErr: "missing credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test", Auth: tt.auth})
			body := tt.body
			if body == "" {
				body = alertBody
			}
			resp, got := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", body, tt.headers...))
			require.Equal(t, tt.wantCode, resp.StatusCode, got)
			if tt.wantErr != "" {
				require.Contains(t, errorOf(t, got), tt.wantErr)
				require.Zero(t, h.ing.callCount(), "rejected requests never reach the store")
			}
			if tt.wantChallenge != "" {
				require.Equal(t, tt.wantChallenge, resp.Header.Get("WWW-Authenticate"))
			}
			if tt.wantCode == http.StatusUnauthorized {
				require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestCustomMaxSkew(t *testing.T) {
	auth := config.Auth{HMAC: &config.HMACAuth{Secret: testHMACKey, TimestampHeader: "X-Ts", MaxSkew: config.Duration(30 * time.Second)}}
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test", Auth: auth})
	ts := unixTS(testNow.Add(-time.Minute))
	resp, body := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "X-Ts", ts, "X-Signature-256", sign(testHMACKey, ts, alertBody)))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, errorOf(t, body), "allowed skew of 30s")
}

func TestAuthFailureLog(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test", Auth: eitherAuth})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", basic(testUser, "guess-"+testPassword)))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	entries := h.logs.FilterMessage("request rejected").All()
	require.Len(t, entries, 1)
	fields := entries[0].ContextMap()
	require.Equal(t, "warn", entries[0].Level.String())
	require.Equal(t, "am", fields["source"])
	require.Equal(t, "invalid basic credentials", fields["reason"])
	require.Equal(t, int64(http.StatusUnauthorized), fields["code"])
	require.Contains(t, fields, "remote_ip")
}

// TestSecretsNeverLogged sends right and wrong credentials of every kind
// and checks that no log line carries any of them.
func TestSecretsNeverLogged(t *testing.T) {
	all := config.Auth{BearerToken: testToken, Basic: &config.BasicAuth{Username: testUser, Password: testPassword}, HMAC: &config.HMACAuth{Secret: testHMACKey}}
	h := newHarness(t, config.Server{APIToken: "api-9e2d-token-secret"}, config.Source{Name: "am", Type: "test", Auth: all})
	wrong := "wrong-3b7c-credential"
	sig := sign(testHMACKey, "", alertBody)
	requests := []*http.Request{
		newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", "Bearer "+testToken),
		newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", "Bearer "+wrong, "X-Signature-256", sig),
		newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", basic(testUser, wrong), "X-Signature-256", sig),
		newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", basic(testUser, testPassword), "X-Signature-256", sign(wrong, "", alertBody)),
		newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "Authorization", basic(testUser, testPassword), "X-Signature-256", sig),
		newRequest(http.MethodPost, "/api/v1/incidents/1/ack", "", "Authorization", "Bearer "+wrong),
		newRequest(http.MethodPost, "/api/v1/incidents/1/ack", "", "Authorization", "Bearer api-9e2d-token-secret"),
	}
	for _, req := range requests {
		h.do(t, req)
	}
	require.Equal(t, 1, h.ing.callCount(), "only the fully authenticated request is ingested")
	text := allLogText(h.logs)
	require.Contains(t, text, "invalid bearer token", "the rejections were logged")
	for _, secret := range []string{testToken, testPassword, testHMACKey, wrong, "api-9e2d-token-secret", sig,
		base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))} {
		require.NotContains(t, text, secret)
	}
}

func TestAPITokenGuard(t *testing.T) {
	const token = "api-token-4242"
	tests := []struct {
		name     string
		token    config.Secret
		headers  []string
		wantCode int
		wantErr  string
	}{
		{name: "no token configured", wantCode: http.StatusOK},
		{name: "token ok", token: token, headers: []string{"Authorization", "Bearer " + token}, wantCode: http.StatusOK},
		{name: "token missing", token: token, wantCode: http.StatusUnauthorized, wantErr: "missing API token"},
		{name: "token wrong", token: token, headers: []string{"Authorization", "Bearer " + token + "x"}, wantCode: http.StatusUnauthorized, wantErr: "invalid API token"},
		{name: "basic scheme", token: token, headers: []string{"Authorization", basic("api", token)}, wantCode: http.StatusUnauthorized, wantErr: "unsupported authorization scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{APIToken: tt.token})
			for _, path := range []string{"/api/v1/incidents/INC-3/ack", "/api/v1/incidents/3/resolve"} {
				resp, body := h.do(t, newRequest(http.MethodPost, path, "", tt.headers...))
				require.Equal(t, tt.wantCode, resp.StatusCode, body)
				if tt.wantErr != "" {
					require.Equal(t, tt.wantErr, errorOf(t, body))
					require.Equal(t, `Bearer realm="alertgate"`, resp.Header.Get("WWW-Authenticate"))
				}
			}
			if tt.wantCode != http.StatusOK {
				require.Empty(t, h.act.calls, "a rejected write never reaches the store")
			}
			// Reads need the token as much as writes do.
			resp, body := h.do(t, newRequest(http.MethodGet, "/api/v1/incidents", "", tt.headers...))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			// Unless server.public_reads: then only writes do.
			open := newHarness(t, config.Server{APIToken: tt.token, PublicReads: true})
			resp, body = open.do(t, newRequest(http.MethodGet, "/api/v1/incidents", ""))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			resp, _ = open.do(t, newRequest(http.MethodPost, "/api/v1/incidents/3/ack", "", tt.headers...))
			require.Equal(t, tt.wantCode, resp.StatusCode)
		})
	}
}

// unreachedReplicas is a Replicas whose handler must not be reached.
type unreachedReplicas struct{}

func (unreachedReplicas) Replicas(context.Context) ([]store.Replica, error) { panic("handler reached") }

// everyRoute is a server with every optional route registered. Its
// optional collaborators are nil interfaces: a handler reached panics
// (500), which tells a guarded route (401) from an open one.
func everyRoute(t *testing.T, cfg config.Server) *Server {
	t.Helper()
	type (
		silences   struct{ Silences }
		updater    struct{ Updater }
		deliveries struct{ Deliveries }
		oncall     struct{ OnCall }
		overrides  struct{ OverrideStore }
		links      struct{ AckLinkVerifier }
	)
	srv, err := New(cfg, nil, Deps{
		Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{},
		Silences: silences{}, Updater: updater{}, Deliveries: deliveries{}, OnCall: oncall{}, Overrides: overrides{},
		Replicas: unreachedReplicas{}, AckLinks: links{}, Reload: func(context.Context) error { return nil },
		Now: func() time.Time { return testNow },
	})
	require.NoError(t, err)
	return srv
}

// With api_token set, every route needs it except the one-click links
// (signed) and /healthz, /readyz (/-/healthy, /-/ready) and /metrics; public_reads opens the GETs
// only. Ingest and the PagerDuty webhook have their own auth.
func TestAPITokenGuardsEveryRoute(t *testing.T) {
	open := map[string]bool{"/healthz": true, "/readyz": true, "/-/healthy": true, "/-/ready": true, "/metrics": true, "/ack/:token": true}
	ownAuth := map[string]bool{"/api/v1/alerts/:source": true, "/api/v1/webhooks/pagerduty": true}
	tests := []struct {
		name        string
		publicReads bool
	}{{"reads guarded", false}, {"public reads", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := everyRoute(t, config.Server{APIToken: "api-token-4242", PublicReads: tt.publicReads, Pprof: true})
			routes := srv.App().GetRoutes(true)
			require.Greater(t, len(routes), 15)
			for _, r := range routes {
				if r.Method == http.MethodHead || r.Method == http.MethodOptions || ownAuth[r.Path] {
					continue
				}
				path := strings.NewReplacer(":id", "1", ":token", "x", ":source", "am").Replace(r.Path)
				t.Run(r.Method+" "+r.Path, func(t *testing.T) {
					resp, err := srv.App().Test(newRequest(r.Method, path, ""), -1)
					require.NoError(t, err)
					resp.Body.Close()
					guarded := !open[r.Path] && !(tt.publicReads && r.Method == http.MethodGet)
					if guarded {
						require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "without the token")
					} else {
						require.NotEqual(t, http.StatusUnauthorized, resp.StatusCode, "open without the token")
					}
					req := newRequest(r.Method, path, "", "Authorization", "Bearer api-token-4242")
					resp, err = srv.App().Test(req, -1)
					require.NoError(t, err)
					resp.Body.Close()
					require.NotEqual(t, http.StatusUnauthorized, resp.StatusCode, "with the token")
				})
			}
			resp, err := srv.App().Test(newRequest(http.MethodGet, "/debug/pprof/", ""), -1)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "profiles need the token, public reads or not")
		})
	}
}

func FuzzCheckAuthorization(f *testing.F) {
	for _, seed := range []string{"", "Bearer " + testToken, basic(testUser, testPassword), "Basic", "Bearer", "Basic Og==", "  bearer   x  "} {
		f.Add(seed)
	}
	a, err := newSourceAuth(eitherAuth)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		reason := a.checkAuthorization(header)
		if reason != "" {
			return
		}
		// Accepted: it must carry the real token or password.
		scheme, cred, _ := strings.Cut(strings.TrimSpace(header), " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			require.Equal(t, testToken, cred)
		default:
			user, pass, ok := parseBasic(cred)
			require.True(t, ok)
			require.Equal(t, testUser, user)
			require.Equal(t, testPassword, pass)
		}
	})
}
