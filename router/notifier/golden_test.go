package notifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/email"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/opsgenie"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notifier/statuspage"
	"github.com/alertgate/alertgate/router/notifier/teams"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

var update = flag.Bool("update", false, "rewrite the golden files of the default templates")

// goldenTargets are one target of every type, as notifier.New builds them
// with the default templates.
var goldenTargets = []config.Target{
	{Name: "stdout", Type: "log"},
	{Name: "hook", Type: "webhook", Settings: &webhook.Settings{URL: "https://hooks.example.com/alertgate"}},
	{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: slackURL}},
	{Name: "cards", Type: "teams", Settings: &teams.Settings{URL: "https://prod.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=SIG"}},
	{Name: "pager", Type: "pagerduty", Settings: &pagerduty.Settings{RoutingKey: routingKey}},
	{Name: "genie", Type: "opsgenie", Settings: &opsgenie.Settings{APIKey: "GENIEKEY0123"}},
	{Name: "status", Type: "statuspage", Settings: &statuspage.Settings{APIKey: "SPKEY0123", PageID: "page1", ComponentIDs: []string{"comp1"}}},
	{Name: "mail", Type: "email", Settings: &email.Settings{SMTP: email.SMTP{Host: "smtp.example.com", Port: 587,
		From: "Alertgate <alerts@example.com>", To: []string{"oncall@example.com"}}}},
}

// TestDefaultTemplatesGolden renders every sample message (template.Samples:
// pages, the leadership page of an acknowledged incident, announcements,
// SLA breach, update, reminder, ack, resolve, resolution summary, ticket,
// a flapping reopen) through every target type with the default templates
// and compares what goes on the wire with testdata/golden/<type>.golden.
// Refresh with go test ./router/notifier -run Golden -update.
func TestDefaultTemplatesGolden(t *testing.T) {
	for _, tc := range goldenTargets {
		t.Run(tc.Type, func(t *testing.T) {
			var out bytes.Buffer
			for i, m := range template.Samples(notifiertest.Now) {
				fmt.Fprintf(&out, "=== %d %s %s %s\n", i, m.Kind, m.StepType, m.Step)
				out.WriteString(wire(t, tc, m))
				out.WriteString("\n")
			}
			path := filepath.Join("testdata", "golden", tc.Type+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), out.String())
		})
	}
}

// wire is what target tc sends for m: request lines and bodies (JSON
// indented), the mail, or the log line.
func wire(t *testing.T, tc config.Target, m *notify.Message) string {
	t.Helper()
	switch tc.Type {
	case "email":
		applied, parts, err := template.DefaultTarget("email").Apply(m)
		require.NoError(t, err)
		smtp := tc.Settings.(*email.Settings).SMTP
		raw, err := email.Compose(applied, parts, smtp.From, smtp.To, notifiertest.Now)
		require.NoError(t, err)
		return strings.ReplaceAll(string(raw), "\r\n", "\n")
	case "log":
		log, logs := notifiertest.ObservedLogger()
		n, err := notifier.New(tc, notifier.Deps{Logger: log})
		require.NoError(t, err)
		require.NoError(t, n.Notify(context.Background(), m))
		return notifiertest.LogText(t, logs)
	}
	var got strings.Builder
	client, mt := notifiertest.MockClient()
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(req.Body)
		var v any
		pretty := body.Bytes()
		if json.Unmarshal(body.Bytes(), &v) == nil {
			var ind bytes.Buffer
			enc := json.NewEncoder(&ind)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(v))
			pretty = ind.Bytes()
		}
		fmt.Fprintf(&got, "%s %s\n%s", req.Method, req.URL.Path, pretty)
		if tc.Type == "slack" {
			return httpmock.NewStringResponse(200, "ok"), nil
		}
		return httpmock.NewStringResponse(202, `{"id":"sp-1","requestId":"r-1","status":"success"}`), nil
	})
	log, logs := notifiertest.ObservedLogger()
	n, err := notifier.New(tc, notifier.Deps{Client: client, Now: notifiertest.Clock, Version: "test", Logger: log})
	require.NoError(t, err)
	mm := *m
	if tc.Type == "statuspage" && m.Kind != notify.KindPage {
		mm.Ref = "sp-1" // the public incident the first page opened
	}
	require.NoError(t, n.Notify(context.Background(), &mm))
	if got.Len() == 0 {
		return "(nothing sent)\n"
	}
	require.Zero(t, logs.Len(), "a delivery is logged once, by the engine, not by its notifier: %s", notifiertest.LogText(t, logs))
	return got.String()
}

// Every registered type has default templates (a type's own, from its
// descriptor, or default.tmpl's), and the golden files cover every type.
func TestEveryTypeHasDefaultTemplatesAndAGoldenFile(t *testing.T) {
	set, err := notifier.Default.TemplateSet(&config.Config{})
	require.NoError(t, err)
	golden := map[string]bool{}
	for _, tc := range goldenTargets {
		golden[tc.Type] = true
	}
	require.NotEmpty(t, notifier.Default.Names())
	for _, typ := range notifier.Default.Names() {
		_, err := set.Target(config.Target{Type: typ})
		require.NoError(t, err, typ)
		require.True(t, golden[typ], "no golden file for type %q", typ)
	}
}
