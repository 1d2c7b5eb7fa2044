package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/config"
)

const realm = `realm="alertgate"`

// digest is the SHA-256 of a secret. Secrets are compared through their
// digests so the comparison is constant-time whatever the lengths.
type digest [sha256.Size]byte

func digestOf(s string) digest { return sha256.Sum256([]byte(s)) }

// matches reports in constant time whether got is the secret.
func (d *digest) matches(got string) bool {
	g := digestOf(got)
	return subtle.ConstantTimeCompare(g[:], d[:]) == 1
}

// sourceAuth checks one source's credentials (config.Auth). Bearer and
// basic, when both are set, are alternatives; HMAC applies on top.
type sourceAuth struct {
	bearer    *digest
	basicUser *digest
	basicPass *digest
	hmac      *hmacAuth
	// challenge is the WWW-Authenticate value sent with a 401.
	challenge string
}

type hmacAuth struct {
	secret   []byte
	header   string
	tsHeader string
	maxSkew  time.Duration
}

// newSourceAuth validates a source's auth config. It fails closed: a
// secret that was configured through a *_file but never loaded is an
// error, not an open source.
func newSourceAuth(a config.Auth) (*sourceAuth, error) {
	sa := &sourceAuth{}
	var challenges []string
	if a.BearerToken != "" || a.BearerTokenFile != "" {
		if a.BearerToken == "" {
			return nil, errors.New("auth: bearer_token_file not loaded")
		}
		d := digestOf(a.BearerToken.Value())
		sa.bearer = &d
		challenges = append(challenges, "Bearer "+realm)
	}
	if b := a.Basic; b != nil {
		if b.Username == "" {
			return nil, errors.New("auth: basic username is empty")
		}
		if b.PasswordFile != "" && b.Password == "" {
			return nil, errors.New("auth: basic password_file not loaded")
		}
		u, p := digestOf(b.Username), digestOf(b.Password.Value())
		sa.basicUser, sa.basicPass = &u, &p
		challenges = append(challenges, "Basic "+realm+`, charset="UTF-8"`)
	}
	if h := a.HMAC; h != nil {
		if h.Secret == "" {
			return nil, errors.New("auth: hmac secret is empty (or secret_file not loaded)")
		}
		ha := &hmacAuth{
			secret:   []byte(h.Secret.Value()),
			header:   h.Header,
			tsHeader: h.TimestampHeader,
			maxSkew:  h.MaxSkew.D(),
		}
		if ha.header == "" {
			ha.header = config.DefaultHMACHeader
		}
		if ha.maxSkew <= 0 {
			ha.maxSkew = config.DefaultHMACMaxSkew
		}
		sa.hmac = ha
		challenges = append(challenges, fmt.Sprintf("HMAC-SHA256 %s, header=%q", realm, ha.header))
	}
	sa.challenge = strings.Join(challenges, ", ")
	return sa, nil
}

// open reports whether the source takes requests without credentials.
func (a *sourceAuth) open() bool {
	return a.bearer == nil && a.basicUser == nil && a.hmac == nil
}

// check verifies the request's credentials against the raw body. Its
// error is a 401 whose reason never contains what the client sent.
func (a *sourceAuth) check(c *fiber.Ctx, body []byte, now time.Time) error {
	if a.bearer != nil || a.basicUser != nil {
		if reason := a.checkAuthorization(c.Get(fiber.HeaderAuthorization)); reason != "" {
			return unauthorized(a.challenge, reason)
		}
	}
	if a.hmac != nil {
		if reason := a.hmac.check(c, body, now); reason != "" {
			return unauthorized(a.challenge, reason)
		}
	}
	return nil
}

// checkAuthorization returns why the Authorization header is not
// accepted, or "" when it is.
func (a *sourceAuth) checkAuthorization(header string) string {
	if header == "" {
		return "missing credentials"
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer") && a.bearer != nil:
		if !a.bearer.matches(cred) {
			return "invalid bearer token"
		}
		return ""
	case strings.EqualFold(scheme, "Basic") && a.basicUser != nil:
		user, pass, ok := parseBasic(cred)
		if !ok {
			return "malformed basic credentials"
		}
		// Both halves are always compared: no early exit on the user.
		u, p := a.basicUser.matches(user), a.basicPass.matches(pass)
		if !u || !p {
			return "invalid basic credentials"
		}
		return ""
	}
	return "unsupported authorization scheme"
}

func parseBasic(cred string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// check verifies hex(HMAC-SHA256(secret, [ts ":"] body)), Grafana's
// scheme, and the timestamp's skew. It returns the reason of a failure.
func (h *hmacAuth) check(c *fiber.Ctx, body []byte, now time.Time) string {
	sigHex := strings.TrimSpace(c.Get(h.header))
	if sigHex == "" {
		return "missing signature header " + h.header
	}
	if len(sigHex) > 7 && strings.EqualFold(sigHex[:7], "sha256=") {
		sigHex = sigHex[7:]
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != sha256.Size {
		return "malformed signature"
	}
	var ts string
	if h.tsHeader != "" {
		ts = strings.TrimSpace(c.Get(h.tsHeader))
		if ts == "" {
			return "missing timestamp header " + h.tsHeader
		}
	}
	if !hmac.Equal(h.sum(ts, body), sig) {
		return "invalid signature"
	}
	if h.tsHeader == "" {
		return ""
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "malformed timestamp"
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew < 0 {
		skew = -skew
	}
	if skew > h.maxSkew {
		return fmt.Sprintf("timestamp outside the allowed skew of %s", h.maxSkew)
	}
	return ""
}

// sum computes the MAC; ts is empty without a timestamp header.
func (h *hmacAuth) sum(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, h.secret)
	if h.tsHeader != "" {
		m.Write([]byte(ts))
		m.Write([]byte{':'})
	}
	m.Write(body)
	return m.Sum(nil)
}

// apiGuard protects the API with the configured token: the write
// endpoints (handle), and the reads (read) unless public_reads.
type apiGuard struct {
	token       *digest
	publicReads bool
}

func newAPIGuard(cfg config.Server) (*apiGuard, error) {
	if cfg.APIToken == "" {
		if cfg.APITokenFile != "" {
			return nil, errors.New("server: api_token_file not loaded")
		}
		return &apiGuard{}, nil
	}
	d := digestOf(cfg.APIToken.Value())
	return &apiGuard{token: &d, publicReads: cfg.PublicReads}, nil
}

// read is fiber middleware for the read endpoints: like handle, unless
// server.public_reads leaves them open.
func (g *apiGuard) read(c *fiber.Ctx) error {
	if g.publicReads {
		return c.Next()
	}
	return g.handle(c)
}

// handle is fiber middleware: without a configured token it lets every
// request through; otherwise it requires "Authorization: Bearer <token>".
func (g *apiGuard) handle(c *fiber.Ctx) error {
	if g.token == nil {
		return c.Next()
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(c.Get(fiber.HeaderAuthorization)), " ")
	switch {
	case scheme == "":
		return unauthorized("Bearer "+realm, "missing API token")
	case !strings.EqualFold(scheme, "Bearer"):
		return unauthorized("Bearer "+realm, "unsupported authorization scheme")
	case !g.token.matches(strings.TrimSpace(cred)):
		return unauthorized("Bearer "+realm, "invalid API token")
	}
	return c.Next()
}
