package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/console"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/rules"
	"github.com/alertgate/alertgate/store"
)

// GatewayOptions are the process-level dependencies of a Gateway.
type GatewayOptions struct {
	Logger *zap.Logger
	// Now is the clock of the whole pipeline; default time.Now.
	Now     func() time.Time
	Version string
	// Listener, when set, is served instead of listening on
	// cfg.Server.Listen (tests pass one on 127.0.0.1:0).
	Listener net.Listener
	// HTTPClient sends every outbound request; default a client with
	// connection timeouts (each attempt also has its target's timeout).
	HTTPClient *http.Client
	// Registry receives all metrics; default a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
	// EnginePoll overrides how often the router looks for work it was not
	// woken for (default 1s).
	EnginePoll time.Duration
	// ConfigPath is the file the config came from; SIGHUP and
	// POST /-/reload read it again. Empty: the built-in defaults, no reload.
	ConfigPath string
	// Targets are the target types the gateway knows; default
	// notifier.Default (every type in router/notifier.Types).
	Targets *notifier.Registry
}

// Gateway is the whole alertgate process: store, rules, router and HTTP
// server, wired from one validated config.
type Gateway struct {
	// gen is the running config and everything made from it; the store
	// (policy), the router (routing) and the server (sources) read their
	// piece through it, so a reload switches them all in one store.
	gen    atomic.Pointer[generation]
	log    *zap.Logger
	store  *store.Store
	engine *router.Engine
	srv    *Server
	// console is the web console; Run closes its event streams first so
	// the shutdown does not wait for them.
	console *console.Console
	ln      net.Listener

	// serving is the server section the process runs with (the file's,
	// with serve --listen applied), kept for its life: a reload's server
	// section takes effect at a restart.
	serving    config.Server
	configPath string
	targets    *notifier.Registry
	version    string
	reloadMu   sync.Mutex
	reloads    *prometheus.CounterVec
	lastReload prometheus.Gauge
	// reloadedAt is when the running config was loaded (start or the
	// last successful reload); configHash is its fingerprint as a float.
	reloadedAt prometheus.Gauge
	configHash prometheus.Gauge
	now        func() time.Time

	closeOnce sync.Once
}

