package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Auth says who may sign in to the console. With none of APIToken, Users
// and TrustedUserHeader set the console is read-only.
type Auth struct {
	// APIToken is server.api_token: whoever knows it may sign in, under
	// the name they give (self-declared, recorded on the timeline).
	APIToken string
	// Users maps a person's name to their password hash (console.users):
	// bcrypt or argon2id (see config.ParsePasswordHash).
	Users map[string][]byte
	// TrustedUserHeader names the header an authenticating reverse proxy
	// (oauth2-proxy …) sets to the signed-in person; it is believed only
	// on requests from TrustedProxies.
	TrustedUserHeader string
	TrustedProxies    []netip.Prefix
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// PublicReads lets people who are not signed in read the pages when
	// credentials are configured (default: sign in to read too).
	PublicReads bool
}

const (
	defaultSessionTTL = 12 * time.Hour
	cookieName        = "alertgate_console"
	localSession      = "console.session"
	maxNameLen        = 100
	maxSessions       = 10000
	// Sign-in attempts per client address: a burst of signinBurst, then
	// one per signinEvery, so a password or the API token cannot be
	// guessed at speed.
	signinBurst  = 10
	signinEvery  = 6 * time.Second
	maxThrottled = 10000
)

// session is one signed-in person. Sessions live in this process's
// memory: a restart signs everyone out.
type session struct {
	token   string
	user    string
	csrf    string
	expires time.Time
}

// authn keeps the sessions.
type authn struct {
	cfg      Auth
	hashes   map[string]passwordHash
	now      func() time.Time
	mu       sync.Mutex
	sessions map[string]*session
	// attempts limits sign-ins per client address.
	attempts map[string]*rate.Limiter
}

// allowAttempt reports whether addr may try to sign in now.
func (a *authn) allowAttempt(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.attempts[addr]
	if l == nil {
		if len(a.attempts) >= maxThrottled {
			a.attempts = map[string]*rate.Limiter{} // forget rather than grow
		}
		l = rate.NewLimiter(rate.Every(signinEvery), signinBurst)
		a.attempts[addr] = l
	}
	return l.AllowN(a.now(), 1)
}

func newAuthn(cfg Auth, now func() time.Time) (*authn, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = defaultSessionTTL
	}
	if cfg.TrustedUserHeader != "" && len(cfg.TrustedProxies) == 0 {
		return nil, errors.New("console: trusted_user_header needs trusted_proxies")
	}
	hashes := make(map[string]passwordHash, len(cfg.Users))
	for name, h := range cfg.Users {
		ph, err := config.ParsePasswordHash(string(h))
		if err != nil {
			return nil, fmt.Errorf("console: user %q: %w", name, err)
		}
		hashes[name] = passwordHash(ph)
	}
	return &authn{cfg: cfg, hashes: hashes, now: now, sessions: map[string]*session{}, attempts: map[string]*rate.Limiter{}}, nil
}

// enabled reports whether anyone can sign in.
func (a *authn) enabled() bool {
	return a.cfg.APIToken != "" || len(a.cfg.Users) > 0 || a.cfg.TrustedUserHeader != ""
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// start opens a session for user.
func (a *authn) start(user string) *session {
	now := a.now()
	s := &session{token: randomToken(), user: user, csrf: randomToken(), expires: now.Add(a.cfg.SessionTTL)}
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, old := range a.sessions {
		if !now.Before(old.expires) {
			delete(a.sessions, k)
		}
	}
	if len(a.sessions) >= maxSessions {
		for k := range a.sessions { // drop an arbitrary one rather than grow
			delete(a.sessions, k)
			break
		}
	}
	a.sessions[s.token] = s
	return s
}

// lookup returns the live session of token.
func (a *authn) lookup(token string) *session {
	if token == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[token]
	if s == nil {
		return nil
	}
	if !a.now().Before(s.expires) {
		delete(a.sessions, token)
		return nil
	}
	return s
}

func (a *authn) end(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, token)
}

// check verifies a sign-in: a console user's password, or the API token
// under any name (errHashBusy: the password could not be checked now).
func (a *authn) check(user, password string) (bool, error) {
	if h, ok := a.hashes[user]; ok {
		return h.matches(password)
	}
	return a.cfg.APIToken != "" && subtle.ConstantTimeCompare([]byte(password), []byte(a.cfg.APIToken)) == 1, nil
}

