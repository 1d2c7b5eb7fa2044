package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// chaosOptions are the flags of `loadgen chaos`.
type chaosOptions struct {
	duration   time.Duration
	drain      time.Duration
	kills      int
	rate       float64
	conns      int
	groupSize  int
	engines    []string
	postgres   string
	gatewayBin string
	keep       bool
	out        string
}

// runChaos is `go -C test run ./loadgen chaos`, `make chaos`: see doc.go.
func runChaos(args []string, stdout, stderr io.Writer) int {
	logw = stderr
	var o chaosOptions
	var engines string
	fs := flag.NewFlagSet("loadgen chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 45*time.Second, "load time per engine; the SIGKILLs fall inside it")
	fs.IntVar(&o.kills, "kills", 3, "SIGKILLs of the gateway per engine, evenly spaced over the load, each followed by a restart")
	fs.Float64Var(&o.rate, "rate", 10, "new or repeated alerts posted per second (one alert per request)")
	fs.IntVar(&o.conns, "conns", 8, "concurrent client connections")
	fs.IntVar(&o.groupSize, "group-size", 8, "distinct alerts per incident")
	fs.DurationVar(&o.drain, "drain", 150*time.Second, "after the load, wait at most this long for every due page to settle (a delivery in flight at a SIGKILL waits out its 2 min lease)")
	fs.StringVar(&engines, "engines", "", "comma-separated engines: sqlite, postgres (default: sqlite, and postgres when a DSN is set)")
	fs.StringVar(&o.postgres, "postgres", os.Getenv(postgresEnv), "PostgreSQL DSN for the postgres engine, a fresh schema per run")
	fs.StringVar(&o.gatewayBin, "gateway-bin", "", "use this alertgate binary instead of building ./cmd/alertgate")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, databases, binary)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go -C test run ./loadgen chaos [flags]\n\nLoad, SIGKILLs and restarts of a gateway paging healthy and failing targets; checks every promise.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "postgres" { // the default may hold a password
				fmt.Fprintf(stderr, "  -%s\t%s (default $%s)\n", f.Name, f.Usage, postgresEnv)
				return
			}
			fmt.Fprintf(stderr, "  -%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
		})
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if engines == "" {
		engines = "sqlite"
		if o.postgres != "" {
			engines += ",postgres"
		}
	}
	for e := range strings.SplitSeq(engines, ",") {
		if e = strings.TrimSpace(e); e != "" {
			o.engines = append(o.engines, e)
		}
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "loadgen chaos: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos(ctx, o, args)
	if rep != nil && len(rep.Runs) > 0 {
		if werr := writeReport(rep, o.out, stdout); werr != nil {
			fmt.Fprintf(stderr, "loadgen chaos: %v\n", werr)
			return 1
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "loadgen chaos: interrupted")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "loadgen chaos: %v\n", err)
		return 1
	}
	if broken := rep.broken(); len(broken) > 0 {
		fmt.Fprintf(stderr, "loadgen chaos: !!! promises broken: %s\n", strings.Join(broken, "; "))
		return 1
	}
	return 0
}

func (o *chaosOptions) validate() error {
	var errs []error
	if o.duration < 5*time.Second || o.duration > time.Hour {
		errs = append(errs, errors.New("-duration must be in 5s..1h"))
	}
	if o.drain < 0 || o.drain > time.Hour {
		errs = append(errs, errors.New("-drain must be in 0..1h"))
	}
	if o.kills < 0 || o.kills > 100 {
		errs = append(errs, errors.New("-kills must be in 0..100"))
	}
	if o.rate <= 0 || o.rate > 10000 {
		errs = append(errs, errors.New("-rate must be in (0, 10000]"))
	}
	if o.conns < 1 || o.conns > 256 {
		errs = append(errs, errors.New("-conns must be in 1..256"))
	}
	if o.groupSize < 1 || o.groupSize > 1000 {
		errs = append(errs, errors.New("-group-size must be in 1..1000"))
	}
	if len(o.engines) == 0 {
		errs = append(errs, errors.New("-engines names none"))
	}
	for _, e := range o.engines {
		switch {
		case e == "postgres" && o.postgres == "":
			errs = append(errs, fmt.Errorf("engine postgres needs -postgres or $%s", postgresEnv))
		case e != "sqlite" && e != "postgres":
			errs = append(errs, fmt.Errorf("unknown engine %q (want sqlite, postgres)", e))
		}
	}
	return errors.Join(errs...)
}

