package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Console configures who may sign in to the web console. With no users,
// no server.api_token and no trusted_user_header, the console is
// read-only.
type Console struct {
	// Users sign in with their name and password: a bcrypt hash, as
	// `htpasswd -nbBC 12 alice` prints after the colon, or an argon2id
	// hash in the PHC format, as `argon2 SALT -id -e` prints.
	Users []ConsoleUser `yaml:"users,omitempty"`
	// TrustedUserHeader is the header an authenticating reverse proxy
	// (oauth2-proxy: X-Forwarded-User or X-Forwarded-Email) sets to the
	// signed-in person; it is believed only on requests from
	// TrustedProxies.
	TrustedUserHeader string `yaml:"trusted_user_header,omitempty"`
	// TrustedProxies are the proxy addresses (IPs or CIDRs).
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`
	// SessionTTL is how long a sign-in lasts; default 12h.
	SessionTTL Duration `yaml:"session_ttl,omitempty"`
}

// ConsoleUser is one person who may sign in to the console.
type ConsoleUser struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"`
}

// ProxyPrefixes parses TrustedProxies (validated) into prefixes; a bare
// IP is a /32 or /128.
func (c *Console) ProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parseProxy(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// PasswordHash is a console user's password hash: bcrypt ($2a$, $2b$,
// $2y$, as htpasswd -B prints) or argon2id in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=4$salt$hash, as the argon2 CLI's -e
// prints). Exactly one of the two is set.
type PasswordHash struct {
	Bcrypt   []byte
	Argon2id *Argon2id
}

// ParsePasswordHash decides which kind of hash h is and checks it: the
// config's validation (its error at the hash's line) and the console's
// sign-in (which verifies passwords against it) both call it.
func ParsePasswordHash(h string) (PasswordHash, error) {
	if strings.HasPrefix(h, "$argon2") {
		a, err := ParseArgon2id(h)
		if err != nil {
			return PasswordHash{}, err
		}
		return PasswordHash{Argon2id: a}, nil
	}
	// $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and
	// hash; bcrypt.Cost also checks the cost is in bcrypt's range.
	bad := errors.New("password_hash must be a bcrypt ($2b$12$…) or argon2id ($argon2id$v=19$m=65536,t=3,p=4$…) hash")
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) || h[6] != '$' {
		return PasswordHash{}, bad
	}
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return PasswordHash{}, bad
	}
	return PasswordHash{Bcrypt: []byte(h)}, nil
}

// Limits of an argon2id hash's parameters: a typo (m=6553600) must not
// make each sign-in allocate gigabytes.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 20
	maxArgonThreads   = 64
)

// Argon2id is an argon2id password hash's parameters, salt and hash.
type Argon2id struct {
	Memory, Time uint32 // KiB, passes
	Threads      uint8
	Salt, Hash   []byte
}

// ParseArgon2id parses an argon2id hash in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=4$salt$hash, as the argon2 CLI's -e
// prints), with its parameters in bounds. The console verifies passwords
// with it; check-config reports its error at the hash's line.
func ParseArgon2id(s string) (*Argon2id, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, errors.New("an argon2 hash must be argon2id: $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v=19" {
		return nil, fmt.Errorf("argon2id version %q: want v=19", parts[2])
	}
	a := &Argon2id{}
	var p uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.Memory, &a.Time, &p); err != nil {
		return nil, fmt.Errorf("argon2id parameters %q: want m=…,t=…,p=…", parts[3])
	}
	switch {
	case a.Memory < 8 || a.Memory > maxArgonMemoryKiB:
		return nil, fmt.Errorf("argon2id memory m=%d: want 8 to %d KiB", a.Memory, maxArgonMemoryKiB)
	case a.Time < 1 || a.Time > maxArgonTime:
		return nil, fmt.Errorf("argon2id time t=%d: want 1 to %d", a.Time, maxArgonTime)
	case p < 1 || p > maxArgonThreads:
		return nil, fmt.Errorf("argon2id parallelism p=%d: want 1 to %d", p, maxArgonThreads)
	}
	a.Threads = uint8(p)
	var err error
	if a.Salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(a.Salt) < 8 {
		return nil, errors.New("argon2id salt: want at least 8 bytes in unpadded base64")
	}
	if a.Hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.Hash) < 16 || len(a.Hash) > 64 {
		return nil, errors.New("argon2id hash: want 16 to 64 bytes in unpadded base64")
	}
	return a, nil
}

func (v *validator) console() {
	c := &v.c.Console
	seen := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("console.users[%d]", i)
		switch {
		case strings.TrimSpace(u.Name) == "" || len(u.Name) > 100:
			v.add("console", key+".name", "users[%d].name must be 1 to 100 characters", i)
			continue
		case seen[u.Name]:
			v.add("console", key+".name", "user %q is listed twice", u.Name)
			continue
		}
		seen[u.Name] = true
		if _, err := ParsePasswordHash(u.PasswordHash); err != nil {
			v.add("console", key+".password_hash", "user %q: %v", u.Name, err)
		}
	}
	for i, p := range c.TrustedProxies {
		if _, err := parseProxy(p); err != nil {
			v.add("console", fmt.Sprintf("console.trusted_proxies[%d]", i), "trusted_proxies[%d] %q is not an IP address or CIDR", i, p)
		}
	}
	if c.TrustedUserHeader != "" && len(c.TrustedProxies) == 0 {
		v.add("console", "console.trusted_proxies", "trusted_user_header needs trusted_proxies: only a proxy may name the user")
	}
	if c.SessionTTL != 0 && c.SessionTTL.D() < time.Minute {
		v.add("console", "console.session_ttl", "session_ttl must be at least 1m")
	}
}
