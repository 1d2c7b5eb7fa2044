package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stats returns phase stats of ok requests at latency lat over elapsed.
func stats(ok uint64, lat, elapsed time.Duration) phaseStats {
	st := phaseStats{ok: ok, alerts: ok, elapsed: elapsed}
	for range ok {
		st.lat.record(lat)
	}
	return st
}

func TestReportRatios(t *testing.T) {
	rep := &report{Results: []result{
		{Workload: "repeat", Server: "baseline", Baseline: true, Stats: stats(1000, time.Millisecond, time.Second)},
		{Workload: "repeat", Server: "gateway", Stats: stats(600, 2*time.Millisecond, time.Second)},
		{Workload: "storm", Server: "baseline", Baseline: true, Stats: stats(2000, time.Millisecond, 2*time.Second)},
		{Workload: "storm", Server: "gateway", Stats: stats(500, 2*time.Millisecond, time.Second)},
		{Workload: "other", Server: "gateway", Stats: stats(10, time.Millisecond, time.Second)},
	}}
	tests := []struct {
		name   string
		row    int
		want   float64
		hasRef bool
	}{
		{name: "baseline is 100 %", row: 0, want: 100, hasRef: true},
		{name: "repeat gateway", row: 1, want: 60, hasRef: true},
		{name: "rates, not counts, are compared", row: 3, want: 50, hasRef: true},
		{name: "no baseline", row: 4, want: 0, hasRef: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rep.ratio(rep.Results[tc.row])
			require.Equal(t, tc.hasRef, ok)
			require.InDelta(t, tc.want, got, 1e-9)
		})
	}
}

func TestReportMarkdown(t *testing.T) {
	failing := stats(500, 2*time.Millisecond, time.Second)
	failing.statuses = map[int]uint64{503: 3}
	failing.firstErr = "HTTP 503: busy"
	grouped := stats(40, 5*time.Millisecond, time.Second)
	grouped.alerts = 40 * 25
	groupedBase := stats(100, time.Millisecond, time.Second)
	groupedBase.alerts = 100 * 25
	rep := &report{
		Workloads: []*workload{{Name: "repeat"}, {Name: "storm"}, {Name: "grouped", Describe: "25 per request"}, {Name: "incident"}},
		Command:   "go -C test run ./loadgen -duration 10s", Conns: 64, Warmup: time.Second, Duration: 10 * time.Second,
		BodyBytes: 1278,
		Results: []result{
			{Workload: "repeat", Server: "baseline (parse only)", Baseline: true, Stats: stats(1000, time.Millisecond, time.Second)},
			{Workload: "repeat", Server: "gateway (SQLite)", Stats: stats(600, 2*time.Millisecond, time.Second)},
			{Workload: "storm", Server: "baseline (parse only)", Baseline: true, Stats: stats(1000, time.Millisecond, time.Second)},
			{Workload: "storm", Server: "gateway (SQLite)", Stats: failing},
			{Workload: "grouped", Server: "baseline (parse only)", Baseline: true, Stats: groupedBase},
			{Workload: "grouped", Server: "gateway (SQLite)", Stats: grouped},
			{Workload: "incident", Server: "baseline (parse only)", Baseline: true, Stats: stats(1000, time.Millisecond, time.Second)},
			{Workload: "incident", Server: ceilingName, Ref: refCeiling, Stats: stats(800, time.Millisecond, time.Second), CPU: 40 * time.Millisecond},
			{Workload: "incident", Server: alertmanagerName, Ref: refAlertmanager, Stats: stats(400, time.Millisecond, time.Second)},
			{Workload: "incident", Server: "gateway (SQLite)", Stats: stats(200, 3*time.Millisecond, time.Second),
				CPU: 30 * time.Millisecond, Rows: map[string]int64{"alerts": 200, "incidents": 200, "jobs": 1400}, Stmts: 2400, Txs: 100, StmtsRead: true, Owed: [2]int64{3, 1250}},
		},
		Mem: &memResult{Alerts: 100_000, Before: 20 << 20, After: 20<<20 + 300_000_000},
	}
	var b strings.Builder
	require.NoError(t, rep.write(&b))
	out := b.String()

	for _, want := range []string{
		"`go -C test run ./loadgen -duration 10s`",
		"| repeat | baseline (parse only) | 1,000 | 1.00 ms | 1.00 ms | 0 |  |  | 100.0 % |  |  | 1,000 | 0 |",
		"| repeat | gateway (SQLite) | 600 | 2.00 ms | 2.00 ms | 0 |  |  | 60.0 % |  |  | 600 | 0 |",
		"| storm | gateway (SQLite) | 500 | 2.00 ms | 2.00 ms | 0 |  |  | 50.0 % |  |  | 503 | **3** |",
		// alerts/s counts alerts.
		"| grouped | gateway (SQLite) | 1,000 | 5.00 ms | 5.00 ms | 0 |  |  | 40.0 % |  |  | 40 | 0 |",
		// References get no ratio against each other.
		"| incident | " + ceilingName + " | 800 | 1.00 ms | 1.00 ms | 50 |  |  | 80.0 % |  |  | 800 | 0 |",
		// 30 ms / 200 alerts; 1,800 rows / 200; 2,400 statements / 200; 200/800; 200/400.
		"| incident | gateway (SQLite) | 200 | 3.00 ms | 3.00 ms | 150 | 9.00 | 12.0 | 20.0 % | 25.0 % | **0.50×** | 200 | 0 |",
		"- *incident*, gateway (SQLite): alerts 1.00, incidents 1.00, jobs 7.00; 12.0 statements in 0.50 writer transactions per alert; deliveries owed (written, not finished) 3 at the start, 1,250 at the end",
		"- *grouped*: 25 per request",
		"| 100,000 | 20.0 MiB | 306.1 MiB | 3,000 B | FAIL |",
		"**3 requests FAILED",
	} {
		require.Contains(t, out, want)
	}
	require.Equal(t, uint64(3), rep.failures())
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "int small", got: fmtInt(999), want: "999"},
		{name: "int thousands", got: fmtInt(1234567), want: "1,234,567"},
		{name: "int zero", got: fmtInt(0), want: "0"},
		{name: "ns", got: fmtDur(850), want: "850 ns"},
		{name: "µs", got: fmtDur(812 * time.Microsecond), want: "812 µs"},
		{name: "µs rounding up stays in unit", got: fmtDur(999_600), want: "1000 µs"},
		{name: "ms two decimals", got: fmtDur(1254 * time.Microsecond), want: "1.25 ms"},
		{name: "ms one decimal", got: fmtDur(12_340 * time.Microsecond), want: "12.3 ms"},
		{name: "s", got: fmtDur(2 * time.Second), want: "2.00 s"},
		{name: "MiB", got: fmtBytes(3 << 19), want: "1.5 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}
