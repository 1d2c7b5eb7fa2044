package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
)

const (
	hookURL      = "https://hooks.example.com/alertgate/URLTOKEN0123?key=QUERYKEY0456"
	signSecret   = "SIGNSECRET0789"
	headerSecret = "Bearer HEADERTOKEN0999"
)

var allSecrets = []string{"URLTOKEN0123", "QUERYKEY0456", signSecret, "HEADERTOKEN0999"}

func newNotifier(t *testing.T, client *http.Client, cfg webhook.Config) *webhook.Notifier {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = hookURL
	}
	cfg.Version = "1.2.3"
	n, err := webhook.New(cfg, client, nil, notifiertest.Clock)
	require.NoError(t, err)
	return n
}

const wantBody = `{
  "version": "1",
  "kind": "page",
  "idempotency_key": "INC-7/oncall#0/target",
  "dedup_key": "alertgate/INC-7",
  "incident": {
    "id": "INC-7", "severity": "P0", "status": "triggered",
    "title": "checkout: error rate 12% > 5%", "service": "checkout", "category": "availability",
    "runbook": "high-error-rate", "group_key": "{service=\"checkout\"}", "source": "alertmanager",
    "alert_count": 2, "firing_count": 2, "flaps": 0,
    "opened_at": "2026-03-01T11:50:00Z", "ack_due": "2026-03-01T12:05:00Z",
    "resolve_due": "2026-03-01T12:50:00Z", "updated_at": "2026-03-01T11:50:00Z"
  },
  "role": "oncall",
  "step": "oncall#0",
  "summary": "[P0] INC-7 checkout: error rate 12% > 5%",
  "text": "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
  "ack_url": "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12",
  "incident_url": "https://alertgate.example.com/api/v1/incidents/INC-7",
  "runbook": {"name": "high-error-rate", "title": "High error rate", "url": "https://runbooks.example.com/high-error-rate",
              "steps": ["Check recent deploys", "Roll back if needed"]},
  "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
  "alerts": [{"fingerprint": "13d86469efcf3ccc", "status": "firing", "title": "HighErrorRate",
              "labels": {"alertname": "HighErrorRate"}, "starts_at": "2026-03-01T11:50:00Z",
              "generator_url": "http://prometheus:9090/graph?g0.expr=x"}],
  "at": "2026-03-01T12:00:00Z"
}`

func TestNotifyRequest(t *testing.T) {
	client, rec, mock := notifiertest.RecordPost(hookURL, httpmock.NewStringResponder(http.StatusNoContent, ""))
	n := newNotifier(t, client, webhook.Config{
		Secret:  signSecret,
		Headers: map[string]string{"authorization": headerSecret, "X-Team": "payments"},
	})

	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))

	require.Equal(t, 1, mock.GetTotalCallCount())
	req := rec.Request
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, hookURL, req.URL.String())
	ts := strconv.FormatInt(notifiertest.Now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(signSecret))
	mac.Write([]byte(ts + "." + string(rec.Body)))
	require.Equal(t, http.Header{
		"Content-Type":          {"application/json"},
		"User-Agent":            {"alertgate/1.2.3"},
		"Idempotency-Key":       {"INC-7/oncall#0/target"},
		"Authorization":         {headerSecret},
		"X-Team":                {"payments"},
		"X-Alertgate-Timestamp": {ts},
		"X-Alertgate-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
	}, req.Header)
	require.JSONEq(t, wantBody, string(rec.Body))
	require.NotContains(t, string(rec.Body), `\u003c`, "no HTML escaping")
}

func TestNotifyWithoutSecretSendsNoSignature(t *testing.T) {
	client, rec, _ := notifiertest.RecordPost(hookURL, httpmock.NewStringResponder(200, ""))
	n := newNotifier(t, client, webhook.Config{})

	m := notifiertest.Message(notify.KindResolve)
	require.NoError(t, n.Notify(context.Background(), m))

	require.Empty(t, rec.Request.Header.Get(webhook.HeaderSignature))
	require.Empty(t, rec.Request.Header.Get(webhook.HeaderTimestamp))
	var p webhook.Payload
	require.NoError(t, json.Unmarshal(rec.Body, &p))
	require.Equal(t, "1", p.Version)
	require.Equal(t, notify.KindResolve, p.Kind)
	require.Equal(t, "INC-7", p.Incident.Key)
}

func TestNotifyStatusMapping(t *testing.T) {
	for _, c := range notifiertest.HTTPStatusCases(http.StatusOK, "") {
		t.Run(c.Name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, c.Responder)
			n := newNotifier(t, client, webhook.Config{Timeout: c.AttemptTimeout()})
			err := n.Notify(context.Background(), notifiertest.Message(notify.KindPage))
			notifiertest.RequireStatus(t, c, err)
		})
	}
}

