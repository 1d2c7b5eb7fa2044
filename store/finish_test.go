package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// finishTogether records results[i] for jobs[i] from concurrent callers
// while a batch is (as if) in flight, so that they all queue behind it and
// then commit as the next batch. It returns each caller's error and the
// write transactions they took.
func finishTogether(t *testing.T, s *Store, jobs []*Job, results []DeliveryResult) ([]error, uint64) {
	t.Helper()
	f := &s.finish
	f.mu.Lock()
	require.False(t, f.running)
	f.running, f.waiting = true, 1
	f.mu.Unlock()
	before := s.WriteTransactions()
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.FinishDelivery(context.Background(), jobs[i], results[i])
		}()
	}
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.waiting == len(jobs)+1
	}, 10*time.Second, time.Millisecond, "every caller queued")
	f.done(1) // the batch in flight ends: the queued results go next
	wg.Wait()
	return errs, s.WriteTransactions() - before
}

// claimAll adds n deliveries of incident 1 and claims them.
func claimAll(t *testing.T, s *Store, n int) []*Job {
	t.Helper()
	clk := newClock()
	var specs []JobSpec
	for i := range n {
		specs = append(specs, JobSpec{Key: fmt.Sprintf("d%d", i), Target: "ok", Priority: 2})
	}
	addDeliveries(t, s, clk, specs...)
	jobs, err := s.ClaimDeliveries(context.Background(), clk.Now(), time.Minute, anyTarget(n))
	require.NoError(t, err)
	require.Len(t, jobs, n)
	return jobs
}

// Delivery results finished together share one write transaction, and
// each keeps its own outcome: a result whose claim ran out (another
// replica claimed the delivery again) is dropped while the others commit,
// with their events, refs and follow-up jobs.
func TestFinishDeliveriesShareOneTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk := newClock()
		s := db.openTest(t, clk)
		jobs := claimAll(t, s, 6)
		fenced := jobs[2]
		require.NoError(t, s.withTx(context.Background(), func(tx *Tx) error {
			_, err := tx.exec(tx.ctx, `UPDATE jobs SET claimed_by = 'other' WHERE id = ?`, fenced.ID)
			return err
		}))
		results := make([]DeliveryResult, len(jobs))
		for i, j := range jobs {
			results[i] = DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "sent " + j.Key}
		}
		results[0].Ref = "ref-0"
		results[1] = DeliveryResult{State: JobPending, RetryAt: clk.Now().Add(time.Minute), Error: "503",
			EventKind: alert.EventDeliveryFail, EventDetail: "retry " + jobs[1].Key,
			Jobs: []JobSpec{{Key: jobs[1].Key + "/fallback:fb", Kind: KindDelivery, DueAt: clk.Now(), Target: "fb", Action: "page"}}}

		errs, txs := finishTogether(t, s, jobs, results)
		require.Equal(t, make([]error, len(jobs)), errs, "every caller gets its own nil")
		require.EqualValues(t, 1, txs, "%d results, one write transaction", len(jobs))

		states := jobStates(t, s, 1)
		require.Equal(t, JobDone, states[jobs[0].Key])
		require.Equal(t, JobPending, states[jobs[1].Key])
		require.Equal(t, JobRunning, states[fenced.Key], "the result of a claim that ran out is dropped")
		for _, j := range jobs[3:] {
			require.Equal(t, JobDone, states[j.Key])
		}
		require.Equal(t, JobPending, states[jobs[1].Key+"/fallback:fb"], "the follow-up job is added")
		ref, err := s.TargetRef(context.Background(), 1, "ok")
		require.NoError(t, err)
		require.Equal(t, "ref-0", ref)
		sent := eventDetails(t, s, 1, alert.EventNotified)
		require.Len(t, sent, len(jobs)-2, "one event per committed result, none for the dropped one")
		require.NotContains(t, sent, "sent "+fenced.Key)
		require.Equal(t, []string{"retry " + jobs[1].Key}, eventDetails(t, s, 1, alert.EventDeliveryFail))
	})
}

