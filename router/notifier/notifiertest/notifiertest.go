// Package notifiertest holds what the notifier tests share: a realistic
// message, a mock HTTP client, the status mapping every HTTP target
// follows, and log capture for secret-leak checks. Only tests import it.
package notifiertest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Now is the fixed clock of the notifier tests.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock returns Now.
func Clock() time.Time { return Now }

// Message returns a P0 message of kind k for incident INC-7 with every
// field set.
func Message(k notify.MessageKind) *notify.Message {
	opened := Now.Add(-10 * time.Minute)
	return &notify.Message{
		Kind:           k,
		IdempotencyKey: "INC-7/oncall#0/target",
		DedupKey:       "alertgate/INC-7",
		Incident: alert.Incident{
			ID: 7, Key: "INC-7", Severity: alert.P0, Status: alert.IncidentTriggered,
			Title: "checkout: error rate 12% > 5%", Service: "checkout", Category: "availability",
			Runbook: "high-error-rate", GroupKey: `{service="checkout"}`, Source: "alertmanager",
			AlertCount: 2, FiringCount: 2, OpenedAt: opened,
			AckDue: opened.Add(15 * time.Minute), ResolveDue: opened.Add(time.Hour), UpdatedAt: opened,
		},
		Role:        "oncall",
		Step:        "oncall#0",
		Summary:     "[P0] INC-7 checkout: error rate 12% > 5%",
		Text:        "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
		AckURL:      "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12",
		IncidentURL: "https://alertgate.example.com/api/v1/incidents/INC-7",
		Runbook: &notify.Runbook{
			Name: "high-error-rate", Title: "High error rate", URL: "https://runbooks.example.com/high-error-rate",
			Steps: []string{"Check recent deploys", "Roll back if needed"},
		},
		Labels: map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
		Alerts: []notify.AlertSummary{{
			Fingerprint: "13d86469efcf3ccc", Status: alert.StatusFiring, Title: "HighErrorRate",
			Labels: map[string]string{"alertname": "HighErrorRate"}, StartsAt: opened,
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=x",
		}},
		At: Now,
	}
}

// MockClient returns a client whose requests go to the returned mock.
func MockClient() (*http.Client, *httpmock.MockTransport) {
	mt := httpmock.NewMockTransport()
	return &http.Client{Transport: mt}, mt
}

// MockPost returns a client whose POSTs to url r answers.
func MockPost(url string, r httpmock.Responder) *http.Client {
	client, mt := MockClient()
	mt.RegisterResponder(http.MethodPost, url, r)
	return client
}

// RecordPost returns a client whose POSTs to url the returned Recorder
// keeps and answers with r, and the mock to count calls.
func RecordPost(url string, r httpmock.Responder) (*http.Client, *Recorder, *httpmock.MockTransport) {
	rec := &Recorder{Response: r}
	client, mt := MockClient()
	mt.RegisterResponder(http.MethodPost, url, rec.Respond)
	return client, rec, mt
}

// Recorder is an httpmock responder that keeps the last request and its
// body and answers with Response.
type Recorder struct {
	Response httpmock.Responder
	Request  *http.Request
	Body     []byte
}

// Respond implements httpmock.Responder.
func (r *Recorder) Respond(req *http.Request) (*http.Response, error) {
	var buf bytes.Buffer
	if req.Body != nil {
		_, _ = buf.ReadFrom(req.Body)
	}
	r.Request, r.Body = req, buf.Bytes()
	return r.Response(req)
}

// StatusCase is one answer and how a generic HTTP target must classify it.
type StatusCase struct {
	Name      string
	Responder httpmock.Responder
	OK        bool
	Temporary bool
	Reason    string
	Status    int
	Wait      time.Duration
	// Timeout is the per-attempt timeout to configure for this case.
	Timeout time.Duration
}

// DefaultTimeout is the per-attempt timeout of cases that set none.
const DefaultTimeout = 10 * time.Second

