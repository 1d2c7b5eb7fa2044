package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target of the benchmark issue; informational, it doesn't fail the run.
const targetPerAlert = 2048 // RSS bytes per active alert

// report is everything the Markdown output shows.
type report struct {
	Command   string
	Machine   machine
	Date      time.Time
	Conns     int
	Warmup    time.Duration
	Duration  time.Duration
	BodyBytes int
	Workloads []*workload
	Results   []result
	Mem       *memResult
	// Hang is the healthy target's first-page lateness with another
	// target hanging (-hang).
	Hang *hangResult
	Idle *idleResult
	// Scale is the flat-with-scale measurement (-scale).
	Scale []scalePair
	// Postgres describes the database of the PostgreSQL rows; when there
	// are none, PostgresSkipped says why.
	Postgres        string
	PostgresSkipped string
}

// machine describes where the benchmark ran.
type machine struct {
	CPU        string
	NumCPU     int
	GOMAXPROCS int
	GoVersion  string
	OS, Arch   string
}

// thisMachine reads the CPU model from /proc/cpuinfo.
func thisMachine() machine {
	m := machine{CPU: "unknown CPU", NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			m.CPU = strings.TrimSpace(v)
			break
		}
	}
	return m
}

// ratio returns r's throughput in % of its workload's baseline, and
// whether there is a baseline to compare with.
func (rep *report) ratio(r result) (float64, bool) {
	return rep.refRatio(r, func(b result) bool { return b.Baseline })
}

// refRatio returns r's throughput in % of the first result of its
// workload that isRef accepts, and whether there is one.
func (rep *report) refRatio(r result, isRef func(result) bool) (float64, bool) {
	for _, b := range rep.Results {
		if isRef(b) && b.Workload == r.Workload && b.Stats.rate() > 0 {
			return 100 * r.Stats.rate() / b.Stats.rate(), true
		}
	}
	return 0, false
}

// isRef returns a filter for the reference rows of kind.
func isRef(kind string) func(result) bool {
	return func(b result) bool { return b.Ref == kind }
}

// failures counts the failed requests of every result.
func (rep *report) failures() uint64 {
	var n uint64
	for _, r := range rep.Results {
		n += r.Stats.failures()
	}
	if rep.Mem != nil {
		n += rep.Mem.Fill.failures()
	}
	for _, p := range rep.Scale {
		n += p.Empty.Stats.failures() + p.Large.Stats.failures()
	}
	return n
}

