package statuspage_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/statuspage"
	"github.com/alertgate/alertgate/router/notify"
)

const (
	apiKey = "89a229ce1a8dbcf9ff30430fbe35eb4c"
	pageID = "kctbh9vrtdwd"
	ref    = "p31zjtct2jer"
)

var components = []string{"ftgks51sfs2d", "8kbf7d35c070"}

// created is a trimmed Statuspage create answer.
const created = `{"id":"p31zjtct2jer","name":"checkout: error rate 12% > 5%","status":"investigating","impact":"critical","shortlink":"http://stspg.io/p31zjtct2jer","page_id":"kctbh9vrtdwd"}`

// setup returns a notifier whose every request the returned recorder
// answers with r, and the mock to count calls.
func setup(t *testing.T, cfg statuspage.Config, log *zap.Logger, r httpmock.Responder) (*statuspage.Notifier, *notifiertest.Recorder, *httpmock.MockTransport) {
	t.Helper()
	client, mt := notifiertest.MockClient()
	rec := &notifiertest.Recorder{Response: r}
	mt.RegisterNoResponder(rec.Respond)
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey
	}
	if cfg.PageID == "" {
		cfg.PageID = pageID
	}
	cfg.Version = "1.2.3"
	n, err := statuspage.New(cfg, client, log, notifiertest.Clock)
	require.NoError(t, err)
	return n, rec, mt
}

func requireHeaders(t *testing.T, req *http.Request) {
	t.Helper()
	require.Equal(t, "OAuth "+apiKey, req.Header.Get("Authorization"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, "alertgate/1.2.3", req.Header.Get("User-Agent"))
}

const wantCreate = `{"incident": {
  "name": "checkout: error rate 12% > 5%",
  "status": "investigating",
  "impact_override": "critical",
  "body": "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
  "component_ids": ["ftgks51sfs2d", "8kbf7d35c070"],
  "components": {"ftgks51sfs2d": "major_outage", "8kbf7d35c070": "major_outage"},
  "deliver_notifications": true,
  "metadata": {"alertgate": {"incident": "INC-7", "dedup_key": "alertgate/INC-7"}}
}}`

func TestCreate(t *testing.T) {
	cases := []struct {
		name string
		kind notify.MessageKind
		cfg  statuspage.Config
		url  string
		want string
	}{
		{
			name: "page opens the incident",
			kind: notify.KindPage,
			cfg:  statuspage.Config{ComponentIDs: components},
			url:  "https://api.statuspage.io/v1/pages/kctbh9vrtdwd/incidents",
			want: wantCreate,
		},
		{
			name: "info opens the incident",
			kind: notify.KindInfo,
			cfg:  statuspage.Config{ComponentIDs: components},
			url:  "https://api.statuspage.io/v1/pages/kctbh9vrtdwd/incidents",
			want: wantCreate,
		},
		{
			name: "no components and a base url override",
			kind: notify.KindPage,
			cfg:  statuspage.Config{URL: "http://proxy.internal:8080/statuspage/v1/"},
			url:  "http://proxy.internal:8080/statuspage/v1/pages/kctbh9vrtdwd/incidents",
			want: `{"incident": {
  "name": "checkout: error rate 12% > 5%",
  "status": "investigating",
  "impact_override": "critical",
  "body": "Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
  "deliver_notifications": true,
  "metadata": {"alertgate": {"incident": "INC-7", "dedup_key": "alertgate/INC-7"}}
}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, rec, mt := setup(t, c.cfg, nil, httpmock.NewStringResponder(http.StatusCreated, created))
			got, err := n.Deliver(context.Background(), notifiertest.Message(c.kind))
			require.NoError(t, err)
			require.Equal(t, ref, got)
			require.Equal(t, 1, mt.GetTotalCallCount())
			require.Equal(t, http.MethodPost, rec.Request.Method)
			require.Equal(t, c.url, rec.Request.URL.String())
			requireHeaders(t, rec.Request)
			require.JSONEq(t, c.want, string(rec.Body))
		})
	}
}

func TestUpdate(t *testing.T) {
	cases := []struct {
		name   string
		kind   notify.MessageKind
		status alert.IncidentStatus
		want   string
	}{
		{
			name: "info while triggered", kind: notify.KindInfo, status: alert.IncidentTriggered,
			want: `{"incident":{"status":"investigating","body":"Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs."}}`,
		},
		{
			name: "info once acknowledged", kind: notify.KindInfo, status: alert.IncidentAcknowledged,
			want: `{"incident":{"status":"identified","body":"Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs."}}`,
		},
		{
			name: "info after resolution", kind: notify.KindInfo, status: alert.IncidentResolved,
			want: `{"incident":{"status":"resolved","body":"Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs."}}`,
		},
		{
			name: "acknowledge", kind: notify.KindAcknowledge, status: alert.IncidentAcknowledged,
			want: `{"incident":{"status":"identified","body":"Acknowledged — the team is working on it."}}`,
		},
		{
			name: "resolve sets components operational", kind: notify.KindResolve, status: alert.IncidentResolved,
			want: `{"incident":{"status":"resolved","body":"Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.",
  "components":{"ftgks51sfs2d":"operational","8kbf7d35c070":"operational"}}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, rec, mt := setup(t, statuspage.Config{ComponentIDs: components}, nil,
				httpmock.NewStringResponder(http.StatusOK, created))
			m := notifiertest.Message(c.kind)
			m.Incident.Status = c.status
			m.Ref = ref
			got, err := n.Deliver(context.Background(), m)
			require.NoError(t, err)
			require.Equal(t, ref, got)
			require.Equal(t, 1, mt.GetTotalCallCount())
			require.Equal(t, http.MethodPatch, rec.Request.Method)
			require.Equal(t, "https://api.statuspage.io/v1/pages/kctbh9vrtdwd/incidents/p31zjtct2jer", rec.Request.URL.String())
			requireHeaders(t, rec.Request)
			require.JSONEq(t, c.want, string(rec.Body))
		})
	}
}

func TestResolveWithoutComponents(t *testing.T) {
	n, rec, _ := setup(t, statuspage.Config{}, nil, httpmock.NewStringResponder(http.StatusOK, created))
	m := notifiertest.Message(notify.KindResolve)
	m.Ref, m.Text = ref, ""
	_, err := n.Deliver(context.Background(), m)
	require.NoError(t, err)
	require.JSONEq(t, `{"incident":{"status":"resolved","body":"[P0] INC-7 checkout: error rate 12% > 5%"}}`, string(rec.Body))
}

func TestNoRequest(t *testing.T) {
	cases := []struct {
		name string
		kind notify.MessageKind
		ref  string
	}{
		{name: "acknowledge without ref", kind: notify.KindAcknowledge},
		{name: "resolve without ref", kind: notify.KindResolve},
		{name: "ticket without ref", kind: notify.KindTicket},
		{name: "page with ref", kind: notify.KindPage, ref: ref},
		{name: "ticket with ref", kind: notify.KindTicket, ref: ref},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, _, mt := setup(t, statuspage.Config{ComponentIDs: components}, nil,
				httpmock.NewStringResponder(http.StatusCreated, created))
			m := notifiertest.Message(c.kind)
			m.Ref = c.ref
			got, err := n.Deliver(context.Background(), m)
			require.NoError(t, err)
			require.Empty(t, got)
			require.NoError(t, n.Notify(context.Background(), m))
			require.Zero(t, mt.GetTotalCallCount())
		})
	}
}

