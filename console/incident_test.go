package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

func newConsoleWith(t testing.TB, st *fakeStore, now time.Time, opts Options) *fiber.App {
	t.Helper()
	opts.Now = func() time.Time { return now }
	c, err := New(st, opts)
	require.NoError(t, err)
	app := fiber.New()
	c.Register(app)
	return app
}

// xssDetail is an incident whose every text tries to inject markup.
func xssDetail() *store.IncidentDetail {
	inc := incident(1, alert.P0, alert.IncidentTriggered, t0)
	inc.Title = `<script>alert(1)</script>`
	inc.Runbook = "db-failover"
	return &store.IncidentDetail{
		Incident: inc,
		Alerts: []store.StoredAlert{{Alert: alert.Alert{Title: `<img src=x onerror=alert(2)>`, Status: alert.StatusFiring, Fingerprint: "fp1",
			Labels:       map[string]string{"service": `"><script>alert(3)</script>`},
			Annotations:  map[string]string{"summary": `<b>bold</b>`, "runbook_url": `javascript:alert(4)`, "dashboard_url": "https://grafana.example/d/abc"},
			GeneratorURL: `JaVaScRiPt:alert(5)`, StartsAt: t0}}},
		Timeline: []alert.Event{
			{At: t0, Kind: alert.EventDetected, Detail: `<script>alert(6)</script>`},
			{At: t0.Add(time.Minute), Kind: alert.EventEscalated, Detail: "paged oncall"},
		},
	}
}

func TestIncidentPageEscapesEverything(t *testing.T) {
	st := &fakeStore{detail: map[int64]*store.IncidentDetail{1: xssDetail()}}
	app := newConsoleWith(t, st, t0.Add(5*time.Minute), Options{
		Runbooks: func(name string) *config.Runbook {
			return &config.Runbook{Name: name, Title: "DB failover", URL: "javascript:alert(7)", Steps: []string{"`kubectl rollout undo deploy/<api>`"}}
		},
	})
	code, body, h := get(t, app, "/incidents/INC-1")
	require.Equal(t, 200, code, body)
	require.Equal(t, csp, h["Content-Security-Policy"])
	require.NotRegexp(t, `(?i)<script>|<img|<b>|<svg|href="javascript:`, body)
	require.NotContains(t, strings.ToLower(body), `href="javascript`)
	require.Contains(t, body, `&lt;script&gt;alert(1)&lt;/script&gt;`)
	require.Contains(t, body, `&lt;b&gt;bold&lt;/b&gt;`)
	// javascript: links render as inert text, the https one as a link.
	require.Contains(t, body, `<span class="inert" data-testid="inert-link">javascript:alert(4)</span>`)
	require.Contains(t, body, `<span class="inert" data-testid="inert-link">JaVaScRiPt:alert(5)</span>`)
	require.Contains(t, body, `<a href="https://grafana.example/d/abc" rel="noopener noreferrer" target="_blank">`)
	// The runbook's step is copyable and escaped, the post-mortem rendered.
	require.Contains(t, body, "<code id=\"rb-0\">`kubectl rollout undo deploy/&lt;api&gt;`</code>")
	require.Contains(t, body, `data-copy="rb-0"`)
	require.Contains(t, body, `<h3>Detection</h3>`)
	require.Contains(t, body, `href="/incidents/INC-1/postmortem.md" download="INC-1-postmortem.md"`)
	require.Contains(t, body, `data-testid="read-only"`, "no credentials: read-only, and it says so")
	require.NotContains(t, body, `action-ack`)
}

