package router_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
)

// hangAndOK pages oncall through a target that never answers ("hang",
// bounded by its timeout) and a healthy one ("ok").
func hangAndOK(timeout time.Duration) func(c *config.Config) {
	return func(c *config.Config) {
		c.Targets = []config.Target{
			{Name: "hang", Type: "webhook", URL: "http://hang.invalid/", Timeout: config.Duration(timeout), Breaker: config.Breaker{Failures: 1000}},
			{Name: "ok", Type: "webhook", URL: "http://ok.invalid/"},
			{Name: "chat", Type: "webhook", URL: "http://chat.invalid/"},
		}
		for _, role := range []string{"oncall", "team-lead", "eng-manager", "cto"} {
			c.Roles[role] = config.Role{Targets: []string{"hang", "ok"}}
		}
	}
}

// With one target hanging, the healthy target's pages are not held up:
// 10 new P0 incidents a second for 5 s (a short clock: real time, the
// hanging target's timeout 10 s), and every first page to "ok" arrives
// within 1 s of its ingest. (With one shared worker pool the hanging
// deliveries filled it after about 3 s and "ok" waited for their
// timeouts.)
func TestHangingTargetHoldsOnlyItsOwnDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test (5 s)")
	}
	h := newHarness(t, hangAndOK(10*time.Second))
	release := make(chan struct{})
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	hung := 0
	h.wrap = func(name string, n router.Notifier) router.Notifier {
		return router.NotifierFunc(func(ctx context.Context, m *router.Message) error {
			switch name {
			case "hang":
				mu.Lock()
				hung++
				mu.Unlock()
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-release:
					return context.Canceled
				}
			case "ok":
				if m.Kind == router.KindPage {
					mu.Lock()
					if _, ok := arrived[m.Incident.Key]; !ok {
						arrived[m.Incident.Key] = time.Now()
					}
					mu.Unlock()
				}
			}
			return n.Notify(ctx, m)
		})
	}
	h.restart()
	eng, err := router.New(h.cfg, h.st, func(_ *config.Config, tc config.Target) (router.Notifier, error) {
		return h.wrap(tc.Name, h.rec.notifier(tc.Name)), nil
	}, router.Options{Now: h.clk.Now})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		close(release)
		cancel()
		require.NoError(t, <-done)
	}()

	const perSecond, seconds = 10, 5
	ingested := map[string]time.Time{}
	tick := time.NewTicker(time.Second / perSecond)
	defer tick.Stop()
	for i := range perSecond * seconds {
		<-tick.C
		a := critical("Down", fmt.Sprintf("svc-%03d", i))
		res, err := h.st.Ingest(context.Background(), []alert.Alert{a})
		require.NoError(t, err)
		ingested[res.Incidents[0]] = time.Now()
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) == len(ingested)
	}, 5*time.Second, 10*time.Millisecond, "every incident paged ok")
	mu.Lock()
	defer mu.Unlock()
	var worst time.Duration
	for key, at := range ingested {
		worst = max(worst, arrived[key].Sub(at))
	}
	t.Logf("first page to ok: at most %s after ingest; %d deliveries to hang started", worst.Round(time.Millisecond), hung)
	require.Less(t, worst, time.Second)
	require.LessOrEqual(t, hung, config.DefaultTargetConcurrency, "hang holds at most its own concurrency")
}

// A delivery whose target a reload removed is dead-lettered, found by the
// once-a-minute look for targets no longer configured (not on every claim,
// which would scan every target's backlog).
func TestDeliveryOfRemovedTargetIsDeadLettered(t *testing.T) {
	h := newHarness(t, nil)
	h.rec.fail["pager"] = []error{errTemporary()}
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0) // the page fails once: pending, retried in about 2s
	const key = "INC-1/page/oncall#0/pager"
	require.Equal(t, "pending", jobByKey(t, h, key).State)

	cfg := *h.cfg
	cfg.Targets = []config.Target{{Name: "chat", Type: "webhook", URL: "http://chat.invalid/"}}
	require.NoError(t, h.eng.SetConfig(&cfg))
	h.at(30 * time.Second)
	require.Equal(t, "pending", jobByKey(t, h, key).State, "not looked for yet")
	h.at(61 * time.Second)
	j := jobByKey(t, h, key)
	require.Equal(t, "dead", j.State)
	require.Equal(t, "target not configured", j.LastError)
}
