package router

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/rules"
	"github.com/alertgate/alertgate/store"
)

// countingStore is the real store, keeping the keys of the deliveries
// ClaimDeliveries and FinishAndClaimNext handed out.
type countingStore struct {
	*store.Store
	mu      sync.Mutex
	claimed []string
}

func (c *countingStore) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limits map[string]int) ([]*store.Job, error) {
	jobs, err := c.Store.ClaimDeliveries(ctx, now, lease, limits)
	c.note(jobs...)
	return jobs, err
}

func (c *countingStore) FinishAndClaimNext(ctx context.Context, j *store.Job, r store.DeliveryResult, now time.Time, lease time.Duration) (*store.Job, error) {
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

// handoffRig is an engine on a SQLite store whose roles page "pager"
// (concurrency 1) and whose channels post to the built-in log target;
// sent counts the messages each idempotency key delivered.
type handoffRig struct {
	clk  *clocktest.Clock
	st   *countingStore
	e    *Engine
	mu   sync.Mutex
	sent map[string]int
}

func newHandoffRig(t *testing.T) *handoffRig {
	t.Helper()
	cfg := config.Default()
	cfg.Targets = []config.Target{{Name: "pager", Type: "webhook", Concurrency: 1, Settings: &webhook.Settings{URL: "http://pager.invalid/"}}}
	for _, role := range []string{"oncall", "team-lead", "eng-manager", "cto"} {
		cfg.Roles[role] = config.Role{Targets: []string{"pager"}}
	}
	cfg.ApplyDefaults()
	rig := &handoffRig{clk: clocktest.New(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)), sent: map[string]int{}}
	cls, err := rules.New(cfg)
	require.NoError(t, err)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "h.db"),
		store.Options{Now: rig.clk.Now, Classifier: cls, Planner: NewPlanner(cfg), ReopenWithin: cfg.Dedup.ReopenWithin.D()})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	rig.st = &countingStore{Store: st}
	rig.e, err = New(cfg, rig.st, func(*config.Config, config.Target) (notify.Notifier, error) {
		return notify.NotifierFunc(func(_ context.Context, m *notify.Message) error {
			rig.mu.Lock()
			defer rig.mu.Unlock()
			rig.sent[m.IdempotencyKey]++
			return nil
		}), nil
	}, Options{Now: rig.clk.Now, Digests: st, Overrides: st})
	require.NoError(t, err)
	st.SetStepRunner(rig.e.RunStep)
	return rig
}

func (rig *handoffRig) ingest(t *testing.T, name string) {
	t.Helper()
	_, err := rig.st.Ingest(context.Background(), []alert.Alert{{Source: "alertmanager", SourceType: "alertmanager", Status: alert.StatusFiring,
		Fingerprint: name, Labels: map[string]string{"alertname": name, "service": "checkout", "severity": "critical"}, Title: name, Service: "checkout"}})
	require.NoError(t, err)
}

func (rig *handoffRig) delivered(key string) int {
	rig.mu.Lock()
	defer rig.mu.Unlock()
	return rig.sent[key]
}

// states returns the state of incident inc's deliveries by key.
func (rig *handoffRig) states(t *testing.T, inc int64) map[string]string {
	t.Helper()
	jobs, err := rig.st.Jobs(context.Background(), inc)
	require.NoError(t, err)
	out := map[string]string{}
	for _, j := range jobs {
		if j.Kind == store.KindDelivery {
			out[j.Key] = j.State
		}
	}
	return out
}

// With the engine running, a new incident's first page is claimed by
// the commit that opens the incident and sent from memory: no claim
// (ClaimDeliveries, or a finished delivery's next) hands it out.
func TestFirstPageLeavesWithoutAClaim(t *testing.T) {
	rig := newHandoffRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rig.e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool { return rig.e.live.Load() > 0 }, 5*time.Second, time.Millisecond)

	rig.ingest(t, "CheckoutDown")
	const page = "INC-1/page/oncall#0/pager"
	require.Eventually(t, func() bool { return rig.states(t, 1)[page] == store.JobDone }, 5*time.Second, time.Millisecond)
	require.Equal(t, 1, rig.delivered(page))
	require.NotContains(t, rig.st.claims(), page)
}

// A step's transaction that rolls back gives back the slot its delivery
// took when it was claimed as written: the target (concurrency 1) can
// still send.
func TestRolledBackClaimFreesItsSlot(t *testing.T) {
	rig := newHandoffRig(t)
	rig.ingest(t, "CheckoutDown") // the engine is not running: written pending
	rig.e.live.Add(1)
	boom := errors.New("boom")
	var took int
	_, err := rig.st.RunSteps(context.Background(), rig.clk.Now().Add(5*time.Minute), 10, func(t *store.Tx, j *store.Job, inc *alert.Incident) (store.StepOutcome, error) {
		out, err := rig.e.RunStep(t, j, inc)
		if err != nil {
			return out, err
		}
		rig.e.mu.Lock()
		took = rig.e.busy["pager"]
		rig.e.mu.Unlock()
		return out, boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, took, "the repeat page took the pager's one slot")
	rig.e.mu.Lock()
	require.Zero(t, rig.e.busy["pager"], "given back with the rollback")
	rig.e.mu.Unlock()
	require.Empty(t, rig.e.takeHanded())
	rig.e.live.Add(-1)

	require.NoError(t, rig.e.RunDue(context.Background()))
	require.Equal(t, 1, rig.delivered("INC-1/page/oncall#0/pager"), "the slot is free: the first page went")
}

// Deliveries handed off but not started when the engine stops go back to
// the queue: their slots free, the rows pending again.
func TestHandedOffDeliveriesGoBackWhenTheEngineStops(t *testing.T) {
	rig := newHandoffRig(t)
	rig.e.live.Add(1) // running, but nothing takes what is handed off
	rig.ingest(t, "CheckoutDown")
	const page = "INC-1/page/oncall#0/pager"
	require.Equal(t, store.JobRunning, rig.states(t, 1)[page], "claimed as the incident opened")
	rig.e.mu.Lock()
	require.Len(t, rig.e.handed, 2, "the page and the #incidents post")
	rig.e.mu.Unlock()

	rig.e.stopHandOffs()
	for key, state := range rig.states(t, 1) {
		require.Equal(t, store.JobPending, state, key)
	}
	rig.e.mu.Lock()
	require.Empty(t, rig.e.busy)
	require.Empty(t, rig.e.handed)
	rig.e.mu.Unlock()
	require.Zero(t, rig.delivered(page))

	rig.clk.Advance(giveBackAfter)
	require.NoError(t, rig.e.RunDue(context.Background()))
	require.Equal(t, 1, rig.delivered(page), "sent once, by the next pass")
}
