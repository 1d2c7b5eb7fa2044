package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	amalert "github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// The console in a real headless Chromium against real gateway processes
// (each on its own temporary SQLite database). One browser serves every
// subtest; each subtest gets its own browser context (cookies) and its
// own gateway.
//
// ALERTGATE_CHROMIUM names the browser binary (default: chromium,
// chromium-browser, google-chrome or headless-shell on the PATH).
// ALERTGATE_SCREENSHOTS=docs/screenshots (relative to the repository
// root) saves the README's screenshots; `make screenshots` does that.
func TestBrowser(t *testing.T) {
	exe := chromiumPath()
	if os.Getenv("ALERTGATE_SCREENSHOTS") != "" && (exe == "" || testing.Short()) {
		t.Fatal("ALERTGATE_SCREENSHOTS is set: the screenshots need chromium and no -short")
	}
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	if exe == "" {
		t.Skip("browser tests skipped: no chromium found (install Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first Run starts the browser; it lives as long as browserCtx.
	require.NoError(t, chromedp.Do(browserCtx), "start %s", exe)

	t.Run("OnCallWorkflow", func(t *testing.T) { browserWorkflow(t, browserCtx) })
	t.Run("UnauthenticatedCannotChange", func(t *testing.T) { browserUnauthenticated(t, browserCtx) })
	t.Run("HostileAlertIsInert", func(t *testing.T) { browserXSS(t, browserCtx) })
	t.Run("BoardSurvivesGatewayRestart", func(t *testing.T) { browserRestart(t, browserCtx) })
	t.Run("KeyboardOnly", func(t *testing.T) { browserKeyboard(t, browserCtx) })
}

// chromiumPath finds the browser, or "".
func chromiumPath() string {
	if p := os.Getenv("ALERTGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// consoleToken is the server.api_token people sign in with.
const consoleToken = "console-token"

// pageSink is the webhook target of a browser test's gateway: it answers
// 400 to pages while refusing (so they become dead letters) and records
// the pages it accepts.
type pageSink struct {
	srv      *httptest.Server
	refuse   atomic.Bool
	mu       sync.Mutex
	accepted []string // idempotency keys
}

func (s *pageSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

func newPageSink(t *testing.T, refuse bool) *pageSink {
	s := &pageSink{}
	s.refuse.Store(refuse)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h hook
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &h)
		if h.Kind == "page" {
			if s.refuse.Load() {
				http.Error(w, "no such channel", http.StatusBadRequest)
				return
			}
			s.mu.Lock()
			s.accepted = append(s.accepted, r.Header.Get("Idempotency-Key"))
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// startConsoleGateway runs the issue's config as a separate gateway
// process, with serverYAML as its server line and extra appended.
func startConsoleGateway(t *testing.T, sinkURL, serverYAML, extra string) string {
	t.Helper()
	return startChild(t, writeConsoleConfig(t, t.TempDir(), sinkURL, serverYAML, extra)).url
}

// writeConsoleConfig writes the issue's config with its database in dir.
func writeConsoleConfig(t *testing.T, dir, sinkURL, serverYAML, extra string) string {
	t.Helper()
	cfg := strings.Replace(issueConfig, `server: { listen: "127.0.0.1:8080" }`, serverYAML, 1)
	cfg = strings.Replace(cfg, "./data/alertgate.db", filepath.Join(dir, "alertgate.db"), 1)
	cfg = strings.Replace(cfg, "http://127.0.0.1:9999/hook", sinkURL+"/hook", 1)
	path := filepath.Join(dir, "alertgate.yml")
	require.NoError(t, os.WriteFile(path, []byte(cfg+extra), 0o600))
	return path
}

// tab is one browser tab in its own browser context.
type tab struct {
	t       *testing.T
	ctx     context.Context
	base    string
	dialogs atomic.Int32
}

func newTab(t *testing.T, browserCtx context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, base: base}
	// Any alert(), confirm() or prompt() is counted and dismissed (a
	// dialog left open would block the page).
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}) //nolint:errcheck
		}
	}))
	return b
}

// do runs browser actions with a deadline.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

