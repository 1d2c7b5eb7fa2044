package notifier_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/email"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notifier/webhook"
)

const secretText = "SECRETVALUE0123456789"

// load loads a config as serve and check-config do: with the targets'
// own keys decoded and checked by their types.
func load(t *testing.T, name, file string) (*config.Config, error) {
	t.Helper()
	return config.LoadBytes(name, []byte(file), notifier.CheckConfig)
}

func TestCheckDecodesEachTypesSettings(t *testing.T) {
	const file = `targets:
  - { name: hook, type: webhook, url: "https://x.example/hook", headers: { X-Key: k }, template: "{{ .Kind }}" }
  - { name: chat, type: slack, url: "https://hooks.slack.com/services/T0/B0/x", timeout: 5s }
  - { name: pd, type: pagerduty, routing_key: rk }
  - name: mail
    type: email
    smtp: { host: smtp.example.com, port: 587, from: a@example.com, to: [b@example.com] }
`
	c, err := load(t, "alertgate.yml", file)
	require.NoError(t, err)
	require.Equal(t, &webhook.Settings{URL: "https://x.example/hook", Headers: map[string]string{"X-Key": "k"}, Template: "{{ .Kind }}"},
		c.Target("hook").Settings)
	require.Equal(t, &slack.Settings{URL: "https://hooks.slack.com/services/T0/B0/x"}, c.Target("chat").Settings)
	require.Equal(t, "5s", c.Target("chat").Timeout.String(), "the keys every target has stay in config.Target")
	require.Equal(t, &pagerduty.Settings{RoutingKey: "rk"}, c.Target("pd").Settings, "the events URL default is pagerduty's, applied by New")
	require.Equal(t, email.SMTP{Host: "smtp.example.com", Port: 587, From: "a@example.com", To: []string{"b@example.com"}},
		c.Target("mail").Settings.(*email.Settings).SMTP)

	_, err = notifier.Build(c, notifier.Deps{Client: testClient(t)})
	require.NoError(t, err, "what passes the check builds")
}

func TestLoadExampleFileWithItsTargets(t *testing.T) {
	for _, v := range []string{"ALERTGATE_API_TOKEN", "ALERTMANAGER_TOKEN", "GRAFANA_WEBHOOK_SECRET", "PROBES_PASSWORD",
		"PAGERDUTY_ROUTING_KEY", "MAIL_RELAY_SIGNING_SECRET", "CI_TOKEN"} {
		t.Setenv(v, "value-of-"+v)
	}
	t.Setenv("SLACK_LEADS_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x")
	c, err := config.Load(filepath.Join("..", "..", "config", "example.yml"), notifier.CheckConfig)
	require.NoError(t, err)
	pd := c.Target("pagerduty-main").Settings.(*pagerduty.Settings)
	require.Equal(t, "value-of-PAGERDUTY_ROUTING_KEY", pd.RoutingKey.Value())
	require.Empty(t, pd.URL, "pagerduty's default events URL is applied by its package")
	_, err = notifier.Build(c, notifier.Deps{Client: testClient(t)})
	require.NoError(t, err)
}

// TestLoadReportsEveryError is config's test of the same name with the
// targets' own problems, which their types report, in the same list.
func TestLoadReportsEveryError(t *testing.T) {
	const file = `server:
  listn: ":8080"
targets:
  - { name: pd, type: pagerduty }
  - { name: hook, type: webhook, fallback: nowhere }
  - { name: chat, type: slack, url: "hooks.slack.com/x", channel: "#ops" }
  - { name: x, type: pigeon }
  - { name: mail, type: email, smtp: { host: h, port: 25, from: a@b.c, to: [d@e.f], tls: on } }
  - { name: echo, type: log, http_config: { proxy_url: "http://proxy:3128" } }
  - { name: ops, type: opsgenie, api_key: k, region: mars }
  - { name: status, type: statuspage }
`
	_, err := load(t, "alertgate.yml", file)
	require.Error(t, err)
	require.Equal(t, []string{
		`alertgate.yml:2: unknown key "listn" in server`,
		`alertgate.yml:5: targets[1] (hook): fallback target "nowhere" is not defined in targets`,
		`alertgate.yml:4: targets[0] (pd): routing_key (or routing_key_file) is required`,
		`alertgate.yml:5: targets[1] (hook): url (or url_file) is required for type webhook`,
		`alertgate.yml:6: unknown key "channel" in targets[2]`,
		`alertgate.yml:6: targets[2] (chat): url must be an absolute http(s) URL`,
		`alertgate.yml:7: targets[3] (x): type "pigeon" is not one of log, webhook, slack, pagerduty, opsgenie, teams, email, statuspage`,
		`alertgate.yml:8: unknown key "tls" in targets[4].smtp`,
		`alertgate.yml:9: targets[5] (echo): http_config is only for targets that send over HTTP, not type log`,
		`alertgate.yml:10: targets[6] (ops): region "mars" is not us or eu`,
		`alertgate.yml:11: targets[7] (status): api_key (or api_key_file) is required`,
		`alertgate.yml:11: targets[7] (status): page_id is required`,
	}, strings.Split(err.Error(), "\n"))
}

