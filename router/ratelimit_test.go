package router_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// 500 P3 announcements to a target limited to 10 messages a second are
// spread over time, none dropped, and a P0 that arrives meanwhile goes
// out ahead of the P3 backlog.
func TestRateLimitSpreadsLoadP0First(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[1].RateLimit = &config.RateLimit{PerSecond: 10, Burst: 10} // chat
	})
	for i := range 500 {
		h.ingest(info(fmt.Sprintf("Typo%d", i), "web"))
	}
	announced := func(s []sent) (p3, p0 int) {
		for _, m := range s {
			switch m.Step {
			case "announce:#alerts":
				p3++
			case "announce:#incidents":
				p0++
			}
		}
		return
	}
	p3, _ := announced(h.at(0))
	require.Equal(t, 10, p3, "the burst")

	h.clk.Advance(500 * time.Millisecond)
	h.ingest(critical("CheckoutDown", "checkout"))
	got := h.at(time.Second)
	p3, p0 := announced(got)
	require.Equal(t, 1, p0, "the P0 goes ahead of 490 waiting P3s")
	require.Equal(t, 9, p3)
	require.Equal(t, []string{"oncall#0"}, pages(got), "other targets are not held back")

	total := 19
	for s := 2; s <= 60; s++ {
		n, _ := announced(h.at(time.Duration(s) * time.Second))
		require.LessOrEqual(t, n, 10, "at most the rate per second")
		total += n
		if s == 25 {
			require.Less(t, total, 500, "spread over time, not sent at once")
		}
	}
	require.Equal(t, 500, total, "none dropped")
	for k, n := range h.rec.keys {
		require.Equal(t, 1, n, "delivery %s sent once", k)
	}
}

// A P0 page that gets no success for fallback_after also goes to the
// fallback target, while the primary keeps retrying.
func TestSlowP0PageFallsBack(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[0].Fallback = "chat"
		c.Targets[0].FallbackAfter = config.Duration(time.Minute)
		c.Targets[0].Retry = config.Retry{MaxAttempts: 100, Backoff: config.Duration(20 * time.Second), MaxBackoff: config.Duration(20 * time.Second)}
		c.Targets[0].Breaker = config.Breaker{Failures: 1000}
	})
	down := errTemporary()
	for range 10 {
		h.rec.fail["pager"] = append(h.rec.fail["pager"], down)
	}
	h.ingest(critical("CheckoutDown", "checkout"))
	require.Empty(t, pages(h.at(0)))
	require.Empty(t, pages(h.at(30*time.Second)), "still within fallback_after")
	got := h.at(90 * time.Second)
	require.Equal(t, []string{"oncall#0"}, pages(got))
	require.Equal(t, "chat", got[len(got)-1].Target, "the fallback got the page")
	require.Empty(t, pages(h.at(2*time.Minute)), "the fallback is sent once")
}

func errTemporary() error {
	return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonServer, StatusCode: 503, Err: errors.New("unavailable")}
}

// A delivery is retried for at most its target's retry.max_age, then it
// is a dead letter even with attempts left.
func TestDeliveryMaxAge(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[0].Retry = config.Retry{MaxAttempts: 1000, Backoff: config.Duration(10 * time.Minute), MaxBackoff: config.Duration(10 * time.Minute),
			MaxAge: config.Duration(30 * time.Minute)}
		c.Targets[0].Breaker = config.Breaker{Failures: 1000}
	})
	for range 100 {
		h.rec.fail["pager"] = append(h.rec.fail["pager"], errTemporary())
	}
	h.ingest(critical("CheckoutDown", "checkout"))
	for m := 0; m <= 40; m += 10 {
		h.at(time.Duration(m) * time.Minute)
	}
	jobs, err := h.st.Jobs(t.Context(), 1)
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Key == "INC-1/page/oncall#0/pager" {
			require.Equal(t, "dead", j.State)
			require.Less(t, j.Attempts, 10)
		}
	}
	found := false
	for _, d := range timeline(t, h, "delivery_failed") {
		if strings.Contains(d, "retried for 30m0s, its retry.max_age") {
			found = true
		}
	}
	require.True(t, found)
}

// A target that asks for a pause longer than a page can wait (429 or 503
// with Retry-After: 1 day, at most what is honoured) holds its pages no
// longer than retry.max_age: then they are dead letters and go to the
// fallback, as pages of a failing target do. (The whole day was honoured:
// the page waited, unsent and without its fallback, for 24 h.)
func TestLongRetryAfterHoldsPageAtMostMaxAge(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"429", &notify.DeliveryError{Temporary: true, Reason: notify.ReasonRateLimited, StatusCode: 429, RetryAfter: 24 * time.Hour, Err: errors.New("slow down")}},
		{"503", &notify.DeliveryError{Temporary: true, Reason: notify.ReasonServer, StatusCode: 503, RetryAfter: 24 * time.Hour, Err: errors.New("unavailable")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) {
				c.Targets[0].Fallback = "chat"
				c.Targets[0].Retry.MaxAge = config.Duration(30 * time.Minute)
			})
			for range 1000 {
				h.rec.fail["pager"] = append(h.rec.fail["pager"], tc.err)
			}
			h.ingest(critical("CheckoutDown", "checkout"))
			var fellBack time.Duration
			for s := time.Duration(0); s <= 31*time.Minute; s += 10 * time.Second {
				for _, m := range h.at(s) {
					if m.Target == "chat" && m.Kind == notify.KindPage && fellBack == 0 {
						fellBack = m.At
					}
				}
			}
			require.NotZero(t, fellBack, "the page reached the fallback within max_age (30m) and a pause of open_for (30s)")
			jobs, err := h.st.Jobs(t.Context(), 1)
			require.NoError(t, err)
			var page *store.Job
			for _, j := range jobs {
				if j.Key == "INC-1/page/oncall#0/pager" {
					page = j
				}
			}
			require.NotNil(t, page, "the pager's page delivery")
			require.Equal(t, "dead", page.State, "past its max_age")
			t.Logf("fallback after %s", fellBack)
		})
	}
}
