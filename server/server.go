package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/pprof"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/config"
)

// Fallbacks for zero values of config.Server (config.Default sets the
// same), so a hand-built config never runs with fiber's unlimited ones.
const (
	defaultMaxBodyBytes = 1 << 20
	defaultReadTimeout  = 10 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultIdleTimeout  = 60 * time.Second
)

// requestTimeout bounds the store call of one API or ingest request. It
// stays below Alertmanager's minimum notification timeout (10s plus
// peer wait), so a slow store answers 503 before the sender gives up.
const requestTimeout = 10 * time.Second

// ingestPrefix is the path of the ingest route without its source.
const ingestPrefix = "/api/v1/alerts/"

// Server is alertgate's HTTP API: alert ingest, incidents, health and
// metrics. Create it with New.
type Server struct {
	app           *fiber.App
	ingester      Ingester
	incidents     Incidents
	actions       Actions
	pinger        Pinger
	replicas      Replicas
	reloadFn      func(ctx context.Context) error
	runbooks      func(name string) *config.Runbook
	silences      Silences
	updater       Updater
	deliveries    Deliveries
	oncall        OnCall
	overrideStore OverrideStore
	ackLinks      AckLinkVerifier
	pagerduty     *PagerDutyWebhook
	console       Mounter
	planFn        PlanFunc
	severity      SeveritySetter
	pprof         bool
	maxSilence    time.Duration
	newDecoder    func(config.Source) (Decoder, error)
	log           *zap.Logger
	now           func() time.Time
	metrics       *metrics
	guard         *apiGuard
	// ownSources is the table New built or UseSources set;
	// sharedSources is Deps.Sources. table reads the one in use.
	ownSources    atomic.Pointer[Sources]
	sharedSources func() *Sources
	budget        *decodeBudget
	limits        adapters.Limits
	draining      atomic.Bool
	// timeout bounds each store call (requestTimeout; shorter in tests).
	timeout time.Duration
}

