package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A page cut off mid-send by a SIGKILL is sent again as soon as the
// gateway is back, with the same idempotency key, not after the 2-minute
// delivery lease: on SQLite every running claim found at start is the
// predecessor's.
func TestKilledMidSendPageIsResentAtRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	var mu sync.Mutex
	var keys []string
	var at []time.Time
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h hook
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &h)
		if h.Kind == "page" {
			mu.Lock()
			keys, at = append(keys, h.IdempotencyKey), append(at, time.Now())
			first := len(keys) == 1
			mu.Unlock()
			if first { // hangs until the gateway dies
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, srv.URL+"/hook", `
escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, P0: now, P1: now, P2: now, P3: now }
`)
	c := startChild(t, cfgPath)
	body, err := os.ReadFile("../adapters/testdata/alertmanager-firing.json")
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, c.url+"/api/v1/alerts/alertmanager", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(keys) }
	require.Eventually(t, func() bool { return count() == 1 }, 10*time.Second, 10*time.Millisecond, "the page is being sent")
	c.kill(t)
	killed := time.Now()

	startChild(t, cfgPath)
	require.Eventually(t, func() bool { return count() == 2 }, 20*time.Second, 10*time.Millisecond, "the cut-off page is sent again")
	mu.Lock()
	defer mu.Unlock()
	t.Logf("re-sent %s after the kill (the restart included)", at[1].Sub(killed).Round(time.Millisecond))
	require.Equal(t, keys[0], keys[1], "same idempotency key")
	require.Less(t, at[1].Sub(killed), 20*time.Second, "not after the 2m lease")
}
