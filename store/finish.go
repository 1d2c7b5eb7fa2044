package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
)

// DeliveryResult is the outcome of one delivery attempt.
type DeliveryResult struct {
	// State is JobDone, JobPending (retry at RetryAt) or JobDead.
	State   string
	RetryAt time.Time
	Error   string
	// Event goes on the incident's timeline.
	EventKind   alert.EventKind
	EventDetail string
	// Jobs are follow-up jobs (a fallback delivery).
	Jobs []JobSpec
	// Ticket is the reference a ticket target answered with.
	Ticket string
	// Ref is what the target's service calls the incident (kept for its
	// later messages).
	Ref string
	// Unsent says the claim sent nothing (an open breaker turned it away)
	// or the target only asked to slow down (429): it is not counted as an
	// attempt.
	Unsent bool
}

// maxFinishBatch caps how many delivery results share one transaction.
const maxFinishBatch = 256

// finishReq is one delivery result waiting for its commit.
type finishReq struct {
	j *Job
	r DeliveryResult
	// next, when set, also claims the target's next due delivery.
	next *nextClaim
	res  chan finishRes
}

// nextClaim asks for the next due delivery of the finished one's target,
// leased until now+lease.
type nextClaim struct {
	now   time.Time
	lease time.Duration
}

// finishRes answers a finishReq: its own error and the delivery it
// claimed next, or lead: the request leads the next batch (the one that
// committed before it hands over).
type finishRes struct {
	err  error
	next *Job
	lead bool
}

// finisher group-commits delivery results: the first caller to find no
// batch running leads one, with every result queued by then; the callers
// that queued meanwhile wait, and the first of them leads the next batch.
// No caller commits more than one batch: its own result is not held up by
// the results of others.
type finisher struct {
	mu      sync.Mutex
	queue   []*finishReq
	running bool
	// waiting counts the results queued or in a batch (tests).
	waiting int
}

// FinishDelivery records the result of a claimed delivery. Results
// finished at the same time share one write transaction; each caller
// returns once its own result is committed (or dropped: the claim ran
// out), with its own error.
func (s *Store) FinishDelivery(ctx context.Context, j *Job, r DeliveryResult) error {
	_, err := s.finishDelivery(ctx, &finishReq{j: j, r: r})
	return err
}

// FinishAndClaimNext records the result of a claimed delivery as
// FinishDelivery does and, in the same transaction, leases to this
// process until now+lease the next due pending delivery of the same
// target, most urgent first, if there is one: the caller sends it next,
// without a claim transaction of its own. The caller asks only when the
// target can start one more delivery.
func (s *Store) FinishAndClaimNext(ctx context.Context, j *Job, r DeliveryResult, now time.Time, lease time.Duration) (*Job, error) {
	return s.finishDelivery(ctx, &finishReq{j: j, r: r, next: &nextClaim{now: now, lease: lease}})
}

func (s *Store) finishDelivery(ctx context.Context, req *finishReq) (*Job, error) {
	req.res = make(chan finishRes, 1)
	f := &s.finish
	f.mu.Lock()
	f.queue = append(f.queue, req)
	f.waiting++
	lead := !f.running
	f.running = true
	f.mu.Unlock()
	if !lead {
		res := <-req.res
		if !res.lead {
			return res.next, res.err
		}
	}
	f.mu.Lock()
	n := min(len(f.queue), maxFinishBatch)
	batch := slices.Clone(f.queue[:n])
	f.queue = slices.Delete(f.queue, 0, n)
	f.mu.Unlock()

	s.finishBatch(context.WithoutCancel(ctx), batch)
	f.done(len(batch))
	res := <-req.res
	return res.next, res.err
}

// done ends a batch of n results: the first result queued meanwhile
// leads the next one.
func (f *finisher) done(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting -= n
	if len(f.queue) > 0 {
		f.queue[0].res <- finishRes{lead: true}
		return
	}
	f.running = false
}

// finishBatch records a batch of results in one transaction, or, if that
// fails, each in a transaction of its own: one bad result fails only
// itself. It answers every request.
func (s *Store) finishBatch(ctx context.Context, batch []*finishReq) {
	if len(batch) > 1 {
		// Row locks in id order (PostgreSQL): two replicas' batches do
		// not deadlock on each other's rows.
		slices.SortFunc(batch, func(a, b *finishReq) int { return cmp.Compare(a.j.ID, b.j.ID) })
		var next map[*finishReq]*Job
		err := s.withTx(ctx, func(t *Tx) error {
			for _, req := range batch {
				if err := t.finishDelivery(req.j, req.r); err != nil {
					return err
				}
			}
			var err error
			next, err = t.claimNext(batch)
			return err
		})
		if err == nil {
			for _, req := range batch {
				req.res <- finishRes{next: next[req]}
			}
			return
		}
		s.log.Warn("delivery results failed together, recording them one by one", zap.Int("results", len(batch)), zap.Error(err))
	}
	for _, req := range batch {
		var next map[*finishReq]*Job
		err := s.withTx(ctx, func(t *Tx) error {
			if err := t.finishDelivery(req.j, req.r); err != nil {
				return err
			}
			var err error
			next, err = t.claimNext([]*finishReq{req})
			return err
		})
		if err != nil {
			next = nil // claimed by a transaction that did not commit
		}
		req.res <- finishRes{err: err, next: next[req]}
	}
}