func TestIncidentPageShowsPlanAndDeliveries(t *testing.T) {
	due := t0.Add(10 * time.Minute)
	st := &fakeStore{
		detail: map[int64]*store.IncidentDetail{1: {Incident: incident(1, alert.P1, alert.IncidentTriggered, t0)}},
		jobs: map[int64][]*store.Job{1: {
			{Key: "INC-1/page/team-lead#0", Kind: store.KindStep, State: store.JobPending, DueAt: due},
			{Key: "d1", Kind: store.KindDelivery, Target: "pager", Action: "page", State: store.JobDead, Attempts: 5, LastError: "HTTP 500"},
		}},
	}
	var got []*store.Job
	app := newConsoleWith(t, st, t0.Add(5*time.Minute), Options{Plan: func(jobs []*store.Job) []router.PendingStep {
		got = jobs
		return []router.PendingStep{{Type: "page", State: "pending", DueAt: due, Role: "team-lead", Member: "bob", Targets: []string{"pager"},
			Stops: "cancelled once the incident is acknowledged"}}
	}})
	code, body, _ := get(t, app, "/incidents/1")
	require.Equal(t, 200, code, body)
	require.Len(t, got, 2)
	require.Contains(t, body, `<strong>in 5m 00s</strong> — page team-lead (bob) → pager`)
	require.Contains(t, body, `cancelled once the incident is acknowledged`)
	require.Contains(t, body, `<td>pager</td><td>page</td><td>dead</td><td>5</td><td>HTTP 500</td>`)

	for _, tc := range []struct {
		path string
		code int
	}{{"/incidents/INC-x", 400}, {"/incidents/INC-9", 404}} {
		code, _, _ := get(t, app, tc.path)
		require.Equal(t, tc.code, code, tc.path)
	}
}

// post sends a form; cookie may be empty.
func post(t *testing.T, app *fiber.App, target string, form url.Values, cookie string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.Header.Set("Cookie", cookieName+"="+cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := app.Test(req, 5000)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func sessionCookie(t *testing.T, resp *http.Response) string {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return c.Value
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header)
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestActionsNeedSessionAndCSRF(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	st := &fakeStore{}
	st.put(incident(1, alert.P0, alert.IncidentTriggered, t0))
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{APIToken: "tok", Users: map[string][]byte{"alice": hash}}})

	// Not signed in: reading sends to the sign-in page, acting is refused.
	code, _, h := get(t, app, "/?status=open")
	require.Equal(t, 303, code)
	require.Equal(t, "/console/signin?next=%2F%3Fstatus%3Dopen", h["Location"])
	for _, action := range []string{"ack", "resolve", "update"} {
		resp := post(t, app, "/incidents/INC-1/"+action, url.Values{"note": {"x"}}, "")
		require.Equal(t, 401, resp.StatusCode, action)
	}

	// Wrong password, unknown user with a wrong token, a cross-site form.
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
		code int
	}{
		{"wrong password", url.Values{"user": {"alice"}, "password": {"nope"}}, nil, 401},
		{"user's password is not the token", url.Values{"user": {"alice"}, "password": {"tok"}}, nil, 401},
		{"wrong token", url.Values{"user": {"mallory"}, "password": {"tik"}}, nil, 401},
		{"no name", url.Values{"password": {"tok"}}, nil, 400},
		{"cross-site", url.Values{"user": {"alice"}, "password": {"s3cret"}}, []string{"Origin", "https://evil.example"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, app, "/console/signin", tc.form, "", tc.hdr...)
			require.Equal(t, tc.code, resp.StatusCode)
			require.Empty(t, resp.Cookies())
		})
	}

	// alice signs in with her password; bob with the API token.
	resp := post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"s3cret"}, "next": {"//evil.example/"}}, "")
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, "/", resp.Header.Get("Location"), "no open redirect")
	ck := resp.Cookies()[0]
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	alice := ck.Value

	code, body, _ := get(t, app, "/incidents/INC-1", "Cookie", cookieName+"="+alice)
	require.Equal(t, 200, code)
	require.Contains(t, body, `id="action-ack"`)
	require.Contains(t, body, `data-testid="signed-in-user">alice<`)
	csrf := csrfRE.FindStringSubmatch(body)[1]

	// A session without the CSRF token, or with another's, changes nothing.
	require.Equal(t, 403, post(t, app, "/incidents/INC-1/ack", url.Values{}, alice).StatusCode)
	require.Equal(t, 403, post(t, app, "/incidents/INC-1/ack", url.Values{"csrf": {"forged"}}, alice).StatusCode)
	require.Equal(t, 401, post(t, app, "/incidents/INC-1/ack", url.Values{"csrf": {csrf}}, "stolen-csrf-no-session").StatusCode)
	require.Empty(t, st.calls)

	resp = post(t, app, "/incidents/INC-1/ack", url.Values{"csrf": {csrf}, "note": {"looking"}}, alice)
	require.Equal(t, 303, resp.StatusCode)
	require.Equal(t, "/incidents/INC-1", resp.Header.Get("Location"))
	require.Equal(t, 400, post(t, app, "/incidents/INC-1/update", url.Values{"csrf": {csrf}}, alice).StatusCode, "an update needs text")
	require.Equal(t, 400, post(t, app, "/incidents/INC-1/update", url.Values{"csrf": {csrf}, "note": {"a\x00b"}}, alice).StatusCode, "a NUL is refused")
	require.Equal(t, 404, post(t, app, "/incidents/INC-1/delete", url.Values{"csrf": {csrf}}, alice).StatusCode)

	bob := sessionCookie(t, post(t, app, "/console/signin", url.Values{"user": {"bob"}, "password": {"tok"}}, ""))
	_, body, _ = get(t, app, "/incidents/INC-1", "Cookie", cookieName+"="+bob)
	require.Equal(t, 303, post(t, app, "/incidents/INC-1/update", url.Values{"csrf": {csrfRE.FindStringSubmatch(body)[1]}, "note": {"rolled back"}}, bob).StatusCode)
	require.Equal(t, 303, post(t, app, "/incidents/INC-1/severity", url.Values{"csrf": {csrfRE.FindStringSubmatch(body)[1]}, "severity": {"P2"}}, bob).StatusCode)
	require.Equal(t, 400, post(t, app, "/incidents/INC-1/severity", url.Values{"csrf": {csrfRE.FindStringSubmatch(body)[1]}, "severity": {"P7"}}, bob).StatusCode)
	require.Equal(t, 401, post(t, app, "/incidents/INC-1/severity", url.Values{"severity": {"P0"}}, "").StatusCode)
	require.Equal(t, []string{"ack INC-1 alice: looking", "update INC-1 bob: rolled back", "severity P2 INC-1 bob: "}, st.calls, "the person is the actor")

	// Signing out ends the session on the server.
	require.Equal(t, 303, post(t, app, "/console/signout", url.Values{"csrf": {csrf}}, alice).StatusCode)
	require.Equal(t, 401, post(t, app, "/incidents/INC-1/resolve", url.Values{"csrf": {csrf}}, alice).StatusCode)
}

