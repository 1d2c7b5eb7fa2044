package test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkIncidentStorm posts Alertmanager notifications whose every
// alert is a new group, so each opens a new incident, from 64 parallel
// clients through the in-process gateway (real rules, escalation and a
// recording webhook paging target). It is the load tool's incident
// workload in a Go benchmark, for CPU profiles:
// go -C test test -run '^$' -bench IncidentStorm -cpuprofile cpu.out .
func BenchmarkIncidentStorm(b *testing.B) { incidentStorm(b, issueConfig) }

// BenchmarkIncidentStormPostgres is the same on PostgreSQL (a fresh
// schema; skipped without ALERTGATE_TEST_POSTGRES_DSN).
func BenchmarkIncidentStormPostgres(b *testing.B) {
	incidentStorm(b, onPostgres(b, issueConfig, postgresSchemaDSN(b, "bench")))
}

func incidentStorm(b *testing.B, cfg string) {
	sk := &sink{hits: make(chan struct{}, 1<<20)}
	sk.srv = newRecordingServer(func(hook) {})
	defer sk.srv.Close()
	g := startRealGateway(b, cfg, sk)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"version":"4","status":"firing","groupKey":"{}:{alertname=\"Storm%d\"}","alerts":[{"status":"firing",`+
				`"labels":{"alertname":"Storm%d","service":"svc%d","severity":"critical","instance":"10.0.0.%d:9100"},`+
				`"annotations":{"summary":"storm %d"},"startsAt":"2026-11-27T10:00:00Z"}]}`, i, i, i%50, i%250, i)
			req, _ := http.NewRequest(http.MethodPost, g+"/api/v1/alerts/alertmanager", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer s3cret")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
}
