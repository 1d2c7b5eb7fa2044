package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
)

// scalePair is the flat-with-scale measurement of one workload: the same
// gateway on an empty database and on the large one, in the same run.
type scalePair struct {
	Workload     string
	Size         scaleSize
	Empty, Large result
}

// ratio is the large database's alerts/s in % of the empty one's.
func (p scalePair) ratio() float64 {
	if p.Empty.Stats.rate() == 0 {
		return 0
	}
	return 100 * p.Large.Stats.rate() / p.Empty.Stats.rate()
}

// scaleWorkloads are the workloads of the flat-with-scale rows.
var scaleWorkloads = []string{"incident", "repeat"}

// scaleTarget is the bound: at scale ≥ 90 % of the empty
// database's throughput.
const scaleTarget = 90.0

// runScale builds (or reuses) the large database and runs every scale
// workload on a fresh gateway with an empty database, then on a copy of
// the large one.
func runScale(ctx context.Context, e *env, sz scaleSize, all map[string]*workload) ([]scalePair, error) {
	path, err := scaleDB(ctx, e, sz)
	if err != nil {
		return nil, err
	}
	var out []scalePair
	for _, name := range scaleWorkloads {
		wl := all[name]
		pair := scalePair{Workload: name, Size: sz}
		if pair.Empty, err = runScenario(ctx, e, scenario{Name: "gateway (SQLite, empty database)", Start: startGateway, Workload: wl}); err != nil {
			return out, fmt.Errorf("%s, empty database: %w", name, err)
		}
		large := scenario{Name: fmt.Sprintf("gateway (SQLite, %s)", sz), Start: startScaleGateway(path), Workload: wl}
		if pair.Large, err = runScenario(ctx, e, large); err != nil {
			return out, fmt.Errorf("%s, large database: %w", name, err)
		}
		logf("  %s at scale: %.1f %% of the empty database", name, pair.ratio())
		out = append(out, pair)
	}
	return out, nil
}

// startScaleGateway starts a gateway on a fresh copy of the large
// database at path.
func startScaleGateway(path string) startFunc {
	return func(ctx context.Context, e *env) (*servers, error) {
		dir, err := e.dir("scale-copy")
		if err != nil {
			return nil, err
		}
		db := filepath.Join(dir, "bench.db")
		if err := copyFile(path, db); err != nil {
			return nil, err
		}
		return startPagingGateway(ctx, e, db)
	}
}

// writeScale adds the flat-with-scale table to the report.
func writeScale(b io.Writer, pairs []scalePair) {
	if len(pairs) == 0 {
		return
	}
	fmt.Fprintf(b, "**Flat with scale** (the same gateway on a new, empty database and on a copy of a database holding %s, in the same run; "+
		"the large database is built once by direct SQL into the gateway's migrated schema — twice as many incidents as open ones, half of them "+
		"resolved, the alerts spread evenly over them, each incident with its timeline and its finished jobs, no pending timers — "+
		"cached per size and schema version, and copied for every run):\n\n", pairs[0].Size)
	io.WriteString(b, "| workload | empty: alerts/s | p99 | CPU-µs/alert | large: alerts/s | p99 | CPU-µs/alert | first P0 page p99, empty → large | large vs empty | ≥ 90 % |\n"+
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|\n")
	for _, p := range pairs {
		page := ""
		if p.Empty.FirstPages != nil && p.Large.FirstPages != nil {
			page = fmtDur(p.Empty.FirstPages.P99) + " → " + fmtDur(p.Large.FirstPages.P99)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.0f | %s | %s | %.0f | %s | **%.1f %%** | %s |\n", p.Workload,
			fmtInt(uint64(p.Empty.Stats.rate()+0.5)), fmtDur(p.Empty.Stats.lat.percentile(99)), p.Empty.cpuPerAlert(),
			fmtInt(uint64(p.Large.Stats.rate()+0.5)), fmtDur(p.Large.Stats.lat.percentile(99)), p.Large.cpuPerAlert(),
			page, p.ratio(), passFail(p.ratio() >= scaleTarget))
	}
	io.WriteString(b, "\n")
}
