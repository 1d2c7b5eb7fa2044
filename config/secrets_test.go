package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const secretText = "hunter2-do-not-print"

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pd-key", secretText+"\n")
	abs := writeFile(t, dir, "basic-pass", "p@ss\r\n")
	t.Setenv("AG_TEST_TOKEN", secretText)
	t.Setenv("AG_TEST_SLACK_PATH", "T0/B0/xyz")
	file := fmt.Sprintf(`server: { api_token: "${AG_TEST_TOKEN}" }
sources:
  - name: am
    type: alertmanager
    auth:
      bearer_token: plain-literal
      basic: { username: am, password_file: %q }
targets:
  - { name: pd, type: pagerduty, routing_key_file: pd-key }
  - { name: chat, type: slack, url: "https://hooks.slack.com/services/${AG_TEST_SLACK_PATH}" }
`, abs)
	c, err := LoadBytes(writeFile(t, dir, "alertgate.yml", file), []byte(file))
	require.NoError(t, err)
	require.Equal(t, secretText, c.Server.APIToken.Value(), "env")
	require.Equal(t, "plain-literal", c.Sources[0].Auth.BearerToken.Value(), "literal")
	require.Equal(t, "p@ss", c.Sources[0].Auth.Basic.Password.Value(), "absolute file, CRLF trimmed")
	var pd struct {
		RoutingKey     Secret `yaml:"routing_key"`
		RoutingKeyFile string `yaml:"routing_key_file"`
	}
	require.NoError(t, c.Target("pd").DecodeSettings("targets[0]", &pd))
	require.Equal(t, secretText, pd.RoutingKey.Value(), "file relative to the config")
	var chat struct {
		URL Secret `yaml:"url"`
	}
	require.NoError(t, c.Target("chat").DecodeSettings("targets[1]", &chat))
	require.Equal(t, "https://hooks.slack.com/services/T0/B0/xyz", chat.URL.Value(), "embedded env")
}

func TestSecretErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tok", secretText)
	t.Setenv("AG_TEST_SET", secretText)
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unset variable", `server: { api_token: "${AG_TEST_UNSET_VAR}" }`,
			"DIR/alertgate.yml:1: server.api_token: environment variable AG_TEST_UNSET_VAR is not set"},
		{"both value and file", "storage: { driver: postgres, dsn: \"${AG_TEST_SET}\", dsn_file: tok }",
			"DIR/alertgate.yml:1: storage.dsn: set either dsn or dsn_file, not both"},
		{"hmac secret unset", "sources:\n  - name: g\n    type: grafana\n    auth: { hmac: { secret: '${AG_TEST_UNSET_VAR}' } }",
			"DIR/alertgate.yml:4: sources[0].auth.hmac.secret: environment variable AG_TEST_UNSET_VAR is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes(filepath.Join(dir, "alertgate.yml"), []byte(tt.yaml))
			require.Error(t, err)
			require.Contains(t, err.Error(), strings.ReplaceAll(tt.want, "DIR", dir))
			require.NotContains(t, err.Error(), secretText)
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Setenv("AG_TEST_SECRET", secretText)
	file := `server: { api_token: "${AG_TEST_SECRET}" }
storage: { driver: postgres, dsn: "postgres://u:${AG_TEST_SECRET}@db/alertgate" }
sources:
  - name: am
    type: alertmanager
    auth:
      bearer_token: ${AG_TEST_SECRET}
      basic: { username: am, password: "${AG_TEST_SECRET}" }
      hmac: { secret: "${AG_TEST_SECRET}" }
targets:
  - { name: pd, type: pagerduty, routing_key: "${AG_TEST_SECRET}" }
  - { name: hook, type: webhook, url: "https://x.example/${AG_TEST_SECRET}", secret: "${AG_TEST_SECRET}" }
`
	c, err := LoadBytes("alertgate.yml", []byte(file))
	require.NoError(t, err)
	require.Equal(t, secretText, c.Sources[0].Auth.HMAC.Secret.Value())

	out, err := Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "bearer_token: <secret>")

	js, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(js), secretText)

	require.NotContains(t, fmt.Sprintf("%v %+v", c, *c), secretText)
}
