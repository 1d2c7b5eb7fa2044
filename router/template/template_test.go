package template

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

var now = time.Date(2026, 11, 27, 10, 40, 0, 0, time.UTC)

func sample(t *testing.T, step string) *notify.Message {
	t.Helper()
	for _, m := range Samples(now) {
		if m.Step == step {
			return m
		}
	}
	t.Fatalf("no sample %s", step)
	return nil
}

func TestTargetErrors(t *testing.T) {
	tests := []struct {
		name   string
		target config.Target
		want   string
	}{
		{name: "syntax", target: config.Target{Type: "slack", Title: "{{ .Incident.Key "}, want: "title: template: title:1: unclosed action"},
		{name: "unknown function", target: config.Target{Type: "slack", Text: "{{ shout .Summary }}"}, want: `text: template: text:1: function "shout" not defined`},
		{name: "undefined template, found by rendering", target: config.Target{Type: "teams", Text: `{{ template "nope" . }}`},
			want: `rendering a page message: text: template: text:1:12: executing "text" at <{{template "nope" .}}>: template "nope" not defined`},
		{name: "unknown field, found by rendering", target: config.Target{Type: "webhook", Title: "{{ .Incident.Nope }}"},
			want: "can't evaluate field Nope"},
		{name: "html on a chat target", target: config.Target{Type: "slack", HTML: "<p>x</p>"}, want: "html: slack targets have no html part"},
		{name: "html syntax", target: config.Target{Type: "email", HTML: "{{ if }}"}, want: "html: template: html:1: missing value for if"},
		{name: "unknown type", target: config.Target{Type: "pigeon"}, want: `no default templates for type "pigeon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Default().Target(tt.target)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// Every type's defaults render every kind of message; titles are one
// line and say REOPENED/FLAPPING first when the incident flaps.
func TestDefaultsEveryType(t *testing.T) {
	for _, typ := range defaultTypes(t) {
		t.Run(typ, func(t *testing.T) {
			tg := DefaultTarget(typ)
			for _, m := range Samples(now) {
				r, err := tg.Render(m)
				require.NoError(t, err)
				require.NotEmpty(t, r.Title)
				require.NotContains(t, r.Title, "\n")
				require.NotEmpty(t, r.Text)
				require.Equal(t, typ == "email", r.HTML != "")
				if m.Flap > 0 && typ != "statuspage" {
					require.True(t, strings.HasPrefix(r.Title, "REOPENED (flap #3) FLAPPING "), r.Title)
					require.Contains(t, r.Text, "REOPENED (flap #3) FLAPPING ")
				}
			}
		})
	}
}

// A page says what a responder needs without opening anything else.
func TestPageCarriesWhatAResponderNeeds(t *testing.T) {
	set, err := New(nil, "Europe/Berlin")
	require.NoError(t, err)
	tg, err := set.Target(config.Target{Type: "webhook"})
	require.NoError(t, err)
	r, err := tg.Render(sample(t, "oncall#0"))
	require.NoError(t, err)
	require.Equal(t, "[P0] INC-7 checkout: checkout returns 503", r.Title)
	for _, want := range []string{
		"P0 (Critical) incident INC-7 needs oncall.",
		"5xx ratio 12% over 5m (threshold 5%)",            // description
		"Runbook: https://wiki.example.com/checkout-down", // the alert's runbook_url
		"Instance: checkout-7f9c:8080", "Job: checkout",   // instance/job
		"Started: 40 min ago (2026-11-27 11:00 CET)",                // relative and absolute, configured zone
		"Source: http://prometheus:9090/graph",                      // generatorURL
		"Dashboard: https://grafana.example.com/d/checkout",         // Grafana
		"Panel: https://grafana.example.com/d/checkout?viewPanel=4", //
		"Silence: https://grafana.example.com/alerting/silence/new", //
		"Alerts: 2 (2 firing)",                                      // how many fire
		"  1. curl -f http://api-gateway:4000/health",               // first steps
		"  … 1 more step(s)",                                        //
		"Acknowledge: https://alertgate.example.com/ack/",           // links
		"Incident: https://alertgate.example.com/incidents/INC-7",   //
	} {
		require.Contains(t, r.Text, want)
	}
}

// A leadership page of an acknowledged incident says who acknowledged it
// and why leadership is told, instead of "needs eng-manager".
func TestLeadershipPageOfAnAcknowledgedIncident(t *testing.T) {
	r, err := DefaultTarget("slack").Render(sample(t, "eng-manager#0"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.Text,
		"P0 (Critical) incident INC-7 was acknowledged by alice 28 min ago — eng-manager is told because it is still unresolved at 30 min.\n"), r.Text)
	require.NotContains(t, r.Text, "needs eng-manager")
	require.NotContains(t, r.Text, "Acknowledge:")
}

func TestResolutionSummary(t *testing.T) {
	r, err := DefaultTarget("slack").Render(sample(t, "postmortem"))
	require.NoError(t, err)
	require.Equal(t, "Resolution summary: [P0] INC-7 checkout: checkout returns 503", r.Title)
	require.Equal(t, "INC-7 resolved by alice after 40 min.\n"+
		"Response SLA: met (acknowledge by 2026-11-27 10:15 UTC); resolution SLA: met (resolve by 2026-11-27 11:00 UTC).\n"+
		"Alerts: 2\n"+
		"Post-mortem draft: https://alertgate.example.com/incidents/INC-7#h-pm", r.Text)
}

func TestStatusPageTextIsPublic(t *testing.T) {
	for _, m := range Samples(now) {
		r, err := DefaultTarget("statuspage").Render(m)
		require.NoError(t, err)
		require.NotContains(t, r.Text, "alertgate.example.com", "no internal links on the public page")
		require.NotContains(t, r.Text, "alice")
	}
}

// Files of the templates: globs are read after default.tmpl: they add
// definitions and may redefine the defaults.
func TestTemplateFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tmpl"), []byte(
		`{{ define "slack.default.title" }}{{ .Incident.Severity }} {{ .Incident.Title | toUpper }}{{ end }}`+
			`{{ define "my.text" }}see {{ .IncidentURL }}{{ end }}`), 0o644))
	set, err := New([]string{filepath.Join(dir, "*.tmpl")}, "")
	require.NoError(t, err)
	tg, err := set.Target(config.Target{Type: "slack", Text: `{{ template "my.text" . }}`})
	require.NoError(t, err)
	r, err := tg.Render(sample(t, "oncall#0"))
	require.NoError(t, err)
	require.Equal(t, "P0 CHECKOUT RETURNS 503", r.Title)
	require.Equal(t, "see https://alertgate.example.com/incidents/INC-7", r.Text)

	_, err = New([]string{filepath.Join(dir, "*.tpl")}, "")
	require.ErrorContains(t, err, "no file matches")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte(`{{ define "x" }}`), 0o644))
	_, err = New([]string{filepath.Join(dir, "*.tmpl")}, "")
	require.ErrorContains(t, err, "bad.tmpl")
	_, err = New(nil, "Mars/Olympus")
	require.ErrorContains(t, err, `time zone "Mars/Olympus"`)
}

// An override that fails at send time (here: for an incident the samples
// it was compiled against don't cover) falls back to the defaults, so the
// message still goes out, and says why.
func TestRenderFallsBackToTheDefaults(t *testing.T) {
	tg, err := Default().Target(config.Target{Type: "slack",
		Title: `{{ if eq .Incident.Key "INC-9" }}{{ index .Alerts 99 }}{{ end }}{{ .Incident.Title }}`})
	require.NoError(t, err)
	m := sample(t, "oncall#0")
	m.Incident.Key = "INC-9"
	c, r, err := tg.Apply(m)
	require.ErrorContains(t, err, "index out of range")
	require.Equal(t, "[P0] INC-9 checkout: checkout returns 503", r.Title)
	require.Equal(t, r.Title, c.Summary)
	require.Equal(t, r.Text, c.Text)
}

func TestApplyLoggedWithoutTemplatesKeepsTheMessage(t *testing.T) {
	var tg *Target
	m := &notify.Message{Summary: "s", Text: "t", Incident: alert.Incident{Key: "INC-1"}}
	got, r := tg.ApplyLogged(m, nil)
	require.Same(t, m, got)
	require.Equal(t, Rendered{Title: "s", Text: "t"}, r)
}

// A digest's words are the engine's: its title and list of incidents.
func TestDigestKeepsTheEnginesText(t *testing.T) {
	m := sample(t, "digest:weekly")
	for _, typ := range defaultTypes(t) {
		t.Run(typ, func(t *testing.T) {
			r, err := DefaultTarget(typ).Render(m)
			require.NoError(t, err)
			if typ != "statuspage" {
				require.Equal(t, m.Summary, r.Title)
			}
			if typ == "email" { // the e-mail text opens with the title
				require.Equal(t, m.Summary+"\n\n"+strings.TrimSpace(m.Text), r.Text)
				require.Contains(t, r.HTML, "<pre>Weekly digest for eng-manager")
				return
			}
			require.Equal(t, strings.TrimSpace(m.Text), r.Text)
		})
	}
}

// An incident that resolved by itself before its acknowledgement was due
// did not miss the response target; one never acknowledged past it did.
func TestResolutionSummaryOfAnIncidentNobodyAcknowledged(t *testing.T) {
	tests := []struct {
		name     string
		resolved time.Time
		want     string
	}{
		{name: "resolved before the ack was due", resolved: now.Add(-30 * time.Minute),
			want: "Response SLA: not needed (resolved before the acknowledgement was due) (acknowledge by"},
		{name: "resolved after the ack was due", resolved: now,
			want: "Response SLA: missed (acknowledge by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := *sample(t, "postmortem")
			m.Incident.AcknowledgedAt, m.Incident.AcknowledgedBy = time.Time{}, ""
			m.Incident.ResolvedAt = tt.resolved
			r, err := DefaultTarget("slack").Render(&m)
			require.NoError(t, err)
			require.Contains(t, r.Text, tt.want)
		})
	}
}

// A runbook that is only a link (an alert's runbook_url) is named once.
func TestLinkOnlyRunbookNamedOnce(t *testing.T) {
	m := *sample(t, "oncall#0")
	u := "https://wiki.example.com/runbooks/deploytest"
	m.Runbook = &notify.Runbook{Name: u, Title: u, URL: u}
	r, err := DefaultTarget("webhook").Render(&m)
	require.NoError(t, err)
	require.Contains(t, r.Text, "\nRunbook: "+u+"\n")
	require.NotContains(t, r.Text, "<"+u+">")
}

// defaultTypes are the target types whose defaults default.tmpl defines
// (each "<type>.default.title"); the notifier registry's golden test
// renders every registered type.
func defaultTypes(t *testing.T) []string {
	t.Helper()
	var types []string
	for _, tm := range Default().text.Templates() {
		if typ, ok := strings.CutSuffix(tm.Name(), ".default.title"); ok {
			types = append(types, typ)
		}
	}
	sort.Strings(types)
	require.NotEmpty(t, types)
	return types
}

// An alert that fired for days before it reached the gateway reads as
// started days ago, with the incident's opening beside it; the e-mail
// shows both rows too.
func TestStartedIsTheEarliestAlertsStart(t *testing.T) {
	m := *sample(t, "oncall#0")
	m.Alerts = append([]notify.AlertSummary(nil), m.Alerts...)
	m.Alerts[1].StartsAt = m.Incident.OpenedAt.Add(-3 * 24 * time.Hour)
	r, err := DefaultTarget("webhook").Render(&m)
	require.NoError(t, err)
	require.Contains(t, r.Text, "Started: 3d ago (2026-11-24 10:00 UTC)\nOpened: 40 min ago (2026-11-27 10:00 UTC)\n")
	r, err = DefaultTarget("email").Render(&m)
	require.NoError(t, err)
	require.Contains(t, r.HTML, "<tr><td><b>Started</b></td><td>3d ago (2026-11-24 10:00 UTC)</td></tr>\n<tr><td><b>Opened</b></td>")

	// Alerts that started as the incident opened: one line.
	r, err = DefaultTarget("webhook").Render(sample(t, "oncall#0"))
	require.NoError(t, err)
	require.NotContains(t, r.Text, "Opened:")
}
