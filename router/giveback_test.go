package router

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// claimOnce is a store whose queue holds one delivery: the first claim
// hands it out, and what the engine gives back is recorded.
type claimOnce struct {
	job      *store.Job
	claimed  bool
	deferred []time.Time
	wake     chan struct{}
}

func (c *claimOnce) DeferDelivery(_ context.Context, _ *store.Job, at time.Time) error {
	c.deferred = append(c.deferred, at)
	return nil
}
func (c *claimOnce) TargetRef(context.Context, int64, string) (string, error) { return "", nil }
func (c *claimOnce) RunSteps(context.Context, time.Time, int, store.StepRunner) (int, error) {
	return 0, nil
}
func (c *claimOnce) ClaimDeliveries(context.Context, time.Time, time.Duration, map[string]int) ([]*store.Job, error) {
	if c.claimed {
		return nil, nil
	}
	c.claimed = true
	return []*store.Job{c.job}, nil
}
func (c *claimOnce) FinishDelivery(context.Context, *store.Job, store.DeliveryResult) error {
	return nil
}
func (c *claimOnce) FinishAndClaimNext(context.Context, *store.Job, store.DeliveryResult, time.Time, time.Duration) (*store.Job, error) {
	return nil, nil
}
func (c *claimOnce) NextDueAfter(context.Context, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (c *claimOnce) Wake() <-chan struct{} { return c.wake }

// A claimed delivery whose previous send this process has not finished
// counting (its result committed, the sender not yet back) is given back
// to the queue at once, without an attempt, instead of staying claimed
// until its lease runs out two minutes later: under load a page whose
// retry was due at once waited for the lease.
func TestRefusedClaimIsGivenBack(t *testing.T) {
	e, st, sent, now := claimOnceEngine(t)
	e.sending[7] = true // the send before this claim is recorded; its sender is not back yet
	_, err := e.runDue(context.Background(), true)
	require.NoError(t, err)
	require.Equal(t, []time.Time{now.Add(giveBackAfter)}, st.deferred, "given back, due at once")
	require.Zero(t, *sent, "not sent twice at once")
}

// A delivery whose send is still in flight here when its lease runs out
// on the clock, claimed again by this process, stays claimed: the send in
// flight records its result under that claim (given back, its result
// would be dropped and the page sent again).
func TestClaimOfASendInFlightIsKept(t *testing.T) {
	e, st, sent, _ := claimOnceEngine(t)
	e.sending[7] = false // sending now
	_, err := e.runDue(context.Background(), true)
	require.NoError(t, err)
	require.Empty(t, st.deferred, "left to the send in flight")
	require.Zero(t, *sent)
}

// claimOnceEngine is an engine whose store hands out delivery 7 once.
func claimOnceEngine(t *testing.T) (*Engine, *claimOnce, *int, time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cfg := config.Default()
	cfg.Targets = []config.Target{{Name: "pager", Type: "webhook", Settings: &webhook.Settings{URL: "http://pager.invalid/"}}}
	cfg.ApplyDefaults()
	st := &claimOnce{job: &store.Job{ID: 7, Key: "INC-1/page/oncall#0/pager", Kind: store.KindDelivery, Target: "pager", State: "running", Attempts: 2},
		wake: make(chan struct{})}
	sent := new(int)
	e, err := New(cfg, st, func(*config.Config, config.Target) (notify.Notifier, error) {
		return notify.NotifierFunc(func(context.Context, *notify.Message) error { *sent++; return nil }), nil
	}, Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	return e, st, sent, now
}

// A send's duration on the timeline is to the millisecond; one quicker
// than that reads "<1ms", not "0s".
func TestTookText(t *testing.T) {
	require.Equal(t, "<1ms", tookText(0))
	require.Equal(t, "<1ms", tookText(400*time.Microsecond))
	require.Equal(t, "1ms", tookText(time.Millisecond))
	require.Equal(t, "303ms", tookText(303400*time.Microsecond))
	require.Equal(t, "1.5s", tookText(1500*time.Millisecond))
}
