package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/teams"
	"github.com/alertgate/alertgate/router/notify"
)

const (
	sig     = "Xy9ZsigAbCdEf0123456789SECRETsig"
	hookURL = "https://prod-42.westeurope.logic.azure.com:443/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
)

func newNotifier(t *testing.T, client *http.Client, timeout time.Duration) *teams.Notifier {
	t.Helper()
	n, err := teams.New(teams.Config{URL: hookURL, Timeout: timeout, Version: "1.2.3"}, client, nil, notifiertest.Clock)
	require.NoError(t, err)
	return n
}

// envelopeStart is the exact start of every body: the envelope keys in
// msteamsv2's order.
const envelopeStart = `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.2","body":[`

func wrap(body, actions string) string {
	return envelopeStart + body + `],"actions":[` + actions + `],"msteams":{"width":"full"}}}]}`
}

const (
	viewAction = `{"type":"Action.OpenUrl","title":"View incident","url":"https://alertgate.example.com/api/v1/incidents/INC-7"}`
	textBlock  = `{"type":"TextBlock","text":"Error rate on checkout is 12% (threshold 5%) for 5m <see dashboard> & logs.","wrap":true}`
	// incidentTail is what pages and info messages show after the facts.
	incidentTail = textBlock + `,
		{"type":"TextBlock","text":"- firing HighErrorRate","wrap":true},
		{"type":"TextBlock","text":"**Runbook:** High error rate","wrap":true},
		{"type":"TextBlock","text":"1. Check recent deploys\n2. Roll back if needed","wrap":true,"fontType":"Monospace"}`
	incidentActions = `{"type":"Action.OpenUrl","title":"Acknowledge","url":"https://alertgate.example.com/api/v1/incidents/INC-7/ack?exp=1772366400&sig=ab12","style":"positive"},
		` + viewAction + `,
		{"type":"Action.OpenUrl","title":"Runbook","url":"https://runbooks.example.com/high-error-rate"}`
)

func TestNotifyRequest(t *testing.T) {
	tests := []struct {
		name string
		kind notify.MessageKind
		edit func(*notify.Message)
		want string
	}{
		{
			name: "page",
			kind: notify.KindPage,
			edit: func(*notify.Message) {},
			want: wrap(`{"type":"TextBlock","text":"P0 INC-7: checkout: error rate 12% > 5%","weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Attention"},
				{"type":"FactSet","facts":[
					{"title":"Severity","value":"P0 Critical"},
					{"title":"Service","value":"checkout"},
					{"title":"Status","value":"triggered"},
					{"title":"Role","value":"oncall"},
					{"title":"Step","value":"oncall#0"},
					{"title":"Category","value":"availability"},
					{"title":"Alerts","value":"2 (2 firing)"}]},
				`+incidentTail, incidentActions),
		},
		{
			name: "info",
			kind: notify.KindInfo,
			edit: func(m *notify.Message) { m.Role, m.Step, m.Channel = "", "open:#incidents", "#incidents" },
			want: wrap(`{"type":"TextBlock","text":"P0 INC-7: checkout: error rate 12% > 5%","weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Attention"},
				{"type":"FactSet","facts":[
					{"title":"Severity","value":"P0 Critical"},
					{"title":"Service","value":"checkout"},
					{"title":"Status","value":"triggered"},
					{"title":"Step","value":"open:#incidents"},
					{"title":"Channel","value":"#incidents"},
					{"title":"Category","value":"availability"},
					{"title":"Alerts","value":"2 (2 firing)"}]},
				`+incidentTail, incidentActions),
		},
		{
			name: "acknowledge",
			kind: notify.KindAcknowledge,
			edit: func(m *notify.Message) {
				m.Incident.Status, m.Incident.AcknowledgedBy = alert.IncidentAcknowledged, "alice"
			},
			want: wrap(`{"type":"TextBlock","text":"Acknowledged: P0 INC-7: checkout: error rate 12% > 5%","weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Warning"},
				{"type":"TextBlock","text":"Acknowledged by alice","wrap":true},
				{"type":"FactSet","facts":[
					{"title":"Severity","value":"P0 Critical"},
					{"title":"Service","value":"checkout"},
					{"title":"Status","value":"acknowledged"}]},
				`+textBlock, viewAction),
		},
		{
			name: "resolve",
			kind: notify.KindResolve,
			edit: func(m *notify.Message) {
				m.Incident.Status, m.Incident.ResolvedBy = alert.IncidentResolved, "bob"
				m.Incident.ResolvedAt = m.Incident.OpenedAt.Add(42*time.Minute + 3*time.Second)
			},
			want: wrap(`{"type":"TextBlock","text":"Resolved: P0 INC-7: checkout: error rate 12% > 5%","weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Good"},
				{"type":"TextBlock","text":"Resolved by bob after 42m3s","wrap":true},
				{"type":"FactSet","facts":[
					{"title":"Severity","value":"P0 Critical"},
					{"title":"Service","value":"checkout"},
					{"title":"Status","value":"resolved"}]},
				`+textBlock, viewAction),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec, mt := notifiertest.RecordPost(hookURL, httpmock.NewStringResponder(http.StatusAccepted, ""))
			m := message(tt.kind)
			tt.edit(m)

			require.NoError(t, newNotifier(t, client, 0).Notify(context.Background(), m))

			require.Equal(t, 1, mt.GetTotalCallCount())
			require.Equal(t, http.MethodPost, rec.Request.Method)
			require.Equal(t, hookURL, rec.Request.URL.String())
			require.Equal(t, http.Header{
				"Content-Type": {"application/json"},
				"User-Agent":   {"alertgate/1.2.3"},
			}, rec.Request.Header)
			require.JSONEq(t, tt.want, string(rec.Body))
			require.True(t, strings.HasPrefix(string(rec.Body), envelopeStart), "envelope key order: %s", rec.Body)
		})
	}
}

