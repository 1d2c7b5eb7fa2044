package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// A scenario is one server under one workload: a row of the report. A
// baseline scenario is the reference of the other scenarios of its
// workload. Adding a variant (a gateway with pending timers, slow targets,
// PostgreSQL replicas) is one more startFunc and one more entry in
// scenarios.
type scenario struct {
	Name     string
	Baseline bool
	// Ref marks the other references a gateway row is compared with:
	// the durable-append ceiling and Alertmanager.
	Ref      string
	Start    startFunc
	Workload *workload
}

// startFunc starts a fresh server (or several replicas) in its own
// directory under env.tmp, ready to serve, and returns it; the caller
// stops it.
type startFunc func(ctx context.Context, env *env) (*servers, error)

// workload is what the client sends.
type workload struct {
	Name string
	// Describe is printed under the table: how the alerts are built.
	Describe string
	// Prime alerts (ids 0..Prime-1) are sent once before the warm-up and
	// not counted.
	Prime uint64
	Gen   generator
	// API makes the same alerts as bodies of Alertmanager's
	// POST /api/v2/alerts, for the Alertmanager rows.
	API generator
	// IsP0 and Service are set when every request opens an incident of
	// its own: whether the rules classify request id's alerts P0, and the
	// service of its incident (the key of its first page). The gateway
	// rows of such a workload measure the first page of each P0.
	IsP0    func(id uint64) bool
	Service func(id uint64) string
}

// env is what every scenario shares: options, binaries, scratch space.
type env struct {
	opts       options
	self       string // this executable, for -serve-baseline
	gatewayBin string
	pg         *pgServer // nil: no PostgreSQL rows
	// pager is the on-call webhook of the gateway rows (nil: the log
	// target, as in -self-test).
	pager *pageSink
	tmp   string
	runs  int // numbers the scenarios' directories
}

// dir returns a new directory for one server.
func (e *env) dir(name string) (string, error) {
	e.runs++
	d := filepath.Join(e.tmp, fmt.Sprintf("%02d-%s", e.runs, name))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("scenario dir: %w", err)
	}
	return d, nil
}

// workloadNames are the keys of newWorkloads, in the order -help lists them.
var workloadNames = []string{"repeat", "storm", "grouped", "incident", "incident-grouped"}

// newWorkloads returns the workloads by name (workloadNames).
func newWorkloads(startsAt time.Time, groupSize int) (map[string]*workload, error) {
	shapes := []tmplOpts{{n: 1}, {n: groupSize}, {n: 1, newGroup: true}, {n: groupSize, newGroup: true}}
	var hook, api []*storm
	for _, o := range shapes {
		h, err := newStormOf(o, startsAt)
		if err != nil {
			return nil, err
		}
		o.api = true
		a, err := newStormOf(o, startsAt)
		if err != nil {
			return nil, err
		}
		hook, api = append(hook, h), append(api, a)
	}
	const distinct = 1000
	incident, err := newIncidentsOf(hook[2], 1)
	if err != nil {
		return nil, err
	}
	incidentGrouped, err := newIncidentsOf(hook[3], groupSize)
	if err != nil {
		return nil, err
	}
	return map[string]*workload{
		"repeat": {
			Name: "repeat",
			Describe: fmt.Sprintf("%s distinct alerts (%d alertnames × %d services in %d groups, distinct instance and fingerprint) "+
				"re-sent round-robin, as Alertmanager's group/repeat intervals produce; each was sent once before the warm-up "+
				"(opening the incidents), so the timed requests update existing alerts.",
				fmtInt(distinct), len(alertNames), len(services), numGroups),
			Prime: distinct,
			Gen:   newPool(hook[0], distinct),
			API:   newPool(api[0], distinct),
		},
		"storm": {
			Name: "storm",
			Describe: fmt.Sprintf("every request is a new alert (new instance and fingerprint) spread round-robin over %d alertname×service "+
				"groups: a storm of alerts into a bounded number of incidents, as one outage produces.", numGroups),
			Gen: hook[0],
			API: api[0],
		},
		"grouped": {
			Name: "grouped",
			Describe: fmt.Sprintf("the storm as Alertmanager delivers it: every request carries %d new alerts of one of the %d groups "+
				"(%s bytes), as one notification of a group holds its alerts; alerts/s counts alerts, not requests.",
				groupSize, numGroups, fmtInt(uint64(bodyBytes(hook[1])))),
			Gen: hook[1],
			API: api[1],
		},
		"incident": {
			Name: "incident",
			Describe: "the incident storm: every request is a new alert of a new group (its own service), so every alert " +
				"opens an incident — many outages at once.",
			Gen:     hook[2],
			API:     api[2],
			IsP0:    incident.isP0,
			Service: incident.service,
		},
		"incident-grouped": {
			Name: "incident-grouped",
			Describe: fmt.Sprintf("the incident storm as Alertmanager delivers it: every request carries %d new alerts of a new group "+
				"(%s bytes), so every request opens an incident; alerts/s counts alerts.", groupSize, fmtInt(uint64(bodyBytes(hook[3])))),
			Gen:     hook[3],
			API:     api[3],
			IsP0:    incidentGrouped.isP0,
			Service: incidentGrouped.service,
		},
	}, nil
}

