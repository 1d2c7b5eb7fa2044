package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// Store is what the console reads: the store's own operations, the same
// the API uses.
type Store interface {
	ListIncidents(ctx context.Context, f store.IncidentFilter) ([]alert.Incident, error)
	GetIncident(ctx context.Context, id int64) (*store.IncidentDetail, error)
	IncidentsChangedSince(ctx context.Context, since time.Time, limit int) ([]alert.Incident, error)
	Paged(ctx context.Context, ids []int64) (map[int64][]string, error)
	Jobs(ctx context.Context, inc int64) ([]*store.Job, error)
}

// Actions change incidents on behalf of the signed-in person: the same
// store operations as the API's.
type Actions interface {
	Acknowledge(ctx context.Context, id int64, actor, note string) (*alert.Incident, error)
	Resolve(ctx context.Context, id int64, actor, note string) (*alert.Incident, error)
	PostUpdate(ctx context.Context, id int64, actor, text string) (*alert.Incident, error)
	SetSeverity(ctx context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error)
}

// Defaults of Options.
const (
	defaultPoll         = 500 * time.Millisecond
	defaultStreamFor    = 8 * time.Second
	defaultQueryTimeout = 10 * time.Second
)

// Options are the console's collaborators and knobs; zero values take
// defaults.
type Options struct {
	Logger *zap.Logger
	// Now is the clock (SLA clocks, the event cursor); default time.Now.
	Now func() time.Time
	// Poll is how often an event stream looks for changed incidents
	// (default 500ms).
	Poll time.Duration
	// StreamFor is how long one event stream lasts before the browser
	// reconnects (resuming from its Last-Event-ID): it must stay below
	// server.write_timeout, which bounds every response. Default 8s.
	StreamFor time.Duration
	// Version is shown in the footer.
	Version string
	// Actions, with Auth, lets signed-in people act; without it the
	// console is read-only.
	Actions Actions
	// Auth says who may sign in.
	Auth Auth
	// Runbooks looks up a configured runbook by name.
	Runbooks func(name string) *config.Runbook
	// Plan turns an incident's jobs into what will happen next
	// (router.Engine.Pending).
	Plan func(jobs []*store.Job) []router.PendingStep
	// The other pages, each shown when its dependencies are given:
	// /silences (Silences), /oncall (OnCall and Overrides), /deliveries
	// (Deliveries; OnCall adds the targets' state), /about (Config,
	// Replicas).
	Silences   Silences
	OnCall     OnCall
	Overrides  Overrides
	Deliveries Deliveries
	Replicas   Replicas
	// Config returns the running config (sources, maintenance windows).
	Config func() *config.Config
}

// Console serves the web console. Create it with New; Register mounts it.
type Console struct {
	st        Store
	log       *zap.Logger
	now       func() time.Time
	poll      time.Duration
	streamFor time.Duration
	version   string
	timeout   time.Duration
	actions   Actions
	auth      *authn
	runbooks  func(name string) *config.Runbook
	plan      func(jobs []*store.Job) []router.PendingStep
	sil       Silences
	onc       OnCall
	ovr       Overrides
	dlv       Deliveries
	rep       Replicas
	config    func() *config.Config
	tmpl      *template.Template
	static    map[string]asset
	// assetVersion is a hash of the static files, appended to their URLs
	// so browsers may cache them for long.
	assetVersion string
	done         chan struct{}
}

//go:embed assets
var assetFS embed.FS

// asset is one static file, served from memory.
type asset struct {
	body  []byte
	ctype string
}