// New builds the server for cfg and sources. It fails when a required
// dependency is missing, a source can't be built, or a configured secret
// was not loaded.
func New(cfg config.Server, sources []config.Source, deps Deps) (*Server, error) {
	var missing []string
	if deps.Ingester == nil {
		missing = append(missing, "Ingester")
	}
	if deps.Incidents == nil {
		missing = append(missing, "Incidents")
	}
	if deps.Actions == nil {
		missing = append(missing, "Actions")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("server: missing dependencies: %s", strings.Join(missing, ", "))
	}
	s := &Server{
		ingester:      deps.Ingester,
		incidents:     deps.Incidents,
		actions:       deps.Actions,
		pinger:        deps.Pinger,
		replicas:      deps.Replicas,
		reloadFn:      deps.Reload,
		runbooks:      deps.Runbooks,
		silences:      deps.Silences,
		updater:       deps.Updater,
		deliveries:    deps.Deliveries,
		oncall:        deps.OnCall,
		overrideStore: deps.Overrides,
		ackLinks:      deps.AckLinks,
		console:       deps.Console,
		planFn:        deps.Plan,
		severity:      deps.Severity,
		pprof:         cfg.Pprof,
		maxSilence:    cfg.MaxSilenceDuration.D(),
		newDecoder:    deps.NewDecoder,
		sharedSources: deps.Sources,
		log:           deps.Logger,
		now:           deps.Now,
		timeout:       requestTimeout,
	}
	if s.newDecoder == nil {
		s.newDecoder = newAdapterDecoder
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxSilence <= 0 {
		s.maxSilence = config.DefaultMaxSilenceDuration
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, fmt.Errorf("server metrics: %w", err)
	}
	if s.guard, err = newAPIGuard(cfg); err != nil {
		return nil, err
	}
	if err := s.SetSources(sources); err != nil {
		return nil, fmt.Errorf("server sources: %w", err)
	}
	fc := fiberConfig(cfg, s.handleServerError)
	s.app = fiber.New(fc)
	budget := int64(cfg.MaxDecodingBytes)
	if budget <= 0 {
		budget = int64(fc.BodyLimit) + int64(fc.BodyLimit)/4
	}
	s.budget = newDecodeBudget(budget, s.now)
	l := cfg.AlertLimits
	s.limits = adapters.Limits{MaxLabels: l.MaxLabels, MaxLabelNameBytes: l.MaxLabelNameBytes,
		MaxLabelValueBytes: l.MaxLabelValueBytes, MaxAnnotationBytes: l.MaxAnnotationBytes}
	s.pagerduty = NewPagerDutyWebhook(deps.PagerDutySecrets, s.actions, deps.WebhookEvents, s.now, s.log.Named("pagerduty_webhook"))
	s.routes(reg)
	return s, nil
}

func fiberConfig(cfg config.Server, onError fiber.ErrorHandler) fiber.Config {
	c := fiber.Config{
		BodyLimit:             cfg.MaxBodyBytes,
		ReadTimeout:           cfg.ReadTimeout.D(),
		WriteTimeout:          cfg.WriteTimeout.D(),
		IdleTimeout:           cfg.IdleTimeout.D(),
		DisableStartupMessage: true,
		ErrorHandler:          onError,
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = defaultMaxBodyBytes
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = defaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	return c
}

func (s *Server) routes(reg *prometheus.Registry) {
	app := s.app
	app.Use(s.observe, recoverPanics)

	if s.pprof {
		// Profiles show memory: the API token guards them, reads or not.
		app.Use("/debug/pprof", s.guard.handle, pprof.New())
	}
	// Open to monitoring without a token: they carry no alert label values.
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	// Prometheus' and Alertmanager's names for the same checks.
	app.Get("/-/healthy", s.healthz)
	app.Get("/-/ready", s.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})))

	app.Post("/-/reload", s.guard.handle, s.reload)
	if s.ackLinks != nil {
		// The signed token is the credential: no API token here.
		app.Get("/ack/:token", linkHeaders, s.ackLinkPage)
		app.Post("/ack/:token", linkHeaders, s.ackLinkAct)
	}

	// Reads need the API token too unless server.public_reads: incident
	// labels, post-mortems, delivery errors with target answers, the
	// roster.
	read := s.guard.read
	api := app.Group("/api/v1")
	api.Post("/alerts/:source", s.ingest)
	api.Get("/incidents", read, s.listIncidents)
	api.Get("/incidents/:id", read, s.getIncident)
	api.Get("/incidents/:id/postmortem", read, s.postmortem)
	if s.planFn != nil {
		api.Get("/incidents/:id/plan", read, s.plan)
	}
	if s.severity != nil {
		api.Post("/incidents/:id/severity", s.guard.handle, s.setSeverity)
	}
	api.Post("/incidents/:id/ack", s.guard.handle, s.acknowledge)
	api.Post("/incidents/:id/resolve", s.guard.handle, s.resolve)
	if s.oncall != nil && s.overrideStore != nil {
		api.Get("/oncall", read, s.getOnCall)
		api.Post("/oncall/overrides", s.guard.handle, s.createOverride)
		api.Delete("/oncall/overrides/:id", s.guard.handle, s.deleteOverride)
	}
	if s.replicas != nil {
		api.Get("/replicas", read, s.listReplicas)
	}
	if s.deliveries != nil {
		api.Get("/deliveries", read, s.listDeliveries)
		api.Post("/deliveries/:id/retry", s.guard.handle, s.retryDelivery)
	}
	if s.updater != nil {
		api.Post("/incidents/:id/updates", s.guard.handle, s.postUpdate)
	}
	if s.pagerduty != nil {
		api.Post("/webhooks/pagerduty", s.pagerduty.Handle)
	}
	if s.silences != nil {
		api.Get("/silences", read, s.listSilences)
		api.Post("/silences", s.guard.handle, s.createSilence)
		api.Delete("/silences/:id", s.guard.handle, s.expireSilence)
		api.Get("/alerts", read, s.listAlerts)
	}

	if s.console != nil {
		s.console.Register(app)
	}

	app.Use(func(c *fiber.Ctx) error {
		return notFound("no route for %s %s", c.Method(), logPath(c.Path()))
	})
}