// chaos builds the gateway once and runs every engine in turn.
func chaos(ctx context.Context, o chaosOptions, args []string) (*chaosReport, error) {
	e := &env{}
	var err error
	if e.tmp, err = os.MkdirTemp("", "alertgate-chaos-"); err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if o.keep {
		defer logf("kept %s", e.tmp)
	} else {
		defer os.RemoveAll(e.tmp)
	}
	if e.gatewayBin = o.gatewayBin; e.gatewayBin == "" {
		logf("building ./cmd/alertgate")
		if e.gatewayBin, err = buildGateway(ctx, e.tmp); err != nil {
			return nil, err
		}
	}
	rep := &chaosReport{Command: strings.Join(append([]string{"go -C test run ./loadgen chaos"}, quoteArgs(redactArgs(args))...), " "),
		Machine: thisMachine(), Date: time.Now(), Opts: o, Plan: chaosPlanFor()}
	for _, engine := range o.engines {
		run, err := chaosEngine(ctx, e, o, engine)
		if run != nil {
			rep.Runs = append(rep.Runs, run)
		}
		if err != nil {
			return rep, fmt.Errorf("%s: %w", engine, err)
		}
	}
	return rep, nil
}

// chaosRun is one engine's run.
type chaosRun struct {
	Engine   string
	Findings *chaosFindings
	Client   chaosClientStats
	// Restarts are the times from each SIGKILL to the new process ready.
	Restarts []time.Duration
	PeakRSS  int64
	// Drained is the time from the end of the load until nothing was left
	// to deliver at the answering targets; Settled is false when -drain
	// ran out first.
	Drained time.Duration
	Settled bool
}

// chaosGateway is the gateway process of a run, restarted after each kill
// on the same config and database (on a new port).
type chaosGateway struct {
	e                   *env
	dir, storage, extra string
	cur                 atomic.Pointer[proc]
}

func (g *chaosGateway) start(ctx context.Context) error {
	p, err := startGatewayProc(ctx, g.e, g.dir, g.storage, g.extra)
	if err != nil {
		return err
	}
	g.cur.Store(p)
	return nil
}

// kill SIGKILLs the process group and waits until it is gone; it returns
// when the SIGKILL was sent and when the process was gone. A process that
// is gone already exited by itself: an error.
func (g *chaosGateway) kill() (at, gone time.Time, err error) {
	if err := g.check(); err != nil {
		return time.Time{}, time.Time{}, err
	}
	p := g.cur.Load()
	at = time.Now()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return at, time.Now(), nil
}

// check reports a gateway that exited without being told to.
func (g *chaosGateway) check() error {
	if p := g.cur.Load(); p.exited() {
		return fmt.Errorf("the gateway exited by itself (%v); its output:\n%s", p.err, p.stderr)
	}
	return nil
}

func (g *chaosGateway) url() string { return "http://" + g.cur.Load().addr }

