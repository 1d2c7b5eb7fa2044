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
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// hangAndOK pages oncall through a target that never answers ("hang",
// bounded by its timeout) and a healthy one ("ok").
func hangAndOK(timeout time.Duration) func(c *config.Config) {
	return func(c *config.Config) {
		c.Targets = []config.Target{
			{Name: "hang", Type: "webhook", Settings: &webhook.Settings{URL: "http://hang.invalid/"}, Timeout: config.Duration(timeout), Breaker: config.Breaker{Failures: 1000}},
			{Name: "ok", Type: "webhook", Settings: &webhook.Settings{URL: "http://ok.invalid/"}},
			{Name: "chat", Type: "webhook", Settings: &webhook.Settings{URL: "http://chat.invalid/"}},
		}
		for _, role := range []string{"oncall", "team-lead", "eng-manager", "cto"} {
			c.Roles[role] = config.Role{Targets: []string{"hang", "ok"}}
		}
	}
}

// With one target hanging, the healthy target's pages are not held up:
// 50 new P0 incidents at once while "hang" never answers (its timeout is
// the 1m cap, longer than this test waits), and every first page reaches
// "ok" while at most the hanging target's own concurrency of sends to it
// is in flight. With one shared worker pool the hanging sends filled it
// and "ok" waited for their timeouts. (How late the healthy pages are is
// a figure of the load tool: go -C test run ./loadgen -hang 1m.)
func TestHangingTargetHoldsOnlyItsOwnDeliveries(t *testing.T) {
	h := newHarness(t, hangAndOK(time.Minute))
	release := make(chan struct{})
	var mu sync.Mutex
	arrived := map[string]bool{}
	inFlight, maxInFlight := 0, 0
	h.wrap = func(name string, n notify.Notifier) notify.Notifier {
		return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
			switch name {
			case "hang":
				mu.Lock()
				inFlight++
				maxInFlight = max(maxInFlight, inFlight)
				mu.Unlock()
				defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-release:
					return context.Canceled
				}
			case "ok":
				if m.Kind == notify.KindPage {
					mu.Lock()
					arrived[m.Incident.Key] = true
					mu.Unlock()
				}
			}
			return n.Notify(ctx, m)
		})
	}
	h.restart()
	eng := h.engine(h.st, router.Options{Now: h.clk.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		close(release)
		cancel()
		require.NoError(t, <-done)
	}()

	const incidents = 50
	for i := range incidents {
		_, err := h.st.Ingest(context.Background(), []alert.Alert{critical("Down", fmt.Sprintf("svc-%03d", i))})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) == incidents
	}, 30*time.Second, 10*time.Millisecond, "every incident paged ok while hang holds its sends")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, config.DefaultTargetConcurrency, maxInFlight, "hang holds exactly its own concurrency, no more")
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
	cfg.Targets = []config.Target{{Name: "chat", Type: "webhook", Settings: &webhook.Settings{URL: "http://chat.invalid/"}}}
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
	eng, err := router.New(h.cfg, st, func(_ *config.Config, tc config.Target) (notify.Notifier, error) {
		n := h.rec.notifier(tc.Name)
		if tc.Name != "pager" {
			return n, nil
		}
		return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
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

// A target's next due delivery is claimed in the transaction that records
// the last one's result: more new P0 incidents than "pager" has slots (its
// default concurrency) page it with only the first claim's deliveries (one
// per slot) claimed on their own, never more sends in flight than slots,
// every page sent once, most urgent first.
func TestNextDeliveryIsClaimedWithTheResult(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	h.wrap = func(name string, n notify.Notifier) notify.Notifier {
		if name != "pager" {
			return n
		}
		return notify.NotifierFunc(func(ctx context.Context, m *notify.Message) error {
			mu.Lock()
			inFlight++
			maxInFlight = max(maxInFlight, inFlight)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			return n.Notify(ctx, m)
		})
	}
	h.restart()
	claimed := 0
	st := &claimHook{Store: h.st, after: func(jobs []*store.Job) {
		for _, j := range jobs {
			if j.Target == "pager" {
				claimed++
			}
		}
	}}
	eng := h.engine(st, router.Options{Now: h.clk.Now})

	incidents := 2*config.DefaultTargetConcurrency + 6
	for i := range incidents {
		h.ingest(critical("Down", fmt.Sprintf("svc-%03d", i)))
	}
	require.NoError(t, eng.RunDue(context.Background()))
	pages := 0
	for _, s := range h.rec.take() {
		if s.Target == "pager" {
			pages++
		}
	}
	require.Equal(t, incidents, pages, "every incident paged")
	for key, n := range h.rec.keys {
		require.Equal(t, 1, n, "%s sent once", key)
	}
	require.Equal(t, config.DefaultTargetConcurrency, claimed, "only the first claim's deliveries were claimed on their own")
	require.LessOrEqual(t, maxInFlight, config.DefaultTargetConcurrency, "the bulkhead bounds the sends in flight")
}