// A target's broken template is reported by the check at its key's line,
// once, like every other problem (building the target would fail at start).
func TestCheckReportsBrokenTemplatesAtTheirLine(t *testing.T) {
	const file = `targets:
  - name: hook
    type: webhook
    url: https://hooks.example.com/x
    title: "{{ .Incident.Key "
  - name: chat
    type: slack
    url: https://hooks.slack.com/x
    text: "{{ template \"nope\" . }}"
`
	_, err := load(t, "alertgate.yml", file)
	require.Error(t, err)
	msgs := strings.Split(err.Error(), "\n")
	require.Len(t, msgs, 2, err.Error())
	require.True(t, strings.HasPrefix(msgs[0], `alertgate.yml:5: targets[0] (hook): title: template: title:1: unclosed action`), msgs[0])
	require.True(t, strings.HasPrefix(msgs[1], `alertgate.yml:6: targets[1] (chat): rendering a `), msgs[1])
	require.Contains(t, msgs[1], `template "nope" not defined`)
}

func TestCheckEmailSMTP(t *testing.T) {
	tests := []struct{ name, smtp, want string }{
		{"missing", "", `targets[0] (mail): smtp (host, port, from, to) is required for type email`},
		{"no port", "smtp: { host: h, from: a@b.c, to: [d@e.f] }", `targets[0] (mail): smtp.host and smtp.port (1-65535) are required`},
		{"no recipients", "smtp: { host: h, port: 25, from: a@b.c }", `targets[0] (mail): smtp.from and smtp.to are required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, "alertgate.yml", "targets:\n  - { name: mail, type: email, "+tt.smtp+" }\n")
			require.ErrorContains(t, err, "alertgate.yml:2: "+tt.want)
		})
	}
}

func TestTargetSecretErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AG_TEST_SET", secretText)
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"missing file", "targets:\n  - { name: x, type: webhook, url_file: missing.txt }",
			"DIR/alertgate.yml:2: targets[0].url_file: open DIR/missing.txt: no such file or directory"},
		{"endless file", "targets:\n  - { name: x, type: webhook, url_file: /dev/zero }",
			"DIR/alertgate.yml:2: targets[0].url_file: /dev/zero: larger than 64 KiB"},
		{"both value and file", "targets:\n  - { name: x, type: pagerduty, routing_key: k, routing_key_file: f }",
			"DIR/alertgate.yml:2: targets[0].routing_key: set either routing_key or routing_key_file, not both"},
		{"nested secret unset", "targets:\n  - name: m\n    type: email\n    smtp: { host: h, port: 25, from: a@b.c, to: [d@e.f], password: '${AG_TEST_UNSET_VAR}' }",
			"DIR/alertgate.yml:4: targets[0].smtp.password: environment variable AG_TEST_UNSET_VAR is not set"},
		{"http_config invalid", "targets:\n  - name: x\n    type: webhook\n    url: https://x.example/\n    http_config:\n      basic_auth: { username: u, password: '${AG_TEST_SET}' }\n      authorization: { credentials: '${AG_TEST_SET}' }",
			"DIR/alertgate.yml:5: http_config: at most one of basic_auth, oauth2 & authorization must be configured"},
		{"secret url invalid", "targets:\n  - { name: x, type: webhook, url: '${AG_TEST_SET}' }",
			"DIR/alertgate.yml:2: targets[0] (x): url must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, filepath.Join(dir, "alertgate.yml"), tt.yaml)
			require.Error(t, err)
			require.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "DIR", dir))
			require.NotContains(t, err.Error(), secretText)
		})
	}
}

func TestTargetSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(secretText+"\n"), 0o600))
	t.Setenv("AG_TEST_SECRET", secretText)
	file := `targets:
  - { name: pd, type: pagerduty, routing_key: "${AG_TEST_SECRET}", webhook_secret_file: key }
  - { name: hook, type: webhook, url: "https://x.example/${AG_TEST_SECRET}", secret: "${AG_TEST_SECRET}", headers: { X-Key: "${AG_TEST_SECRET}" } }
  - { name: chat, type: slack, url: "hooks.slack.com/services/${AG_TEST_SECRET}" }
  - name: mail
    type: email
    smtp: { host: h, port: 25, from: a@b.c, to: [d@e.f], password: "${AG_TEST_SECRET}" }
  - name: tls
    type: webhook
    url: https://x.example/
    http_config:
      basic_auth: { username: u, password: "` + secretText + `" }
  - name: oauth
    type: webhook
    url: https://x.example/
    http_config:
      oauth2: { client_id: c, client_secret: "` + secretText + `", token_url: "https://auth.example/token" }
`
	_, err := load(t, filepath.Join(dir, "alertgate.yml"), file)
	require.ErrorContains(t, err, "url must be an absolute http(s) URL", "the slack url is invalid")
	require.NotContains(t, err.Error(), secretText)

	file = strings.Replace(file, "url: \"hooks.slack.com", "url: \"https://hooks.slack.com", 1)
	c, err := load(t, filepath.Join(dir, "alertgate.yml"), file)
	require.NoError(t, err)
	require.Equal(t, secretText, c.Target("pd").Settings.(*pagerduty.Settings).RoutingKey.Value())
	require.Equal(t, secretText, c.Target("pd").Settings.(*pagerduty.Settings).WebhookSecret.Value(), "file relative to the config")

	out, err := config.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "webhook_secret_file: key")
	require.Contains(t, string(out), "routing_key: <secret>")

	js, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(js), secretText)
	require.NotContains(t, fmt.Sprintf("%v %+v", c, *c), secretText)
	for _, tg := range c.Targets {
		require.NotContains(t, fmt.Sprintf("%v %+v", tg, tg.Settings), secretText)
	}
}

func TestCheckKeepsSettingsMadeInCode(t *testing.T) {
	c := config.Default()
	c.Targets = append(c.Targets, config.Target{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: "https://hooks.slack.com/services/x"}})
	require.NoError(t, notifier.CheckConfig(c))
	require.Equal(t, &slack.Settings{URL: "https://hooks.slack.com/services/x"}, c.Target("chat").Settings)

	c.Targets = append(c.Targets, config.Target{Name: "bad", Type: "slack", Settings: &slack.Settings{URL: config.Secret("hooks.slack.com/services/" + secretText)}})
	err := notifier.CheckConfig(c)
	require.ErrorContains(t, err, "url must be an absolute http(s) URL")
	require.NotContains(t, err.Error(), secretText)
}

func testClient(t *testing.T) *http.Client {
	t.Helper()
	c, _ := notifiertest.MockClient()
	return c
}

func TestCheckFillsTheTypesRateLimit(t *testing.T) {
	c, err := load(t, "alertgate.yml", `targets:
  - { name: chat, type: slack, url: "https://hooks.slack.com/services/x" }
  - { name: paced, type: slack, url: "https://hooks.slack.com/services/y", rate_limit: { per_second: 5, burst: 5 } }
  - { name: status, type: statuspage, api_key: k, page_id: p }
  - { name: hook, type: webhook, url: "https://x.example/" }
`)
	require.NoError(t, err)
	require.Equal(t, &config.RateLimit{PerSecond: 1, Burst: 2}, c.Target("chat").RateLimit, "slack's default")
	require.Equal(t, &config.RateLimit{PerSecond: 5, Burst: 5}, c.Target("paced").RateLimit, "the target's own wins")
	require.Equal(t, &config.RateLimit{PerSecond: 1, Burst: 1}, c.Target("status").RateLimit)
	require.Nil(t, c.Target("hook").RateLimit, "webhooks are unlimited")
	require.NotSame(t, c.Target("chat").RateLimit, slack.Descriptor.Defaults.RateLimit, "the default is copied, not shared")
}
