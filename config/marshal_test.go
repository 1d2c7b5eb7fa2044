package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMarshalRoundTrip(t *testing.T) {
	out, err := Marshal(Default())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "# alertgate configuration."))
	c, err := LoadBytes("default.yml", out)
	require.NoError(t, err)
	require.Equal(t, Default(), c)
}

func TestMarshalKeepsFileSecretsLoadable(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"url": "https://hooks.example/" + secretText, "key": secretText, "pw": secretText} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600))
	}
	const file = `sources:
  - { name: am, type: alertmanager, auth: { basic: { username: u, password_file: pw }, bearer_token_file: pw } }
targets:
  - { name: hook, type: webhook, url_file: url, secret_file: key }
  - { name: pd, type: pagerduty, routing_key_file: key }
`
	name := filepath.Join(dir, "alertgate.yml")
	first, err := LoadBytes(name, []byte(file))
	require.NoError(t, err)
	out, err := Marshal(first)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "url_file: url")
	require.Equal(t, secretText, first.Target("pd").RoutingKey.Value(), "Marshal leaves its argument alone")
	require.Equal(t, secretText, first.Sources[0].Auth.Basic.Password.Value())

	second, err := LoadBytes(name, out)
	require.NoError(t, err)
	require.Equal(t, first, second)
}

func TestFingerprint(t *testing.T) {
	base := Default()
	fp := func(c *Config) string {
		t.Helper()
		s, err := Fingerprint(c)
		require.NoError(t, err)
		require.Len(t, s, 12)
		return s
	}
	want := fp(base)

	perProcess := Default()
	perProcess.Server.Listen = "127.0.0.1:9000"
	perProcess.Server.ExternalURL = "https://b.example.com"
	perProcess.Storage = Storage{Driver: "postgres", DSN: "postgres://db/x"}
	perProcess.Log.Level = "debug"
	require.Equal(t, want, fp(perProcess), "listen address, storage and logging may differ between replicas")

	routing := Default()
	routing.Severities.P1.Response = Duration(time.Hour)
	require.NotEqual(t, want, fp(routing), "a different severity table is a different config")

	secret := Default()
	secret.Targets = append(secret.Targets, Target{Name: "pd", Type: "pagerduty", RoutingKey: "key-one"})
	other := Default()
	other.Targets = append(other.Targets, Target{Name: "pd", Type: "pagerduty", RoutingKey: "key-two"})
	require.Equal(t, fp(secret), fp(other), "secret values do not enter the fingerprint")
}