// The post-mortem's Markdown download is the console's own: a person
// signed in with the API token (whose browser sends a cookie, not the
// token) gets it; a stranger is sent to sign in.
func TestPostmortemDownloadNeedsOnlyASession(t *testing.T) {
	st := &fakeStore{detail: map[int64]*store.IncidentDetail{1: xssDetail()}}
	app := newConsoleWith(t, st, t0.Add(5*time.Minute), Options{Actions: st, Auth: Auth{APIToken: "tok"}})
	code, _, h := get(t, app, "/incidents/INC-1/postmortem.md")
	require.Equal(t, 303, code)
	require.Equal(t, "/console/signin?next=%2Fincidents%2FINC-1%2Fpostmortem.md", h["Location"])

	carol := sessionCookie(t, post(t, app, "/console/signin", url.Values{"user": {"carol"}, "password": {"tok"}}, ""))
	_, page, _ := get(t, app, "/incidents/INC-1", "Cookie", cookieName+"="+carol)
	require.Contains(t, page, `href="/incidents/INC-1/postmortem.md"`)
	code, body, h := get(t, app, "/incidents/INC-1/postmortem.md", "Cookie", cookieName+"="+carol)
	require.Equal(t, 200, code, body)
	require.Equal(t, "text/markdown; charset=utf-8", h["Content-Type"])
	require.Equal(t, `attachment; filename="INC-1-postmortem.md"`, h["Content-Disposition"])
	require.True(t, strings.HasPrefix(body, "# Post-mortem: INC-1"), body)
	require.Contains(t, body, `<script>alert(1)</script>`, "the Markdown as written (a download, not a page)")

	for path, want := range map[string]int{"/incidents/INC-x/postmortem.md": 400, "/incidents/INC-9/postmortem.md": 404} {
		code, _, _ := get(t, app, path, "Cookie", cookieName+"="+carol)
		require.Equal(t, want, code, path)
	}
}