// open loads a console path and waits until sel is visible.
func (b *tab) open(path, sel string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// js evaluates a JavaScript expression in the page.
func js[T any](b *tab, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	require.NoError(b.t, err, "evaluate %s", expr)
	return v
}

// until waits for a JavaScript condition, across navigations (an
// evaluation that a navigation interrupts is tried again), failing the
// test after the timeout.
func (b *tab) until(cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Fatalf("after %v on %s: still not %s (last error: %v)", timeout, loc, cond, lastErr)
		}
		<-tick.C
	}
}

// reloadUntil loads path again until cond holds on it (for pages that
// do not update live), failing the test after the timeout.
func (b *tab) reloadUntil(path, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		b.open(path, "h1")
		if js[bool](b, "Boolean("+cond+")") {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("after %v, %s still shows not %s", timeout, path, cond)
		}
		<-tick.C
	}
}

// submit clicks a form's button and waits until the next page is loaded
// and cond holds on it.
func (b *tab) submit(button, cond string) {
	b.t.Helper()
	js[bool](b, "window.__beforeSubmit = true")
	b.click(button)
	b.until("!window.__beforeSubmit && document.readyState === 'complete' && ("+cond+")", 10*time.Second)
}

// click clicks the first element matching sel. A live page (the board
// re-renders its rows when an event arrives) can replace the node between
// chromedp finding it and clicking it; the click then never happened, so
// it is tried again on the new node until the deadline.
func (b *tab) click(sel string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "Could not find node") && !strings.Contains(err.Error(), "No node with given id") || time.Now().After(deadline) {
			require.NoError(b.t, err, "click %s", sel)
		}
	}
}

// follow clicks the link sel on a live page and waits until the page it
// leads to shows want. The board re-renders its rows when an event
// arrives: a click that chromedp aimed at a row replaced meanwhile lands
// on nothing and navigates nowhere, so while the link is still there the
// click is tried again, until the deadline (a page still loading is
// waited for).
func (b *tab) follow(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	b.click(sel)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(want)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			require.NoError(b.t, err, "follow %s to %s", sel, want)
		}
		ctx, cancel = context.WithTimeout(b.ctx, time.Second)
		still, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
		cancel()
		if err == nil && still {
			b.click(sel)
		}
	}
}

// text is the trimmed text content of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return js[string](b, fmt.Sprintf("(document.querySelector(%q)?.textContent ?? '').trim()", sel))
}

