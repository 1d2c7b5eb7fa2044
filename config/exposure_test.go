package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// allAuthenticated gives the API and every default source credentials.
func allAuthenticated(c *Config) {
	c.Server.APIToken = "api-token"
	c.Sources[0].Auth.BearerToken = "am-token"
	c.Sources[1].Auth.HMAC = &HMACAuth{Secret: "grafana-secret"}
	c.Sources[2].Auth.Basic = &BasicAuth{Username: "probes", Password: "pw"}
}

func TestExposure(t *testing.T) {
	const everything = `server: listen ":8080" is reachable from other hosts while the write API (set server.api_token); ` +
		`source alertmanager (set sources[0].auth: bearer_token, basic or hmac); source grafana (set sources[1].auth: bearer_token, basic or hmac); ` +
		`source probes (set sources[2].auth: bearer_token, basic or hmac) take requests without credentials: ` +
		`set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // "" for no error
	}{
		{"default: loopback, nothing authenticated", func(c *Config) {}, ""},
		{"localhost", func(c *Config) { c.Server.Listen = "localhost:8080" }, ""},
		{"IPv6 loopback", func(c *Config) { c.Server.Listen = "[::1]:8080" }, ""},
		{"another loopback address", func(c *Config) { c.Server.Listen = "127.0.0.2:9090" }, ""},
		{"all interfaces", func(c *Config) { c.Server.Listen = ":8080" }, everything},
		{"0.0.0.0", func(c *Config) { c.Server.Listen = "0.0.0.0:8080" }, "listen \"0.0.0.0:8080\" is reachable"},
		{"IPv6 any", func(c *Config) { c.Server.Listen = "[::]:8080" }, "listen \"[::]:8080\" is reachable"},
		{"a LAN address", func(c *Config) { c.Server.Listen = "10.1.2.3:8080" }, "listen \"10.1.2.3:8080\" is reachable"},
		{"a host name", func(c *Config) { c.Server.Listen = "gw.internal:8080" }, "listen \"gw.internal:8080\" is reachable"},
		{"all interfaces, everything authenticated", func(c *Config) { c.Server.Listen = ":8080"; allAuthenticated(c) }, ""},
		{"token from a file counts", func(c *Config) {
			c.Server.Listen = ":8080"
			allAuthenticated(c)
			c.Server.APIToken, c.Server.APITokenFile = "", "/run/secrets/token"
		}, ""},
		{"one source open", func(c *Config) {
			c.Server.Listen = ":8080"
			allAuthenticated(c)
			c.Sources[1].Auth.HMAC = nil
		}, `server: listen ":8080" is reachable from other hosts while source grafana (set sources[1].auth: bearer_token, basic or hmac) take requests without credentials: ` +
			`set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`},
		{"API open", func(c *Config) {
			c.Server.Listen = ":8080"
			allAuthenticated(c)
			c.Server.APIToken = ""
		}, `while the write API (set server.api_token) take requests`},
		{"explicit opt-out", func(c *Config) { c.Server.Listen = ":8080"; c.Server.AllowUnauthenticated = true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			err := c.Exposure()
			verr := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, verr)
				return
			}
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, verr, tt.want, "Validate refuses it too (check-config, serve, reload)")
		})
	}
}

func TestExposureNamesTheFileLine(t *testing.T) {
	_, err := LoadBytes("alertgate.yml", []byte("log: { level: info }\nserver:\n  listen: 0.0.0.0:8080\n  api_token: t\nsources: [{name: am, type: alertmanager}]\n"))
	require.EqualError(t, err, `alertgate.yml:3: server: listen "0.0.0.0:8080" is reachable from other hosts while source am `+
		`(set sources[0].auth: bearer_token, basic or hmac) take requests without credentials: `+
		`set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true`)
	_, err = LoadBytes("alertgate.yml", []byte("server:\n  listen: 0.0.0.0:8080\n  allow_unauthenticated: true\n"))
	require.NoError(t, err)
}
