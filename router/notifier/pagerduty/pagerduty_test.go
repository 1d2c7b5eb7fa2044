package pagerduty_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notify"
)

const routingKey = "R0ROUTINGKEY456789abcdef01234567"

const accepted = `{"status":"success","message":"Event processed","dedup_key":"alertgate/INC-7"}`

// setup returns a notifier whose requests the returned recorder answers.
func setup(t *testing.T, url string, timeout time.Duration, r httpmock.Responder) (*pagerduty.Notifier, *notifiertest.Recorder, *httpmock.MockTransport) {
	t.Helper()
	target := url
	if target == "" {
		target = pagerduty.DefaultURL
	}
	client, rec, mock := notifiertest.RecordPost(target, r)
	n, err := pagerduty.New(pagerduty.Config{
		RoutingKey: routingKey, URL: config.Secret(url), Timeout: timeout, Version: "1.2.3",
	}, client, nil, notifiertest.Clock)
	require.NoError(t, err)
	return n, rec, mock
}

const wantTrigger = `{
  "routing_key": "R0ROUTINGKEY456789abcdef01234567",
  "event_action": "trigger",
  "dedup_key": "alertgate/INC-7",
  "payload": {
    "summary": "[P0] INC-7 checkout: error rate 12% > 5%",
    "source": "checkout",
    "severity": "critical",
    "timestamp": "2026-03-01T11:50:00Z",
    "component": "checkout",
    "group": "availability",
    "class": "HighErrorRate",
    "custom_details": {
      "incident": "INC-7",
      "severity": "P0 Critical",
      "role": "oncall",
      "step": "oncall#0",
      "text": "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
      "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
      "runbook": {"name": "high-error-rate", "title": "High error rate", "url": "https://runbooks.example.com/high-error-rate",
                  "steps": ["Check recent deploys", "Roll back if needed"]},
      "alert_count": 2,
      "firing_count": 2,
      "alerts": [{"fingerprint": "13d86469efcf3ccc", "status": "firing", "title": "HighErrorRate",
                  "labels": {"alertname": "HighErrorRate"}, "starts_at": "2026-03-01T11:50:00Z",
                  "generator_url": "http://prometheus:9090/graph?g0.expr=x"}]
    }
  },
  "links": [
    {"href": "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12", "text": "Acknowledge INC-7 in alertgate"},
    {"href": "https://alertgate.example.com/api/v1/incidents/INC-7", "text": "INC-7 in alertgate"},
    {"href": "https://runbooks.example.com/high-error-rate", "text": "Runbook: High error rate"},
    {"href": "http://prometheus:9090/graph?g0.expr=x", "text": "Source"}
  ],
  "client": "alertgate",
  "client_url": "https://alertgate.example.com/api/v1/incidents/INC-7"
}`

