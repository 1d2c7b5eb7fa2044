package webhook

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

func TestTicketRef(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"jira", `{"id":"10001","key":"OPS-123","self":"https://jira/rest/api/2/issue/10001"}`, "OPS-123"},
		{"github", `{"number":42,"html_url":"https://github.com/acme/ops/issues/42","url":"https://api.github.com/repos/acme/ops/issues/42"}`, "42 https://github.com/acme/ops/issues/42"},
		{"id and url", `{"id":"T-9","url":"https://tickets/T-9"}`, "T-9 https://tickets/T-9"},
		{"url only", `{"url":"https://tickets/T-9"}`, "https://tickets/T-9"},
		{"not json", `ok`, ""},
		{"no reference", `{"status":"created"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, TicketRef([]byte(tc.body)))
		})
	}
}

func TestTemplateBody(t *testing.T) {
	n, err := New(Config{URL: "https://hooks.example.com/x", Template: `{"text": {{json .Summary}}, "incident": "{{.Incident.Key}}", "sev": "{{.Incident.Severity}}"}`}, http.DefaultClient, nil, nil)
	require.NoError(t, err)
	m := &notify.Message{Kind: notify.KindPage, Summary: `[P0] INC-7 "checkout" down`, Incident: alert.Incident{Key: "INC-7", Severity: alert.P0}}
	body, err := n.render(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"text": "[P0] INC-7 \"checkout\" down", "incident": "INC-7", "sev": "P0"}`, string(body))

	_, err = New(Config{URL: "https://hooks.example.com/x", Template: `{{.Nope`}, http.DefaultClient, nil, nil)
	require.ErrorContains(t, err, "webhook: template")
	bad, err := New(Config{URL: "https://hooks.example.com/x", Template: `{{.Missing}}`}, http.DefaultClient, nil, nil)
	require.NoError(t, err)
	_, err = bad.render(m)
	require.Error(t, err, "an unknown field fails the render, not silently")
}
