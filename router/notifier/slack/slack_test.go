package slack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

const (
	hookURL = "https://hooks.slack.com/services/T0ABCDEF/B0GHIJKL/SLACKTOKEN0123456789"
	token   = "SLACKTOKEN0123456789"
)

func newNotifier(t *testing.T, client *http.Client, timeout time.Duration) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Config{URL: hookURL, Timeout: timeout, Version: "1.2.3"}, client, nil, notifiertest.Clock)
	require.NoError(t, err)
	return n
}

const wantPage = `{
  "text": ":red_circle: [P0] INC-7 checkout: error rate 12% &gt; 5% (paging oncall)",
  "blocks": [
    {"type": "header", "text": {"type": "plain_text", "text": ":red_circle: [P0] INC-7 checkout: error rate 12% > 5%", "emoji": true}},
    {"type": "section", "fields": [
      {"type": "mrkdwn", "text": "*Severity*\nP0 Critical"},
      {"type": "mrkdwn", "text": "*Service*\ncheckout"},
      {"type": "mrkdwn", "text": "*Status*\ntriggered"},
      {"type": "mrkdwn", "text": "*Role*\noncall"},
      {"type": "mrkdwn", "text": "*Category*\navailability"},
      {"type": "mrkdwn", "text": "*Alerts*\n2 (2 firing)"}
    ]},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Error rate on checkout is 12% (threshold 5%) for 5m &lt;see dashboard&gt; &amp; logs."}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Runbook:* <https://runbooks.example.com/high-error-rate|High error rate>\n1. Check recent deploys\n2. Roll back if needed"}},
    {"type": "actions", "elements": [
      {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
       "url": "https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12", "style": "primary", "action_id": "acknowledge"},
      {"type": "button", "text": {"type": "plain_text", "text": "View incident"},
       "url": "https://alertgate.example.com/api/v1/incidents/INC-7", "action_id": "view_incident"}
    ]}
  ]
}`

func TestNotifyRequest(t *testing.T) {
	client, rec, _ := notifiertest.RecordPost(hookURL, httpmock.NewStringResponder(200, "ok"))
	n := newNotifier(t, client, 0)

	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))

	require.Equal(t, http.MethodPost, rec.Request.Method)
	require.Equal(t, hookURL, rec.Request.URL.String())
	require.Equal(t, http.Header{
		"Content-Type": {"application/json"},
		"User-Agent":   {"alertgate/1.2.3"},
	}, rec.Request.Header)
	require.JSONEq(t, wantPage, string(rec.Body))
	require.NotContains(t, string(rec.Body), `"channel"`)
}

// Follow-ups, rendered by the default templates, are the title and the
// text saying who did it and after how long.
func TestBuildFollowUps(t *testing.T) {
	viewLink := " · <https://alertgate.example.com/api/v1/incidents/INC-7|view>"
	tests := []struct {
		name     string
		kind     notify.MessageKind
		edit     func(*alert.Incident)
		wantText string
		wantBody string
	}{
		{
			name: "acknowledged",
			kind: notify.KindAcknowledge,
			edit: func(i *alert.Incident) {
				i.Status, i.AcknowledgedBy = alert.IncidentAcknowledged, "alice"
			},
			wantText: ":eyes: Acknowledged: [P0] INC-7 checkout: checkout: error rate 12% &gt; 5%",
			wantBody: "INC-7 acknowledged by alice.\n",
		},
		{
			name: "resolved with duration",
			kind: notify.KindResolve,
			edit: func(i *alert.Incident) {
				i.Status, i.ResolvedBy = alert.IncidentResolved, "bob"
				i.ResolvedAt = i.OpenedAt.Add(42*time.Minute + 3*time.Second)
			},
			wantText: ":white_check_mark: Resolved: [P0] INC-7 checkout: checkout: error rate 12% &gt; 5%",
			wantBody: "INC-7 resolved by bob after 42 min.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notifiertest.Message(tt.kind)
			tt.edit(&m.Incident)
			m, _, err := template.DefaultTarget("slack").Apply(m)
			require.NoError(t, err)
			p := slack.Build(m)
			require.Equal(t, tt.wantText, p.Text)
			require.Len(t, p.Blocks, 2)
			require.Equal(t, slack.Block{Type: "section", Text: &slack.Text{Type: "mrkdwn", Text: tt.wantText + viewLink}}, p.Blocks[0])
			require.True(t, strings.HasPrefix(p.Blocks[1].Text.Text, tt.wantBody), p.Blocks[1].Text.Text)
		})
	}
}

