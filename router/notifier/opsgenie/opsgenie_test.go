package opsgenie_test

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
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/opsgenie"
	"github.com/alertgate/alertgate/router/notify"
)

const apiKey = "eb243592-faa2-4ba2-a551-1afdf565c889"

const accepted = `{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`

var testResponders = []opsgenie.Responder{
	{Type: "team", ID: "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
	{Type: "team", Name: "sre"},
	{Type: "user", Username: "oncall@example.com"},
}

// setup returns a notifier whose every request the returned recorder
// answers with r, and the mock to count calls.
func setup(t *testing.T, cfg opsgenie.Config, log *zap.Logger, r httpmock.Responder) (*opsgenie.Notifier, *notifiertest.Recorder, *httpmock.MockTransport) {
	t.Helper()
	client, mt := notifiertest.MockClient()
	rec := &notifiertest.Recorder{Response: r}
	mt.RegisterNoResponder(rec.Respond)
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey
	}
	cfg.Version = "1.2.3"
	n, err := opsgenie.New(cfg, client, log, notifiertest.Clock)
	require.NoError(t, err)
	return n, rec, mt
}

const wantCreate = `{
  "message": "[P0] INC-7 checkout: error rate 12% > 5%",
  "alias": "alertgate/INC-7",
  "description": "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
  "responders": [
    {"type": "team", "id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c"},
    {"type": "team", "name": "sre"},
    {"type": "user", "username": "oncall@example.com"}
  ],
  "tags": ["P0", "alertgate", "checkout", "availability"],
  "details": {
    "incident": "INC-7",
    "severity": "P0",
    "role": "oncall",
    "step": "oncall#0",
    "service": "checkout",
    "category": "availability",
    "runbook": "https://runbooks.example.com/high-error-rate",
    "ack_url": "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12",
    "incident_url": "https://alertgate.example.com/api/v1/incidents/INC-7",
    "idempotency_key": "INC-7/oncall#0/target"
  },
  "entity": "checkout",
  "source": "alertgate",
  "priority": "P1",
  "note": "paged oncall (oncall#0)"
}`

func TestCreate(t *testing.T) {
	cases := []struct {
		name   string
		region string
		url    string
		want   string
	}{
		{name: "default region", want: "https://api.opsgenie.com/v2/alerts"},
		{name: "us", region: "us", want: "https://api.opsgenie.com/v2/alerts"},
		{name: "eu", region: "eu", want: "https://api.eu.opsgenie.com/v2/alerts"},
		{name: "url override with prefix", region: "eu", url: "http://proxy.internal:8080/opsgenie/", want: "http://proxy.internal:8080/opsgenie/v2/alerts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, rec, mt := setup(t, opsgenie.Config{Region: c.region, URL: c.url, Responders: testResponders}, nil,
				httpmock.NewStringResponder(http.StatusAccepted, accepted))

			require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))

			require.Equal(t, 1, mt.GetTotalCallCount())
			require.Equal(t, http.MethodPost, rec.Request.Method)
			require.Equal(t, c.want, rec.Request.URL.String())
			require.Equal(t, "GenieKey "+apiKey, rec.Request.Header.Get("Authorization"))
			require.Equal(t, "application/json", rec.Request.Header.Get("Content-Type"))
			require.Equal(t, "alertgate/1.2.3", rec.Request.Header.Get("User-Agent"))
			require.JSONEq(t, wantCreate, string(rec.Body))
		})
	}
}

