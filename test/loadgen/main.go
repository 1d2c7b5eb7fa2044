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
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	duration   time.Duration
	warmup     time.Duration
	conns      int
	rssAlerts  int
	workloads  []string
	groupSize  int
	skipRSS    bool
	keep       bool
	gatewayBin string
	out        string
	selfTest   bool
	timers     int
	targets    bool
	postgres   string // DSN; empty: no PostgreSQL rows
	hang       time.Duration
	hangRate   int
	// alertmanagerBin is an Alertmanager binary to run the workloads
	// against too; empty: no Alertmanager rows.
	alertmanagerBin string
	// compareBin is a second alertgate binary run beside the first on
	// SQLite (before/after comparisons in one run); empty: none.
	compareBin string
	// idle opens this many incidents in a fresh gateway and measures its
	// idle cost over idleWindow (0: skip).
	idle       int
	idleWindow time.Duration
	// scale runs the scale workloads on an empty database and on a large
	// one of this size (zero: skip), cached in scaleCache.
	scale      scaleSize
	scaleCache string
}

// hiddenFlags are for the tool itself and left out of -help.
var hiddenFlags = map[string]bool{"serve-baseline": true, "serve-append": true, "append-file": true, "self-test": true}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// logw receives progress lines; stderr, so stdout is only the report.
var logw io.Writer = os.Stderr

