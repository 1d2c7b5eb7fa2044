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
	require.Equal(t, secretText, first.Sources[0].Auth.Basic.Password.Value(), "Marshal leaves its argument alone")

	second, err := LoadBytes(name, out)
	require.NoError(t, err)
	again, err := Marshal(second)
	require.NoError(t, err)
	require.Equal(t, string(out), string(again))
	require.Equal(t, first.Sources, second.Sources)
}

// fileSettings stand for a target type's own keys (router/notifier/<type>
// has the real ones).
type fileSettings struct {
	URL        Secret `yaml:"url,omitempty"`
	URLFile    string `yaml:"url_file,omitempty"`
	Secret     Secret `yaml:"secret,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
	Inner      struct {
		Password     Secret `yaml:"password,omitempty"`
		PasswordFile string `yaml:"password_file,omitempty"`
	} `yaml:"inner,omitempty"`
}

func TestMarshalPrintsSettingsWithFileSecretsAsFiles(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"url": "https://hooks.example/" + secretText, "key": secretText} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600))
	}
	t.Setenv("AG_TEST_INLINE", "inline-"+secretText)
	const file = `targets:
  - { name: hook, type: webhook, url_file: url, secret: "${AG_TEST_INLINE}", inner: { password_file: key } }
`
	name := filepath.Join(dir, "alertgate.yml")
	c, err := LoadBytes(name, []byte(file))
	require.NoError(t, err)
	var s fileSettings
	require.NoError(t, c.Target("hook").DecodeSettings("targets[0]", &s))
	require.Equal(t, "https://hooks.example/"+secretText, s.URL.Value())
	require.Equal(t, "inline-"+secretText, s.Secret.Value())
	require.Equal(t, secretText, s.Inner.Password.Value(), "nested secrets resolve too")
	c.Target("hook").Settings = &s

	out, err := Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "url_file: url")
	require.Contains(t, string(out), "password_file: key")
	require.Contains(t, string(out), "secret: <secret>")
	require.Equal(t, secretText, s.Inner.Password.Value(), "Marshal leaves its argument alone")
	require.Equal(t, "https://hooks.example/"+secretText, s.URL.Value())

	second, err := LoadBytes(name, out)
	require.NoError(t, err)
	var again fileSettings
	require.NoError(t, second.Target("hook").DecodeSettings("targets[0]", &again))
	require.Equal(t, s.URL, again.URL, "a file secret loads again as it was")
	require.Equal(t, s.Inner, again.Inner)
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
	secret.Targets = append(secret.Targets, Target{Name: "pd", Type: "pagerduty", Settings: &fileSettings{Secret: "key-one"}})
	other := Default()
	other.Targets = append(other.Targets, Target{Name: "pd", Type: "pagerduty", Settings: &fileSettings{Secret: "key-two"}})
	require.NotEqual(t, want, fp(secret), "a target's settings enter the fingerprint")
	require.Equal(t, fp(secret), fp(other), "secret values do not enter the fingerprint")
}
