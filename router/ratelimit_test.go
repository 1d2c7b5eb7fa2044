package router_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
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
