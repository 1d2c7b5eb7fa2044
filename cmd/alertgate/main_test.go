package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	require.NoError(t, os.WriteFile(good, []byte("server: { listen: \"127.0.0.1:9090\" }\n"), 0o600))
	bad := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("server:\n  listn: x\nrules:\n  - { name: r, when: 'title ~~ 1', severity: P9 }\n"), 0o600))

	code, out, _ := runCLI("check-config", good)
	require.Equal(t, 0, code)
	require.Contains(t, out, "good.yml: OK")

	code, _, errOut := runCLI("check-config", good, bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `bad.yml:2: unknown key "listn" in server`)
	require.Contains(t, errOut, "bad.yml:4: rules[0] (r): unknown severity \"P9\"")
	require.Contains(t, errOut, "bad.yml:4: rules[0] (r): when: ", "the expression is reported with the other errors")
	require.NotContains(t, errOut, " | ", "one line per error")
}

// A listen address other hosts reach, with the API or a source open,
// fails check-config and serve (from the file, --listen or
// $ALERTGATE_LISTEN) with what to set; allow_unauthenticated passes.
func TestExposedListenIsRefused(t *testing.T) {
	dir := t.TempDir()
	exposed := filepath.Join(dir, "exposed.yml")
	require.NoError(t, os.WriteFile(exposed, []byte("server: { listen: \":9090\", api_token: t }\nsources: [{ name: am, type: alertmanager }]\n"), 0o600))
	allowed := filepath.Join(dir, "allowed.yml")
	require.NoError(t, os.WriteFile(allowed, []byte("server: { listen: \":9090\", allow_unauthenticated: true }\n"), 0o600))
	const want = `server: listen ":9090" is reachable from other hosts while source am (set sources[0].auth: bearer_token, basic or hmac) ` +
		`take requests without credentials: set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`

	code, _, errOut := runCLI("check-config", exposed)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "exposed.yml:1: "+want)
	code, _, errOut = runCLI("serve", "--config", exposed)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, want)
	code, out, errOut := runCLI("check-config", allowed)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "allowed.yml: OK")

	code, _, errOut = runCLI("serve", "--listen", "0.0.0.0:0")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `--listen 0.0.0.0:0 is invalid:`)
	require.Contains(t, errOut, `server: listen "0.0.0.0:0" is reachable from other hosts while the write API (set server.api_token); source alertmanager`)
	t.Setenv("ALERTGATE_LISTEN", "[::]:0")
	code, _, errOut = runCLI("serve")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `server: listen "[::]:0" is reachable from other hosts`)
}

// check-config shows what the file amounts to after combining with the
// defaults: the README's sources snippet alone drops grafana and probes.
func TestCheckConfigPrintsTheEffectiveConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alertgate.yml")
	require.NoError(t, os.WriteFile(path, []byte(`sources:
  - { name: alertmanager, type: alertmanager, auth: { bearer_token: s3cret } }
targets:
  - { name: pd, type: pagerduty, routing_key: k }
roles:
  oncall: { targets: [pd] }
rules:
  - { name: search-p3, match: ['service="search"'], severity: P3 }
`), 0o600))
	code, out, errOut := runCLI("check-config", path)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"sources   alertmanager (alertmanager)\n",
		"roles     oncall → pd; team-lead → log; eng-manager → log; cto → log\n",
		"targets   pd (pagerduty), log (log)\n",
		"runbooks  database, service-outage, performance\n",
		"rules     38: 1 of the file, then 37 default rules\n",
	} {
		require.Contains(t, out, want)
	}
}

func TestCheckConfigDuplicateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.yml")
	require.NoError(t, os.WriteFile(path, []byte("roles:\n  oncall: { targets: [log] }\nroles:\n  cto: { targets: [log] }\n"), 0o600))
	code, _, errOut := runCLI("check-config", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `dup.yml:3: duplicate key "roles" at top level (first at line 1)`)
	require.NotContains(t, errOut, "not defined")
}

// What fails only when the gateway builds its targets — a template that
// does not compile or render, an SMTP address that does not parse — fails
// the check too.
func TestCheckConfigBuildsTargets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.yml")
	require.NoError(t, os.WriteFile(path, []byte(`targets:
  - { name: log, type: log }
  - { name: chat, type: slack, url: "https://hooks.slack.com/services/T/B/X", title: "{{ .Incident.Nope }}" }
  - { name: mail, type: email, smtp: { host: smtp.example.com, port: 587, from: "not an address", to: [ops@example.com] } }
`), 0o600))
	code, _, errOut := runCLI("check-config", path)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, `targets.yml:3: targets[1] (chat): rendering a page message: title:`)
	require.Contains(t, errOut, "can't evaluate field Nope")
	require.Contains(t, errOut, `targets.yml:4: targets[2] (mail): smtp.from "not an address" is not an address`)
}