func TestNotifyStatusMapping(t *testing.T) {
	str := httpmock.NewStringResponder
	tests := []notifiertest.StatusCase{
		{Name: "200 ok", Responder: str(200, "1"), OK: true},
		{Name: "202 accepted", Responder: str(202, ""), OK: true},
		{Name: "204 no content", Responder: str(204, ""), OK: true},
		{Name: "400 bad payload", Responder: str(400, `{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`), Reason: notify.ReasonClient, Status: 400},
		{Name: "401 unauthorized", Responder: str(401, `{"error":{"code":"DirectApiAuthorizationRequired"}}`), Reason: notify.ReasonAuth, Status: 401},
		{Name: "403 forbidden", Responder: str(403, ""), Reason: notify.ReasonAuth, Status: 403},
		{Name: "404 flow gone", Responder: str(404, `{"error":{"code":"WorkflowNotFound","message":"The workflow was not found."}}`), Reason: notify.ReasonClient, Status: 404},
		{Name: "413 too large", Responder: str(413, "Request Entity Too Large"), Reason: notify.ReasonClient, Status: 413},
		{Name: "429 retry-after seconds", Responder: str(429, "").HeaderSet(http.Header{"Retry-After": {"30"}}), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: 30 * time.Second},
		{Name: "429 retry-after date", Responder: str(429, "").HeaderSet(http.Header{"Retry-After": {notifiertest.Now.Add(time.Minute).Format(http.TimeFormat)}}), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429, Wait: time.Minute},
		{Name: "429 without retry-after", Responder: str(429, ""), Temporary: true, Reason: notify.ReasonRateLimited, Status: 429},
		{Name: "500 server error", Responder: str(500, "internal"), Temporary: true, Reason: notify.ReasonServer, Status: 500},
		{Name: "503 unavailable with retry-after", Responder: str(503, "").HeaderSet(http.Header{"Retry-After": {"5"}}), Temporary: true, Reason: notify.ReasonServer, Status: 503, Wait: 5 * time.Second},
		{Name: "network error", Responder: httpmock.ConnectionFailure, Temporary: true, Reason: notify.ReasonNetwork},
		{Name: "timeout", Responder: notifiertest.BlockUntilDone, Temporary: true, Reason: notify.ReasonTimeout, Timeout: time.Millisecond},
	}
	for _, c := range tests {
		t.Run(c.Name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, c.Responder)
			err := newNotifier(t, client, c.AttemptTimeout()).Notify(context.Background(), message(notify.KindPage))
			notifiertest.RequireStatus(t, c, err)
		})
	}
}

func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
	}{
		{name: "echoing 400", responder: notifiertest.EchoResponder(400)},
		{name: "echoing 404", responder: notifiertest.EchoResponder(404)},
		{name: "echoing 500", responder: notifiertest.EchoResponder(500)},
		{name: "network error quoting the url", responder: httpmock.NewErrorResponder(&leakyNetError{})},
		{name: "connection failure", responder: httpmock.ConnectionFailure},
		{name: "timeout", responder: notifiertest.BlockUntilDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := notifiertest.MockPost(hookURL, tt.responder)
			log, logs := notifiertest.ObservedLogger()
			n, err := teams.New(teams.Config{URL: hookURL, Timeout: notifiertest.CaseTimeout(tt.name)}, client, log, notifiertest.Clock)
			require.NoError(t, err)

			err = n.Notify(context.Background(), message(notify.KindPage))

			require.Error(t, err)
			require.Contains(t, err.Error(), "teams post")
			notifiertest.RequireNoSecrets(t, err.Error(), sig, hookURL)
			notifiertest.RequireNoSecrets(t, notifiertest.LogText(t, logs), sig)
		})
	}
}

func TestNotifyLogsNoSecret(t *testing.T) {
	client := notifiertest.MockPost(hookURL, httpmock.NewStringResponder(202, ""))
	log, logs := notifiertest.ObservedLogger()
	n, err := teams.New(teams.Config{URL: hookURL}, client, log, notifiertest.Clock)
	require.NoError(t, err)

	require.NoError(t, n.Notify(context.Background(), message(notify.KindPage)))

	require.Zero(t, logs.Len(), "the engine logs the delivery, once")
}

// leakyNetError is a transport error whose text quotes the URL it was given.
type leakyNetError struct{}

func (*leakyNetError) Error() string { return "dial " + hookURL + ": connection reset" }

func TestNewRejectsBadConfig(t *testing.T) {
	client, _ := notifiertest.MockClient()
	tests := []struct {
		name   string
		url    string
		client *http.Client
	}{
		{name: "no scheme", url: "prod-42.westeurope.logic.azure.com/workflows/x?sig=" + sig, client: client},
		{name: "wrong scheme", url: "ftp://prod-42.westeurope.logic.azure.com/workflows/x?sig=" + sig, client: client},
		{name: "empty", url: "", client: client},
		{name: "nil client", url: hookURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := teams.New(teams.Config{URL: config.Secret(tt.url)}, tt.client, nil, nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), "teams")
			require.NotContains(t, err.Error(), sig)
		})
	}
}
