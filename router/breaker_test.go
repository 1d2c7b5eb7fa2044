package router_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// The breaker opens after consecutive temporary failures (no attempt
// reaches the target while open), lets one probe through after open_for
// (gobreaker's own clock: real time, 100 ms here), and closes on success.
func TestBreakerOpensHalfOpensCloses(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[0].Breaker = config.Breaker{Failures: 2, OpenFor: config.Duration(100 * time.Millisecond)}
		c.Targets[0].Retry = config.Retry{MaxAttempts: 50, Backoff: config.Duration(time.Second), MaxBackoff: config.Duration(time.Second)}
	})
	var calls atomic.Int32
	var healthy atomic.Bool
	reg := prometheus.NewRegistry()
	h.wrap = func(name string, n router.Notifier) router.Notifier {
		if name != "pager" {
			return n
		}
		return router.NotifierFunc(func(ctx context.Context, m *router.Message) error {
			calls.Add(1)
			if !healthy.Load() {
				return &router.DeliveryError{Temporary: true, Reason: router.ReasonServer, StatusCode: 503, Err: errors.New("down")}
			}
			return n.Notify(ctx, m)
		})
	}
	h.reg = reg
	h.restart()
	state := func() float64 { return breakerState(t, reg, "pager") }

	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)               // attempt 1 fails
	h.at(2 * time.Second) // attempt 2 fails: breaker opens
	require.Equal(t, int32(2), calls.Load())
	require.Equal(t, 2.0, state(), "open")
	h.at(4 * time.Second) // while open: no call reaches the target
	require.Equal(t, int32(2), calls.Load())
	jobs, err := h.st.Jobs(context.Background(), 1)
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Key == "INC-1/page/oncall#0/pager" {
			require.Equal(t, store.JobPending, j.State)
			require.Contains(t, j.LastError, "breaker_open")
		}
	}

	healthy.Store(true)
	require.Eventually(t, func() bool {
		h.clk.Advance(time.Second)
		require.NoError(t, h.eng.RunDue(context.Background()))
		return len(pages(h.rec.take())) > 0
	}, 5*time.Second, 20*time.Millisecond, "after open_for one probe goes through and succeeds")
	require.Equal(t, 0.0, state(), "closed again")
}

// breakerState reads alertgate_breaker_state for a target.
func breakerState(t *testing.T, reg *prometheus.Registry, target string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "alertgate_breaker_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no breaker state for %s", target)
	return 0
}
