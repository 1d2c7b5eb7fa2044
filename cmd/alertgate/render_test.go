package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemplateRender(t *testing.T) {
	dir := t.TempDir()
	payload := filepath.Join(dir, "a.json")
	require.NoError(t, os.WriteFile(payload, []byte(`{"version":"4","status":"firing","alerts":[{"status":"firing",
"labels":{"alertname":"PaymentsDown","service":"payments","severity":"critical","instance":"pay-1:8080","job":"payments"},
"annotations":{"summary":"payments API returns 503","runbook_url":"https://wiki.example.com/payments"},
"startsAt":"2026-11-27T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph"}]}`), 0o600))
	cfg := filepath.Join(dir, "c.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(`escalation: { digests: { time_zone: Europe/Berlin } }
targets:
  - { name: log, type: log }
  - { name: chat, type: slack, url: "https://hooks.slack.com/services/T/B/X", title: "{{ .Incident.Severity }} {{ .Incident.Title | toUpper }}" }
`), 0o600))

	code, out, errOut := runCLI("template", "render", "--config", cfg, "--target", "chat", payload)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"Target chat (slack); the incident: P0 payments API returns 503, 1 alert(s)",
		"── page oncall#0 (page) at 2026-11-27T10:00:00Z",
		"Title: P0 PAYMENTS API RETURNS 503", // the target's own title
		"P0 (Critical) incident INC-1 needs oncall.",
		"Started: 0s ago (2026-11-27 11:00 CET)", // the configured time zone
		"Runbook: https://wiki.example.com/payments",
		"Instance: pay-1:8080",
		"── info sla:response (sla)",
		"── acknowledge ack (ack)",
		"was acknowledged by alice 20 min ago — eng-manager is told because it is still unresolved at 30 min.",
		"── info postmortem (postmortem)",
		"Response SLA: met",
	} {
		require.Contains(t, out, want)
	}

	code, _, errOut = runCLI("template", "render", "--target", "nope", payload)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no target named "nope"`)

	code, _, errOut = runCLI("template", "frobnicate")
	require.Equal(t, 2, code)
	require.True(t, strings.HasPrefix(errOut, "usage: alertgate template render"))
}
