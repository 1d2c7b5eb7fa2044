package router_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// The breaker opens after consecutive temporary failures (no attempt
// reaches the target while open), lets one probe through after open_for
// (on the engine's clock), and closes on success. The delivery it turned
// away waits for the probe and keeps its attempts.
func TestBreakerOpensHalfOpensCloses(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[0].Breaker = config.Breaker{Failures: 2, OpenFor: config.Duration(30 * time.Second)}
		c.Targets[0].Retry = config.Retry{MaxAttempts: 50, Backoff: config.Duration(time.Second), MaxBackoff: config.Duration(time.Second)}
	})
	var calls atomic.Int32
	var healthy atomic.Bool
	reg := prometheus.NewRegistry()
	h.wrap = func(name string, n notify.Notifier) notify.Notifier {
		if name != "pager" {
			return n
		}
		return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
			calls.Add(1)
			if !healthy.Load() {
				return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonServer, StatusCode: 503, Err: errors.New("down")}
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
	for s := 4; s < 32; s += 2 {
		h.at(time.Duration(s) * time.Second) // while open: no call reaches the target
	}
	require.Equal(t, int32(2), calls.Load())
	job := jobByKey(t, h, "INC-1/page/oncall#0/pager")
	require.Equal(t, store.JobPending, job.State)
	require.Contains(t, job.LastError, "breaker_open")
	require.Equal(t, 2, job.Attempts, "turned away by the breaker: not an attempt")
	require.Equal(t, h.rec.start.Add(32*time.Second+2*time.Millisecond), job.DueAt,
		"waits for the half-open probe (opened at 2s, open_for 30s; 1 ms per attempt made, so the probe is the delivery with most attempts left)")

	healthy.Store(true)
	require.Equal(t, []string{"oncall#0"}, pages(h.at(33*time.Second)), "after open_for one probe goes through and succeeds")
	require.Equal(t, 0.0, state(), "closed again")
}

func jobByKey(t *testing.T, h *harness, key string) *store.Job {
	t.Helper()
	jobs, err := h.st.Jobs(context.Background(), 1)
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Key == key {
			return j
		}
	}
	t.Fatalf("no job %s", key)
	return nil
}

// breakerState reads alertgate_breaker_state for a target.
func breakerState(t *testing.T, reg *prometheus.Registry, target string) float64 {
	t.Helper()
	v, ok := metricValue(t, reg, "alertgate_breaker_state", "target", target)
	if !ok {
		t.Fatalf("no breaker state for %s", target)
	}
	return v
}

// metricValue reads the gauge or counter of metric name whose label is
// value; ok is false when reg has no such series.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// withSeverity is an alert of its own group at an explicit level.
func withSeverity(svc, sev string) alert.Alert {
	a := critical("Down", svc)
	a.Labels = map[string]string{"alertname": "Down", "service": svc, "severity": sev}
	a.SeverityHint = sev
	return a
}

// A target down for 45 s, then healthy, loses no page: while the breaker
// is open the deliveries wait for its probe instead of burning their
// attempts, and every page is sent once. With the defaults (max_attempts
// 8, backoff 2s; 5 failures open the breaker for 30s), and with the
// issue's short retry {max_attempts: 4, backoff: 1s} behind a breaker that
// opens before one delivery has used its attempts (failures: 3). (Before,
// the deliveries the open breaker turned away used up their attempts and
// died as breaker_open.)
func TestTargetDownThenHealthyLosesNoPage(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
	}{
		{"defaults", nil},
		{"short retry", func(c *config.Config) {
			c.Targets[0].Retry = config.Retry{MaxAttempts: 4, Backoff: config.Duration(time.Second)}
			c.Targets[0].Breaker = config.Breaker{Failures: 3}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
				h := newH(tc.mutate)
				var real atomic.Int32
				h.wrap = func(name string, n notify.Notifier) notify.Notifier {
					if name != "pager" {
						return n
					}
					return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
						real.Add(1)
						if h.clk.Now().Sub(h.rec.start) < 45*time.Second {
							return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonServer, StatusCode: 500, Err: errors.New("down")}
						}
						return n.Notify(ctx, m)
					})
				}
				h.restart()
				const incidents = 15 // one every 3 s while the target is down
				for s := 0; s <= 150; s++ {
					if s%3 == 0 && s/3 < incidents {
						h.ingest(critical("Down", fmt.Sprintf("svc-%02d", s/3)))
					}
					h.at(time.Duration(s) * time.Second)
				}
				for inc := int64(1); inc <= incidents; inc++ {
					jobs, err := h.st.Jobs(context.Background(), inc)
					require.NoError(t, err)
					for _, j := range jobs {
						require.NotEqual(t, store.JobDead, j.State, "%s died: %s", j.Key, j.LastError)
						if strings.HasSuffix(j.Key, "/page/oncall#0/pager") {
							require.Equal(t, store.JobDone, j.State, j.Key)
						}
					}
				}
				for key, n := range h.rec.keys {
					require.Equal(t, 1, n, "%s sent once", key)
				}
				t.Logf("%d requests reached the target", real.Load())
			})
		})
	}
}

// A target answering 429 on every other request delivers everything, in
// order of urgency, and its breaker never opens: a 429 pauses the target
// for its Retry-After and is not an attempt.
func TestRateLimitedTargetDeliversInOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		reg := prometheus.NewRegistry()
		h := newH(func(c *config.Config) {
			c.Targets[1].Concurrency = 1 // chat: one at a time, so the order shows
			c.Targets[1].Breaker = config.Breaker{Failures: 2}
			c.Targets[1].Retry = config.Retry{MaxAttempts: 2}
		})
		var n atomic.Int32
		var order []string
		h.wrap = func(name string, next notify.Notifier) notify.Notifier {
			if name != "chat" {
				return next
			}
			return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
				if n.Add(1)%2 == 1 {
					return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonRateLimited, StatusCode: 429, RetryAfter: 2 * time.Second, Err: errors.New("slow down")}
				}
				order = append(order, m.Incident.Severity.String())
				return next.Notify(ctx, m)
			})
		}
		h.reg = reg
		h.restart()
		for i, sev := range []string{"P3", "P2", "P1", "P0", "P3", "P0"} {
			h.ingest(withSeverity(fmt.Sprintf("svc-%d", i), sev))
		}
		for s := 0; s <= 60; s++ {
			h.at(time.Duration(s) * time.Second)
		}
		require.Equal(t, []string{"P0", "P0", "P1", "P2", "P3", "P3"}, order, "every announcement, most urgent first")
		require.Equal(t, 0.0, breakerState(t, reg, "chat"), "429s never open the breaker")
		for inc := int64(1); inc <= 6; inc++ {
			jobs, err := h.st.Jobs(context.Background(), inc)
			require.NoError(t, err)
			for _, j := range jobs {
				if j.Target == "chat" {
					require.Equal(t, store.JobDone, j.State, j.Key)
					require.Equal(t, 1, j.Attempts, "%s: a 429 is not an attempt", j.Key)
				}
			}
		}
	})
}
