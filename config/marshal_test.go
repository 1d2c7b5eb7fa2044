package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