// write renders the report as Markdown.
func (rep *report) write(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "### Ingest benchmark\n\n`%s`, %s, on %s: %d CPUs (GOMAXPROCS %d), %s, %s/%s.\n\n",
		rep.Command, rep.Date.UTC().Format("2006-01-02"), m.CPU, m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch)
	if len(rep.Results) > 0 || rep.Mem != nil {
		fmt.Fprintf(&b, "One Alertmanager v4 webhook with one alert (%s bytes, as Alertmanager's encoder writes it; unless the workload says otherwise) per "+
			"`POST %s`, from %d connections in a closed loop (each sends its next request when the answer arrives); "+
			"client and servers share the machine. %s warm-up not counted, then %s measured. "+
			"The baseline is a fiber server with the gateway's settings whose handler only decodes the body and answers 200; "+
			"the gateway answers 200 after the durable commit (SQLite unless the row says PostgreSQL). Each row runs fresh server processes. "+
			"Latency is the client's time per request; p50/p99 are nearest-rank percentiles of a log-linear histogram "+
			"(buckets at most 1.6 %% wide). alerts/s counts 2xx answers only. CPU-µs/alert is the server processes' user+system CPU "+
			"time over the measured phase (/proc/PID/stat; not the client's, not PostgreSQL's) per alert answered 2xx; rows/alert is the "+
			"change in rows of every table of the gateway's database over the measured phase per alert (work still queued, "+
			"such as escalation steps not yet run, is not in it: the incident workloads' rows-by-table lines give the deliveries "+
			"owed — written, not finished — at the phase's start and end); stmts/alert counts the statements run in the gateway's writer "+
			"transactions (ingest, escalation steps, claims; `alertgate_store_statements_total`) over the measured phase per alert. The durable-append ceiling decodes like the baseline, then appends "+
			"the body to a file with every request waiting in one write + fdatasync (group commit) before it answers: the cheapest "+
			"durable commit, no SQL. vs ceiling and vs Alertmanager compare alerts/s with those rows of the same workload.\n\n",
			fmtInt(uint64(rep.BodyBytes)), ingestPath, rep.Conns, rep.Warmup, rep.Duration)
	}

	if len(rep.Results) > 0 {
		b.WriteString("| workload | server | alerts/s | p50 | p99 | CPU-µs/alert | rows/alert | stmts/alert | vs baseline | vs ceiling | vs Alertmanager | requests | failed |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rep.Results {
			vs, vsCeiling, vsAM, rows := "", "", "", ""
			if pct, ok := rep.ratio(r); ok {
				vs = fmt.Sprintf("%.1f %%", pct)
			}
			if !r.Baseline && r.Ref == "" {
				if pct, ok := rep.refRatio(r, isRef(refCeiling)); ok {
					vsCeiling = fmt.Sprintf("%.1f %%", pct)
				}
				if pct, ok := rep.refRatio(r, isRef(refAlertmanager)); ok {
					vsAM = fmt.Sprintf("**%.2f×**", pct/100)
				}
			}
			if r.Rows != nil {
				rows = fmt.Sprintf("%.2f", r.rowsPerAlert())
			}
			stmts := ""
			if v := r.stmtsPerAlert(); v >= 0 {
				stmts = fmt.Sprintf("%.1f", v)
			}
			failed := fmtInt(r.Stats.failures())
			if r.Stats.failures() > 0 {
				failed = "**" + failed + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n",
				r.Workload, r.Server, fmtInt(uint64(r.Stats.rate()+0.5)),
				fmtDur(r.Stats.lat.percentile(50)), fmtDur(r.Stats.lat.percentile(99)), r.cpuPerAlert(), rows, stmts,
				vs, vsCeiling, vsAM, fmtInt(r.Stats.ok+r.Stats.failures()), failed)
		}
		b.WriteString("\n")
		if lines := rep.rowsByTable(); len(lines) > 0 {
			b.WriteString("Rows added per alert by table (measured phase; an alert of the incident workloads is a new incident):\n\n")
			for _, l := range lines {
				b.WriteString("- " + l + "\n")
			}
			b.WriteString("\n")
		}
		if rep.Postgres != "" {
			fmt.Fprintf(&b, "PostgreSQL rows: `storage: {driver: postgres}` on %s, each row in a fresh schema (selected by `search_path` in the DSN) "+
				"dropped afterwards. %s\n\n", rep.Postgres, replicasNote(rep.Conns))
		} else if rep.PostgresSkipped != "" {
			b.WriteString(rep.PostgresSkipped + "\n\n")
		}
		for _, wl := range rep.Workloads {
			fmt.Fprintf(&b, "- *%s*: %s\n", wl.Name, wl.Describe)
		}
		b.WriteString("\n")
	}

	writeFirstPages(&b, rep.Results)
	writeScale(&b, rep.Scale)
	if mem := rep.Mem; mem != nil {
		b.WriteString("| active alerts | RSS at start | RSS after | per active alert | ≤ 2 KB |\n|--:|--:|--:|--:|:-:|\n")
		fmt.Fprintf(&b, "| %s | %s | %s | %s B | %s |\n\n", fmtInt(mem.Alerts), fmtBytes(mem.Before), fmtBytes(mem.After),
			fmtInt(uint64(max(mem.perAlert(), 0)+0.5)), passFail(mem.perAlert() <= targetPerAlert))
		fmt.Fprintf(&b, "RSS is the gateway's VmRSS (/proc/PID/status) in a fresh process with a new database, read %s after "+
			"/readyz answered and %s after %s distinct firing alerts (storm bodies: %d groups) were ingested at %s alerts/s; "+
			"per active alert = (after − start) / alerts.\n\n",
			memSettle, memSettle, fmtInt(mem.Alerts), numGroups, fmtInt(uint64(mem.Fill.rate()+0.5)))
	}
	if rep.Hang != nil {
		rep.Hang.write(&b)
		b.WriteString("\n")
	}
	if idle := rep.Idle; idle != nil {
		b.WriteString("| open incidents, idle | writer transactions/s | ≤ 1/s | CPU, % of a core | < 1 % |\n|--:|--:|:-:|--:|:-:|\n")
		fmt.Fprintf(&b, "| %s | %.2f | %s | %.2f %% | %s |\n\n", fmtInt(idle.Incidents), idle.txPerSecond(), passFail(idle.txPerSecond() <= 1),
			idle.corePercent(), passFail(idle.corePercent() < 1))
		fmt.Fprintf(&b, "Idle cost: a fresh gateway (SQLite) opens %s P2 incidents through the API (each with its pending escalation "+
			"timers), finishes the immediate work, rests %s, then receives nothing for %s: transactions begun on the store's writer "+
			"(`alertgate_store_write_transactions_total`) per second and the process's CPU time.\n\n",
			fmtInt(idle.Incidents), idleSettle, idle.Window.Round(time.Second))
	}
	if n := rep.failures(); n > 0 {
		fmt.Fprintf(&b, "**%s requests FAILED (non-2xx or transport errors); the figures above are not valid.**\n\n", fmtInt(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// replicasNote explains the multi-replica rows.
func replicasNote(conns int) string {
	var parts []string
	for _, n := range pgReplicas {
		if n < 2 {
			continue
		}
		split := connsSplit(conns, n)
		counts := make([]string, len(split))
		for i, c := range split {
			counts[i] = strconv.Itoa(c)
		}
		parts = append(parts, fmt.Sprintf("%d replicas: %d gateway processes on one schema, started one after another "+
			"(each once the previous answered /readyz); the %d connections are split among them (%s), each connection "+
			"staying with its replica.", n, n, conns, strings.Join(counts, " + ")))
	}
	return strings.Join(parts, " ")
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// fmtInt writes n with thousands separators: 1,234,567.
func fmtInt(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtDur writes a latency with about three significant digits: "812 µs",
// "1.25 ms".
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return sig3(d.Seconds()) + " s"
	}
}

// sig3 writes v (≥ 1) with two decimals below 10, one below 100, none above.
func sig3(v float64) string {
	switch {
	case v < 9.995:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 99.95:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// fmtBytes writes a size in MiB with one decimal.
func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// rowsByTable describes, per gateway row of the incident workloads, the
// rows added per alert in each table.
func (rep *report) rowsByTable() []string {
	var out []string
	for _, r := range rep.Results {
		if r.Rows == nil || !strings.HasPrefix(r.Workload, "incident") || r.Stats.alerts == 0 {
			continue
		}
		tables := slices.Sorted(maps.Keys(r.Rows))
		parts := make([]string, len(tables))
		for i, t := range tables {
			parts[i] = fmt.Sprintf("%s %.2f", t, float64(r.Rows[t])/float64(r.Stats.alerts))
		}
		line := fmt.Sprintf("*%s*, %s: %s", r.Workload, r.Server, strings.Join(parts, ", "))
		if v := r.stmtsPerAlert(); v >= 0 {
			line += fmt.Sprintf("; %.1f statements in %.2f writer transactions per alert", v, r.Txs/float64(r.Stats.alerts))
		}
		line += fmt.Sprintf("; deliveries owed (written, not finished) %s at the start, %s at the end", fmtInt(uint64(r.Owed[0])), fmtInt(uint64(r.Owed[1])))
		out = append(out, line)
	}
	return out
}