// fromTrustedProxy reports whether the request comes straight from a
// configured proxy address.
func (a *authn) fromTrustedProxy(ctx *fiber.Ctx) bool {
	ip, ok := netip.AddrFromSlice(ctx.Context().RemoteIP())
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (c *Console) setCookie(ctx *fiber.Ctx, s *session) {
	ck := &fiber.Cookie{Name: cookieName, Value: s.token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: ctx.Protocol() == "https", Expires: s.expires}
	ctx.Cookie(ck)
}

// identify finds who is signed in: the trusted proxy's user header, else
// the session cookie.
func (c *Console) identify(ctx *fiber.Ctx) error {
	a := c.auth
	s := a.lookup(ctx.Cookies(cookieName))
	if h := a.cfg.TrustedUserHeader; h != "" && a.fromTrustedProxy(ctx) {
		if user := strings.Clone(strings.TrimSpace(ctx.Get(h))); user != "" && alert.IsText(user) && len(user) <= maxNameLen {
			if s == nil || s.user != user {
				s = a.start(user)
				c.setCookie(ctx, s)
			}
		}
	}
	if s != nil {
		ctx.Locals(localSession, s)
	}
	return ctx.Next()
}

func sessionOf(ctx *fiber.Ctx) *session {
	s, _ := ctx.Locals(localSession).(*session)
	return s
}

// mayRead lets a request read pages: anyone when no credentials are
// configured (read-only console) or reads are public, else the signed-in.
func (c *Console) mayRead(ctx *fiber.Ctx) error {
	if !c.auth.enabled() || c.auth.cfg.PublicReads || sessionOf(ctx) != nil {
		return ctx.Next()
	}
	if ctx.Path() == "/console/events" {
		return ctx.Status(fiber.StatusUnauthorized).SendString("sign in first")
	}
	return ctx.Redirect("/console/signin?next="+url.QueryEscape(string(ctx.Request().URI().RequestURI())), fiber.StatusSeeOther)
}

// mustAct lets a POST through only with a session and its CSRF token.
func (c *Console) mustAct(ctx *fiber.Ctx) error {
	if !c.auth.enabled() || c.actions == nil {
		return c.errorPage(ctx, fiber.StatusForbidden, "This console is read-only: no sign-in is configured.")
	}
	s := sessionOf(ctx)
	if s == nil {
		return c.errorPage(ctx, fiber.StatusUnauthorized, "Sign in first.")
	}
	if subtle.ConstantTimeCompare([]byte(ctx.FormValue("csrf")), []byte(s.csrf)) != 1 {
		return c.errorPage(ctx, fiber.StatusForbidden, "The form expired or did not come from this console; reload the page and try again.")
	}
	return ctx.Next()
}

// authView is what the pages know of the person.
type authView struct {
	// Enabled: someone can sign in. SignedIn: this person did.
	Enabled, SignedIn bool
	User, CSRF        string
	// CanAct: the forms are shown.
	CanAct bool
}

func (c *Console) authView(ctx *fiber.Ctx) authView {
	v := authView{Enabled: c.auth.enabled()}
	if s := sessionOf(ctx); s != nil {
		v.SignedIn, v.User, v.CSRF = true, s.user, s.csrf
		v.CanAct = c.actions != nil
	}
	return v
}

// signinView is the sign-in page's body.
type signinView struct {
	Next, User, Error string
	Token, Users      bool
}

// signinPage handles GET /console/signin.
func (c *Console) signinPage(ctx *fiber.Ctx) error {
	return c.render(ctx, fiber.StatusOK, "signin.html", "Sign in", c.signinView(ctx, "", ""))
}

func (c *Console) signinView(ctx *fiber.Ctx, user, msg string) signinView {
	return signinView{Next: localPath(ctx.FormValue("next", ctx.Query("next"))), User: user, Error: msg,
		Token: c.auth.cfg.APIToken != "", Users: len(c.auth.cfg.Users) > 0}
}

// signin handles POST /console/signin.
func (c *Console) signin(ctx *fiber.Ctx) error {
	if !c.auth.enabled() {
		return c.errorPage(ctx, fiber.StatusForbidden, "This console is read-only: no sign-in is configured.")
	}
	// Login CSRF: a browser posting from another site says so in Origin.
	if o := ctx.Get(fiber.HeaderOrigin); o != "" && o != ctx.BaseURL() {
		return c.errorPage(ctx, fiber.StatusForbidden, "Sign in from the console's own page.")
	}
	// fiber's values alias the request buffer: copy what outlives it.
	if !c.auth.allowAttempt(strings.Clone(ctx.IP())) {
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(signinEvery/time.Second)))
		return c.errorPage(ctx, fiber.StatusTooManyRequests, "Too many sign-in attempts from here; wait a little and try again.")
	}
	user := strings.Clone(strings.TrimSpace(ctx.FormValue("user")))
	password := ctx.FormValue("password")
	if user == "" || len(user) > maxNameLen || !alert.IsText(user) {
		return c.render(ctx, fiber.StatusBadRequest, "signin.html", "Sign in",
			c.signinView(ctx, "", fmt.Sprintf("Give your name (at most %d characters).", maxNameLen)))
	}
	ok, err := c.auth.check(user, password)
	if errors.Is(err, errHashBusy) {
		ctx.Set(fiber.HeaderRetryAfter, "5")
		return c.render(ctx, fiber.StatusServiceUnavailable, "signin.html", "Sign in",
			c.signinView(ctx, user, "Too many sign-ins are being checked right now; try again in a few seconds."))
	}
	if !ok {
		return c.render(ctx, fiber.StatusUnauthorized, "signin.html", "Sign in", c.signinView(ctx, user, "Wrong name or password."))
	}
	s := c.auth.start(user)
	c.setCookie(ctx, s)
	return ctx.Redirect(localPath(ctx.FormValue("next")), fiber.StatusSeeOther)
}

// signout handles POST /console/signout.
func (c *Console) signout(ctx *fiber.Ctx) error {
	if s := sessionOf(ctx); s != nil {
		c.auth.end(s.token)
	}
	ctx.Cookie(&fiber.Cookie{Name: cookieName, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Expires: time.Unix(1, 0)})
	return ctx.Redirect("/", fiber.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path, not "//host".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return "/"
	}
	return p
}