// chaosEngine runs load, kills and drain against a gateway on engine,
// then checks the records.
func chaosEngine(ctx context.Context, e *env, o chaosOptions, engine string) (*chaosRun, error) {
	sink, err := startChaosSink()
	if err != nil {
		return nil, err
	}
	defer sink.close()
	dir, err := e.dir("chaos-" + engine)
	if err != nil {
		return nil, err
	}
	run := &chaosRun{Engine: "SQLite"}
	g := &chaosGateway{e: e, dir: dir, extra: sink.targetsConfig()}
	var db *chaosDB
	if engine == "postgres" {
		pg, err := connectPostgres(ctx, o.postgres)
		if err != nil {
			return nil, err
		}
		defer pg.close()
		dsn, drop, err := pg.newSchema(ctx)
		if err != nil {
			return nil, err
		}
		defer drop()
		run.Engine = strings.TrimSuffix(strings.Split(pg.describe(), " at ")[0], " ")
		g.storage = fmt.Sprintf(postgresStorage, dsn)
		db, err = openChaosDB("", dsn)
		if err != nil {
			return nil, err
		}
	} else {
		path := filepath.Join(dir, "chaos.db")
		g.storage = fmt.Sprintf(sqliteStorage, path)
		db, err = openChaosDB(path, "")
		if err != nil {
			return nil, err
		}
	}
	defer db.close()

	logf("%s: starting the gateway", run.Engine)
	if err := g.start(ctx); err != nil {
		return nil, err
	}
	defer func() { g.cur.Load().stop() }()

	var rssMu sync.Mutex
	rssCtx, stopRSS := context.WithCancel(ctx)
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if n, err := g.cur.Load().rss(); err == nil {
				rssMu.Lock()
				run.PeakRSS = max(run.PeakRSS, n)
				rssMu.Unlock()
			}
			select {
			case <-rssCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { stopRSS(); <-rssDone }()

	logf("%s: %s of load at %g alerts/s with %d SIGKILLs", run.Engine, o.duration, o.rate, o.kills)
	client := newChaosClient(g, o)
	start := time.Now()
	loadDone := make(chan struct{})
	go func() { client.run(ctx, o.duration); close(loadDone) }()
	var kills []time.Time
	for k := 1; k <= o.kills; k++ {
		at := start.Add(o.duration * time.Duration(k) / time.Duration(o.kills+1))
		if err := sleep(ctx, time.Until(at)); err != nil {
			return nil, err
		}
		killed, gone, err := g.kill()
		if err != nil {
			return nil, err
		}
		kills = append(kills, gone)
		if err := g.start(ctx); err != nil {
			return nil, fmt.Errorf("restart after SIGKILL %d: %w", k, err)
		}
		run.Restarts = append(run.Restarts, time.Since(killed))
		logf("  SIGKILL %d at %s, ready again after %s", k, killed.Sub(start).Round(time.Millisecond), run.Restarts[k-1].Round(time.Millisecond))
	}
	<-loadDone
	loadEnd := time.Now()
	run.Client = client.stats()
	logf("  load done: %s", run.Client.summary())

	// Drain: until no page step is pending and no delivery to an
	// answering target is pending or running, or -drain passes.
	var answering []string
	for _, t := range chaosTargets {
		if t.Class == answers {
			answering = append(answering, t.Name)
		}
	}
	for deadline := loadEnd.Add(o.drain); ; {
		n, err := db.unsettled(ctx, answering)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			run.Settled = true
			break
		}
		if time.Now().After(deadline) {
			logf("  !!! %d page steps or deliveries still pending after a %s drain", n, o.drain)
			break
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, err
		}
	}
	run.Drained = time.Since(loadEnd)
	logf("  drain: %s", run.Drained.Round(time.Millisecond))
	// A last look for late re-sends, then a clean stop.
	if err := sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	stopRSS()
	<-rssDone
	g.cur.Load().stop()
	if p := g.cur.Load(); p.err != nil {
		logf("  !!! the gateway's clean stop failed: %v; its output:\n%s", p.err, p.stderr)
	}

	rec := chaosRecords{Sent: client.sent, Acked: client.acked, Receptions: sink.receptions(), Kills: kills, End: time.Now()}
	if err := db.read(ctx, &rec); err != nil {
		return nil, err
	}
	run.Findings = checkChaos(chaosPlanFor(), rec)
	if b := run.Findings.broken(); len(b) > 0 {
		logf("  !!! %s", strings.Join(b, "; "))
	}
	return run, nil
}