// screenshot saves the viewport as name.png when ALERTGATE_SCREENSHOTS
// names a directory (relative paths from the repository root).
func (b *tab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("ALERTGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
	b.t.Logf("screenshot %s.png: %d KB", name, len(png)/1024)
}

// postAlert sends one firing alert as Alertmanager's webhook does.
func postAlert(t *testing.T, base string, a *amalert.Alert) {
	t.Helper()
	require.NoError(t, newAMNotifier(t, base+"/api/v1/alerts/alertmanager", "s3cret").send(t, a))
}

// The daily work of an on-call engineer, in the browser: an incident
// reaches an already open board live, the person signs in, acknowledges,
// silences it with a preview, adds an on-call override and retries a
// dead letter.
func browserWorkflow(t *testing.T, browserCtx context.Context) {
	sk := newPageSink(t, true)
	base := startConsoleGateway(t, sk.srv.URL, `server: { listen: "127.0.0.1:0", api_token: `+consoleToken+`, public_reads: true }`, "")
	b := newTab(t, browserCtx, base)

	// The board is open (read-only until sign-in) and live before the
	// alert arrives.
	b.open("/", `[data-testid="board-empty"]`)
	b.until(`document.getElementById('live').textContent === 'Live'`, 10*time.Second)
	js[bool](b, "window.__sameDocument = true")
	require.Contains(t, b.text(`[data-testid="read-only"]`), "Read-only until you sign in")

	postAlert(t, base, amFiring("PaymentsDown", "payments", "critical", time.Now()))
	b.until(`document.getElementById('row-INC-1')`, 10*time.Second)
	require.True(t, js[bool](b, "window.__sameDocument === true"), "the row arrived without a reload")
	require.Equal(t, "triggered", js[string](b, `document.getElementById('row-INC-1').dataset.status`))
	require.True(t, js[bool](b, `document.getElementById('board-empty').classList.contains('hidden')`))

	// Two more incidents, so the board (and its screenshot) shows order
	// by severity.
	start := time.Now().Add(-3 * time.Minute)
	postAlert(t, base, amFiring("CheckoutLatencyHigh", "checkout", "warning", start))
	postAlert(t, base, amFiring("DiskFillingUp", "storage", "info", start))
	b.until(`document.querySelectorAll('[data-testid="incident-row"]').length === 3`, 10*time.Second)
	require.Equal(t, "INC-1", js[string](b, `document.querySelector('[data-testid="incident-row"]').dataset.incident`),
		"the most severe incident first")
	b.screenshot("board")

	// Sign in from the board.
	b.click(`[data-testid="signin-link"]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`#signin-user`), "alice"), chromedp.SendKeys(chromedp.CSS(`#signin-password`), consoleToken))
	b.submit(`#signin-submit`, `document.querySelector('[data-testid="signed-in-user"]')`)
	require.Equal(t, "alice", b.text(`[data-testid="signed-in-user"]`))

	// Acknowledge from the incident page: the status and the timeline name
	// alice.
	b.open("/", `#row-INC-1 [data-testid="incident-link"]`)
	b.follow(`#row-INC-1 [data-testid="incident-link"]`, `#action-ack`)
	require.Equal(t, "triggered", b.text(`[data-testid="incident-status"]`))
	b.submit(`#action-ack`, `document.querySelector('[data-testid="incident"]')?.dataset.status === 'acknowledged'`)
	require.Equal(t, "acknowledged", b.text(`[data-testid="incident-status"]`))
	require.Equal(t, "alice", b.text(`[data-testid="incident-acked-by"]`))
	require.Equal(t, "alice", b.text(`[data-testid="timeline-event"][data-kind="acknowledged"] .actor`))
	require.Zero(t, js[int](b, `document.querySelectorAll('#action-ack').length`), "no second acknowledgement")
	b.screenshot("incident")

	// A silence from the incident: matchers pre-filled, the live preview
	// names the incident's firing alert, and the silence is alice's.
	b.click(`[data-testid="silence-from-incident"]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`#silence-form`)))
	matchers := js[string](b, `document.getElementById('silence-matchers').value`)
	require.Contains(t, matchers, `alertname="PaymentsDown"`)
	b.until(`document.getElementById('silence-preview').textContent === '1 firing alert would be silenced'`, 5*time.Second)
	require.Contains(t, b.text(`#silence-preview-list li`), "INC-1")
	// Editing the matchers updates the preview.
	b.do(chromedp.SetValue(chromedp.CSS(`#silence-matchers`), `service=~"payments|checkout"`),
		chromedp.SendKeys(chromedp.CSS(`#silence-matchers`), "\n"))
	b.until(`document.getElementById('silence-preview').textContent === '2 firing alerts would be silenced'`, 5*time.Second)
	b.do(chromedp.SetValue(chromedp.CSS(`#silence-matchers`), matchers), chromedp.SendKeys(chromedp.CSS(`#silence-matchers`), " "))
	b.until(`document.getElementById('silence-preview').textContent === '1 firing alert would be silenced'`, 5*time.Second)
	b.do(chromedp.SendKeys(chromedp.CSS(`#silence-comment`), "payments deploy"))
	b.submit(`#silence-submit`, `document.querySelector('[data-testid="silences-Active"] [data-testid="silence-row"]')`)
	row := b.text(`[data-testid="silences-Active"] [data-testid="silence-row"]`)
	require.Contains(t, row, `alertname="PaymentsDown"`)
	require.Contains(t, row, "alice")
	require.Contains(t, row, "payments deploy")

	// An override on the on-call page.
	b.click(`[data-testid="nav-oncall"]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`#override-form`)))
	require.NotZero(t, js[int](b, `document.querySelectorAll('[data-testid="overrides-empty"]').length`))
	b.do(chromedp.SetValue(chromedp.CSS(`#override-role`), "oncall"),
		chromedp.SendKeys(chromedp.CSS(`#override-member`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`#override-targets`), "sink"))
	b.submit(`#override-submit`, `document.querySelector('[data-testid="override-row"]')`)
	ovr := b.text(`[data-testid="override-row"]`)
	require.Contains(t, ovr, "oncall")
	require.Contains(t, ovr, "bob")
	require.Contains(t, ovr, "alice")
	require.Contains(t, b.text(`[data-testid="oncall-role"][data-role="oncall"]`), "bob", "the override pages now")

	// The pages the sink refused (400) are dead letters; once the target
	// is fixed, Retry delivers INC-1's.
	dead := `[...document.querySelectorAll('[data-testid="delivery-row"][data-state="dead"]')].find(r => r.querySelector('a')?.textContent === 'INC-1')`
	b.click(`[data-testid="nav-deliveries"]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`h1`)))
	b.reloadUntil("/deliveries", dead, 5*time.Second)
	id := js[string](b, dead+".dataset.delivery")
	require.Contains(t, b.text(`[data-delivery="`+id+`"]`), "400")
	require.Empty(t, sk.keys())
	sk.refuse.Store(false)
	b.submit(`[data-delivery="`+id+`"] [data-testid="delivery-retry"]`, `!document.querySelector('[data-delivery="`+id+`"]')`)
	require.Eventually(t, func() bool { return slices.Contains(sk.keys(), "INC-1/page/oncall#0/sink") }, 5*time.Second, 10*time.Millisecond,
		"the retried page is delivered")

	require.Zero(t, b.dialogs.Load())
	phoneLayout(t, browserCtx, base)
}

// phoneLayout checks every page at 360 px wide (a phone): nothing wider
// than the screen, so no sideways scrolling; and the dark theme follows
// the system setting. It takes the phone screenshot.
func phoneLayout(t *testing.T, browserCtx context.Context, base string) {
	b := newTab(t, browserCtx, base)
	b.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, path := range []string{"/incidents/INC-1", "/silences", "/oncall", "/deliveries", "/about", "/"} {
		fitsPhone(t, b, path)
	}
	b.until(`document.getElementById('live').textContent === 'Live'`, 10*time.Second)
	b.screenshot("phone")
	// Each incident is a card inside the screen, with its longest clock
	// text too: nothing scrolls sideways within the board either.
	require.Equal(t, 360, js[int](b, `Math.round(document.querySelector('#board tr[data-testid="incident-row"]').getBoundingClientRect().right + 8)`))
	require.True(t, js[bool](b, `(() => { document.querySelectorAll('#board .sla').forEach(e => { delete e.dataset.due; e.textContent = 'breached 23h 59m ago' });
		const w = document.querySelector('.tablewrap'); return w.scrollWidth <= w.clientWidth })()`), "the board's cards fit the screen")
	b.open("/", `[data-testid="incident-row"]`)

	light := js[string](b, "getComputedStyle(document.body).backgroundColor")
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}))
	dark := js[string](b, "getComputedStyle(document.body).backgroundColor")
	require.NotEqual(t, light, dark, "a dark theme when the system asks for one")
	require.Less(t, luminance(t, dark), 0.2, "dark background %s", dark)
	require.Greater(t, luminance(t, js[string](b, "getComputedStyle(document.body).color")), 0.6, "light text")

	// Long unbroken text (an alert's runbook_url, which becomes the
	// incident's runbook and a heading; a title without spaces) wraps
	// instead of widening the page.
	long := "https://wiki.example.com/runbooks/" + strings.Repeat("payments-gateway-", 6) + "latency"
	a := amFiring("PaymentsGatewayLatencyAboveTheThresholdForTheLastFifteenMinutes", "payments-gateway", "warning", time.Now())
	a.Annotations["runbook_url"] = model.LabelValue(long)
	a.Annotations["dashboard_url"] = model.LabelValue(long + "/dashboard")
	postAlert(t, base, a)
	b.until(`document.querySelector('[data-testid="incident-row"][data-incident="INC-4"]')`, 10*time.Second)
	fitsPhone(t, b, "/incidents/INC-4")
	require.Contains(t, b.text(`#h-runbook`), long)
}

// fitsPhone opens path on a 360 px tab and checks that nothing is wider
// than the screen (no sideways scrolling), naming what is if something is.
func fitsPhone(t *testing.T, b *tab, path string) {
	t.Helper()
	b.open(path, "h1")
	require.LessOrEqual(t, js[int](b, "document.documentElement.scrollWidth"), 360, "%s fits 360 px; wider: %v", path,
		js[[]string](b, `[...document.querySelectorAll('body *')].filter(e => { if (Math.max(e.getBoundingClientRect().right, e.getBoundingClientRect().left + e.scrollWidth) <= 361) return false; for (let a = e.parentElement; a; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return false; return true }).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().left + e.scrollWidth))`))
}

// luminance is the lightness (0 black to 1 white) of a CSS rgb() colour.
func luminance(t *testing.T, css string) float64 {
	var r, g, bl float64
	_, err := fmt.Sscanf(strings.ReplaceAll(css, ",", " "), "rgb(%f %f %f)", &r, &g, &bl)
	require.NoError(t, err, "colour %q", css)
	return (0.2126*r + 0.7152*g + 0.0722*bl) / 255
}

// The board keeps working across a gateway restart: the gateway is
// killed, the board says it is reconnecting, and once a new process
// serves on the same address and database, changes reach the board again
// without a reload.
func browserRestart(t *testing.T, browserCtx context.Context) {
	sk := newPageSink(t, false)
	dir := t.TempDir()
	first := startChild(t, writeConsoleConfig(t, dir, sk.srv.URL, `server: { listen: "127.0.0.1:0" }`, ""))
	b := newTab(t, browserCtx, first.url)
	b.open("/", `[data-testid="board-empty"]`)
	b.until(`document.getElementById('live').textContent === 'Live'`, 10*time.Second)
	js[bool](b, "window.__sameDocument = true")
	postAlert(t, first.url, amFiring("PaymentsDown", "payments", "critical", time.Now()))
	b.until(`document.getElementById('row-INC-1')`, 10*time.Second)

	first.kill(t)
	b.until(`document.getElementById('live').textContent === 'Reconnecting…'`, 10*time.Second)
	addr := strings.TrimPrefix(first.url, "http://")
	second := startChild(t, writeConsoleConfig(t, dir, sk.srv.URL, `server: { listen: "`+addr+`" }`, ""))
	require.Equal(t, first.url, second.url)
	b.until(`document.getElementById('live').textContent === 'Live'`, 15*time.Second)

	require.Equal(t, http.StatusOK, post(t, second.url+"/api/v1/incidents/INC-1/ack", `{"actor":"bob"}`))
	b.until(`document.getElementById('row-INC-1').dataset.status === 'acknowledged'`, 10*time.Second)
	require.Contains(t, b.text(`#row-INC-1 .who`), "bob")
	postAlert(t, second.url, amFiring("CheckoutDown", "checkout", "critical", time.Now()))
	b.until(`document.getElementById('row-INC-2')`, 10*time.Second)
	require.True(t, js[bool](b, "window.__sameDocument === true"), "no reload")
	require.Zero(t, b.dialogs.Load())
}

// A browser that is not signed in sees no action and every POST it can
// make is refused: with no credentials configured (read-only console),
// and with sign-in configured but reads public.
func browserUnauthenticated(t *testing.T, browserCtx context.Context) {
	for _, tc := range []struct {
		name, server, extra, banner string
		code                        int
	}{
		{"NoSignInConfigured", `server: { listen: "127.0.0.1:0" }`, "", "Read-only console: no sign-in is configured", http.StatusForbidden},
		{"NotSignedIn", `server: { listen: "127.0.0.1:0", api_token: ` + consoleToken + `, public_reads: true }`, "", "Read-only until you sign in", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sk := newPageSink(t, true)
			base := startConsoleGateway(t, sk.srv.URL, tc.server, tc.extra)
			postAlert(t, base, amFiring("PaymentsDown", "payments", "critical", time.Now()))
			b := newTab(t, browserCtx, base)

			// The sink refused the page: a dead letter a signed-in person
			// could retry.
			b.reloadUntil("/deliveries", `document.querySelector('[data-testid="delivery-row"][data-state="dead"]')`, 5*time.Second)
			b.open("/incidents/INC-1", `[data-testid="incident"]`)
			require.Contains(t, b.text(`[data-testid="read-only"]`), tc.banner)
			require.Equal(t, "triggered", b.text(`[data-testid="incident-status"]`))
			for _, path := range []string{"/incidents/INC-1", "/silences", "/oncall", "/deliveries"} {
				b.open(path, "h1")
				require.Zero(t, js[int](b, `document.querySelectorAll('form[method="post"], [data-testid^="action-"], [data-testid="delivery-retry"], [data-testid="silence-expire"], [data-testid="override-delete"]').length`),
					"%s offers no action", path)
			}
			id := js[string](b, `document.querySelector('[data-testid="delivery-row"]').dataset.delivery`)

			// Forged form posts from the console's own origin, with and
			// without a made-up CSRF token, are refused.
			for _, p := range []struct{ path, form string }{
				{"/incidents/INC-1/ack", "note=x"},
				{"/incidents/INC-1/resolve", "note=x"},
				{"/incidents/INC-1/update", "note=x"},
				{"/incidents/INC-1/severity", "severity=P3"},
				{"/silences", "matchers=service%3D%22payments%22&duration=1h"},
				{"/oncall/overrides", "role=oncall&member=mallory&targets=sink&duration=1h"},
				{"/deliveries/" + id + "/retry", ""},
			} {
				for _, form := range []string{p.form, p.form + "&csrf=forged"} {
					code := js[int](b, fmt.Sprintf(`fetch(%q, {method: 'POST', redirect: 'manual', credentials: 'same-origin',
						headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: %q}).then(r => r.status)`, p.path, form),
						chromedp.EvalAwaitPromise)
					require.Equal(t, tc.code, code, "POST %s %s", p.path, form)
				}
			}

			// Nothing changed.
			b.open("/incidents/INC-1", `[data-testid="incident"]`)
			require.Equal(t, "triggered", b.text(`[data-testid="incident-status"]`))
			require.Equal(t, "—", b.text(`[data-testid="incident-acked-by"]`))
			require.NotContains(t, js[string](b, `document.querySelector('[data-testid="incident"] .sev').textContent`), "P3")
			require.Zero(t, js[int](b, `document.querySelectorAll('[data-kind="update"]').length`))
			b.open("/silences", "h1")
			require.Zero(t, js[int](b, `document.querySelectorAll('[data-testid="silence-row"]').length`))
			b.open("/oncall", "h1")
			require.Zero(t, js[int](b, `document.querySelectorAll('[data-testid="override-row"]').length`))
			b.open("/deliveries", "h1")
			require.Equal(t, "dead", js[string](b, `document.querySelector('[data-delivery="`+id+`"]').dataset.state`))
			require.Empty(t, sk.keys())
		})
	}
}

// An alert whose labels and annotations hold markup and javascript: URLs
// renders as text and inert links, on the live board and on the
// incident page: no dialog, no injected element or handler.
func browserXSS(t *testing.T, browserCtx context.Context) {
	sk := newPageSink(t, false)
	base := startConsoleGateway(t, sk.srv.URL, `server: { listen: "127.0.0.1:0" }`, "")
	b := newTab(t, browserCtx, base)
	b.open("/", `[data-testid="board-empty"]`)
	b.until(`document.getElementById('live').textContent === 'Live'`, 10*time.Second)

	const title = `<script>alert("title")</script><img src=x onerror=alert("img")>`
	now := time.Now()
	postAlert(t, base, amalert.New(model.Alert{
		Labels: model.LabelSet{
			"alertname": `<script>alert("alertname")</script>`,
			"service":   `"><svg onload=alert("service")>`,
			"severity":  "critical",
			"team":      `</dd><script>alert("label")</script>`,
		},
		Annotations: model.LabelSet{
			"summary":       model.LabelValue(title),
			"description":   `<iframe src="javascript:alert('description')"></iframe> [click](javascript:alert('md'))`,
			"runbook_url":   `javascript:alert("runbook")`,
			"dashboard_url": ` JaVaScRiPt:alert("dashboard")`,
			"panel":         `data:text/html,<script>alert("panel")</script>`,
			"note":          `<a href="javascript:alert('note')">note</a>`,
		},
		GeneratorURL: `javascript:alert(document.cookie)`,
		StartsAt:     now,
	}, now, false))

	// The live board inserts the row the server rendered.
	b.until(`document.getElementById('row-INC-1')`, 10*time.Second)
	assertInert(t, b)
	require.Contains(t, b.text(`#row-INC-1`), `<script>`, "the markup shows as text")

	b.follow(`#row-INC-1 [data-testid="incident-link"]`, `[data-testid="alert"]`)
	assertInert(t, b)
	require.Contains(t, b.text(`[data-testid="incident"] h1`), `<script>`)
	al := b.text(`[data-testid="alert"]`)
	for _, s := range []string{`<script>alert("label")</script>`, `<iframe src="javascript:alert('description')"></iframe>`, `javascript:alert("runbook")`, `javascript:alert(document.cookie)`} {
		require.Contains(t, al, s, "shown as text")
	}
	require.GreaterOrEqual(t, js[int](b, `document.querySelectorAll('[data-testid="inert-link"]').length`), 4,
		"the javascript: and data: links are plain text")
	require.Zero(t, b.dialogs.Load(), "no script ran")
}

// assertInert checks that the page holds only the console's own script,
// no element or attribute the alert injected, and no javascript: link.
func assertInert(t *testing.T, b *tab) {
	t.Helper()
	require.Equal(t, []string{"/console/static/app.js"},
		js[[]string](b, `[...document.querySelectorAll('script')].map(s => new URL(s.src || 'inline:', location.href).pathname)`))
	require.Zero(t, js[int](b, `document.querySelectorAll('main img, main svg, main iframe, main object, main embed').length`))
	require.Empty(t, js[[]string](b, `[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))`))
	require.Empty(t, js[[]string](b, `[...document.querySelectorAll('a[href], iframe[src], form[action]')].map(e => e.href || e.src || e.action).filter(u => !/^https?:/i.test(u))`))
	require.Zero(t, b.dialogs.Load(), "no dialog opened")
}

// The console works from the keyboard alone: sign in, reach an incident
// from the board and acknowledge it with Tab and Enter, the focused
// control always visibly outlined.
func browserKeyboard(t *testing.T, browserCtx context.Context) {
	sk := newPageSink(t, false)
	base := startConsoleGateway(t, sk.srv.URL, `server: { listen: "127.0.0.1:0", api_token: `+consoleToken+` }`, "")
	postAlert(t, base, amFiring("PaymentsDown", "payments", "critical", time.Now()))
	b := newTab(t, browserCtx, base)

	// The board sends to the sign-in page, whose name field has the focus.
	b.open("/", "#signin-form")
	require.Equal(t, "signin-user", js[string](b, "document.activeElement.id"))
	b.do(chromedp.KeyEvent("alice"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(consoleToken))
	js[bool](b, "window.__beforeSubmit = true")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.until(`!window.__beforeSubmit && document.readyState === 'complete' && document.getElementById('row-INC-1')`, 10*time.Second)
	require.Equal(t, "alice", b.text(`[data-testid="signed-in-user"]`))

	// The first Tab reaches the skip link, shown once focused.
	b.do(chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "Skip to content", js[string](b, "document.activeElement.textContent"))
	require.GreaterOrEqual(t, js[float64](b, "document.activeElement.getBoundingClientRect().left"), 0.0, "the skip link is on screen when focused")

	tabTo := func(cond string) {
		t.Helper()
		for i := 0; i < 40; i++ {
			b.do(chromedp.KeyEvent(kb.Tab))
			if js[bool](b, "Boolean("+cond+")") {
				require.NotEqual(t, "none", js[string](b, "getComputedStyle(document.activeElement).outlineStyle"), "the focus is visible")
				return
			}
		}
		t.Fatalf("40 Tabs never reached %s", cond)
	}
	tabTo(`document.activeElement.closest('#row-INC-1') && document.activeElement.dataset.testid === 'incident-link'`)
	js[bool](b, "window.__beforeSubmit = true")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.until(`!window.__beforeSubmit && document.readyState === 'complete' && document.getElementById('action-ack')`, 10*time.Second)

	tabTo(`document.activeElement.id === 'action-ack'`)
	js[bool](b, "window.__beforeSubmit = true")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.until(`!window.__beforeSubmit && document.readyState === 'complete' && document.querySelector('[data-testid="incident"]')?.dataset.status === 'acknowledged'`, 10*time.Second)
	require.Equal(t, "alice", b.text(`[data-testid="incident-acked-by"]`))
}