func TestSeverityMapping(t *testing.T) {
	cases := []struct {
		sev       alert.Severity
		impact    string
		component string
	}{
		{alert.P0, "critical", "major_outage"},
		{alert.P1, "major", "partial_outage"},
		{alert.P2, "minor", "degraded_performance"},
		{alert.P3, "none", "degraded_performance"},
	}
	for _, c := range cases {
		t.Run(c.sev.String(), func(t *testing.T) {
			require.Equal(t, c.impact, statuspage.Impact(c.sev))
			require.Equal(t, c.component, statuspage.ComponentStatus(c.sev))

			n, rec, _ := setup(t, statuspage.Config{ComponentIDs: components[:1]}, nil,
				httpmock.NewStringResponder(http.StatusCreated, created))
			m := notifiertest.Message(notify.KindPage)
			m.Incident.Severity = c.sev
			_, err := n.Deliver(context.Background(), m)
			require.NoError(t, err)
			var body struct {
				Incident struct {
					ImpactOverride string            `json:"impact_override"`
					Components     map[string]string `json:"components"`
				} `json:"incident"`
			}
			require.NoError(t, json.Unmarshal(rec.Body, &body))
			require.Equal(t, c.impact, body.Incident.ImpactOverride)
			require.Equal(t, map[string]string{components[0]: c.component}, body.Incident.Components)
		})
	}
}

func TestTruncate(t *testing.T) {
	n, rec, _ := setup(t, statuspage.Config{}, nil, httpmock.NewStringResponder(http.StatusCreated, created))
	m := notifiertest.Message(notify.KindPage)
	m.Incident.Title = strings.Repeat("é", 300)
	m.Text = strings.Repeat("x", 30000)
	_, err := n.Deliver(context.Background(), m)
	require.NoError(t, err)
	var body struct {
		Incident struct {
			Name string `json:"name"`
			Body string `json:"body"`
		} `json:"incident"`
	}
	require.NoError(t, json.Unmarshal(rec.Body, &body))
	require.Equal(t, statuspage.MaxName, utf8.RuneCountInString(body.Incident.Name))
	require.True(t, strings.HasSuffix(body.Incident.Name, "…"))
	require.Equal(t, statuspage.MaxBody, utf8.RuneCountInString(body.Incident.Body))
}

func TestCreateWithoutID(t *testing.T) {
	for _, answer := range []string{`{"name":"x"}`, `not json`, ``} {
		t.Run(answer, func(t *testing.T) {
			n, _, _ := setup(t, statuspage.Config{}, nil, httpmock.NewStringResponder(http.StatusCreated, answer))
			got, err := n.Deliver(context.Background(), notifiertest.Message(notify.KindPage))
			require.Empty(t, got)
			de := notify.AsDeliveryError(err)
			require.False(t, de.Temporary, "a retry would open a second incident: %v", err)
			require.Equal(t, notify.ReasonClient, de.Reason)
		})
	}
}