func TestBuildButtons(t *testing.T) {
	tests := []struct {
		name   string
		kind   notify.MessageKind
		status alert.IncidentStatus
		ackURL string
		want   []string
	}{
		{name: "page", kind: notify.KindPage, status: alert.IncidentTriggered, ackURL: "https://a/ack", want: []string{"acknowledge", "view_incident"}},
		{name: "info on open incident", kind: notify.KindInfo, status: alert.IncidentTriggered, ackURL: "https://a/ack", want: []string{"acknowledge", "view_incident"}},
		{name: "info on acknowledged incident", kind: notify.KindInfo, status: alert.IncidentAcknowledged, ackURL: "https://a/ack", want: []string{"view_incident"}},
		{name: "page without ack url", kind: notify.KindPage, status: alert.IncidentTriggered, want: []string{"view_incident"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notifiertest.Message(tt.kind)
			m.Incident.Status, m.AckURL = tt.status, tt.ackURL
			p := slack.Build(m)
			last := p.Blocks[len(p.Blocks)-1]
			require.Equal(t, "actions", last.Type)
			var ids []string
			for _, b := range last.Elements {
				ids = append(ids, b.ActionID)
			}
			require.Equal(t, tt.want, ids)
		})
	}
}

func TestBuildTruncatesToBlockKitLimits(t *testing.T) {
	m := notifiertest.Message(notify.KindPage)
	m.Incident.Title = strings.Repeat("t", 500)
	m.Text = strings.Repeat("ü", 5000)
	m.Summary = strings.Repeat("s", 5000)
	m.Runbook.Steps = []string{strings.Repeat("r", 4000)}

	p := slack.Build(m)

	header := p.Blocks[0].Text.Text
	require.Equal(t, 150, utf8.RuneCountInString(header))
	require.True(t, strings.HasSuffix(header, "…"))
	require.Equal(t, 3000, utf8.RuneCountInString(p.Blocks[2].Text.Text))
	require.Equal(t, 3000, utf8.RuneCountInString(p.Blocks[3].Text.Text))
	require.Equal(t, 3000, utf8.RuneCountInString(p.Text))
	require.True(t, utf8.ValidString(p.Blocks[2].Text.Text))
}

func TestBuildEscapesLinks(t *testing.T) {
	m := notifiertest.Message(notify.KindPage)
	m.Runbook = &notify.Runbook{Name: "rb", Title: "A|B <c>", URL: "https://rb/x?a=1&b=>"}
	p := slack.Build(m)
	require.Equal(t, "*Runbook:* <https://rb/x?a=1&amp;b=%3E|A¦B &lt;c&gt;>", p.Blocks[3].Text.Text)
}