// incidents describes an incident storm's requests: request id opens the
// incident of service svc-<id·n, last 12 digits> (template.fill), of
// template id % numGroups.
type incidents struct {
	n  uint64
	p0 []bool
}

func newIncidentsOf(gen generator, n int) (*incidents, error) {
	p0, err := p0Templates(gen)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p0, true) {
		return nil, errors.New("no alert of the incident storm is P0 under the default rules")
	}
	return &incidents{n: uint64(n), p0: p0}, nil
}

func (in *incidents) isP0(id uint64) bool { return in.p0[id%uint64(len(in.p0))] }

func (in *incidents) service(id uint64) string {
	const mod = 1_000_000_000_000 // serviceDigits
	return fmt.Sprintf("svc-%012d", id*in.n%mod)
}

// result is a finished scenario.
type result struct {
	Workload string
	Server   string
	Baseline bool
	Ref      string
	Stats    phaseStats
	// CPU is the servers' CPU time during the timed phase (the
	// PostgreSQL server's not counted).
	CPU time.Duration
	// Rows is the change in rows per table of the gateway's database over
	// the timed phase; nil when the row has no database.
	Rows map[string]int64
	// Owed is the deliveries written and not finished at the start and at
	// the end of the timed phase (Rows' database): work the rows do not
	// count yet, which a gateway that falls behind its pages piles up.
	Owed [2]int64
	// Stmts and Txs are the statements and transactions the gateways'
	// writers ran over the timed phase (their /metrics), when StmtsRead.
	Stmts, Txs float64
	StmtsRead  bool
	// FirstPages is the first-page lateness of the new P0 incidents, for
	// the gateway rows of the incident workloads.
	FirstPages *firstPages
}

// Kinds of reference rows besides the parse-only baseline.
const (
	refCeiling      = "ceiling"
	refAlertmanager = "alertmanager"
)

// Names of the reference rows.
const (
	ceilingName      = "durable-append ceiling (parse + fdatasync'd group append, no SQL)"
	alertmanagerName = "Alertmanager v0.35 (in memory)"
)

