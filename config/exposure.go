package config

import (
	"fmt"
	"net"
	"strings"
)

// Unauthenticated lists what takes requests without credentials, each
// with the key that would close it: the API without server.api_token, and
// every source without auth. Empty when everything asks for credentials.
func (c *Config) Unauthenticated() []string {
	var open []string
	if c.Server.APIToken == "" && c.Server.APITokenFile == "" {
		open = append(open, "the write API (set server.api_token)")
	}
	for i, s := range c.Sources {
		a := s.Auth
		if a.BearerToken == "" && a.BearerTokenFile == "" && a.Basic == nil && a.HMAC == nil {
			open = append(open, fmt.Sprintf("source %s (set sources[%d].auth: bearer_token, basic or hmac)", s.Name, i))
		}
	}
	return open
}

// LoopbackOnly reports whether the listen address addr is reachable from
// this host only: "localhost" or a loopback IP. An empty host (":8080"),
// an unspecified IP (0.0.0.0, ::) and any other name or IP are reachable
// from other hosts.
func LoopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Exposure is the error that refuses to serve server.listen: a
// non-loopback address while Unauthenticated lists something, unless
// server.allow_unauthenticated is set. It says exactly what to set.
func (c *Config) Exposure() error {
	if c.Server.AllowUnauthenticated || strings.TrimSpace(c.Server.Listen) == "" || LoopbackOnly(c.Server.Listen) {
		return nil
	}
	open := c.Unauthenticated()
	if len(open) == 0 {
		return nil
	}
	return &problem{where: "server", key: "server.listen", msg: fmt.Sprintf(
		"listen %q is reachable from other hosts while %s take requests without credentials: "+
			"set them, listen on 127.0.0.1, or accept the risk with server.allow_unauthenticated: true",
		c.Server.Listen, strings.Join(open, "; "))}
}
