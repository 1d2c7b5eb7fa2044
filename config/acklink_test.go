package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ackLinkSecret is long enough to be accepted.
const ackLinkSecret = "ack-link-secret-" + secretText + "-xxxxxxxxx"

func TestAckLinkSettings(t *testing.T) {
	require.GreaterOrEqual(t, len(ackLinkSecret), minAckLinkSecret)
	dir := t.TempDir()
	writeFile(t, dir, "ack-key", ackLinkSecret+"\n")
	t.Setenv("AG_TEST_ACK_SECRET", ackLinkSecret)
	tests := []struct {
		name       string
		yaml       string
		wantSecret string
		wantTTL    time.Duration
	}{
		{"defaults", "", "", 24 * time.Hour},
		{"zero ttl means default", "server: { ack_link_ttl: 0s }", "", 24 * time.Hour},
		{"ttl in days", "server: { ack_link_ttl: 2d }", "", 48 * time.Hour},
		{"secret from env", `server: { ack_link_secret: "${AG_TEST_ACK_SECRET}" }`, ackLinkSecret, 24 * time.Hour},
		{"secret from file", "server: { ack_link_secret_file: ack-key }", ackLinkSecret, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadBytes(filepath.Join(dir, "alertgate.yml"), []byte(tt.yaml))
			require.NoError(t, err)
			require.Equal(t, tt.wantSecret, c.Server.AckLinkSecret.Value())
			require.Equal(t, tt.wantTTL, c.Server.AckLinkTTL.D())
		})
	}
}

func TestAckLinkSettingErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ack-key", ackLinkSecret)
	t.Setenv("AG_TEST_ACK_SECRET", ackLinkSecret)
	t.Setenv("AG_TEST_SHORT_SECRET", secretText)
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"short secret", "server:\n  ack_link_secret: ${AG_TEST_SHORT_SECRET}",
			"DIR/alertgate.yml:2: server: ack_link_secret must be at least 32 characters"},
		{"both value and file", `server: { ack_link_secret: "${AG_TEST_ACK_SECRET}", ack_link_secret_file: ack-key }`,
			"DIR/alertgate.yml:1: server.ack_link_secret: set either ack_link_secret or ack_link_secret_file, not both"},
		{"missing file", "server: { ack_link_secret_file: missing }",
			"DIR/alertgate.yml:1: server.ack_link_secret_file: open DIR/missing: no such file or directory"},
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

// A file can't spell a negative duration; a hand-built config can.
func TestValidateAckLinkTTL(t *testing.T) {
	c := Default()
	c.Server.AckLinkTTL = Duration(-time.Hour)
	require.EqualError(t, c.Validate(), "server: ack_link_ttl must be positive")
}

func TestMarshalKeepsAckLinkSecretFileLoadable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ack-key", ackLinkSecret+"\n")
	name := writeFile(t, dir, "alertgate.yml", "server: { ack_link_secret_file: ack-key, ack_link_ttl: 1h }")
	first, err := Load(name)
	require.NoError(t, err)
	out, err := Marshal(first)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "ack_link_secret_file: ack-key")
	require.Equal(t, ackLinkSecret, first.Server.AckLinkSecret.Value(), "Marshal leaves its argument alone")

	second, err := LoadBytes(name, out)
	require.NoError(t, err)
	require.Equal(t, first, second)
}
