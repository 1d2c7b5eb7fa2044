package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

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
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), postgresDSN(b), Options{Classifier: classifier{}, Planner: planner{}})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
}

func benchStorm(b *testing.B, s *Store) {
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			a := firing(fmt.Sprintf("Alert%d", i%20), fmt.Sprintf("svc%d", i%5), fmt.Sprintf("%016x", i))
			a.Labels["instance"] = fmt.Sprintf("10.0.%d.%d:9100", i/256%256, i%256)
			a.Annotations = map[string]string{"summary": "storm alert", "description": "one of many"}
			if _, err := s.Ingest(context.Background(), []alert.Alert{a}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

func benchRepeat(b *testing.B, s *Store) {
	alerts := make([]alert.Alert, 1000)
	for i := range alerts {
		alerts[i] = firing(fmt.Sprintf("Alert%d", i%20), fmt.Sprintf("svc%d", i%50), fmt.Sprintf("%016x", i))
		if _, err := s.Ingest(context.Background(), alerts[i:i+1]); err != nil {
			b.Fatal(err)
		}
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
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]alert.Alert, 0, 100)
	for i := range 20000 {
		batch = append(batch, firing(fmt.Sprintf("Preload%d", i), "pre", fmt.Sprintf("p%015x", i)))
		if len(batch) == cap(batch) {
			if _, err := s.Ingest(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
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
			a := firing(fmt.Sprintf("Alert%d", i%20), fmt.Sprintf("svc%d", i%5), fmt.Sprintf("%016x", i))
			if _, err := s.Ingest(context.Background(), []alert.Alert{a}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}