// runScenario starts the scenario's server, primes it, warms it up and
// measures it for opts.duration.
func runScenario(ctx context.Context, e *env, sc scenario) (result, error) {
	res := result{Workload: sc.Workload.Name, Server: sc.Name, Baseline: sc.Baseline, Ref: sc.Ref}
	p, err := sc.Start(ctx, e)
	if err != nil {
		return res, err
	}
	defer p.stop()
	gen := sc.Workload.Gen
	if p.api {
		gen = sc.Workload.API
	}
	c := newLoadClient(p.addrs(), e.opts.conns, gen)
	defer c.close()
	if p.path != "" {
		c.setPath(p.path)
	}

	logf("%s / %s: %s", sc.Workload.Name, sc.Name, p)
	if n := sc.Workload.Prime; n > 0 {
		st := c.runCount(ctx, n)
		logf("  primed: %d alerts sent once, not counted (%s)", st.ok, st.elapsed.Round(time.Millisecond))
		if err := failed(ctx, p, "priming", &st); err != nil {
			return res, err
		}
	}
	if e.opts.warmup > 0 {
		st := c.runFor(ctx, e.opts.warmup)
		if err := failed(ctx, p, "warm-up", &st); err != nil {
			return res, err
		}
	}
	var rowsBefore map[string]int64
	if p.rows != nil {
		if rowsBefore, err = p.rows.count(ctx); err != nil {
			return res, err
		}
		if res.Owed[0], err = p.rows.unfinished(ctx); err != nil {
			return res, err
		}
	}
	var stmts0, txs0 float64
	if p.rows != nil {
		stmts0, txs0 = p.writerWork()
	}
	firstPages := sc.Workload.IsP0 != nil && p.sink != nil
	if firstPages {
		p.sink.reset()
		c.trackAcks(true)
	}
	cpuBefore, err := p.cpuTime()
	if err != nil {
		return res, err
	}
	res.Stats = c.runFor(ctx, e.opts.duration)
	cpuAfter, err := p.cpuTime()
	if err != nil {
		return res, err
	}
	res.CPU = cpuAfter - cpuBefore
	if p.rows != nil {
		// The deliveries owed first: the backlog drains while every table
		// is counted.
		if res.Owed[1], err = p.rows.unfinished(ctx); err != nil {
			return res, err
		}
		after, err := p.rows.count(ctx)
		if err != nil {
			return res, err
		}
		res.Rows = rowDelta(rowsBefore, after)
		if stmts0 >= 0 {
			if s1, t1 := p.writerWork(); s1 >= 0 {
				res.Stmts, res.Txs, res.StmtsRead = s1-stmts0, t1-txs0, true
			}
		}
	}
	logf("  %.0f alerts/s, p50 %s, p99 %s, %.0f CPU-µs/alert, %.2f rows/alert", res.Stats.rate(), fmtDur(res.Stats.lat.percentile(50)),
		fmtDur(res.Stats.lat.percentile(99)), res.cpuPerAlert(), res.rowsPerAlert())
	if firstPages {
		acks := c.acks()
		c.trackAcks(false)
		var want []string
		for _, a := range acks {
			if sc.Workload.IsP0(a.id) {
				want = append(want, sc.Workload.Service(a.id))
			}
		}
		waited := p.sink.waitFor(ctx, want, firstPageGrace)
		fp := matchFirstPages(acks, sc.Workload.IsP0, sc.Workload.Service, p.sink.arrived, waited)
		res.FirstPages = &fp
		logf("  first page of %d new P0 incidents: %d paged (%d before the 2xx), p50 %s, p99 %s, max %s", fp.Incidents, fp.Paged, fp.Early, fmtDur(fp.P50), fmtDur(fp.P99), fmtDur(fp.Max))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if n := res.Stats.failures(); n > 0 {
		logf("!!! %s / %s: %d FAILED requests: %s\n  server output:\n%s", sc.Workload.Name, sc.Name, n, res.Stats.failureSummary(), p.output())
	}
	return res, nil
}

// failed turns failures of an untimed phase into an error.
func failed(ctx context.Context, p *servers, phase string, st *phaseStats) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := st.failures(); n > 0 {
		return fmt.Errorf("%s %s: %d failed requests: %s\n  server output:\n%s", p.procs[0].name, phase, n, st.failureSummary(), p.output())
	}
	return nil
}

// memResult is the RSS measurement.
type memResult struct {
	Alerts        uint64
	Before, After int64 // bytes
	Fill          phaseStats
}

// perAlert returns the RSS growth per active alert in bytes.
func (m memResult) perAlert() float64 {
	if m.Alerts == 0 {
		return 0
	}
	return float64(m.After-m.Before) / float64(m.Alerts)
}

// memSettle lets the server finish in-flight work before RSS is read.
const memSettle = 2 * time.Second

// runMemory starts a fresh server, reads its RSS, ingests opts.rssAlerts
// distinct firing alerts (storm bodies) and reads its RSS again.
func runMemory(ctx context.Context, e *env, start startFunc, gen generator) (memResult, error) {
	res := memResult{Alerts: uint64(e.opts.rssAlerts)}
	p, err := start(ctx, e)
	if err != nil {
		return res, err
	}
	defer p.stop()
	c := newLoadClient(p.addrs(), e.opts.conns, gen)
	defer c.close()

	logf("memory: %d alerts into %s", res.Alerts, p)
	if err := sleep(ctx, memSettle); err != nil {
		return res, err
	}
	if res.Before, err = p.procs[0].rss(); err != nil {
		return res, err
	}
	res.Fill = c.runCount(ctx, res.Alerts)
	if err := failed(ctx, p, "memory fill", &res.Fill); err != nil {
		return res, err
	}
	if err := sleep(ctx, memSettle); err != nil {
		return res, err
	}
	if res.After, err = p.procs[0].rss(); err != nil {
		return res, err
	}
	logf("  RSS %s → %s, %.0f B per alert", fmtBytes(res.Before), fmtBytes(res.After), res.perAlert())
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cpuPerAlert returns the servers' CPU µs per alert stored.
func (r result) cpuPerAlert() float64 {
	if r.Stats.alerts == 0 {
		return 0
	}
	return float64(r.CPU.Microseconds()) / float64(r.Stats.alerts)
}

// stmtsPerAlert returns the writer statements per alert stored, -1 when
// not read.
func (r result) stmtsPerAlert() float64 {
	if !r.StmtsRead || r.Stats.alerts == 0 {
		return -1
	}
	return r.Stmts / float64(r.Stats.alerts)
}

// rowsPerAlert returns the rows added per alert stored, all tables.
func (r result) rowsPerAlert() float64 {
	if r.Stats.alerts == 0 {
		return 0
	}
	var n int64
	for _, d := range r.Rows {
		n += d
	}
	return float64(n) / float64(r.Stats.alerts)
}