// A batch that fails (one result the database refuses) is recorded again
// result by result: the bad one fails alone, the others commit.
func TestFinishDeliveriesFallBackToOneByOne(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		clk := newClock()
		s := db.openTest(t, clk)
		jobs := claimAll(t, s, 4)
		bad := *jobs[1]
		bad.IncidentID = 1 << 40 // its target ref names no incident
		jobs[1] = &bad
		results := make([]DeliveryResult, len(jobs))
		for i, j := range jobs {
			results[i] = DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "sent " + j.Key}
		}
		results[1].Ref = "status-page-1"

		errs, txs := finishTogether(t, s, jobs, results)
		require.Error(t, errs[1], "the refused result fails")
		for i, err := range errs {
			if i != 1 {
				require.NoError(t, err, "result %d", i)
			}
		}
		require.EqualValues(t, 1+len(jobs), txs, "the failed batch, then one transaction per result")
		states := jobStates(t, s, 1)
		require.Equal(t, JobRunning, states[bad.Key], "the refused result changed nothing: the lease runs out and it is sent again")
		for i, j := range jobs {
			if i != 1 {
				require.Equal(t, JobDone, states[j.Key])
			}
		}
		require.Len(t, eventDetails(t, s, 1, alert.EventNotified), len(jobs)-1)
	})
}

// A result can claim its target's next due delivery in its own
// transaction: the most urgent pending one of that target, never one of
// another target, never the one just finished (even when its retry is due
// at once), and nothing when nothing is due.
func TestFinishAndClaimNext(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk,
			JobSpec{Key: "ok-p3", Target: "ok", Priority: 3},
			JobSpec{Key: "ok-p0", Target: "ok", Priority: 0},
			JobSpec{Key: "ok-p1", Target: "ok", Priority: 1},
			JobSpec{Key: "other-p0", Target: "other", Priority: 0},
		)
		first, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"ok": 1})
		require.NoError(t, err)
		require.Equal(t, []string{"ok-p0"}, claimedKeys(first))

		before := s.WriteTransactions()
		retry := DeliveryResult{State: JobPending, RetryAt: clk.Now(), Error: "429", Unsent: true}
		next, err := s.FinishAndClaimNext(ctx, first[0], retry, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"ok-p1"}, claimedKeys([]*Job{next}), "the most urgent other delivery of the same target")
		require.EqualValues(t, 1, s.WriteTransactions()-before, "result and claim in one transaction")
		states := jobStates(t, s, 1)
		require.Equal(t, JobPending, states[first[0].Key], "the result is recorded")
		require.Equal(t, JobRunning, states[next.Key])

		next, err = s.FinishAndClaimNext(ctx, next, DeliveryResult{State: JobDone}, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"ok-p0"}, claimedKeys([]*Job{next}), "the retry due now, most urgent")
		next, err = s.FinishAndClaimNext(ctx, next, DeliveryResult{State: JobDone}, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"ok-p3"}, claimedKeys([]*Job{next}))
		next, err = s.FinishAndClaimNext(ctx, next, DeliveryResult{State: JobDone}, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Nil(t, next, "nothing of that target is left; other-p0 is another target's")
		require.Equal(t, JobPending, jobStates(t, s, 1)["INC-1/page/oncall#0/other-p0"])
	})
}

// The next delivery claimed with a result is a stale claim of the target
// (its lease ran out: a stop cut its send off) before any pending one, as
// ClaimDeliveries takes them: a storm's backlog does not keep it waiting.
func TestFinishAndClaimNextTakesStaleClaimsFirst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		addDeliveries(t, s, clk,
			JobSpec{Key: "cut", Target: "ok", Priority: 3},
			JobSpec{Key: "done", Target: "ok", Priority: 3},
			JobSpec{Key: "urgent", Target: "ok", Priority: 0},
		)
		first, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, map[string]int{"": 0, "ok": 3})
		require.NoError(t, err)
		require.Len(t, first, 3)
		byKey := map[string]*Job{}
		for _, j := range first {
			byKey[j.Key[len("INC-1/page/oncall#0/"):]] = j
		}
		// "urgent" goes back to pending; "cut" and "done" run out their lease.
		require.NoError(t, s.DeferDelivery(ctx, byKey["urgent"], clk.Now()))
		clk.Advance(2 * time.Minute)
		next, err := s.FinishAndClaimNext(ctx, byKey["done"], DeliveryResult{State: JobDone}, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"cut"}, claimedKeys([]*Job{next}), "the stale claim first, never the finished one")
		next, err = s.FinishAndClaimNext(ctx, next, DeliveryResult{State: JobDone}, clk.Now(), time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"urgent"}, claimedKeys([]*Job{next}))
	})
}
