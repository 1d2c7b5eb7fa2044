package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// countingStore is the harness's store, keeping the keys of the
// deliveries ClaimDeliveries and FinishAndClaimNext handed out; passed
// closes at the engine's first pass.
type countingStore struct {
	*store.Store
	mu      sync.Mutex
	claimed []string
	once    sync.Once
	passed  chan struct{}
	// finishing, when set, runs before a delivery's result is recorded.
	finishing func(j *store.Job)
}

func (c *countingStore) RunSteps(ctx context.Context, now time.Time, limit int, fn store.StepRunner) (int, error) {
	c.once.Do(func() { close(c.passed) })
	return c.Store.RunSteps(ctx, now, limit, fn)
}

func (c *countingStore) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limits map[string]int) ([]*store.Job, error) {
	jobs, err := c.Store.ClaimDeliveries(ctx, now, lease, limits)
	c.note(jobs...)
	return jobs, err
}

func (c *countingStore) FinishDelivery(ctx context.Context, j *store.Job, r store.DeliveryResult) error {
	if c.finishing != nil {
		c.finishing(j)
	}
	return c.Store.FinishDelivery(ctx, j, r)
}

func (c *countingStore) FinishAndClaimNext(ctx context.Context, j *store.Job, r store.DeliveryResult, now time.Time, lease time.Duration) (*store.Job, error) {
	if c.finishing != nil {
		c.finishing(j)
	}
	next, err := c.Store.FinishAndClaimNext(ctx, j, r, now, lease)
	if next != nil {
		c.note(next)
	}
	return next, err
}

func (c *countingStore) note(jobs ...*store.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, j := range jobs {
		c.claimed = append(c.claimed, j.Key)
	}
}

func (c *countingStore) claims() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.claimed...)
}

// runEngine runs, until the test ends, an engine of the harness's config
// on its store through a countingStore, and returns once the engine's
// first pass began (Run is running). The store's opening steps stay the
// harness engine's (RunOpeningStep); the test points them at this one.
func runEngine(t *testing.T, h *harness) (*router.Engine, *countingStore) {
	t.Helper()
	return runEngineOn(t, h, &countingStore{Store: h.st, passed: make(chan struct{})})
}

// runEngineOn is runEngine on a countingStore the test set up.
func runEngineOn(t *testing.T, h *harness, cs *countingStore) (*router.Engine, *countingStore) {
	t.Helper()
	eng := h.engine(cs, h.options(h.st))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	<-cs.passed
	return eng, cs
}

// sentTimes is how many times key was delivered.
func sentTimes(h *harness, key string) int {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	return h.rec.keys[key]
}

// jobState is the state of incident inc's job key, "" if there is none
// (or the read failed).
func jobState(h *harness, inc int64, key string) string {
	jobs, err := h.st.Jobs(context.Background(), inc)
	if err != nil {
		return ""
	}
	for _, j := range jobs {
		if j.Key == key {
			return j.State
		}
	}
	return ""
}

// With the engine running, a new incident's first page is claimed by the
// commit that opens the incident and sent from memory: no claim
// (ClaimDeliveries, or a finished delivery's next) hands it out.
func TestFirstPageLeavesWithoutAClaim(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(nil)
		eng, cs := runEngine(t, h)
		h.st.SetStepRunner(eng.RunOpeningStep)

		h.ingest(critical("CheckoutDown", "checkout"))
		const page = "INC-1/page/oncall#0/pager"
		require.Eventually(t, func() bool { return jobState(h, 1, page) == store.JobDone }, 10*time.Second, time.Millisecond)
		require.Equal(t, 1, sentTimes(h, page))
		require.NotContains(t, cs.claims(), page)
	})
}

// A delivery claimed as written is sent from the message in memory, one
// claimed later (a retry, a restart) from its stored payload: the first
// is exactly what the payload decodes to. The page of a new incident
// whose alert starts in a named zone and has an empty map of annotations.
func TestHandedOverMessageIsItsPayload(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(nil)
		eng, cs := runEngine(t, h)
		h.st.SetStepRunner(eng.RunOpeningStep)
		const page = "INC-1/page/oncall#0/pager"
		var sent *notify.Message
		h.rec.mu.Lock()
		h.rec.onSend = func(m *notify.Message) {
			if m.IdempotencyKey == page {
				c := *m
				sent = &c
			}
		}
		h.rec.mu.Unlock()

		a := critical("CheckoutDown", "checkout")
		a.StartsAt = time.Date(2026, 11, 27, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))
		a.Annotations = map[string]string{}
		h.ingest(a)
		require.Eventually(t, func() bool { return jobState(h, 1, page) == store.JobDone }, 10*time.Second, time.Millisecond)
		require.NotContains(t, cs.claims(), page, "sent from memory")

		jobs, err := h.st.Jobs(context.Background(), 1)
		require.NoError(t, err)
		var stored *store.Job
		for _, j := range jobs {
			if j.Key == page {
				stored = j
			}
		}
		require.NotNil(t, stored)
		var decoded notify.Message
		require.NoError(t, json.Unmarshal(stored.Payload, &decoded))
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		require.NotNil(t, sent)
		require.NotEmpty(t, sent.Alerts)
		require.Equal(t, &decoded, sent)
	})
}