// NewGateway opens the database (running migrations), builds every
// component and binds the listener, so that configuration and storage
// errors surface before Run.
func NewGateway(ctx context.Context, cfg *config.Config, opts GatewayOptions) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	client := opts.HTTPClient
	if client == nil {
		client = notify.NewHTTPClient()
	}
	// Load checks this too; a listen address set after it (serve
	// --listen) is checked here, before anything is opened.
	if err := cfg.Exposure(); err != nil {
		return nil, err
	}
	if cfg.Server.AllowUnauthenticated {
		log.Warn("server.allow_unauthenticated is set: anyone who reaches the listen address may use what takes no credentials",
			zap.String("listen", cfg.Server.Listen), zap.Strings("unauthenticated", cfg.Unauthenticated()))
	}
	classifier, err := rules.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	targets := opts.Targets
	if targets == nil {
		targets = notifier.Default
	}
	// Load has run it when given the check; a config loaded without it
	// gets its targets' settings decoded and checked here.
	if err := targets.Check(cfg); err != nil {
		return nil, err
	}
	planner := router.NewPlanner(cfg)
	// Each component is built with its own piece of cfg's generation and
	// reads it until the generation is complete (the end of NewGateway);
	// from then on it reads its piece through g.gen. Until then g.gen
	// holds the config alone.
	g := &Gateway{log: log, configPath: opts.ConfigPath, targets: targets, now: now, serving: cfg.Server}
	g.gen.Store(&generation{cfg: cfg})
	var st *store.Store
	switch cfg.Storage.Driver {
	case "", "sqlite":
		st, err = store.OpenSQLite(ctx, cfg.Storage.Path, store.Options{Logger: log.Named("store"), Now: now, Classifier: classifier,
			Planner: planner, ReopenWithin: cfg.Dedup.ReopenWithin.D(), Flapping: router.FlappingPolicy(cfg), Policy: g.policy})
	case "postgres":
		sc := cfg.Storage
		st, err = store.OpenPostgres(ctx, sc.DSN.Value(), store.Options{Logger: log.Named("store"), Now: now, Classifier: classifier,
			Planner: planner, ReopenWithin: cfg.Dedup.ReopenWithin.D(), Flapping: router.FlappingPolicy(cfg), Policy: g.policy,
			Postgres: store.PostgresOptions{MaxOpenConns: sc.MaxOpenConns, MaxIdleConns: sc.MaxIdleConns, ConnMaxLifetime: sc.ConnMaxLifetime.D(),
				StatementTimeout: sc.StatementTimeout.D(), ConnectTimeout: sc.ConnectTimeout.D()}})
	default:
		err = fmt.Errorf("storage driver %q is not supported by this version", cfg.Storage.Driver)
	}
	if err != nil {
		return nil, err
	}
	g.store = st
	g.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_config_reloads_total", Help: "Config reloads by result (success, failure).",
	}, []string{"result"})
	g.reloads.WithLabelValues("success")
	g.reloads.WithLabelValues("failure")
	g.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "alertgate_config_last_reload_successful", Help: "Whether the last config reload succeeded (1) or failed (0).",
	})
	g.lastReload.Set(1)
	g.reloadedAt = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "alertgate_config_last_reload_success_timestamp_seconds", Help: "When the running config was loaded: the start or the last successful reload.",
	})
	g.reloadedAt.Set(float64(now().Unix()))
	g.configHash = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "alertgate_config_hash", Help: "The running config's fingerprint (the one replicas compare) as a number.",
	})
	leader := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "alertgate_leader", Help: "Whether this replica holds the periodic-work lease (digests, re-evaluation sweep): 1 or 0.",
	}, func() float64 {
		if st.Leader() {
			return 1
		}
		return 0
	})
	replicas := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "alertgate_replicas", Help: "Live gateway processes on this database (seen within three lease periods).",
	}, func() float64 { n, _ := st.ReplicaCounts(); return float64(n) })
	configs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "alertgate_replica_configs", Help: "Different configs the live replicas run (1 when all run the same file).",
	}, func() float64 { _, n := st.ReplicaCounts(); return float64(n) })
	reg.MustRegister(buildInfo(opts.Version), g.reloads, g.lastReload, g.reloadedAt, g.configHash, st.IncidentsCollector(), st.QueueCollector(g.targetNames), st.WriteTxCollector(), st.StatementCollector(), leader, replicas, configs)
	if err := g.setIdentity(ctx, opts.Version, cfg); err != nil {
		st.Close()
		return nil, err
	}
	var reload func(context.Context) error
	if opts.ConfigPath != "" {
		reload = g.Reload
	}
	ackKey := []byte(cfg.Server.AckLinkSecret.Value())
	if len(ackKey) == 0 {
		// One key per database: links signed by any replica verify on all,
		// and survive restarts.
		if ackKey, err = st.Secret(ctx, "ack_link_key"); err != nil {
			st.Close()
			return nil, err
		}
	}
	links := router.NewAckLinks(ackKey, cfg.Server.AckLinkTTL.D(), now)
	build := notifierBuilder(targets, notifier.Deps{Client: client, Logger: log, Now: now, Version: opts.Version})
	g.engine, err = router.New(cfg, st, build, router.Options{Logger: log, Now: now, Registry: reg, Poll: opts.EnginePoll, Digests: st, AckLinks: links, Overrides: st,
		Routing: g.routing})
	if err != nil {
		st.Close()
		return nil, err
	}
	// A new incident's first page and announcements are decided by the
	// engine inside the group commit that opens it.
	st.SetStepRunner(g.engine.RunOpeningStep)
	streamFor := cfg.Server.WriteTimeout.D() * 4 / 5
	if streamFor <= 0 {
		streamFor = defaultWriteTimeout * 4 / 5
	}
	if g.console, err = console.New(st, console.Options{Logger: log.Named("console"), Now: now, Version: opts.Version,
		StreamFor: streamFor, Actions: st, Auth: consoleAuth(cfg), Runbooks: g.runbook, Plan: g.engine.Pending,
		Silences: st, OnCall: g.engine, Overrides: st, Deliveries: st, Replicas: st, Config: g.config}); err != nil {
		st.Close()
		return nil, err
	}
	g.srv, err = New(cfg.Server, cfg.Sources, Deps{
		Ingester: st, Incidents: st, Actions: st, Pinger: st, Silences: st, Updater: st, Deliveries: st, Replicas: st,
		PagerDutySecrets: pagerDutySecrets(cfg), WebhookEvents: st, AckLinks: links,
		OnCall: g.engine, Overrides: st,
		Runbooks: g.runbook, Console: g.console, Plan: g.plan, Severity: st,
		Logger: log.Named("server"), Registry: reg, Now: now, Reload: reload, Sources: g.sources,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	g.gen.Store(&generation{cfg: cfg, policy: st.Policy(), sources: g.srv.Sources(), routing: g.engine.Routing()})
	g.ln = opts.Listener
	if g.ln == nil {
		if g.ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
			st.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return g, nil
}

// consoleAuth is who may sign in to the console: the API token's holders
// and console.users; server.public_reads opens its pages to readers as it
// opens the API's reads. It is read at start: a reload does not change it.
func consoleAuth(cfg *config.Config) console.Auth {
	c := cfg.Console
	a := console.Auth{APIToken: cfg.Server.APIToken.Value(), TrustedUserHeader: c.TrustedUserHeader,
		TrustedProxies: c.ProxyPrefixes(), SessionTTL: c.SessionTTL.D(), PublicReads: cfg.Server.PublicReads}
	if len(c.Users) > 0 {
		a.Users = make(map[string][]byte, len(c.Users))
		for _, u := range c.Users {
			a.Users[u.Name] = []byte(u.PasswordHash)
		}
	}
	return a
}

// plan lists an incident's pending steps.
func (g *Gateway) plan(ctx context.Context, id int64) ([]router.PendingStep, error) {
	jobs, err := g.store.Jobs(ctx, id)
	if err != nil {
		return nil, err
	}
	return g.engine.Pending(jobs), nil
}

// pagerDutySecrets collects the webhook signing secrets of the PagerDuty
// targets.
func pagerDutySecrets(cfg *config.Config) [][]byte {
	var out [][]byte
	for _, t := range cfg.Targets {
		if s, ok := t.Settings.(*pagerduty.Settings); ok && s.WebhookSecret != "" {
			out = append(out, []byte(s.WebhookSecret.Value()))
		}
	}
	return out
}

// targetNames lists the running config's targets.
func (g *Gateway) targetNames() []string {
	cfg := g.config()
	names := make([]string, len(cfg.Targets))
	for i := range cfg.Targets {
		names[i] = cfg.Targets[i].Name
	}
	return names
}

// config is the running config.
func (g *Gateway) config() *config.Config { return g.gen.Load().cfg }

// policy, routing and sources are the running generation's pieces, read by
// the store, the router and the server; nil before the first generation
// is complete (each reads its own piece until then).
func (g *Gateway) policy() *store.Policy { return g.gen.Load().policy }

func (g *Gateway) routing() *router.Routing { return g.gen.Load().routing }

func (g *Gateway) sources() *Sources { return g.gen.Load().sources }

// runbook finds the runbook an incident names in the running config (or
// the link an alert's runbook_url gave).
func (g *Gateway) runbook(name string) *config.Runbook {
	return g.config().Runbook(name)
}

// Engine is the gateway's router engine (for tests).
func (g *Gateway) Engine() *router.Engine { return g.engine }

// Run serves until ctx ends, then shuts down in order: stop taking
// requests (in-flight ones finish), stop the router (in-flight deliveries
// finish), close the database.
func (g *Gateway) Run(ctx context.Context) error {
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engDone := make(chan error, 1)
	go func() { engDone <- g.engine.Run(engCtx) }()

	srvErr := make(chan error, 1)
	go func() { srvErr <- g.srv.Serve(g.ln) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupDone := make(chan struct{})
	defer close(hupDone)
	go func() {
		for {
			select {
			case <-hup:
				if err := g.Reload(ctx); err != nil {
					g.log.Warn("SIGHUP: config not reloaded", zap.Error(err))
				}
			case <-hupDone:
				return
			}
		}
	}()
	cfg := g.config()
	g.log.Info("alertgate serving", zap.String("addr", g.ln.Addr().String()), zap.String("storage", cfg.Storage.Driver),
		zap.Int("sources", len(cfg.Sources)), zap.Int("targets", len(cfg.Targets)))

	var err error
	select {
	case <-ctx.Done():
	case err = <-srvErr:
		if err != nil {
			err = fmt.Errorf("http server: %w", err)
		}
	}
	g.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	g.console.Close()
	if serr := g.srv.Shutdown(shutCtx); serr != nil {
		g.log.Warn("http shutdown", zap.Error(serr))
	}
	stopEngine()
	if eerr := <-engDone; eerr != nil && !errors.Is(eerr, context.Canceled) {
		g.log.Warn("router stopped", zap.Error(eerr))
	}
	if cerr := g.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// Reload reads the config file again and, when it is valid, switches
// rules, escalation, targets and sources to it for new work, all in one
// step (one generation); requests and
// deliveries in flight finish with what they started with. An invalid file
// changes nothing: its errors are logged and returned. Server listen and
// storage settings need a restart (a warning says so).
func (g *Gateway) Reload(ctx context.Context) (err error) {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	defer func() {
		if err != nil {
			g.reloads.WithLabelValues("failure").Inc()
			g.lastReload.Set(0)
			g.log.Error("config reload rejected; the running config stays", zap.String("file", g.configPath), zap.Error(err))
			return
		}
		g.reloads.WithLabelValues("success").Inc()
		g.lastReload.Set(1)
		g.reloadedAt.Set(float64(g.now().Unix()))
	}()
	if g.configPath == "" {
		return errors.New("started without a config file: nothing to reload")
	}
	cfg, err := config.Load(g.configPath, rules.CheckConfig, g.targets.Check)
	if err != nil {
		return err
	}
	gen, err := g.build(cfg)
	if err != nil {
		return err
	}
	old := g.config()
	g.use(gen)
	if cfg.Server.Listen != old.Server.Listen || cfg.Storage != old.Storage || cfg.Server.MaxBodyBytes != old.Server.MaxBodyBytes ||
		cfg.Server.APIToken != old.Server.APIToken || cfg.Server.PublicReads != old.Server.PublicReads ||
		cfg.Server.AllowUnauthenticated != old.Server.AllowUnauthenticated || cfg.Server.MaxSilenceDuration != old.Server.MaxSilenceDuration ||
		cfg.Server.MaxDecodingBytes != old.Server.MaxDecodingBytes || cfg.Server.AlertLimits != old.Server.AlertLimits {
		g.log.Warn("server and storage changes (listen address, body and alert limits, API token, public_reads, allow_unauthenticated, " +
			"max_silence_duration) take effect after a restart")
	}
	if err := g.setIdentity(ctx, g.version, cfg); err != nil {
		g.log.Warn("record the reloaded config's fingerprint", zap.Error(err))
	}
	g.log.Info("config reloaded", zap.String("file", g.configPath), zap.Int("sources", len(cfg.Sources)),
		zap.Int("rules", len(cfg.Rules)), zap.Int("targets", len(cfg.Targets)))
	return nil
}

// generation is everything a config makes that a reload replaces: built
// whole first, then switched to in one step (Gateway.gen). It is never
// modified: a reader that took one sees the rules, escalation, targets and
// sources of one file.
type generation struct {
	cfg *config.Config
	// policy is the store's: rules, escalation planner, reopen window,
	// flapping.
	policy  *store.Policy
	sources *Sources
	routing *router.Routing
}

// build makes every piece of cfg's generation: the rules, the escalation
// planner, the sources, and the targets with their notifiers and
// templates. It changes nothing, so a failure at any piece leaves the
// running config whole.
func (g *Gateway) build(cfg *config.Config) (*generation, error) {
	classifier, err := rules.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	// The server section takes effect at a restart: the process keeps its
	// address and API token, and the new sources must be safe there
	// (serve --listen may have overridden the file's address).
	running := *cfg
	running.Server = g.serving
	if err := running.Exposure(); err != nil {
		return nil, err
	}
	sources, err := g.srv.BuildSources(cfg.Sources)
	if err != nil {
		return nil, err
	}
	routing, err := g.engine.BuildRouting(cfg)
	if err != nil {
		return nil, err
	}
	policy := store.NewPolicy(classifier, router.NewPlanner(cfg), cfg.Dedup.ReopenWithin.D(), router.FlappingPolicy(cfg))
	return &generation{cfg: cfg, policy: policy, sources: sources, routing: routing}, nil
}

// use switches to gen in one store: no reader sees new routing beside old
// sources or rules. Nothing in it can fail. Called with reloadMu held.
//
// Before the store, what a reader of gen must find done: the metrics of
// new targets and sources exist (a delivery or request through gen counts
// on them; started after, a new target's breaker state could be reset
// under a delivery that already opened it), and open sources are warned
// of. After it, what must not happen under the old generation: the store
// forgets the repeats it hashed (cleared before, a repeat classified by
// the old rules in between would be remembered past the switch) and
// rebuilds the open incidents' inhibition index with the new rules.
func (g *Gateway) use(gen *generation) {
	g.engine.PrepareRouting(gen.routing)
	g.srv.PrepareSources(gen.sources)
	g.gen.Store(gen)
	g.store.SettlePolicy(gen.policy)
}

// buildInfo is alertgate_build_info: 1, labelled with the version, the
// VCS revision the binary was built from and the Go version.
func buildInfo(version string) prometheus.Collector {
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				revision = s.Value
			}
		}
	}
	if version == "" {
		version = "unknown"
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "alertgate_build_info",
		Help:        "A metric with a constant '1' value labelled by version, revision and goversion from which alertgate was built.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	}, func() float64 { return 1 })
}

// setIdentity tells the other replicas which version and config this one
// runs.
func (g *Gateway) setIdentity(ctx context.Context, version string, cfg *config.Config) error {
	fp, err := config.Fingerprint(cfg)
	if err != nil {
		return err
	}
	if h, err := strconv.ParseUint(fp, 16, 64); err == nil {
		g.configHash.Set(float64(h)) // 48 bits: exact in a float64
	}
	g.version = version
	return g.store.SetIdentity(ctx, version, fp)
}

// Close closes the database. Run calls it; call it yourself only when Run
// was never called.
func (g *Gateway) Close() error {
	var err error
	g.closeOnce.Do(func() { err = g.store.Close() })
	return err
}
