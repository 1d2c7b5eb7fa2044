package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad flags stop `loadgen chaos` with status 2 and a message, before any
// build or process.
func TestChaosFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"short load", []string{"-duration", "1s"}, "-duration must be in 5s..1h"},
		{"negative kills", []string{"-kills", "-1"}, "-kills must be in 0..100"},
		{"zero rate", []string{"-rate", "0"}, "-rate must be in (0, 10000]"},
		{"no connections", []string{"-conns", "0"}, "-conns must be in 1..256"},
		{"unknown engine", []string{"-engines", "mysql"}, `unknown engine "mysql"`},
		{"postgres without a DSN", []string{"-engines", "postgres", "-postgres", ""}, "engine postgres needs -postgres"},
		{"several at once", []string{"-kills", "-1", "-rate", "0"}, "-kills must be in 0..100\n-rate must be"},
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, 2, run(append([]string{"chaos"}, tt.args...), &stdout, &stderr))
			require.Contains(t, stderr.String(), tt.want)
			require.Empty(t, stdout.String())
		})
	}
}

// A run that kept its promises prints PASS, no FAIL, and its figures.
func TestChaosReportPass(t *testing.T) {
	f := checkChaos(testPlan(), goodRecords())
	rep := &chaosReport{Plan: testPlan(), Runs: []*chaosRun{{Engine: "SQLite", Findings: f, PeakRSS: 40 << 20, Settled: true}}}
	var out bytes.Buffer
	require.NoError(t, rep.write(&out))
	require.Empty(t, rep.broken())
	s := out.String()
	require.NotContains(t, s, "FAIL")
	require.Contains(t, s, "| verdict | PASS |")
	require.Contains(t, s, "| same-key re-sends: count, delay p50 / max | 1, 115 s / 115 s |")
	require.Contains(t, s, "| first-page lateness at the healthy target p50 / p99 / max | 10.0 ms / 30.0 ms / 30.0 ms |")
	require.Contains(t, s, "| peak RSS | 40.0 MiB |")
	require.Contains(t, s, "| broken | 3 | 0 | 2 | 1 | 0 | 1 |")
}
