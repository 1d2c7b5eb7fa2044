package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testHash       = "$2a$04$VhV7G9samQbKEGH2x.RKHe5lVMJA2ZeSuDKbVhNfjaFmlBOuWe/vC"                             // bcrypt of "s3cret"
	testArgon2Hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0$FLqtVAlGM3x3PjvDrNiPI4ScXxnu/jvFgAF9AjaaqeA" // argon2id of "s3cret"
)

func TestValidateConsole(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Console)
		want   []string
	}{
		{"empty is read-only and valid", func(*Console) {}, nil},
		{"users and proxy", func(c *Console) {
			c.Users = []ConsoleUser{{Name: "alice", PasswordHash: testHash}, {Name: "bob", PasswordHash: testArgon2Hash}}
			c.TrustedUserHeader, c.TrustedProxies = "X-Forwarded-User", []string{"10.0.0.0/8", "192.168.1.5"}
			c.SessionTTL = Duration(8 * time.Hour)
		}, nil},
		{"bad users", func(c *Console) {
			c.Users = []ConsoleUser{{Name: "alice", PasswordHash: "secret"}, {Name: "alice", PasswordHash: testHash}, {PasswordHash: testHash},
				{Name: "bob", PasswordHash: strings.Replace(testArgon2Hash, "argon2id", "argon2i", 1)},
				// What the console refuses at start, check-config reports.
				{Name: "carol", PasswordHash: strings.Replace(testArgon2Hash, "m=64", "m=6553600", 1)},
				// Shaped like bcrypt, but a cost bcrypt refuses.
				{Name: "dave", PasswordHash: strings.Replace(testHash, "$04$", "$99$", 1)}}
		}, []string{
			`console: user "alice": password_hash must be a bcrypt ($2b$12$…) or argon2id ($argon2id$v=19$m=65536,t=3,p=4$…) hash`,
			`console: user "alice" is listed twice`,
			"console: users[2].name must be 1 to 100 characters",
			`console: user "bob": an argon2 hash must be argon2id: $argon2id$v=19$m=…,t=…,p=…$salt$hash`,
			`console: user "carol": argon2id memory m=6553600: want 8 to 1048576 KiB`,
			`console: user "dave": password_hash must be a bcrypt ($2b$12$…) or argon2id ($argon2id$v=19$m=65536,t=3,p=4$…) hash`,
		}},
		{"header without proxies", func(c *Console) { c.TrustedUserHeader = "X-Forwarded-User" },
			[]string{"console: trusted_user_header needs trusted_proxies: only a proxy may name the user"}},
		{"bad proxy and ttl", func(c *Console) {
			c.TrustedProxies = []string{"proxy.local"}
			c.SessionTTL = Duration(time.Second)
		}, []string{
			`console: trusted_proxies[0] "proxy.local" is not an IP address or CIDR`,
			"console: session_ttl must be at least 1m",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c.Console)
			err := c.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestProxyPrefixes(t *testing.T) {
	c := Console{TrustedProxies: []string{"10.1.2.3/8", "::1", "127.0.0.1"}}
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.1/32")},
		c.ProxyPrefixes())
}

func TestLoadConsoleSection(t *testing.T) {
	c, err := LoadBytes("c.yml", []byte(`
console:
  users:
    - { name: alice, password_hash: "`+testHash+`" }
  trusted_user_header: X-Forwarded-User
  trusted_proxies: [127.0.0.1]
  session_ttl: 8h
`))
	require.NoError(t, err)
	require.Equal(t, []ConsoleUser{{Name: "alice", PasswordHash: testHash}}, c.Console.Users)
	require.Equal(t, "X-Forwarded-User", c.Console.TrustedUserHeader)
	require.Equal(t, 8*time.Hour, c.Console.SessionTTL.D())

	_, err = LoadBytes("c.yml", []byte("console:\n  users: [{ name: bob, password: pw }]\n"))
	require.ErrorContains(t, err, "password", "unknown keys are refused")
}
