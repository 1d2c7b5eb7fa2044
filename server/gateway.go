package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notifier"
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
}

// Gateway is the whole alertgate process: store, rules, router and HTTP
// server, wired from one validated config.
type Gateway struct {
	cfg    *config.Config
	log    *zap.Logger
	store  *store.Store
	engine *router.Engine
	srv    *Server
	ln     net.Listener

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
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}}
	}
	classifier, err := rules.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	planner := router.NewPlanner(cfg)
	var st *store.Store
	switch cfg.Storage.Driver {
	case "", "sqlite":
		st, err = store.OpenSQLite(ctx, cfg.Storage.Path, store.Options{Logger: log.Named("store"), Now: now, Classifier: classifier,
			Planner: planner, ReopenWithin: cfg.Dedup.ReopenWithin.D()})
	default:
		err = fmt.Errorf("storage driver %q is not supported by this version", cfg.Storage.Driver)
	}
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: log, store: st}
	build := func(t config.Target) (router.Notifier, error) {
		return notifier.New(t, notifier.Deps{Client: client, Logger: log, Now: now, Version: opts.Version})
	}
	g.engine, err = router.New(cfg, st, build, router.Options{Logger: log, Now: now, Registry: reg, Poll: opts.EnginePoll})
	if err != nil {
		st.Close()
		return nil, err
	}
	g.srv, err = New(cfg.Server, cfg.Sources, Deps{
		Ingester: st, Incidents: st, Actions: st, Pinger: st,
		Logger: log.Named("server"), Registry: reg, Now: now,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	g.ln = opts.Listener
	if g.ln == nil {
		if g.ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
			st.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return g, nil
}

// Addr is the address the gateway serves on.
func (g *Gateway) Addr() net.Addr { return g.ln.Addr() }

// Store is the gateway's store (for tests and tools).
func (g *Gateway) Store() *store.Store { return g.store }

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
	g.log.Info("alertgate serving", zap.String("addr", g.ln.Addr().String()), zap.String("storage", g.cfg.Storage.Driver),
		zap.Int("sources", len(g.cfg.Sources)), zap.Int("targets", len(g.cfg.Targets)))

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

// Close closes the database. Run calls it; call it yourself only when Run
// was never called.
func (g *Gateway) Close() error {
	var err error
	g.closeOnce.Do(func() { err = g.store.Close() })
	return err
}