// App returns the fiber app, for app.Test in tests.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(lingerListener{Listener: ln})
}

// Shutdown closes the listener and waits for requests in flight to
// finish or ctx to end. Requests still arriving on open keep-alive
// connections meanwhile get 503 from /readyz.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	defer s.budget.stop()
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("server shutdown: %w", err)
	}
	return nil
}

// localSource is the fiber.Ctx local under which the ingest handler
// leaves the metric label of its source.
const localSource = "alertgate.source"

// observe answers errors, logs rejections and failures, and records the
// ingest metrics. It runs first, so it sees every request that reached
// routing, panics included (recoverPanics runs right after it).
func (s *Server) observe(c *fiber.Ctx) error {
	start := s.now()
	err := c.Next()
	var a answer
	if err != nil {
		a = writeError(c, err)
	}
	code := c.Response().StatusCode()
	source, isIngest := c.Locals(localSource).(string)
	if isIngest {
		s.metrics.observeIngest(source, code, s.now().Sub(start))
	}
	if err == nil {
		if !isIngest && strings.HasPrefix(c.Path(), "/api/") {
			s.log.Debug("request", zap.String("method", c.Method()),
				zap.String("path", logPath(c.Path())), zap.Int("code", code))
		}
		return nil
	}

	fields := []zap.Field{
		zap.String("method", c.Method()),
		zap.String("path", logPath(c.Path())),
		zap.Int("code", code),
		zap.String("remote_ip", c.IP()),
	}
	if isIngest {
		fields = append(fields, zapSource(source))
	}
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		s.log.Error("request panicked", append(fields, zap.Error(err), zap.ByteString("stack", pe.stack))...)
	case a.retryAfter:
		s.log.Warn("request deferred", append(fields, zap.Error(err))...)
	case code >= fiber.StatusInternalServerError:
		s.log.Error("request failed", append(fields, zap.Error(err))...)
	case isIngest || code == fiber.StatusUnauthorized:
		s.log.Warn("request rejected", append(fields, zap.String("reason", a.msg))...)
	default:
		s.log.Debug("request rejected", append(fields, zap.String("reason", a.msg))...)
	}
	return nil
}

// handleServerError is fiber's ErrorHandler. Errors from handlers never
// get here (observe answers them); it answers what fasthttp rejects
// before routing: bodies over the limit (413), oversized headers (431),
// read timeouts. fasthttp closes the connection afterwards; it lingers so
// the client reads the answer (see lingerListener).
func (s *Server) handleServerError(c *fiber.Ctx, err error) error {
	lingerOnClose(c)
	if errors.Is(err, fiber.ErrRequestEntityTooLarge) {
		err = newHTTPError(fiber.StatusRequestEntityTooLarge,
			"request body too large (limit %d bytes)", s.app.Config().BodyLimit)
	}
	a := writeError(c, err)
	fields := []zap.Field{
		zap.String("method", c.Method()),
		zap.String("path", logPath(c.Path())),
		zap.Int("code", a.code),
		zap.String("remote_ip", c.IP()),
		zap.String("reason", a.msg),
	}
	if name, ok := strings.CutPrefix(c.Path(), ingestPrefix); ok {
		label := s.table().label(name)
		s.metrics.requests.WithLabelValues(label, strconv.Itoa(a.code)).Inc()
		fields = append(fields, zapSource(label))
	}
	s.log.Warn("request rejected", fields...)
	return nil
}

func zapSource(name string) zap.Field { return zap.String("source", name) }

// logPath is a request path as logs may show it: the token of a one-click
// link (/ack/<token>) is a credential and is masked.
func logPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/ack/"); ok && rest != "" {
		return "/ack/<token>"
	}
	return strings.Clone(p)
}
