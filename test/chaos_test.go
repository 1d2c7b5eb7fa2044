package test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A target that fails half of the requests at random, answers 429 to
// some and hangs past the attempt timeout on others (so some pages arrive
// although the gateway saw a timeout): every page is delivered — exactly
// once per idempotency key at the receiver, which dedupes as receivers are
// told to — or dead-lettered and visible; none is lost.
func TestChaosEveryPageDeliveredOrDeadLettered(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time chaos test")
	}
	const n = 40
	var (
		mu        sync.Mutex
		delivered = map[string]int{} // idempotency key → successful receptions
		attempts  = map[string]int{}
	)
	rng := rand.New(rand.NewPCG(1, 2))
	var rngMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var h hook
		_ = json.Unmarshal(b, &h)
		key := r.Header.Get("Idempotency-Key")
		if h.Kind != "page" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		rngMu.Lock()
		x := rng.Float64()
		rngMu.Unlock()
		mu.Lock()
		attempts[key]++
		mu.Unlock()
		switch {
		case x < 0.5:
			http.Error(w, "chaos", http.StatusInternalServerError)
		case x < 0.65:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case x < 0.8:
			// Received and processed, but the answer comes after the
			// gateway's attempt timeout: an ambiguous failure.
			mu.Lock()
			delivered[key]++
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
		default:
			mu.Lock()
			delivered[key]++
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	cfg := strings.Replace(issueConfig, `  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook" }`,
		`  - { name: sink, type: webhook, url: "http://127.0.0.1:9999/hook", timeout: 150ms,
      retry: { max_attempts: 25, backoff: 50ms, max_backoff: 400ms }, breaker: { failures: 1000, open_for: 1s } }`, 1)
	url := startRealGateway(t, cfg, &sink{srv: srv, hits: make(chan struct{}, 1000)})

	for i := range n {
		body := fmt.Sprintf(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Chaos%d","severity":"critical"},"startsAt":"2026-11-27T10:00:00Z"}]}`, i)
		req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/alerts/alertmanager", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	type view struct {
		Deliveries []struct{ Key string } `json:"deliveries"`
	}
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("INC-%d/page/oncall#0/sink", i+1)
	}
	var dead, done view
	require.Eventually(t, func() bool {
		getJSON(t, url+"/api/v1/deliveries?state=dead&limit=1000", &dead)
		getJSON(t, url+"/api/v1/deliveries?state=done&limit=1000", &done)
		settled := map[string]bool{}
		for _, d := range append(dead.Deliveries, done.Deliveries...) {
			settled[d.Key] = true
		}
		for _, k := range keys {
			if !settled[k] {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "every page settles as done or dead")

	mu.Lock()
	defer mu.Unlock()
	deadSet := map[string]bool{}
	for _, d := range dead.Deliveries {
		deadSet[d.Key] = true
	}
	dupes, retried := 0, 0
	for _, k := range keys {
		if attempts[k] > 1 {
			retried++
		}
		if deadSet[k] {
			continue // visible as a dead letter
		}
		require.GreaterOrEqual(t, delivered[k], 1, "page %s reached the receiver", k)
		dupes += delivered[k] - 1
	}
	t.Logf("%d pages: %d needed retries, %d dead-lettered, %d receptions repeated after an ambiguous timeout (deduped by Idempotency-Key)",
		n, retried, len(deadSet), dupes)
	require.Greater(t, retried, n/4, "the chaos did make pages retry")
}
