package test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkTimerPrecision measures how late timed escalation steps are
// sent: incidents are opened with On-Call paged 2 s after opening (a timed
// step, not an immediate one), and the sink records when each page
// arrives; lateness = arrival − (opening + 2 s). Reported as p50/p99/max
// in milliseconds. Real clock, gateway in-process, webhook sink on
// loopback.
func BenchmarkTimerPrecision(b *testing.B) {
	const n = 200
	var (
		mu      sync.Mutex
		arrived = map[string]time.Time{}
		opened  = map[string]time.Time{}
	)
	sk := &sink{hits: make(chan struct{}, 100000)}
	sk.srv = newRecordingServer(func(h hook) {
		if h.Kind == "page" {
			mu.Lock()
			arrived[h.Incident.ID] = time.Now()
			opened[h.Incident.ID] = h.Incident.OpenedAt
			mu.Unlock()
		}
	})
	defer sk.srv.Close()
	cfg := issueConfig + `
escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, P0: 2s, P1: 2s, P2: 2s, P3: 2s }
`
	g := startRealGateway(b, cfg, sk)
	b.ResetTimer()
	for i := range n {
		body := fmt.Sprintf(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Timer%d","severity":"critical"},"startsAt":"2026-11-27T10:00:00Z"}]}`, i)
		req, _ := http.NewRequest(http.MethodPost, g+"/api/v1/alerts/alertmanager", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
		time.Sleep(5 * time.Millisecond) // spread the due times over a second
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		if got == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	require.Len(b, arrived, n, "every timed page arrived")
	var late []float64
	for id, at := range arrived {
		late = append(late, float64(at.Sub(opened[id].Add(2*time.Second)))/float64(time.Millisecond))
	}
	sort.Float64s(late)
	b.ReportMetric(late[len(late)/2], "p50-late-ms")
	b.ReportMetric(late[len(late)*99/100], "p99-late-ms")
	b.ReportMetric(late[len(late)-1], "max-late-ms")
	b.ReportMetric(late[0], "min-late-ms")
}