func TestAcknowledgeAndClose(t *testing.T) {
	cases := []struct {
		name     string
		kind     notify.MessageKind
		by       string
		wantURL  string
		wantBody string
	}{
		{
			name: "acknowledge", kind: notify.KindAcknowledge, by: "alice",
			wantURL:  "https://api.opsgenie.com/v2/alerts/alertgate%2FINC-7/acknowledge?identifierType=alias",
			wantBody: `{"user":"alertgate","source":"alertgate","note":"acknowledged by alice"}`,
		},
		{
			name: "acknowledge by nobody named", kind: notify.KindAcknowledge,
			wantURL:  "https://api.opsgenie.com/v2/alerts/alertgate%2FINC-7/acknowledge?identifierType=alias",
			wantBody: `{"user":"alertgate","source":"alertgate","note":"acknowledged in alertgate"}`,
		},
		{
			name: "close", kind: notify.KindResolve, by: "bob",
			wantURL:  "https://api.opsgenie.com/v2/alerts/alertgate%2FINC-7/close?identifierType=alias",
			wantBody: `{"user":"alertgate","source":"alertgate","note":"resolved by bob"}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, rec, mt := setup(t, opsgenie.Config{Responders: testResponders}, nil,
				httpmock.NewStringResponder(http.StatusAccepted, accepted))
			m := notifiertest.Message(c.kind)
			m.Incident.AcknowledgedBy, m.Incident.ResolvedBy = c.by, c.by

			require.NoError(t, n.Notify(context.Background(), m))

			require.Equal(t, 1, mt.GetTotalCallCount())
			require.Equal(t, http.MethodPost, rec.Request.Method)
			require.Equal(t, c.wantURL, rec.Request.URL.String())
			require.Equal(t, "GenieKey "+apiKey, rec.Request.Header.Get("Authorization"))
			require.Equal(t, "application/json", rec.Request.Header.Get("Content-Type"))
			require.JSONEq(t, c.wantBody, string(rec.Body))
		})
	}
}

func TestPriority(t *testing.T) {
	cases := []struct {
		sev  alert.Severity
		want string
	}{
		{alert.P0, "P1"},
		{alert.P1, "P2"},
		{alert.P2, "P3"},
		{alert.P3, "P4"},
		{alert.Severity(9), "P3"},
	}
	for _, c := range cases {
		t.Run(c.sev.String(), func(t *testing.T) {
			require.Equal(t, c.want, opsgenie.Priority(c.sev))
		})
	}
}

// created sends a page built by edit and returns the decoded body.
func created(t *testing.T, edit func(m *notify.Message)) map[string]any {
	t.Helper()
	n, rec, _ := setup(t, opsgenie.Config{}, nil, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	m := notifiertest.Message(notify.KindPage)
	edit(m)
	require.NoError(t, n.Notify(context.Background(), m))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body, &body))
	return body
}

func TestTruncation(t *testing.T) {
	t.Run("message is cut to 130 runes", func(t *testing.T) {
		summary := "[P0] INC-7 " + strings.Repeat("é", 300)
		body := created(t, func(m *notify.Message) { m.Summary = summary })
		msg := body["message"].(string)
		require.Equal(t, opsgenie.MaxMessage, utf8.RuneCountInString(msg))
		require.True(t, utf8.ValidString(msg))
		require.True(t, strings.HasPrefix(msg, "[P0] INC-7 éé"))
		require.True(t, strings.HasSuffix(msg, "…"))
	})
	t.Run("message of 130 runes is kept", func(t *testing.T) {
		summary := strings.Repeat("ü", opsgenie.MaxMessage)
		body := created(t, func(m *notify.Message) { m.Summary = summary })
		require.Equal(t, summary, body["message"])
	})
	t.Run("description is cut to 15000 runes", func(t *testing.T) {
		body := created(t, func(m *notify.Message) { m.Text = strings.Repeat("ж", 20000) })
		require.Equal(t, opsgenie.MaxDescription, utf8.RuneCountInString(body["description"].(string)))
	})
	t.Run("empty summary falls back to the incident", func(t *testing.T) {
		body := created(t, func(m *notify.Message) { m.Summary = "" })
		require.Equal(t, "[P0] INC-7 checkout: error rate 12% > 5%", body["message"])
	})
}

func TestLongAliasIsHashed(t *testing.T) {
	long := "alertgate/" + strings.Repeat("x", 600)
	sum := sha256.Sum256([]byte(long))
	want := hex.EncodeToString(sum[:])

	body := created(t, func(m *notify.Message) { m.DedupKey = long })
	require.Equal(t, want, body["alias"])

	n, rec, _ := setup(t, opsgenie.Config{}, nil, httpmock.NewStringResponder(http.StatusAccepted, accepted))
	m := notifiertest.Message(notify.KindResolve)
	m.DedupKey = long
	require.NoError(t, n.Notify(context.Background(), m))
	require.Equal(t, "https://api.opsgenie.com/v2/alerts/"+want+"/close?identifierType=alias", rec.Request.URL.String())

	exact := strings.Repeat("y", opsgenie.MaxAlias)
	require.Equal(t, exact, opsgenie.Alias(&notify.Message{DedupKey: exact}))
}

func TestSkippedKinds(t *testing.T) {
	for _, k := range []notify.MessageKind{notify.KindInfo, notify.KindTicket, "unknown"} {
		t.Run(string(k), func(t *testing.T) {
			n, _, mt := setup(t, opsgenie.Config{}, nil, httpmock.NewStringResponder(http.StatusAccepted, accepted))
			require.NoError(t, n.Notify(context.Background(), notifiertest.Message(k)))
			require.Zero(t, mt.GetTotalCallCount())
		})
	}
}

func TestNoDedupKey(t *testing.T) {
	for _, k := range []notify.MessageKind{notify.KindPage, notify.KindAcknowledge, notify.KindResolve} {
		t.Run(string(k), func(t *testing.T) {
			n, _, mt := setup(t, opsgenie.Config{}, nil, httpmock.NewStringResponder(http.StatusAccepted, accepted))
			m := notifiertest.Message(k)
			m.DedupKey = ""
			err := n.Notify(context.Background(), m)
			de := notify.AsDeliveryError(err)
			require.False(t, de.Temporary)
			require.Equal(t, notify.ReasonClient, de.Reason)
			require.Zero(t, mt.GetTotalCallCount())
		})
	}
}

func TestStatusMapping(t *testing.T) {
	cases := append(notifiertest.HTTPStatusCases(http.StatusAccepted, accepted),
		notifiertest.StatusCase{Name: "200 ok", Responder: httpmock.NewStringResponder(200, accepted), OK: true},
		notifiertest.StatusCase{
			Name:      "422 unprocessable",
			Responder: httpmock.NewStringResponder(422, `{"message":"Request body is not processable. Please check the errors.","errors":{"message":"Message can not be empty."},"took":0.001}`),
			Reason:    notify.ReasonClient, Status: 422,
		},
		notifiertest.StatusCase{
			Name:      "503 retry-after",
			Responder: httpmock.NewStringResponder(503, "").HeaderSet(http.Header{"Retry-After": {"30"}}),
			Temporary: true, Reason: notify.ReasonServer, Status: 503, Wait: 30 * time.Second,
		},
	)
	for _, k := range []notify.MessageKind{notify.KindPage, notify.KindResolve} {
		for _, c := range cases {
			t.Run(string(k)+"/"+c.Name, func(t *testing.T) {
				n, _, _ := setup(t, opsgenie.Config{Timeout: c.AttemptTimeout()}, nil, c.Responder)
				notifiertest.RequireStatus(t, c, n.Notify(context.Background(), notifiertest.Message(k)))
			})
		}
	}
}

func TestNoSecretLeak(t *testing.T) {
	cases := []struct {
		name string
		kind notify.MessageKind
		r    httpmock.Responder
	}{
		{name: "echo 400 create", kind: notify.KindPage, r: notifiertest.EchoResponder(400)},
		{name: "echo 401 close", kind: notify.KindResolve, r: notifiertest.EchoResponder(401)},
		{name: "echo 500 acknowledge", kind: notify.KindAcknowledge, r: notifiertest.EchoResponder(500)},
		{name: "accepted", kind: notify.KindPage, r: httpmock.NewStringResponder(http.StatusAccepted, accepted)},
		{name: "network error", kind: notify.KindPage, r: httpmock.ConnectionFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log, logs := notifiertest.ObservedLogger()
			n, _, mt := setup(t, opsgenie.Config{}, log, c.r)
			err := n.Notify(context.Background(), notifiertest.Message(c.kind))
			require.Equal(t, 1, mt.GetTotalCallCount())
			text := notifiertest.LogText(t, logs)
			if err != nil {
				text += err.Error()
			}
			notifiertest.RequireNoSecrets(t, text, apiKey)
		})
	}
}

func TestNew(t *testing.T) {
	client, _ := notifiertest.MockClient()
	cases := []struct {
		name   string
		cfg    opsgenie.Config
		client *http.Client
		want   string
	}{
		{name: "no key", cfg: opsgenie.Config{}, client: client, want: "api key missing"},
		{name: "key with spaces", cfg: opsgenie.Config{APIKey: " " + apiKey}, client: client, want: "api key missing"},
		{name: "bad region", cfg: opsgenie.Config{APIKey: apiKey, Region: "ap"}, client: client, want: `region "ap"`},
		{name: "bad url", cfg: opsgenie.Config{APIKey: apiKey, URL: "ftp://x"}, client: client, want: "scheme must be http or https"},
		{name: "nil client", cfg: opsgenie.Config{APIKey: apiKey}, want: "nil http client"},
		{name: "responder type", cfg: opsgenie.Config{APIKey: apiKey, Responders: []opsgenie.Responder{{Type: "group", ID: "x"}}}, client: client, want: "responder 0: type"},
		{name: "responder without identity", cfg: opsgenie.Config{APIKey: apiKey, Responders: []opsgenie.Responder{{Type: "team"}}}, client: client, want: "needs id, name or username"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := opsgenie.New(c.cfg, c.client, nil, nil)
			require.ErrorContains(t, err, c.want)
			require.True(t, strings.HasPrefix(err.Error(), "opsgenie: "))
			require.NotContains(t, err.Error(), apiKey)
		})
	}
}