func TestEvents(t *testing.T) {
	tests := []struct {
		name string
		kind notify.MessageKind
		want string
	}{
		{name: "page triggers", kind: notify.KindPage, want: wantTrigger},
		{name: "acknowledge", kind: notify.KindAcknowledge,
			want: `{"routing_key":"R0ROUTINGKEY456789abcdef01234567","event_action":"acknowledge","dedup_key":"alertgate/INC-7"}`},
		{name: "resolve", kind: notify.KindResolve,
			want: `{"routing_key":"R0ROUTINGKEY456789abcdef01234567","event_action":"resolve","dedup_key":"alertgate/INC-7"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec, mock := setup(t, "", 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))

			require.NoError(t, n.Notify(context.Background(), notifiertest.Message(tt.kind)))

			require.Equal(t, 1, mock.GetTotalCallCount())
			require.Equal(t, http.MethodPost, rec.Request.Method)
			require.Equal(t, "https://events.pagerduty.com/v2/enqueue", rec.Request.URL.String())
			require.Equal(t, http.Header{
				"Content-Type": {"application/json"},
				"User-Agent":   {"alertgate/1.2.3"},
			}, rec.Request.Header)
			require.JSONEq(t, tt.want, string(rec.Body))
		})
	}
}

func TestInfoIsNotSent(t *testing.T) {
	n, _, mock := setup(t, "", 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindInfo)))
	require.Zero(t, mock.GetTotalCallCount())
}

func TestURLOverride(t *testing.T) {
	const proxy = "https://pd-proxy.internal:8443/v2/enqueue"
	n, rec, _ := setup(t, proxy, 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
	require.Equal(t, proxy, rec.Request.URL.String())
}

// sent triggers m and returns the decoded event.
func sent(t *testing.T, m *notify.Message) pagerduty.Event {
	t.Helper()
	n, rec, _ := setup(t, "", 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	require.NoError(t, n.Notify(context.Background(), m))
	var e pagerduty.Event
	require.NoError(t, json.Unmarshal(rec.Body, &e))
	return e
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		sev  alert.Severity
		want string
	}{
		{alert.P0, "critical"},
		{alert.P1, "error"},
		{alert.P2, "warning"},
		{alert.P3, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.sev.String(), func(t *testing.T) {
			m := notifiertest.Message(notify.KindPage)
			m.Incident.Severity = tt.sev
			require.Equal(t, tt.want, sent(t, m).Payload.Severity)
		})
	}
}

func TestTriggerFields(t *testing.T) {
	t.Run("summary truncated to 1024 runes", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Summary = strings.Repeat("é", 2000)
		s := sent(t, m).Payload.Summary
		require.Equal(t, 1024, utf8.RuneCountInString(s))
		require.Equal(t, strings.Repeat("é", 1023)+"…", s)
	})
	t.Run("summary built when empty", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Summary = ""
		require.Equal(t, "[P0] INC-7 checkout: error rate 12% > 5%", sent(t, m).Payload.Summary)
	})
	t.Run("source defaults to alertgate", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Incident.Service = ""
		p := sent(t, m).Payload
		require.Equal(t, "alertgate", p.Source)
		require.Empty(t, p.Component)
	})
	t.Run("no alertname no class, no links without urls", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Labels = nil
		m.AckURL, m.IncidentURL, m.Runbook = "", "", nil
		m.Alerts[0].GeneratorURL = ""
		e := sent(t, m)
		require.Empty(t, e.Payload.Class)
		require.Empty(t, e.Links)
		require.Empty(t, e.ClientURL)
	})
	t.Run("timestamp falls back to message time", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Incident.OpenedAt = time.Time{}
		require.Equal(t, "2026-03-01T12:00:00Z", sent(t, m).Payload.Timestamp)
	})
	t.Run("alerts in details capped at 20", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		for range 30 {
			m.Alerts = append(m.Alerts, m.Alerts[0])
		}
		require.Len(t, sent(t, m).Payload.CustomDetails.Alerts, 20)
	})
	t.Run("oversized details shrunk under 512 KB", func(t *testing.T) {
		m := notifiertest.Message(notify.KindPage)
		m.Text = strings.Repeat("x", 600_000)
		n, rec, _ := setup(t, "", 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))
		require.NoError(t, n.Notify(context.Background(), m))
		require.Less(t, len(rec.Body), 512_000)
		var e pagerduty.Event
		require.NoError(t, json.Unmarshal(rec.Body, &e))
		require.True(t, e.Payload.CustomDetails.Truncated)
		require.Equal(t, "INC-7", e.Payload.CustomDetails.Incident)
		require.Empty(t, e.Payload.CustomDetails.Text)
	})
}

func TestDedupKey(t *testing.T) {
	long := strings.Repeat("k", 300)
	sum := sha256.Sum256([]byte(long))
	tests := []struct {
		name, dedup, incident, want string
	}{
		{name: "as given", dedup: "alertgate/INC-7", incident: "INC-7", want: "alertgate/INC-7"},
		{name: "255 chars kept", dedup: strings.Repeat("k", 255), incident: "INC-7", want: strings.Repeat("k", 255)},
		{name: "longer hashed", dedup: long, incident: "INC-7", want: hex.EncodeToString(sum[:])},
		{name: "empty falls back to incident", dedup: "", incident: "INC-7", want: "INC-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []notify.MessageKind{notify.KindPage, notify.KindResolve} {
				m := notifiertest.Message(k)
				m.DedupKey, m.Incident.Key = tt.dedup, tt.incident
				require.Equal(t, tt.want, sent(t, m).DedupKey, string(k))
			}
		})
	}
}

func TestMissingDedupKeyIsPermanent(t *testing.T) {
	n, _, mock := setup(t, "", 0, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	m := notifiertest.Message(notify.KindResolve)
	m.DedupKey, m.Incident.Key = "", ""
	de := notify.AsDeliveryError(n.Notify(context.Background(), m))
	require.False(t, de.Temporary)
	require.Equal(t, notify.ReasonClient, de.Reason)
	require.Zero(t, mock.GetTotalCallCount())
}

func TestNotifyStatusMapping(t *testing.T) {
	for _, c := range notifiertest.HTTPStatusCases(http.StatusAccepted, accepted) {
		t.Run(c.Name, func(t *testing.T) {
			n, _, _ := setup(t, "", c.AttemptTimeout(), c.Responder)
			notifiertest.RequireStatus(t, c, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
		})
	}
}

func TestNoRoutingKeyInErrorsOrLogs(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		scrubbed  bool
	}{
		{name: "echoing 400", responder: notifiertest.EchoResponder(400), scrubbed: true},
		{name: "echoing 429", responder: notifiertest.EchoResponder(429), scrubbed: true},
		{name: "echoing 202", responder: notifiertest.EchoResponder(202)},
		{name: "network error", responder: httpmock.ConnectionFailure},
		{name: "timeout", responder: notifiertest.BlockUntilDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := notifiertest.MockPost(pagerduty.DefaultURL, tt.responder)
			log, logs := notifiertest.ObservedLogger()
			n, err := pagerduty.New(pagerduty.Config{RoutingKey: routingKey, Timeout: notifiertest.CaseTimeout(tt.name)}, client, log, notifiertest.Clock)
			require.NoError(t, err)

			for _, k := range []notify.MessageKind{notify.KindPage, notify.KindResolve, notify.KindInfo} {
				err = n.Notify(context.Background(), notifiertest.Message(k))
				if err != nil {
					notifiertest.RequireNoSecrets(t, err.Error(), routingKey)
				}
				if tt.scrubbed && k != notify.KindInfo {
					require.Contains(t, err.Error(), `"routing_key":"<secret>"`)
				}
			}
			notifiertest.RequireNoSecrets(t, notifiertest.LogText(t, logs), routingKey)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	client, _ := notifiertest.MockClient()
	tests := []struct {
		name   string
		cfg    pagerduty.Config
		client *http.Client
	}{
		{name: "nil client", cfg: pagerduty.Config{RoutingKey: routingKey}},
		{name: "no routing key", cfg: pagerduty.Config{}, client: client},
		{name: "routing key with spaces", cfg: pagerduty.Config{RoutingKey: " " + routingKey}, client: client},
		{name: "bad url", cfg: pagerduty.Config{RoutingKey: routingKey, URL: "events.pagerduty.com/" + routingKey}, client: client},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := pagerduty.New(tt.cfg, tt.client, nil, nil)
			require.Error(t, err)
			require.Nil(t, n)
			require.NotContains(t, err.Error(), routingKey)
		})
	}
}
