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
	"github.com/alertgate/alertgate/store"
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

// claimHook is the store with a hook run after each claim.
type claimHook struct {
	*store.Store
	after func(jobs []*store.Job)
}

func (c *claimHook) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limits map[string]int) ([]*store.Job, error) {
	jobs, err := c.Store.ClaimDeliveries(ctx, now, lease, limits)
	if c.after != nil {
		c.after(jobs)
	}
	return jobs, err
}

// A claim that takes over this process's own in-flight delivery (its lease
// ran out on the clock) while that send ends does not send it again: the
// send's result stands and the target is told once.
func TestOwnInFlightDeliveryTakenOverIsNotSentTwice(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	st := &claimHook{Store: h.st}
	eng, err := router.New(h.cfg, st, func(_ *config.Config, tc config.Target) (router.Notifier, error) {
		n := h.rec.notifier(tc.Name)
		if tc.Name != "pager" {
			return n, nil
		}
		return router.NotifierFunc(func(ctx context.Context, m *router.Message) error {
			mu.Lock()
			calls++
			first := calls == 1
			mu.Unlock()
			if first {
				<-release
			}
			return n.Notify(ctx, m)
		}), nil
	}, router.Options{Now: h.clk.Now})
	require.NoError(t, err)
	h.ingest(critical("CheckoutDown", "checkout"))
	const key = "INC-1/page/oncall#0/pager"
	firstRun := make(chan error, 1)
	go func() { firstRun <- eng.RunDue(context.Background()) }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return calls == 1 }, 5*time.Second, time.Millisecond, "the page is being sent")

	h.clk.Advance(3 * time.Minute) // the 2m lease runs out while the send hangs
	st.after = func(jobs []*store.Job) {
		for _, j := range jobs {
			if j.Key == key {
				// The hanging send ends, result recorded, while this claim
				// holds the job.
				st.after = nil
				close(release)
				require.NoError(t, <-firstRun)
			}
		}
	}
	require.NoError(t, eng.RunDue(context.Background()))
	require.Equal(t, 1, h.rec.keys[key], "the page is sent once")
	require.Equal(t, store.JobDone, jobByKey(t, h, key).State)
}