func TestConfigDefaultLoadsBack(t *testing.T) {
	code, out, _ := runCLI("config", "default")
	require.Equal(t, 0, code)
	path := filepath.Join(t.TempDir(), "d.yml")
	require.NoError(t, os.WriteFile(path, []byte(out), 0o600))
	code, _, errOut := runCLI("check-config", path)
	require.Equal(t, 0, code, errOut)
}

func TestExplain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":"4","status":"firing","alerts":[{"status":"firing",
"labels":{"alertname":"PaymentsDown","service":"payments","severity":"critical"},"annotations":{"summary":"payments API returns 503"},
"startsAt":"2026-11-27T10:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}`), 0o600))
	code, out, errOut := runCLI("explain", path)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{`source "alertmanager"`, "Rules tried:", "Decision: severity P0", "Escalation plan", "team-lead", "+15m", "#incidents"} {
		require.Contains(t, out, want)
	}

	require.Contains(t, out, "nothing is sent: no status page target", "the defaults name no status page target")
	require.Contains(t, out, "  Runbook: service-outage\n")
	require.NotContains(t, out, "open a public incident")

	cfgPath := filepath.Join(t.TempDir(), "sp.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`targets:
  - { name: sp, type: webhook, url: "https://status.example.com/hook" }
communication:
  status_page: { url: "https://status.example.com", severities: [P0], targets: [sp] }
`), 0o600))
	code, out, errOut = runCLI("explain", "--config", cfgPath, path)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `status page\s+open a public incident \(https://status.example.com\)\s+sp`, out)

	code, _, errOut = runCLI("explain", "--source", "probes", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `source "probes"`)
}

func TestTestRules(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass.yml")
	require.NoError(t, os.WriteFile(pass, []byte(`tests:
  - name: payments down is P0
    alert: { source: alertmanager, source_type: alertmanager, labels: { alertname: PaymentsDown, service: payments, severity: critical } }
    expect: { severity: P0 }
`), 0o600))
	fail := filepath.Join(dir, "fail.yml")
	require.NoError(t, os.WriteFile(fail, []byte(`tests:
  - name: wrong on purpose
    alert: { source: alertmanager, source_type: alertmanager, labels: { alertname: Typo, severity: info } }
    expect: { severity: P0 }
`), 0o600))
	code, out, errOut := runCLI("test-rules", pass)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "PASS  payments down is P0")
	require.Contains(t, out, "1 passed, 0 failed")

	code, out, _ = runCLI("test-rules", pass, fail)
	require.Equal(t, 1, code)
	require.Contains(t, out, "FAIL  wrong on purpose")
	require.Contains(t, out, "severity: want P0")
	require.True(t, strings.HasSuffix(strings.TrimSpace(out), "1 passed, 1 failed"))
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runCLI("frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unknown command")
}

func TestHelpOnEverySubcommand(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"serve", []string{"serve", "--help"}, "usage: alertgate serve"},
		{"check-config", []string{"check-config", "--help"}, "usage: alertgate check-config"},
		{"check-config -h after a file", []string{"check-config", "a.yml", "-h"}, "usage: alertgate check-config"},
		{"explain", []string{"explain", "--help"}, "usage: alertgate explain"},
		{"test-rules", []string{"test-rules", "-h"}, "usage: alertgate test-rules"},
		{"config", []string{"config", "--help"}, "usage: alertgate config default"},
		{"config default", []string{"config", "default", "--help"}, "usage: alertgate config default"},
		{"template", []string{"template", "--help"}, "usage: alertgate template render"},
		{"template render", []string{"template", "render", "--help"}, "usage: alertgate template render"},
		{"top level", []string{"--help"}, "Usage:"},
		{"help command", []string{"help", "check-config"}, "usage: alertgate check-config"},
		{"help alone", []string{"help"}, "Usage:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(tc.args...)
			require.Equal(t, 0, code, errOut)
			require.Contains(t, out, tc.want)
			require.Empty(t, errOut)
		})
	}
}

func TestCheckConfigFlagsAreNotFiles(t *testing.T) {
	code, _, errOut := runCLI("check-config", "--strict", "alertgate.yml")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "flag provided but not defined: -strict")
	require.NotContains(t, errOut, "open")

	code, _, errOut = runCLI("check-config")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "name at least one file")
}