func TestNotifyStatusMapping(t *testing.T) {
	str := httpmock.NewStringResponder
	tests := []notifiertest.StatusCase{
		{Name: "200 ok", Responder: str(200, "ok"), OK: true},
		{Name: "200 ok with newline", Responder: str(200, "ok\n"), OK: true},
		{Name: "200 with error body", Responder: str(200, "invalid_payload"), Reason: notify.ReasonClient, Status: 200},
		{Name: "204 is not slack success", Responder: str(204, ""), Reason: notify.ReasonClient, Status: 204},
		{Name: "400 invalid_payload", Responder: str(400, "invalid_payload"), Reason: notify.ReasonClient, Status: 400},
		{Name: "400 invalid_token", Responder: str(400, "invalid_token"), Reason: notify.ReasonAuth, Status: 400},
		{Name: "400 user_not_found", Responder: str(400, "user_not_found"), Reason: notify.ReasonClient, Status: 400},
		{Name: "403 action_prohibited", Responder: str(403, "action_prohibited"), Reason: notify.ReasonAuth, Status: 403},
		{Name: "403 html from the edge", Responder: str(403, "<html><body>Forbidden</body></html>"), Reason: notify.ReasonAuth, Status: 403},
		{Name: "404 no_service", Responder: str(404, "no_service"), Reason: notify.ReasonAuth, Status: 404},
		{Name: "404 channel_not_found", Responder: str(404, "channel_not_found"), Reason: notify.ReasonClient, Status: 404},
		{Name: "410 channel_is_archived", Responder: str(410, "channel_is_archived"), Reason: notify.ReasonClient, Status: 410},
		{Name: "429 retry-after", Responder: str(429, "rate_limited").HeaderSet(http.Header{"Retry-After": {"30"}}), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: 30 * time.Second},
		{Name: "429 retry-after date", Responder: str(429, "").HeaderSet(http.Header{"Retry-After": {notifiertest.Now.Add(time.Minute).Format(http.TimeFormat)}}), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: time.Minute},
		{Name: "500 rollup_error", Responder: str(500, "rollup_error"), Temporary: true, Reason: notify.ReasonServer, Status: 500},
		{Name: "503", Responder: str(503, ""), Temporary: true, Reason: notify.ReasonServer, Status: 503},
		{Name: "network error", Responder: httpmock.ConnectionFailure, Temporary: true, Reason: notify.ReasonNetwork},
		{Name: "timeout", Responder: notifiertest.BlockUntilDone, Temporary: true, Reason: notify.ReasonTimeout, Timeout: time.Millisecond},
	}
	for _, c := range tests {
		t.Run(c.Name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, c.Responder)
			err := newNotifier(t, client, c.AttemptTimeout()).Notify(context.Background(), notifiertest.Message(notify.KindPage))
			notifiertest.RequireStatus(t, c, err)
		})
	}
}

func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
	}{
		{name: "echoing 404", responder: notifiertest.EchoResponder(404)},
		{name: "echoing 500", responder: notifiertest.EchoResponder(500)},
		{name: "200 not ok", responder: notifiertest.EchoResponder(200)},
		{name: "network error", responder: httpmock.NewErrorResponder(&leakyNetError{})},
		{name: "timeout", responder: notifiertest.BlockUntilDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, tt.responder)
			log, logs := notifiertest.ObservedLogger()
			n, err := slack.New(slack.Config{URL: hookURL, Timeout: notifiertest.CaseTimeout(tt.name)}, client, log, notifiertest.Clock)
			require.NoError(t, err)

			err = n.Notify(context.Background(), notifiertest.Message(notify.KindPage))

			require.Error(t, err)
			notifiertest.RequireNoSecrets(t, err.Error(), token, "B0GHIJKL/"+token)
			notifiertest.RequireNoSecrets(t, notifiertest.LogText(t, logs), token)
		})
	}
}

// leakyNetError is a transport error whose text quotes the URL it was given.
type leakyNetError struct{}

func (*leakyNetError) Error() string { return "dial " + hookURL + ": connection reset" }

func TestNewHidesURL(t *testing.T) {
	client, _ := notifiertest.MockClient()
	_, err := slack.New(slack.Config{URL: "hooks.slack.com/services/T0/B0/" + token}, client, nil, nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), token)

	_, err = slack.New(slack.Config{URL: hookURL}, nil, nil, nil)
	require.Error(t, err)
}

func TestPayloadIsValidJSON(t *testing.T) {
	for _, k := range []notify.MessageKind{notify.KindPage, notify.KindInfo, notify.KindAcknowledge, notify.KindResolve} {
		t.Run(string(k), func(t *testing.T) {
			b, err := json.Marshal(slack.Build(notifiertest.Message(k)))
			require.NoError(t, err)
			var p struct {
				Text   string            `json:"text"`
				Blocks []json.RawMessage `json:"blocks"`
			}
			require.NoError(t, json.Unmarshal(b, &p))
			require.NotEmpty(t, p.Text)
			require.NotEmpty(t, p.Blocks)
			require.LessOrEqual(t, len(p.Blocks), 50)
		})
	}
}