// The engine counts its passes by what woke it: one at its start, one
// for the new work an ingest wrote (store), one when the page's send gave
// its slot back (freed).
func TestEnginePassesCountedByWhatWokeIt(t *testing.T) {
	h := newHarness(t, nil)
	reg := prometheus.NewRegistry()
	h.reg = reg
	eng, _ := runEngine(t, h)
	h.st.SetStepRunner(eng.RunOpeningStep)
	passes := func(by string) float64 {
		v, ok := metricValue(t, reg, "alertgate_engine_passes_total", "woken_by", by)
		if !ok {
			return -1
		}
		return v
	}
	require.Equal(t, 1.0, passes("start"))

	h.ingest(critical("CheckoutDown", "checkout"))
	const page = "INC-1/page/oncall#0/pager"
	require.Eventually(t, func() bool { return jobState(h, 1, page) == store.JobDone }, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return passes("store") >= 1 && passes("freed") >= 1 }, 10*time.Second, time.Millisecond)
	require.Equal(t, 1.0, passes("start"))
	require.GreaterOrEqual(t, passes("timer"), 0.0, "exported before the first")
}

// An opening commit that rolls back gives back what its page's claim
// took: the slot of a target of concurrency 1 and the one token of its
// rate limit (burst 1, no refill on the test's clock). The next
// incident's page still goes.
func TestRolledBackOpeningGivesBackSlotAndToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(func(c *config.Config) {
			c.Targets[0].Concurrency = 1
			c.Targets[0].RateLimit = &config.RateLimit{PerSecond: 0.0001, Burst: 1}
		})
		eng, _ := runEngine(t, h)
		boom := errors.New("boom")
		var fail, claimed atomic.Bool
		fail.Store(true)
		h.st.SetStepRunner(func(tx *store.Tx, j *store.Job, inc *alert.Incident) (store.StepOutcome, error) {
			out, err := eng.RunOpeningStep(tx, j, inc)
			for _, o := range out.Jobs {
				if o.Target == "pager" && o.Claim != nil {
					claimed.Store(true)
				}
			}
			if err == nil && fail.Load() {
				// The clock moves on while the transaction runs, as a
				// real one does: the token is still given back.
				h.clk.Advance(time.Millisecond)
				err = boom
			}
			return out, err
		})
		_, err := h.st.Ingest(context.Background(), []alert.Alert{critical("CheckoutDown", "checkout")})
		require.ErrorContains(t, err, boom.Error())
		require.True(t, claimed.Load(), "the page was claimed as written, then rolled back")

		fail.Store(false)
		res, err := h.st.Ingest(context.Background(), []alert.Alert{critical("SearchDown", "search")})
		require.NoError(t, err)
		require.Len(t, res.Incidents, 1)
		page := res.Incidents[0] + "/page/oncall#0/pager"
		require.Eventually(t, func() bool { return sentTimes(h, page) == 1 }, 10*time.Second, time.Millisecond,
			"the slot and the token are free again")
	})
}

// A target's slot bounds its sends in flight, not the results being
// written: with concurrency 1, a second incident's page leaves while the
// first page's result still waits to be recorded (held here before its
// transaction, as on SQLite it waits behind the ingest's group commit).
func TestSlotIsFreeWhileTheResultIsRecorded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(func(c *config.Config) { c.Targets[0].Concurrency = 1 })
		const first, second = "INC-1/page/oncall#0/pager", "INC-2/page/oncall#0/pager"
		release := make(chan struct{})
		var once sync.Once
		var held atomic.Bool
		cs := &countingStore{Store: h.st, passed: make(chan struct{}), finishing: func(j *store.Job) {
			if j.Key == first {
				held.Store(true)
				<-release
			}
		}}
		eng, _ := runEngineOn(t, h, cs)
		t.Cleanup(func() { once.Do(func() { close(release) }) }) // before the engine stops
		h.st.SetStepRunner(eng.RunOpeningStep)

		h.ingest(critical("CheckoutDown", "checkout"))
		require.Eventually(t, held.Load, 10*time.Second, time.Millisecond, "the first page was sent, its result is held")
		require.Equal(t, 1, sentTimes(h, first))

		h.ingest(critical("SearchDown", "search"))
		require.Eventually(t, func() bool { return sentTimes(h, second) == 1 }, 10*time.Second, time.Millisecond,
			"the second page leaves while the first result is held")
		require.Equal(t, store.JobRunning, jobState(h, 1, first), "the first result is not recorded yet")

		once.Do(func() { close(release) })
		require.Eventually(t, func() bool { return jobState(h, 1, first) == store.JobDone }, 10*time.Second, time.Millisecond)
		require.Eventually(t, func() bool { return jobState(h, 2, second) == store.JobDone }, 10*time.Second, time.Millisecond)
		require.Equal(t, 1, sentTimes(h, first))
		require.Equal(t, 1, sentTimes(h, second))
	})
}