// New builds the console over st.
func New(st Store, opts Options) (*Console, error) {
	if st == nil {
		return nil, fmt.Errorf("console: nil store")
	}
	c := &Console{st: st, log: opts.Logger, now: opts.Now, poll: opts.Poll, streamFor: opts.StreamFor,
		version: opts.Version, timeout: defaultQueryTimeout, done: make(chan struct{}),
		actions: opts.Actions, runbooks: opts.Runbooks, plan: opts.Plan,
		sil: opts.Silences, onc: opts.OnCall, ovr: opts.Overrides, dlv: opts.Deliveries, rep: opts.Replicas, config: opts.Config}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.poll <= 0 {
		c.poll = defaultPoll
	}
	if c.streamFor <= 0 {
		c.streamFor = defaultStreamFor
	}
	var err error
	if c.auth, err = newAuthn(opts.Auth, c.now); err != nil {
		return nil, err
	}
	tmpl, err := template.New("console").Funcs(funcs).ParseFS(assetFS, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	c.tmpl = tmpl
	c.static = map[string]asset{}
	h := sha256.New()
	for _, name := range []string{"app.css", "app.js"} {
		b, err := fs.ReadFile(assetFS, path.Join("assets", name))
		if err != nil {
			return nil, fmt.Errorf("console assets: %w", err)
		}
		h.Write(b)
		c.static[name] = asset{body: b, ctype: mime.TypeByExtension(path.Ext(name))}
	}
	c.assetVersion = hex.EncodeToString(h.Sum(nil))[:12]
	return c, nil
}

// Close ends the open event streams; the browsers reconnect to whichever
// gateway serves next. Idempotent.
func (c *Console) Close() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

// csp is the console's Content-Security-Policy: its own script and
// stylesheet, no inline code or style, no external request, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// headers sets the security headers of every console answer.
func headers(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	return c.Next()
}

// Register mounts the console's routes on r. Every page first learns
// who is signed in (c.identify); reads may need a session, and every
// POST needs a session and its CSRF token (c.mustAct).
func (c *Console) Register(r fiber.Router) {
	r.Get("/console/static/:name", headers, c.asset)
	r.Get("/console/signin", headers, c.identify, c.signinPage)
	r.Post("/console/signin", headers, c.identify, c.signin)
	r.Post("/console/signout", headers, c.identify, c.mustAct, c.signout)
	r.Get("/", headers, c.identify, c.mayRead, c.board)
	r.Get("/console/events", headers, c.identify, c.mayRead, c.events)
	r.Get("/incidents/:id", headers, c.identify, c.mayRead, c.incident)
	r.Get("/incidents/:id/postmortem.md", headers, c.identify, c.mayRead, c.postmortem)
	r.Post("/incidents/:id/:action", headers, c.identify, c.mustAct, c.act)
	read := func(path string, h fiber.Handler) { r.Get(path, headers, c.identify, c.mayRead, h) }
	write := func(path string, h fiber.Handler) { r.Post(path, headers, c.identify, c.mustAct, h) }
	if c.sil != nil {
		read("/silences", c.silences)
		read("/console/silences/preview", c.silencePreview)
		write("/silences", c.createSilence)
		write("/silences/:id/expire", c.expireSilence)
	}
	if c.onc != nil && c.ovr != nil {
		read("/oncall", c.oncall)
		write("/oncall/overrides", c.createOverride)
		write("/oncall/overrides/:id/delete", c.deleteOverride)
	}
	if c.dlv != nil {
		read("/deliveries", c.deliveries)
		write("/deliveries/:id/retry", c.retryDelivery)
	}
	read("/about", c.about)
}

// asset serves an embedded static file.
func (c *Console) asset(ctx *fiber.Ctx) error {
	a, ok := c.static[ctx.Params("name")]
	if !ok {
		return c.errorPage(ctx, fiber.StatusNotFound, "No such file.")
	}
	ctx.Set(fiber.HeaderContentType, a.ctype)
	ctx.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return ctx.Send(a.body)
}

// page is what every page template gets.
type page struct {
	Nav          nav
	Title        string
	Now          time.Time
	Version      string
	AssetVersion string
	Auth         authView
	Body         any
}

// nav says which pages the console has.
type nav struct{ Silences, OnCall, Deliveries bool }

// render executes the named page template inside the layout.
func (c *Console) render(ctx *fiber.Ctx, code int, name, title string, body any) error {
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	ctx.Status(code)
	p := page{Nav: nav{Silences: c.sil != nil, OnCall: c.onc != nil && c.ovr != nil, Deliveries: c.dlv != nil}, Title: title, Now: c.now(), Version: c.version, AssetVersion: c.assetVersion, Auth: c.authView(ctx), Body: body}
	if err := c.tmpl.ExecuteTemplate(ctx.Response().BodyWriter(), name, p); err != nil {
		c.log.Error("render page", zap.String("page", name), zap.Error(err))
		ctx.Response().ResetBody()
		ctx.Status(fiber.StatusInternalServerError)
		return ctx.SendString("the page could not be rendered")
	}
	return nil
}

// errorPage answers code with a plain console page saying msg.
func (c *Console) errorPage(ctx *fiber.Ctx, code int, msg string) error {
	return c.render(ctx, code, "error.html", "Error", msg)
}