// AttemptTimeout returns c.Timeout or DefaultTimeout.
func (c StatusCase) AttemptTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// HTTPStatusCases is the answer → retry mapping shared by webhook and
// PagerDuty (Slack has its own rules for 2xx and error bodies).
func HTTPStatusCases(okStatus int, okBody string) []StatusCase {
	str := httpmock.NewStringResponder
	ra := func(status int, v string) httpmock.Responder {
		return str(status, "slow down").HeaderSet(http.Header{"Retry-After": {v}})
	}
	return []StatusCase{
		{Name: "success", Responder: str(okStatus, okBody), OK: true},
		{Name: "400 bad request", Responder: str(400, `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`), Reason: notify.ReasonClient, Status: 400},
		{Name: "401 unauthorized", Responder: str(401, ""), Reason: notify.ReasonAuth, Status: 401},
		{Name: "403 forbidden", Responder: str(403, "<html>forbidden</html>"), Reason: notify.ReasonAuth, Status: 403},
		{Name: "404 not found", Responder: str(404, "not found"), Reason: notify.ReasonClient, Status: 404},
		{Name: "410 gone", Responder: str(410, "gone"), Reason: notify.ReasonClient, Status: 410},
		{Name: "429 retry-after seconds", Responder: ra(429, "42"), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: 42 * time.Second},
		{Name: "429 retry-after http-date", Responder: ra(429, Now.Add(3*time.Minute).Format(http.TimeFormat)), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: 3 * time.Minute},
		{Name: "500 server error", Responder: str(500, `{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}`), Temporary: true, Reason: notify.ReasonServer, Status: 500},
		{Name: "503 unavailable", Responder: str(503, "unavailable"), Temporary: true, Reason: notify.ReasonServer, Status: 503},
		{Name: "network error", Responder: httpmock.ConnectionFailure, Temporary: true, Reason: notify.ReasonNetwork},
		{Name: "timeout", Responder: BlockUntilDone, Temporary: true, Reason: notify.ReasonTimeout, Timeout: time.Millisecond},
	}
}

// BlockUntilDone answers only when the request's context ends, so a
// per-attempt timeout fires without any sleep in the test.
func BlockUntilDone(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// RequireStatus checks err against a StatusCase.
func RequireStatus(t *testing.T, c StatusCase, err error) {
	t.Helper()
	if c.OK {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	de := notify.AsDeliveryError(err)
	require.Equal(t, c.Temporary, de.Temporary, "temporary: %v", err)
	require.Equal(t, c.Reason, de.Reason, "reason: %v", err)
	require.Equal(t, c.Status, de.StatusCode)
	require.Equal(t, c.Wait, de.RetryAfter)
}

// ObservedLogger returns a logger that records every entry at Debug and
// above.
func ObservedLogger() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// LogText renders every recorded entry with its fields as JSON lines.
func LogText(t *testing.T, logs *observer.ObservedLogs) string {
	t.Helper()
	var b strings.Builder
	for _, e := range logs.All() {
		line, err := json.Marshal(map[string]any{"msg": e.Message, "fields": e.ContextMap()})
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// RequireNoSecrets fails when text contains any of secrets.
func RequireNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotContains(t, text, s, "secret leaked")
	}
}

// EchoResponder answers status with a body that repeats the request's
// header values (sorted by name), URL and the start of its body, like a
// careless service would; everything secret fits in the error snippet.
func EchoResponder(status int) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(req.Header)) {
			parts = append(parts, req.Header.Values(k)...)
		}
		parts = append(parts, req.URL.String())
		if req.Body != nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(req.Body)
			parts = append(parts, string(buf.Bytes()[:min(buf.Len(), 60)]))
		}
		return httpmock.NewStringResponse(status, strings.Join(parts, " ")), nil
	}
}

// CaseTimeout is the attempt timeout for a test case: short only for the
// case named "timeout", so that a slow, loaded test machine does not turn
// another case's answer into a timeout.
func CaseTimeout(name string) time.Duration {
	if name == "timeout" {
		return time.Millisecond
	}
	return 10 * time.Second
}