// claimNext claims, for each request of batch that asks for it, the next
// due pending delivery of its target (never one of the batch's own),
// most urgent first.
func (t *Tx) claimNext(batch []*finishReq) (map[*finishReq]*Job, error) {
	byTarget := map[string][]*finishReq{}
	var targets []string
	var exclude []any
	for _, req := range batch {
		exclude = append(exclude, req.j.ID)
		if req.next == nil {
			continue
		}
		if byTarget[req.j.Target] == nil {
			targets = append(targets, req.j.Target)
		}
		byTarget[req.j.Target] = append(byTarget[req.j.Target], req)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	out := map[*finishReq]*Job{}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(exclude)), ", ")
	for _, tn := range targets {
		reqs := byTarget[tn]
		now, lease := reqs[0].next.now, reqs[0].next.lease
		for _, r := range reqs[1:] {
			now = later(now, r.next.now)
		}
		// Stale claims first, as ClaimDeliveries takes them (deliveries
		// cut off by a stop or held by a replica that died), then pending
		// ones, most urgent first.
		stale, err := t.staleClaimsOf(now, len(reqs), tn)
		if err != nil {
			return nil, err
		}
		var ids []any
		for _, c := range stale {
			if !slices.Contains(exclude, any(c.id)) {
				ids = append(ids, c.id)
			}
		}
		if len(ids) >= len(reqs) {
			jobs, err := t.claim(ids[:len(reqs)], now, lease)
			if err != nil {
				return nil, err
			}
			for i, j := range jobs {
				out[reqs[i]] = j
			}
			continue
		}
		jobs, err := t.claim(ids, now, lease)
		if err != nil {
			return nil, err
		}
		// The pending ones are chosen and claimed by one statement.
		more, err := t.claimRows(`UPDATE jobs SET `+claimSet+`
WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND due_at <= ? AND kind = 'delivery' AND target = ? AND id NOT IN (`+ph+`)
ORDER BY priority, due_at, id LIMIT ?`+t.s.d.skipLocked+`) RETURNING `+jobCols,
			append(append([]any{ms(now.Add(lease)), ms(now), t.s.instance, ms(now), tn}, exclude...), len(reqs)-len(ids))...)
		if err != nil {
			return nil, fmt.Errorf("claim next delivery: %w", err)
		}
		for i, j := range append(jobs, more...) {
			out[reqs[i]] = j
		}
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// finishDelivery records one result of a claimed delivery.
func (t *Tx) finishDelivery(j *Job, r DeliveryResult) error {
	s, ctx := t.s, t.ctx
	due := ms(j.DueAt)
	if r.State == JobPending {
		due = ms(r.RetryAt)
	}
	// claimed_by fences the claim: if the lease ran out and another
	// replica claimed the delivery again, that claim records its own
	// result and this one is dropped. (This process claiming its own
	// in-flight delivery again keeps it: the engine does not send it
	// twice.)
	unsent := 0
	if r.Unsent {
		unsent = 1
	}
	update := `UPDATE jobs SET state = ?, due_at = ?, last_error = ?, lease_until = 0, updated_at = ?, attempts = attempts - ? WHERE id = ? AND state = 'running' AND claimed_by = ?`
	args := []any{r.State, due, r.Error, ms(s.now()), unsent, j.ID, s.instance}
	dropped := func(n int64) {
		if n == 0 {
			t.logs = append(t.logs, func() {
				s.log.Warn("delivery result dropped: its claim ran out and the delivery was claimed again", zap.String("key", j.Key), zap.Int("attempt", j.Attempts))
			})
		}
	}
	if r.State == JobPending {
		t.jobsAdded = true
	}
	if t.conn != nil && r.Ref == "" && r.Ticket == "" && len(r.Jobs) == 0 {
		// PostgreSQL, nothing but the result and its timeline entry: one
		// statement that writes the entry only if the claim still held,
		// sent with the batch's other results in one round trip.
		if r.EventKind == "" {
			return t.queueCounted("finish delivery", update, dropped, args...)
		}
		return t.queueCounted("finish delivery", `WITH finished AS (`+update+` RETURNING incident_id)
INSERT INTO events (incident_id, at, kind, actor, detail) SELECT incident_id, ?, ?, ?, ? FROM finished`,
			dropped, append(args, ms(s.now()), string(r.EventKind), "target:"+j.Target, r.EventDetail)...)
	}
	res, err := t.exec(ctx, update, args...)
	if err != nil {
		return fmt.Errorf("finish delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		dropped(0)
		return nil
	}
	if r.EventKind != "" {
		if err := t.event(j.IncidentID, r.EventKind, "target:"+j.Target, r.EventDetail); err != nil {
			return err
		}
	}
	if r.Ref != "" {
		if _, err := t.exec(ctx, `INSERT INTO target_refs (incident_id, target, ref) VALUES (?, ?, ?)
ON CONFLICT (incident_id, target) DO UPDATE SET ref = excluded.ref`, j.IncidentID, j.Target, r.Ref); err != nil {
			return fmt.Errorf("store target ref: %w", err)
		}
	}
	if r.Ticket != "" {
		if _, err := t.exec(ctx, `UPDATE incidents SET ticket = ?, updated_at = ? WHERE id = ?`, r.Ticket, ms(s.now()), j.IncidentID); err != nil {
			return fmt.Errorf("store ticket: %w", err)
		}
		if err := t.event(j.IncidentID, alert.EventTicket, "target:"+j.Target, "ticket "+r.Ticket); err != nil {
			return err
		}
	}
	return t.insertJobs(j.IncidentID, r.Jobs)
}