func TestReadOnlyWithoutCredentials(t *testing.T) {
	st := &fakeStore{}
	st.put(incident(1, alert.P0, alert.IncidentTriggered, t0))
	app := newConsoleWith(t, st, t0, Options{Actions: st})
	code, body, _ := get(t, app, "/")
	require.Equal(t, 200, code)
	require.Contains(t, body, "Read-only console: no sign-in is configured")
	require.Equal(t, 403, post(t, app, "/incidents/INC-1/ack", url.Values{"csrf": {"x"}}, "").StatusCode)
	require.Equal(t, 403, post(t, app, "/console/signin", url.Values{"user": {"a"}, "password": {""}}, "").StatusCode)
	require.Empty(t, st.calls)
}

// The session cookie is HttpOnly and SameSite=Strict always, Secure when
// the browser came over HTTPS (a TLS-terminating proxy's
// X-Forwarded-Proto), and its expiry is the server's.
func TestSessionCookieFlags(t *testing.T) {
	st := &fakeStore{}
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{APIToken: "tok", SessionTTL: 2 * time.Hour}})
	for _, tc := range []struct {
		name   string
		hdr    []string
		secure bool
	}{{"plain http", nil, false}, {"behind TLS", []string{"X-Forwarded-Proto", "https"}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, app, "/console/signin", url.Values{"user": {"carol"}, "password": {"tok"}}, "", tc.hdr...)
			require.Equal(t, 303, resp.StatusCode)
			require.Len(t, resp.Cookies(), 1)
			ck := resp.Cookies()[0]
			require.True(t, ck.HttpOnly)
			require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
			require.Equal(t, tc.secure, ck.Secure)
			require.Equal(t, "/", ck.Path)
			require.Equal(t, t0.Add(2*time.Hour).Unix(), ck.Expires.Unix())
			require.Len(t, ck.Value, 43, "256 random bits")
		})
	}
}

// A console user's password hash may be argon2id (PHC format) as well as
// bcrypt; a hash the console cannot check stops it from starting.
func TestSignInWithArgon2idHash(t *testing.T) {
	const hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0$FLqtVAlGM3x3PjvDrNiPI4ScXxnu/jvFgAF9AjaaqeA" // of "s3cret"
	st := &fakeStore{}
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{Users: map[string][]byte{"bob": []byte(hash)}}})
	require.Equal(t, 401, post(t, app, "/console/signin", url.Values{"user": {"bob"}, "password": {"s3cre"}}, "").StatusCode)
	resp := post(t, app, "/console/signin", url.Values{"user": {"bob"}, "password": {"s3cret"}}, "")
	require.Equal(t, 303, resp.StatusCode)
	code, body, _ := get(t, app, "/", "Cookie", cookieName+"="+sessionCookie(t, resp))
	require.Equal(t, 200, code)
	require.Contains(t, body, `data-testid="signed-in-user">bob<`)

	for bad, want := range map[string]string{
		strings.Replace(hash, "argon2id", "argon2i", 1):      "must be argon2id",
		strings.Replace(hash, "v=19", "v=16", 1):             "want v=19",
		strings.Replace(hash, "m=64", "m=9999999", 1):        "memory m=9999999",
		strings.Replace(hash, "p=1", "p=0", 1):               "parallelism p=0",
		strings.Replace(hash, "$c2FsdHNhbHQxMjM0", "$!!", 1): "salt",
		"$2a$04$short": "must be a bcrypt",
	} {
		_, err := New(st, Options{Auth: Auth{Users: map[string][]byte{"bob": []byte(bad)}}})
		require.ErrorContains(t, err, want, bad)
	}
}

func TestSessionExpires(t *testing.T) {
	st := &fakeStore{}
	st.put(incident(1, alert.P0, alert.IncidentTriggered, t0))
	clk := clocktest.New(t0)
	c, err := New(st, Options{Actions: st, Now: clk.Now, Auth: Auth{APIToken: "tok", SessionTTL: time.Hour}})
	require.NoError(t, err)
	app := fiber.New()
	c.Register(app)
	tok := sessionCookie(t, post(t, app, "/console/signin", url.Values{"user": {"carol"}, "password": {"tok"}}, ""))
	code, _, _ := get(t, app, "/", "Cookie", cookieName+"="+tok)
	require.Equal(t, 200, code)
	clk.Advance(time.Hour)
	code, _, _ = get(t, app, "/", "Cookie", cookieName+"="+tok)
	require.Equal(t, 303, code, "expired on the server, whatever the cookie says")
}

