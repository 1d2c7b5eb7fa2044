package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// BenchmarkIngestStorm measures durable ingest of new alerts (one per call,
// from parallel callers, so group commit batches them) into 100 groups.
func BenchmarkIngestStorm(b *testing.B) { benchEngines(b, benchStorm) }

// BenchmarkIngestRepeat measures repeats of unchanged firing alerts.
func BenchmarkIngestRepeat(b *testing.B) { benchEngines(b, benchRepeat) }

// benchEngines runs a benchmark on SQLite, and on PostgreSQL when
// ALERTGATE_TEST_POSTGRES_DSN is set (in a fresh schema).
func benchEngines(b *testing.B, fn func(b *testing.B, s *Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{Classifier: classifier{}, Planner: planner{}})
		require.NoError(b, err)
		defer s.Close()
		fn(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), postgresDSN(b), Options{Classifier: classifier{}, Planner: planner{}})
		require.NoError(b, err)
		defer s.Close()
		fn(b, s)
	})
}

func benchStorm(b *testing.B, s *Store) { benchStormN(b, s, 1) }

// BenchmarkIngestStormGrouped is BenchmarkIngestStorm with 25 new alerts of
// one group per call, as Alertmanager sends a group's alerts together;
// ns/op, alerts/s and cpu-µs/op are per alert.
func BenchmarkIngestStormGrouped(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *Store) { benchStormN(b, s, 25) })
}

// benchStormN ingests b.N new alerts, n per call, from parallel callers;
// the alerts of one call share a group.
func benchStormN(b *testing.B, s *Store, n int) {
	var next, calls atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	cpu := startCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var batch []alert.Alert
		var g int64
		for pb.Next() {
			if len(batch) == 0 {
				g = calls.Add(1)
			}
			if batch = append(batch, stormAlert(g, next.Add(1))); len(batch) < n {
				continue
			}
			if _, err := s.Ingest(context.Background(), batch); err != nil {
				b.Error(err)
				return
			}
			batch = batch[:0]
		}
		if len(batch) > 0 {
			if _, err := s.Ingest(context.Background(), batch); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	cpu.report()
}

// stormAlert is new alert i in group g of 100 (alertname × service).
func stormAlert(g, i int64) alert.Alert {
	a := firing(fmt.Sprintf("Alert%d", g%20), fmt.Sprintf("svc%d", g/20%5), fmt.Sprintf("%016x", i))
	a.Labels["instance"] = fmt.Sprintf("10.0.%d.%d:9100", i/256%256, i%256)
	a.Annotations = map[string]string{"summary": "storm alert", "description": "one of many"}
	return a
}

func benchRepeat(b *testing.B, s *Store) {
	alerts := make([]alert.Alert, 1000)
	for i := range alerts {
		alerts[i] = firing(fmt.Sprintf("Alert%d", i%20), fmt.Sprintf("svc%d", i%50), fmt.Sprintf("%016x", i))
		_, err := s.Ingest(context.Background(), alerts[i:i+1])
		require.NoError(b, err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Ingest(context.Background(), alerts[i%1000:i%1000+1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkIngestStormPendingTimers is BenchmarkIngestStorm on a store
// that already holds 20,000 open incidents with their pending jobs.
func BenchmarkIngestStormPendingTimers(b *testing.B) {
	s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{Classifier: classifier{}, Planner: planner{}})
	require.NoError(b, err)
	defer s.Close()
	batch := make([]alert.Alert, 0, 100)
	for i := range 20000 {
		batch = append(batch, firing(fmt.Sprintf("Preload%d", i), "pre", fmt.Sprintf("p%015x", i)))
		if len(batch) == cap(batch) {
			_, err := s.Ingest(context.Background(), batch)
			require.NoError(b, err)
			batch = batch[:0]
		}
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Ingest(context.Background(), []alert.Alert{stormAlert(i, i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// cpuMeter reports the process's CPU time (user + system, every goroutine
// and the SQLite driver included) per operation: steadier than alerts/s on
// a shared machine, and what bounds throughput when client and server
// share the cores.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{b: b, start: processCPU(b)} }

func (m cpuMeter) report() {
	used := processCPU(m.b) - m.start
	m.b.ReportMetric(float64(used.Microseconds())/float64(m.b.N), "cpu-µs/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