func logf(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "chaos" {
		return runChaos(args[1:], stdout, stderr)
	}
	logw = stderr
	var o options
	var workloads, serveAddr, appendAddr, appendFile, scale string
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up per scenario, not counted")
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections, one request in flight each")
	fs.IntVar(&o.rssAlerts, "rss-alerts", 100000, "distinct alerts ingested for the RSS measurement")
	fs.StringVar(&workloads, "workloads", "repeat,storm", "comma-separated workloads: "+strings.Join(workloadNames, ", "))
	fs.IntVar(&o.groupSize, "group-size", 25, "alerts per request in the grouped workload")
	fs.BoolVar(&o.skipRSS, "skip-rss", false, "skip the RSS measurement")
	fs.BoolVar(&o.targets, "targets", false, "also run each workload with every role paging a local webhook that answers in 1 ms, and one that hangs 10 s")
	fs.DurationVar(&o.hang, "hang", 0, "also measure the healthy target's first-page lateness while another target hangs, opening -hang-rate P0 incidents/s for this long (0: skip)")
	fs.IntVar(&o.hangRate, "hang-rate", 10, "new P0 incidents per second for -hang")
	fs.IntVar(&o.idle, "idle", 0, "also measure a fresh gateway holding this many open incidents and receiving nothing: writer transactions per second and CPU (0: skip)")
	fs.DurationVar(&o.idleWindow, "idle-window", 30*time.Second, "how long the idle measurement counts")
	fs.StringVar(&scale, "scale", "", "also run the incident and repeat workloads on an empty database and on one holding ALERTS,OPEN_INCIDENTS (e.g. 1000000,100000), built once and cached in -scale-cache (empty: skip)")
	fs.StringVar(&o.scaleCache, "scale-cache", defaultScaleCache(), "where the -scale databases are kept between runs")
	fs.IntVar(&o.timers, "timers", 0, "also run each workload against a gateway holding this many pending escalation timers (0: skip)")
	fs.StringVar(&o.postgres, "postgres", os.Getenv(postgresEnv), "also run each workload against gateways on this PostgreSQL database, 1 replica and 3, each in a fresh schema dropped afterwards (empty: skip)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, databases, binary)")
	fs.StringVar(&o.gatewayBin, "gateway-bin", "", "use this alertgate binary instead of building ./cmd/alertgate")
	fs.StringVar(&o.compareBin, "compare-bin", "", "also run each workload against this second alertgate binary on SQLite, right after the first (a before/after comparison in one run)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.BoolVar(&o.selfTest, "self-test", false, "run a second baseline in place of the gateway (tests this tool)")
	fs.StringVar(&serveAddr, "serve-baseline", "", "serve the parse-only baseline on this address")
	fs.StringVar(&appendAddr, "serve-append", "", "serve the durable-append ceiling on this address")
	fs.StringVar(&appendFile, "append-file", "alerts.log", "the durable-append ceiling's file")
	fs.StringVar(&o.alertmanagerBin, "alertmanager-bin", "", "also run each workload against this Alertmanager binary's /api/v2/alerts (make bench-alertmanager builds one; empty: skip)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go -C test run ./loadgen [flags]\n\nDurable ingest vs a parse-only baseline, and RSS per active alert.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			switch {
			case hiddenFlags[f.Name]:
			case f.Name == "postgres": // the default may hold a password
				fmt.Fprintf(stderr, "  -%s\t%s (default $%s)\n", f.Name, f.Usage, postgresEnv)
			default:
				fmt.Fprintf(stderr, "  -%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if appendAddr != "" {
		if err := serveAppend(appendAddr, appendFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if serveAddr != "" {
		if err := serveBaseline(serveAddr); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	for w := range strings.SplitSeq(workloads, ",") {
		if w = strings.TrimSpace(w); w != "" {
			o.workloads = append(o.workloads, w)
		}
	}
	var scaleErr error
	if scale != "" {
		o.scale, scaleErr = parseScale(scale)
	}
	if err := errors.Join(scaleErr, o.validate()); err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench(ctx, o, args)
	if rep != nil && (len(rep.Results) > 0 || rep.Mem != nil || rep.Hang != nil || rep.Idle != nil || len(rep.Scale) > 0) {
		if werr := writeReport(rep, o.out, stdout); werr != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", werr)
			return 1
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "loadgen: interrupted")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	case rep.failures() > 0:
		fmt.Fprintf(stderr, "loadgen: !!! %d requests FAILED\n", rep.failures())
		return 1
	}
	return 0
}

func (o *options) validate() error {
	var errs []error
	if o.duration <= 0 {
		errs = append(errs, errors.New("-duration must be positive"))
	}
	if o.warmup < 0 {
		errs = append(errs, errors.New("-warmup must not be negative"))
	}
	if o.conns < 1 || o.conns > 4096 {
		errs = append(errs, errors.New("-conns must be in 1..4096"))
	}
	if o.groupSize < 1 || o.groupSize > 1000 {
		errs = append(errs, errors.New("-group-size must be in 1..1000"))
	}
	if o.rssAlerts < 1 && !o.skipRSS {
		errs = append(errs, errors.New("-rss-alerts must be positive"))
	}
	for _, w := range o.workloads {
		if !slices.Contains(workloadNames, w) {
			errs = append(errs, fmt.Errorf("unknown workload %q (want %s)", w, strings.Join(workloadNames, ", ")))
		}
	}
	if o.hang < 0 || o.hangRate < 1 || o.hangRate > 1000 {
		errs = append(errs, errors.New("-hang must not be negative and -hang-rate must be in 1..1000"))
	}
	if o.idle < 0 || o.idleWindow <= 0 {
		errs = append(errs, errors.New("-idle must not be negative and -idle-window must be positive"))
	}
	if len(o.workloads) == 0 && o.skipRSS && o.hang == 0 && o.idle == 0 && o.scale.Open == 0 {
		errs = append(errs, errors.New("nothing to do: no workloads and -skip-rss"))
	}
	return errors.Join(errs...)
}

// bench runs every scenario and the memory measurement. The report holds
// what finished even when err is not nil.
func bench(ctx context.Context, o options, args []string) (*report, error) {
	e := &env{opts: o}
	var err error
	if e.self, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("own executable: %w", err)
	}
	if e.tmp, err = os.MkdirTemp("", "alertgate-loadgen-"); err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if o.keep {
		defer logf("kept %s", e.tmp)
	} else {
		defer os.RemoveAll(e.tmp)
	}
	switch {
	case o.selfTest:
		logf("self-test: the \"gateway\" is a second parse-only baseline")
	case o.gatewayBin != "":
		e.gatewayBin = o.gatewayBin
	default:
		logf("building ./cmd/alertgate")
		if e.gatewayBin, err = buildGateway(ctx, e.tmp); err != nil {
			return nil, err
		}
	}

	var pgNote string
	switch {
	case o.postgres == "":
		pgNote = "PostgreSQL rows skipped: set " + postgresEnv + " (or -postgres DSN) to compare with gateways on PostgreSQL."
	case o.selfTest:
		pgNote = "PostgreSQL rows skipped: -self-test."
	default:
		if e.pg, err = connectPostgres(ctx, o.postgres); err != nil {
			return nil, err
		}
		defer e.pg.close()
	}
	if pgNote != "" {
		logf("%s", pgNote)
	}

	if !o.selfTest {
		sinkCtx, stopSink := context.WithCancel(ctx)
		defer stopSink()
		if e.pager, err = startPageSink(sinkCtx); err != nil {
			return nil, err
		}
	}
	all, err := newWorkloads(time.Now().UTC().Add(-10*time.Minute).Truncate(time.Millisecond), o.groupSize)
	if err != nil {
		return nil, err
	}
	rep := &report{
		Command: strings.Join(append([]string{"go -C test run ./loadgen"}, quoteArgs(redactArgs(args))...), " "),
		Machine: thisMachine(), Date: time.Now(), Conns: o.conns, Warmup: o.warmup, Duration: o.duration,
		BodyBytes: bodyBytes(all["storm"].Gen), PostgresSkipped: pgNote,
	}
	if e.pg != nil {
		rep.Postgres = e.pg.describe()
	}
	for _, name := range o.workloads {
		rep.Workloads = append(rep.Workloads, all[name])
	}
	for _, sc := range scenarios(e, rep.Workloads) {
		res, err := runScenario(ctx, e, sc)
		if err != nil {
			return rep, fmt.Errorf("%s / %s: %w", sc.Workload.Name, sc.Name, err)
		}
		rep.Results = append(rep.Results, res)
	}
	if o.hang > 0 && !o.selfTest {
		logf("healthy target's first page with another target hanging: %d incidents/s for %s", o.hangRate, o.hang)
		h, err := runHangLateness(ctx, e, o.hangRate, o.hang)
		if err != nil {
			return rep, fmt.Errorf("hang: %w", err)
		}
		rep.Hang = h
	}
	if o.scale.Open > 0 && !o.selfTest {
		logf("scale: %s", o.scale)
		pairs, err := runScale(ctx, e, o.scale, all)
		rep.Scale = pairs
		if err != nil {
			return rep, fmt.Errorf("scale: %w", err)
		}
	}
	if o.idle > 0 && !o.selfTest {
		logf("idle: %s open incidents", fmtInt(uint64(o.idle)))
		idle, err := runIdle(ctx, e, o.idle, o.idleWindow)
		if err != nil {
			return rep, fmt.Errorf("idle: %w", err)
		}
		rep.Idle = &idle
	}
	if !o.skipRSS {
		mem, err := runMemory(ctx, e, gatewayStart(e), all["storm"].Gen)
		if err != nil {
			return rep, fmt.Errorf("memory: %w", err)
		}
		rep.Mem = &mem
	}
	return rep, nil
}

// scenarios lists the rows of the report: per workload, the baseline
// first, then what is compared with it.
func scenarios(e *env, workloads []*workload) []scenario {
	var out []scenario
	for _, wl := range workloads {
		out = append(out,
			scenario{Name: "baseline (parse only)", Baseline: true, Start: startBaseline, Workload: wl},
			scenario{Name: ceilingName, Ref: refCeiling, Start: startAppend, Workload: wl},
		)
		if e.opts.alertmanagerBin != "" {
			out = append(out, scenario{Name: alertmanagerName, Ref: refAlertmanager, Start: startAlertmanager, Workload: wl})
		}
		out = append(out, scenario{Name: gatewayName(e), Start: gatewayStart(e), Workload: wl})
		if e.opts.compareBin != "" && !e.opts.selfTest {
			out = append(out, scenario{Name: "gateway (SQLite, -compare-bin)", Start: startCompareGateway, Workload: wl})
		}
		if e.pg != nil {
			for _, n := range pgReplicas {
				out = append(out, scenario{Name: pgRowName(n), Start: startPostgresGateways(n), Workload: wl})
			}
		}
		if e.opts.targets && !e.opts.selfTest {
			out = append(out,
				scenario{Name: "gateway (SQLite, targets answer in 1 ms)", Start: startGatewayWithTarget(time.Millisecond), Workload: wl},
				scenario{Name: "gateway (SQLite, targets hang 10 s)", Start: startGatewayWithTarget(10 * time.Second), Workload: wl})
		}
		if n := e.opts.timers; n > 0 && !e.opts.selfTest {
			out = append(out, scenario{Name: fmt.Sprintf("gateway (SQLite, %s pending timers)", fmtInt(uint64(n))), Start: startGatewayWithTimers(n), Workload: wl})
		}
	}
	return out
}

func gatewayName(e *env) string {
	if e.opts.selfTest {
		return "gateway (self-test: baseline)"
	}
	return "gateway (SQLite)"
}

func gatewayStart(e *env) startFunc {
	if e.opts.selfTest {
		return startBaseline
	}
	return startGateway
}

// startBaseline runs this executable in -serve-baseline mode.
func startBaseline(ctx context.Context, e *env) (*servers, error) {
	p, err := startProc(ctx, "baseline", e.self, "/healthz", func(addr string) ([]string, error) {
		return []string{"-serve-baseline", addr}, nil
	})
	if err != nil {
		return nil, err
	}
	return one(p), nil
}

// gatewayConfig is the bench configuration: the baseline's server
// settings, one open Alertmanager source, the storage (sqliteStorage or
// postgresStorage), no targets (pages go to the built-in log target at
// info level, suppressed at warn).
const gatewayConfig = `server:
  listen: %q
  max_body_bytes: %d
  read_timeout: %ds
  write_timeout: %ds
  idle_timeout: %ds
  pprof: true
log: { level: warn, format: json }
storage: %s
sources:
  - { name: alertmanager, type: alertmanager }
`

// Values of gatewayConfig's storage.
const (
	sqliteStorage   = `{ driver: sqlite, path: %q }`
	postgresStorage = `{ driver: postgres, dsn: %q }`
)

// startGateway runs alertgate serve on a new SQLite database, paging the
// on-call role through the run's page sink.
func startGateway(ctx context.Context, e *env) (*servers, error) {
	return startPagingGateway(ctx, e, "")
}

// startPagingGateway runs alertgate serve on the SQLite database at db
// (empty: a new one), paging the on-call role through the run's page
// sink when there is one.
func startPagingGateway(ctx context.Context, e *env, db string) (*servers, error) {
	s, err := startGatewayDB(ctx, e, db, pagerExtra(e))
	if err == nil {
		s.sink = e.pager
	}
	return s, err
}

// pagerExtra is the config that makes the on-call role page e.pager; ""
// when there is none.
func pagerExtra(e *env) string {
	if e.pager == nil {
		return ""
	}
	return fmt.Sprintf(pagerConfig, e.pager.url)
}

// startCompareGateway runs the -compare-bin binary on a new SQLite
// database.
func startCompareGateway(ctx context.Context, e *env) (*servers, error) {
	other := *e
	other.gatewayBin = e.opts.compareBin
	s, err := startGateway(ctx, &other)
	e.runs = other.runs
	return s, err
}

// startGatewayConfig runs alertgate serve on a new SQLite database with
// extra config appended.
func startGatewayConfig(ctx context.Context, e *env, extra string) (*servers, error) {
	return startGatewayDB(ctx, e, "", extra)
}

// startGatewayDB runs alertgate serve on the SQLite database at db (empty:
// a new one in the scenario's directory) with extra config appended.
func startGatewayDB(ctx context.Context, e *env, db, extra string) (*servers, error) {
	dir, err := e.dir("gateway")
	if err != nil {
		return nil, err
	}
	if db == "" {
		db = filepath.Join(dir, "bench.db")
	}
	p, err := startGatewayProc(ctx, e, dir, fmt.Sprintf(sqliteStorage, db), extra)
	if err != nil {
		return nil, err
	}
	s := one(p)
	if s.rows, err = newRowCounter(db, ""); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startGatewayProc runs alertgate serve with its config in dir and waits
// for /readyz (storage open and migrated, answering a ping).
func startGatewayProc(ctx context.Context, e *env, dir, storage, extra string) (*proc, error) {
	return startProc(ctx, "gateway", e.gatewayBin, "/readyz", func(addr string) ([]string, error) {
		path := filepath.Join(dir, "alertgate.yml")
		cfg := fmt.Sprintf(gatewayConfig, addr, benchBodyLimit,
			int(benchReadTimeout.Seconds()), int(benchWriteTimeout.Seconds()), int(benchIdleTimeout.Seconds()),
			storage) + extra
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return nil, fmt.Errorf("gateway config: %w", err)
		}
		return []string{"serve", "--config", path}, nil
	})
}

// writer is a report (the benchmark's or the chaos run's).
type writer interface{ write(io.Writer) error }

// writeReport prints the report and writes it to path when set.
func writeReport(rep writer, path string, stdout io.Writer) error {
	if err := rep.write(stdout); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := rep.write(f); err != nil {
		f.Close()
		return fmt.Errorf("report: %w", err)
	}
	return f.Close()
}

// defaultScaleCache is the user's cache directory's alertgate-loadgen
// (the system's temporary directory when there is none).
func defaultScaleCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "alertgate-loadgen")
}

// quoteArgs quotes the arguments that need it for a shell.
func quoteArgs(args []string) []string {
	return slices.Collect(func(yield func(string) bool) {
		for _, a := range args {
			if a == "" || strings.ContainsAny(a, " \t'\"$\\") {
				a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
			if !yield(a) {
				return
			}
		}
	})
}