func TestTrustedUserHeaderOnlyFromTrustedProxies(t *testing.T) {
	st := &fakeStore{}
	st.put(incident(1, alert.P0, alert.IncidentTriggered, t0))
	for _, tc := range []struct {
		name    string
		proxies string
		code    int
	}{
		{"from a trusted proxy", "0.0.0.0/0", 200}, // fiber's test connection comes from 0.0.0.0
		{"from elsewhere", "10.0.0.0/8", 303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{TrustedUserHeader: "X-Forwarded-User",
				TrustedProxies: []netipPrefix{mustPrefix(t, tc.proxies)}}})
			code, body, _ := get(t, app, "/", "X-Forwarded-User", "dave@example.com")
			require.Equal(t, tc.code, code)
			if code == 200 {
				require.Contains(t, body, `data-testid="signed-in-user">dave@example.com<`)
			}
		})
	}
	_, err := New(st, Options{Auth: Auth{TrustedUserHeader: "X-Forwarded-User"}})
	require.ErrorContains(t, err, "trusted_proxies")
	_, err = New(st, Options{Auth: Auth{Users: map[string][]byte{"eve": []byte("plain")}}})
	require.ErrorContains(t, err, `user "eve"`)
}

type netipPrefix = netip.Prefix

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	require.NoError(t, err)
	return p
}

func TestSignInIsThrottled(t *testing.T) {
	st := &fakeStore{}
	clk := clocktest.New(t0)
	c, err := New(st, Options{Actions: st, Now: clk.Now, Auth: Auth{APIToken: "tok"}})
	require.NoError(t, err)
	app := fiber.New()
	c.Register(app)
	wrong := url.Values{"user": {"mallory"}, "password": {"guess"}}
	for i := 0; i < signinBurst; i++ {
		require.Equal(t, 401, post(t, app, "/console/signin", wrong, "").StatusCode)
	}
	resp := post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"tok"}}, "")
	require.Equal(t, 429, resp.StatusCode, "even the right token waits once the burst is spent")
	require.Equal(t, "6", resp.Header.Get("Retry-After"))
	clk.Advance(signinEvery)
	require.Equal(t, 303, post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"tok"}}, "").StatusCode)
}

// A name with a NUL byte is no name: the sign-in is refused with a 400
// and no session starts (the name would be the actor of what the person
// writes, which the database refuses).
func TestSignInRefusesANameWithNUL(t *testing.T) {
	st := &fakeStore{}
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{APIToken: "tok"}})
	resp := post(t, app, "/console/signin", url.Values{"user": {"car\x00ol"}, "password": {"tok"}}, "")
	require.Equal(t, 400, resp.StatusCode)
	require.Empty(t, resp.Cookies())
}

// While every hashing turn is taken (a flood of sign-ins), a sign-in with
// a password waits at most hashWait and is answered 503 with Retry-After;
// the API token needs no hash and still signs in. Once a turn is free the
// password signs in.
func TestSignInBusyWhileHashingIsFull(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	st := &fakeStore{}
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{APIToken: "tok", Users: map[string][]byte{"alice": hash}}})
	defer func(w time.Duration) { hashWait = w }(hashWait)
	hashWait = time.Millisecond
	for range cap(hashing) {
		hashing <- struct{}{}
	}
	drained := false
	drain := func() {
		if !drained {
			drained = true
			for range cap(hashing) {
				<-hashing
			}
		}
	}
	t.Cleanup(drain) // a failure here must not leave later sign-ins busy
	resp := post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"s3cret"}}, "")
	require.Equal(t, 503, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Equal(t, 303, post(t, app, "/console/signin", url.Values{"user": {"bob"}, "password": {"tok"}}, "").StatusCode)

	drain()
	require.Equal(t, 303, post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"s3cret"}}, "").StatusCode)
}
