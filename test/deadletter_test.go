package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A delivery the target refuses for good (400) becomes a dead letter,
// visible in the API and the queue metric; once the target is fixed, a
// retry delivers it with the same idempotency key.
func TestDeadLetterRetry(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var delivered atomic.Int32
	var lastKey atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h hook
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &h)
		if h.Kind != "page" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if refuse.Load() {
			http.Error(w, "no such channel", http.StatusBadRequest)
			return
		}
		lastKey.Store(r.Header.Get("Idempotency-Key"))
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	g := startGateway(t, issueConfig, &sink{srv: srv, hits: make(chan struct{}, 100)})
	resp, err := http.Get(g.url + "/metrics")
	require.NoError(t, err)
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`alertgate_delivery_queue{state="dead",target="sink"} 0`, `alertgate_delivery_queue{state="pending",target="log"} 0`,
		`alertgate_breaker_state{target="sink"} 0`, `alertgate_leader `, `alertgate_config_last_reload_successful 1`} {
		require.Contains(t, string(m), want, "exported before the first delivery")
	}
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("CheckoutDown", "checkout", "critical", time.Now())))

	var dead struct {
		Deliveries []struct {
			ID          int64
			Key, Target string
			State       string
			LastError   string `json:"last_error"`
		} `json:"deliveries"`
	}
	require.Eventually(t, func() bool {
		getJSON(t, g.url+"/api/v1/deliveries?state=dead", &dead)
		return len(dead.Deliveries) == 1
	}, 5*time.Second, 10*time.Millisecond)
	d := dead.Deliveries[0]
	require.Equal(t, "sink", d.Target)
	require.Equal(t, "INC-1/page/oncall#0/sink", d.Key)
	require.Contains(t, d.LastError, "400")
	resp, err = http.Get(g.url + "/metrics")
	require.NoError(t, err)
	m, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(m), `alertgate_delivery_queue{state="dead",target="sink"} 1`)
	require.Equal(t, http.StatusBadRequest, getJSON(t, g.url+"/api/v1/deliveries?state=bogus", nil))

	refuse.Store(false)
	require.Equal(t, http.StatusOK, post(t, g.url+"/api/v1/deliveries/"+itoa(d.ID)+"/retry", `{"actor":"alice"}`))
	require.Eventually(t, func() bool { return delivered.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "INC-1/page/oncall#0/sink", lastKey.Load(), "same idempotency key as the first attempt")
	require.Equal(t, http.StatusConflict, post(t, g.url+"/api/v1/deliveries/"+itoa(d.ID)+"/retry", ``), "only dead letters are retried")
	require.Equal(t, http.StatusNotFound, post(t, g.url+"/api/v1/deliveries/999999/retry", ``))
	var inc incidentView
	getJSON(t, g.url+"/api/v1/incidents/INC-1", &inc)
	found := false
	for _, e := range inc.Timeline {
		if strings.Contains(e.Detail, "dead letter INC-1/page/oncall#0/sink requeued") {
			found = true
		}
	}
	require.True(t, found, "the requeue is on the timeline")
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