func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		scrubbed  bool
	}{
		{name: "echoing 400", responder: notifiertest.EchoResponder(400), scrubbed: true},
		{name: "echoing 500", responder: notifiertest.EchoResponder(500), scrubbed: true},
		{name: "echoing 200", responder: notifiertest.EchoResponder(200)},
		{name: "network error", responder: httpmock.ConnectionFailure},
		{name: "timeout", responder: notifiertest.BlockUntilDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, tt.responder)
			log, logs := notifiertest.ObservedLogger()
			n, err := webhook.New(webhook.Config{
				URL: hookURL, Secret: signSecret, Headers: map[string]string{"Authorization": headerSecret},
				Timeout: notifiertest.CaseTimeout(tt.name),
			}, client, log, notifiertest.Clock)
			require.NoError(t, err)

			err = n.Notify(context.Background(), notifiertest.Message(notify.KindPage))

			if err != nil {
				notifiertest.RequireNoSecrets(t, err.Error(), allSecrets...)
			}
			if tt.scrubbed {
				// The echo held the header value and the URL: both scrubbed.
				require.Equal(t, 2, strings.Count(err.Error(), "<secret>"), err.Error())
			}
			notifiertest.RequireNoSecrets(t, notifiertest.LogText(t, logs), allSecrets...)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	client, _ := notifiertest.MockClient()
	tests := []struct {
		name   string
		cfg    webhook.Config
		client *http.Client
	}{
		{name: "nil client", cfg: webhook.Config{URL: hookURL}},
		{name: "no url", cfg: webhook.Config{}, client: client},
		{name: "bad scheme", cfg: webhook.Config{URL: "ftp://example.com/URLTOKEN0123"}, client: client},
		{name: "bad url", cfg: webhook.Config{URL: "https://exa mple.com/URLTOKEN0123"}, client: client},
		{name: "reserved header", cfg: webhook.Config{URL: hookURL, Headers: map[string]string{"content-type": "text/plain"}}, client: client},
		{name: "alertgate header", cfg: webhook.Config{URL: hookURL, Headers: map[string]string{"X-Alertgate-Signature": "x"}}, client: client},
		{name: "bad header name", cfg: webhook.Config{URL: hookURL, Headers: map[string]string{"X Token": "x"}}, client: client},
		{name: "header value with newline", cfg: webhook.Config{URL: hookURL, Headers: map[string]string{"X-Token": "HEADERTOKEN0999\r\nEvil: 1"}}, client: client},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := webhook.New(tt.cfg, tt.client, nil, notifiertest.Clock)
			require.Error(t, err)
			require.Nil(t, n)
			notifiertest.RequireNoSecrets(t, err.Error(), allSecrets...)
		})
	}
}

func TestVerify(t *testing.T) {
	secret := []byte(signSecret)
	body := []byte(`{"version":"1"}`)
	now := notifiertest.Now
	ts := now.Unix()
	sig := webhook.Sign(secret, ts, body)
	tests := []struct {
		name   string
		secret []byte
		ts     string
		sig    string
		body   []byte
		want   error
	}{
		{name: "valid", secret: secret, ts: strconv.FormatInt(ts, 10), sig: sig, body: body},
		{name: "valid 4m old", secret: secret, ts: strconv.FormatInt(ts-240, 10), sig: webhook.Sign(secret, ts-240, body), body: body},
		{name: "tampered body", secret: secret, ts: strconv.FormatInt(ts, 10), sig: sig, body: []byte(`{"version":"2"}`), want: webhook.ErrBadSignature},
		{name: "wrong secret", secret: []byte("other"), ts: strconv.FormatInt(ts, 10), sig: sig, body: body, want: webhook.ErrBadSignature},
		{name: "timestamp swapped", secret: secret, ts: strconv.FormatInt(ts-1, 10), sig: sig, body: body, want: webhook.ErrBadSignature},
		{name: "replayed 10m later", secret: secret, ts: strconv.FormatInt(ts-600, 10), sig: webhook.Sign(secret, ts-600, body), body: body, want: webhook.ErrStale},
		{name: "from the future", secret: secret, ts: strconv.FormatInt(ts+600, 10), sig: webhook.Sign(secret, ts+600, body), body: body, want: webhook.ErrStale},
		{name: "garbage timestamp", secret: secret, ts: "yesterday", sig: sig, body: body, want: webhook.ErrStale},
		{name: "garbage signature", secret: secret, ts: strconv.FormatInt(ts, 10), sig: "sha256=zz", body: body, want: webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.ts, tt.sig, tt.body, now, 5*time.Minute)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestRealHTTP runs the notifier against a real server that verifies the
// signature the way the package documentation tells receivers to.
func TestRealHTTP(t *testing.T) {
	var got []webhook.Payload
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		err = webhook.Verify([]byte(signSecret), r.Header.Get(webhook.HeaderTimestamp),
			r.Header.Get(webhook.HeaderSignature), body, notifiertest.Now, 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		require.NoError(t, json.Unmarshal(body, &p))
		got = append(got, p)
		w.WriteHeader(status)
	}))
	defer srv.Close()

	n, err := webhook.New(webhook.Config{URL: config.Secret(srv.URL + "/hook"), Secret: signSecret}, srv.Client(), nil, notifiertest.Clock)
	require.NoError(t, err)

	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
	require.Len(t, got, 1)
	require.Equal(t, "INC-7", got[0].Incident.Key)
	require.Equal(t, "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12", got[0].AckURL)

	status = http.StatusServiceUnavailable
	err = n.Notify(context.Background(), notifiertest.Message(notify.KindPage))
	de := notify.AsDeliveryError(err)
	require.True(t, de.Temporary)
	require.Equal(t, notify.ReasonServer, de.Reason)

	wrong, err := webhook.New(webhook.Config{URL: config.Secret(srv.URL + "/hook"), Secret: "not-the-secret"}, srv.Client(), nil, notifiertest.Clock)
	require.NoError(t, err)
	de = notify.AsDeliveryError(wrong.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
	require.False(t, de.Temporary)
	require.Equal(t, notify.ReasonAuth, de.Reason)
	require.Equal(t, http.StatusUnauthorized, de.StatusCode)
}
