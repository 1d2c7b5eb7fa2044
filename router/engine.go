package router

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// Store is what the engine needs of the store.
type Store interface {
	DeferDelivery(ctx context.Context, j *store.Job, at time.Time) error
	TargetRef(ctx context.Context, inc int64, target string) (string, error)
	RunSteps(ctx context.Context, now time.Time, limit int, fn store.StepRunner) (int, error)
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limits map[string]int) ([]*store.Job, error)
	FinishDelivery(ctx context.Context, j *store.Job, r store.DeliveryResult) error
	FinishAndClaimNext(ctx context.Context, j *store.Job, r store.DeliveryResult, now time.Time, lease time.Duration) (*store.Job, error)
	NextDueAfter(ctx context.Context, t time.Time) (time.Time, bool, error)
	Wake() <-chan struct{}
}

// BuildNotifier makes the notifier of a target of cfg (notifier.New with
// cfg's templates, wired in server; the router does not import its
// sub-packages).
type BuildNotifier func(cfg *config.Config, t config.Target) (notify.Notifier, error)

// Options configures an Engine.
type Options struct {
	Logger   *zap.Logger
	Now      func() time.Time
	Registry prometheus.Registerer
	// Poll is the longest the engine sleeps without checking for work
	// (work added by another replica, leases run out). Default 1s.
	Poll time.Duration
	// Lease is how long a claimed delivery is this process's before another
	// worker may take it over (default 2m).
	Lease time.Duration
	// Digests, when set, lets the engine send the matrix's next-day,
	// weekly and monthly digests.
	Digests DigestStore
	// Overrides, when set, are consulted before a role's rotation.
	Overrides Overrides
	// AckLinks, when set, signs the one-click acknowledge links of pages;
	// without it AckURL is the API endpoint (which needs the API token).
	AckLinks *AckLinks
	// Routing, when set, is where the engine reads its routing: a gateway
	// that switches the routing together with other components' config
	// keeps it (see Routing). Until it returns one, and when unset, the
	// engine reads its own: the one New built, or the last SetRouting.
	Routing func() *Routing
}

// routing is the config-derived state of the engine, swapped whole on a
// config reload (wrapped in a Routing).
type routing struct {
	cfg     *config.Config
	targets map[string]*target
}

// Engine runs escalation steps and deliveries.
type Engine struct {
	st        Store
	digests   DigestStore
	links     *AckLinks
	overrides Overrides
	// own is the routing New built or SetRouting set; shared is
	// Options.Routing. current reads the one in use.
	own      atomic.Pointer[Routing]
	shared   func() *Routing
	build    BuildNotifier
	log      *zap.Logger
	now      func() time.Time
	m        *metrics
	poll     time.Duration
	lease    time.Duration
	inflight sync.WaitGroup

	// sending holds the deliveries this process is sending, so that a
	// lease that ran out while the send is still in progress (a slow
	// target, a clock jump) is not taken over by this same process; the
	// value is true once the send's result is recorded (the sender is
	// not back yet).
	mu      sync.Mutex
	sending map[int64]bool
	// finished holds, for the deliveries whose send ended lately, the
	// last claim begun by then (claims are numbered by claimSeq): a claim
	// that took over one that ended after it began (its lease ran out on
	// the clock while it was in flight) must not send it again.
	finished map[int64]uint64
	claimSeq uint64
	// busy counts each target's used slots: its sends in flight, and the
	// claims made as an opening commit writes them, until that commit ends
	// (handOff, or given up); freed is signalled when a slot is given back.
	busy  map[string]int
	freed chan struct{}
	// unknownAt is when deliveries of targets not configured were last
	// claimed.
	unknownAt time.Time

	// runCtx is Run's context while Run runs (under mu): only then does
	// a new incident's opening commit claim its deliveries as it writes
	// them (RunOpeningStep), and they start at that commit (handOff).
	runCtx context.Context

	dg digestState // digest.go
}

// Deliveries of targets no longer configured (to be dead-lettered) are
// claimed unknownTargetRoom at a time, at most every unknownTargetEvery:
// finding them scans the due deliveries of every target.
const (
	unknownTargetRoom  = 4
	unknownTargetEvery = time.Minute
)

// New builds the engine for a validated config.
func New(cfg *config.Config, st Store, build BuildNotifier, opts Options) (*Engine, error) {
	e := &Engine{st: st, digests: opts.Digests, links: opts.AckLinks, overrides: opts.Overrides, shared: opts.Routing, build: build, log: opts.Logger, now: opts.Now, poll: opts.Poll, lease: opts.Lease,
		sending: map[int64]bool{}, finished: map[int64]uint64{}, busy: map[string]int{}, freed: make(chan struct{}, 1)}
	if e.log == nil {
		e.log = zap.NewNop()
	}
	e.log = e.log.Named("router")
	if e.now == nil {
		e.now = time.Now
	}
	if e.poll <= 0 {
		e.poll = time.Second
	}
	if e.lease <= 0 {
		e.lease = 2 * config.MaxTargetTimeout // an attempt never outlives its lease
	}
	e.m = newMetrics(opts.Registry)
	if err := e.SetConfig(cfg); err != nil {
		return nil, err
	}
	return e, nil
}

// Run works until ctx ends: it runs what is due, then sleeps until the next
// due job, a wake-up from the store, or the poll interval. On return every
// delivery it started has finished.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.runCtx = ctx
	e.mu.Unlock()
	defer func() {
		// No delivery is handed over (handOff adds to inflight under mu)
		// once runCtx is cleared: only then is the wait for them final.
		e.mu.Lock()
		e.runCtx = nil
		e.mu.Unlock()
		e.inflight.Wait()
	}()
	woken := wokenStart
	for {
		e.m.passes.WithLabelValues(woken).Inc()
		looked, err := e.runDue(ctx, false)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("run due work", zap.Error(err))
		}
		if err := e.runDigests(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("digests", zap.Error(err))
		}
		// Sleep until the next job falls due after runDue's last look
		// (it ran or claimed what was due then; a job that fell due since
		// makes the sleep the shortest), at most the poll interval. Due
		// work left behind (its targets had no room) starts when a
		// delivery ends (freed), a 429 pause is over or a rate limiter has
		// a token (readyAt).
		wait := e.poll
		now := e.now()
		if next, ok, err := e.st.NextDueAfter(ctx, looked); err == nil && ok && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
		if at := e.readyAt(now); !at.IsZero() && at.Sub(now) < wait {
			wait = at.Sub(now)
		}
		wait = max(wait, time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.st.Wake():
			woken = wokenStore
		case <-e.freed:
			woken = wokenFreed
		case <-t.C:
			woken = wokenTimer
		}
		t.Stop()
	}
}

// RunDue runs every step and delivery due now and waits for the
// deliveries to finish. Tests drive the engine with it on a fake clock.
func (e *Engine) RunDue(ctx context.Context) error {
	if _, err := e.runDue(ctx, true); err != nil {
		return err
	}
	return e.runDigests(ctx)
}

// runDue runs the due steps and starts the due deliveries, pass after
// pass until a pass finds nothing; looked is when that last pass looked.
func (e *Engine) runDue(ctx context.Context, wait bool) (looked time.Time, err error) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		now := e.now()
		looked = now
		steps, err := e.st.RunSteps(ctx, now, 256, e.RunStep)
		if err != nil {
			return looked, err
		}
		r := e.current()
		seq := e.beginClaim()
		var group *sync.WaitGroup
		if wait {
			group = &wg
		}
		// Claim only what each target can start now: a hanging target's
		// deliveries wait in the queue, not in front of another target's.
		jobs, err := e.st.ClaimDeliveries(ctx, now, e.lease, e.rooms(r, now))
		if err != nil {
			return looked, err
		}
		for _, j := range jobs {
			if why := e.startSending(j.ID, seq); why != sendIt {
				e.refused(ctx, j, why, now)
				continue
			}
			slot, _, wait, ok := e.admit(r, j.Target, now)
			switch {
			case !ok && wait == 0:
				// The room counted before the claim may have gone
				// meanwhile to a delivery claimed as it was written: the
				// claim goes back to the queue rather than exceed the
				// bulkhead.
				e.doneSending(j.ID)
				e.giveBack(ctx, j, now)
				continue
			case !ok:
				// Over the target's rate: back in the queue, where the
				// most urgent delivery is claimed first next time.
				e.doneSending(j.ID)
				if err := e.st.DeferDelivery(ctx, j, now.Add(wait)); err != nil {
					return looked, err
				}
				e.m.deferred.WithLabelValues(j.Target).Inc()
				continue
			}
			e.launch(ctx, j, slot, group)
		}
		if steps == 0 && len(jobs) == 0 {
			return looked, nil
		}
		if wait {
			// Deliveries may schedule follow-ups that are due now
			// (fallbacks): let them finish and look again.
			wg.Wait()
		}
	}
	return looked, ctx.Err()
}

// rooms is what each target can start at now (ClaimDeliveries' limits).
func (e *Engine) rooms(r *routing, now time.Time) map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(r.targets)+1)
	for name, t := range r.targets {
		out[name] = t.room(now, e.busy[name])
	}
	if e.unknownAt.IsZero() || now.Sub(e.unknownAt) >= unknownTargetEvery || now.Before(e.unknownAt) {
		e.unknownAt = now
		out[""] = max(unknownTargetRoom-e.busy[""], 0)
	}
	return out
}

// canGoOn reports whether a delivery of target whose send just ended
// (its slot of bulkhead b given back) may claim the target's next
// delivery with its result: the target is configured and can start one
// more now (a free slot, rate tokens, no 429 pause, not half-open).
func (e *Engine) canGoOn(r *routing, target, b string, now time.Time) bool {
	t, ok := r.targets[target]
	if !ok || b != target {
		return false
	}
	e.mu.Lock()
	busy := e.busy[b]
	e.mu.Unlock()
	return t.room(now, busy) > 0
}

// readyAt is the earliest time a target without room because of a 429
// pause or its rate limit may take a delivery (zero: none is waiting for
// that).
func (e *Engine) readyAt(now time.Time) time.Time {
	var at time.Time
	for _, t := range e.current().targets {
		if ra := t.readyAt(now); !ra.IsZero() && (at.IsZero() || ra.Before(at)) {
			at = ra
		}
	}
	return at
}

// take uses one slot of target's bulkhead, if the target can start one
// more delivery at now (target.room: a free slot, a rate token, no 429
// pause), and returns the bulkhead for release. The bulkhead is the
// target's own name in routing r, whose room it checks; deliveries of
// targets r does not configure share the "" bulkhead, bounded by their
// claim (rooms).
func (e *Engine) take(r *routing, target string, now time.Time) (string, bool) {
	b := ""
	t, ok := r.targets[target]
	if ok {
		b = target
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ok && t.room(now, e.busy[b]) <= 0 {
		return b, false
	}
	e.busy[b]++
	return b, true
}

// admit takes what one delivery of target needs to begin at now: a slot
// of its bulkhead (take) and, when the target is rate limited, a token.
// Without room (take: no free slot, no token, a 429 pause, half-open) it
// takes nothing (wait 0); when the token went to another send between
// take's look and the reservation, it gives the slot back and says how
// long until one is free (wait > 0). The token is returned so that a
// start that does not happen can give it back (CancelAt at now).
func (e *Engine) admit(r *routing, target string, now time.Time) (slot string, token *rate.Reservation, wait time.Duration, ok bool) {
	if slot, ok = e.take(r, target, now); !ok {
		return slot, nil, 0, false
	}
	if t, limited := r.targets[target]; limited && t.lim != nil {
		if token, wait = t.reserve(now); token == nil {
			e.release(slot)
			return slot, nil, wait, false
		}
	}
	return slot, token, 0, true
}

func (e *Engine) release(b string) {
	e.mu.Lock()
	if e.busy[b]--; e.busy[b] <= 0 {
		delete(e.busy, b)
	}
	e.mu.Unlock()
	select {
	case e.freed <- struct{}{}:
	default:
	}
}

// launch sends j, and then the target's next deliveries while the target
// can go on, in a goroutine of its own (counted in wg too, when set); j's
// send holds slot.
func (e *Engine) launch(ctx context.Context, j *store.Job, slot string, wg *sync.WaitGroup) {
	e.inflight.Add(1)
	if wg != nil {
		wg.Add(1)
	}
	e.sendFrom(ctx, j, nil, slot, wg)
}

// sendFrom is launch's goroutine, already counted in e.inflight (and wg).
// m, when set, is j's message, known from when j was written.
func (e *Engine) sendFrom(ctx context.Context, j *store.Job, m *notify.Message, slot string, wg *sync.WaitGroup) {
	go func() {
		defer func() {
			e.inflight.Done()
			if wg != nil {
				wg.Done()
			}
		}()
		// deliver gives the slot back when its send is over; the goroutine
		// goes on with the target's next delivery, claimed with this one's
		// result and given a slot of its own, while there is one (and the
		// engine is not stopping).
		for j != nil {
			j, slot = e.deliver(context.WithoutCancel(ctx), j, m, slot, ctx.Err() == nil)
			m = nil
		}
	}()
}

// claimAtWrite claims a new incident's delivery as the opening commit
// writes it, when the engine runs and the target can start it now (a
// free slot, a rate token, no 429 pause): the slot and the token are
// taken at once and given back if the transaction rolls back, and once it
// commits the delivery starts (handOff). The first page then leaves right
// after the commit that opened the incident, without a claim transaction
// queued behind the writer. Otherwise the delivery is written pending and
// claimed as before. m is the message the spec's payload encodes: the
// hand-over sends it as it is, without decoding the payload again.
func (e *Engine) claimAtWrite(t *store.Tx, r *routing, spec *store.JobSpec, m *notify.Message, now time.Time) {
	_, ok := r.targets[spec.Target]
	e.mu.Lock()
	running := e.runCtx != nil
	e.mu.Unlock()
	if !ok || !running {
		return
	}
	slot, token, _, ok := e.admit(r, spec.Target, now)
	if !ok {
		return
	}
	giveUp := func() {
		if token != nil {
			// At the reservation's own time: cancelled at a later one, a
			// token granted at once counts as used and is not given back.
			token.CancelAt(now)
		}
		e.release(slot)
	}
	c := &store.ClaimAtWrite{Lease: e.lease}
	spec.Claim = c
	t.OnRollback(giveUp)
	t.OnCommit(func() { e.handOff(c, m, slot, giveUp) })
}

// handOff starts a delivery claimed as the opening commit wrote it. A
// delivery of that key that existed already was not claimed: its slot
// and token are given up. With Run stopped meanwhile (the process is
// shutting down), the slot is freed and the claim left to run out, as a
// claim of a process that stops mid-send is (releaseClaims at the next
// start on SQLite, another replica once this one's heartbeat is stale).
func (e *Engine) handOff(c *store.ClaimAtWrite, m *notify.Message, slot string, giveUp func()) {
	if c.Job == nil {
		giveUp()
		return
	}
	e.mu.Lock()
	ctx := e.runCtx
	if ctx == nil {
		e.mu.Unlock()
		e.release(slot)
		return
	}
	e.sending[c.Job.ID] = false // new: nothing else sends or claims it
	e.inflight.Add(1)           // before Run, stopping, can wait
	e.mu.Unlock()
	e.sendFrom(ctx, c.Job, m, slot, nil)
}

// beginClaim numbers a claim about to run and forgets sends that ended
// long before it.
func (e *Engine) beginClaim() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.claimSeq++
	for id, seq := range e.finished {
		if seq+16 < e.claimSeq {
			delete(e.finished, id)
		}
	}
	return e.claimSeq
}

// claimStart is what startSending decided about a claimed delivery.
type claimStart uint8

const (
	// sendIt: the claim is this process's to send.
	sendIt claimStart = iota
	// keepClaim: this process is still sending it (its lease ran out on
	// the clock meanwhile); the claim stays as it is, so that the send in
	// flight records its result under it.
	keepClaim
	// giveItBack: its last send here is over (its result recorded, the
	// sender not back yet, or it ended after this claim began); the
	// claim goes back to the queue (giveBack).
	giveItBack
)

// startSending marks a delivery claimed by claim seq as being sent, unless
// this process is sending it already or its send ended after that claim
// began.
func (e *Engine) startSending(id int64, seq uint64) claimStart {
	e.mu.Lock()
	defer e.mu.Unlock()
	if recorded, ok := e.sending[id]; ok {
		if recorded {
			return giveItBack
		}
		return keepClaim
	}
	if at, ok := e.finished[id]; ok && at >= seq {
		return giveItBack
	}
	e.sending[id] = false
	return sendIt
}

// refused handles a claim startSending did not let send: given back, or
// left to the send in flight.
func (e *Engine) refused(ctx context.Context, j *store.Job, why claimStart, now time.Time) {
	if why == giveItBack {
		e.giveBack(ctx, j, now)
	}
}

// giveBack returns a claimed delivery to the queue, due now and without
// using an attempt. The claim is sound (the database handed the delivery
// out after its last result committed), but this process still counts
// that send as running for a moment; left claimed, the delivery would
// wait for its lease (2 minutes) to run out. A pass after giveBackAfter
// sends it (soon enough for a page, late enough not to claim it again
// before this process's send has ended).
func (e *Engine) giveBack(ctx context.Context, j *store.Job, now time.Time) {
	if err := e.st.DeferDelivery(ctx, j, now.Add(giveBackAfter)); err != nil {
		e.log.Error("give back a refused claim", zap.String("job", j.Key), zap.Error(err))
	}
}

// recorded notes that a send's result is recorded (committed, or its
// recording failed): a claim of that delivery from now on is given back,
// not left to the send.
func (e *Engine) recorded(id int64) {
	e.mu.Lock()
	if _, ok := e.sending[id]; ok {
		e.sending[id] = true
	}
	e.mu.Unlock()
}

// giveBackAfter is how long a given-back delivery waits (giveBack).
const giveBackAfter = 50 * time.Millisecond

func (e *Engine) doneSending(id int64) {
	e.mu.Lock()
	delete(e.sending, id)
	e.finished[id] = e.claimSeq
	e.mu.Unlock()
}

// RunStep decides, inside the store's transaction, what a due step
// sends: the engine's own passes (RunSteps) and the group commit that
// opens an incident (store.SetStepRunner, for the steps due at once) run
// steps through it.
func (e *Engine) RunStep(t *store.Tx, j *store.Job, inc *alert.Incident) (store.StepOutcome, error) {
	return e.runStep(t, j, inc, false)
}

// RunOpeningStep is RunStep for the steps a new incident's opening commit
// runs (store.SetStepRunner): its deliveries are claimed as they are
// written, when their targets can start them (claimAtWrite).
func (e *Engine) RunOpeningStep(t *store.Tx, j *store.Job, inc *alert.Incident) (store.StepOutcome, error) {
	return e.runStep(t, j, inc, true)
}

func (e *Engine) runStep(t *store.Tx, j *store.Job, inc *alert.Incident, claim bool) (store.StepOutcome, error) {
	r := e.current()
	var p stepPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return store.StepOutcome{}, fmt.Errorf("decode step: %w", err)
	}
	if inc.Status.Stops(j.StopOn) {
		t.OnCommit(func() { e.m.stepsRun.WithLabelValues(p.Type, "skipped").Inc() })
		return store.StepOutcome{Cancelled: true}, t.AppendEvent(inc.ID, alert.EventStepSkipped, "router",
			fmt.Sprintf("%s: incident already %s", stepName(&p), inc.Status))
	}
	if p.Type == stepPage {
		// Every firing alert silenced or in a maintenance window: the
		// page waits for the suppression to end (SLA breaches, channel
		// messages and the other steps are not held).
		h, held, err := t.Suppression(inc.ID)
		if err != nil {
			return store.StepOutcome{}, err
		}
		if held {
			t.OnCommit(func() {
				e.m.stepsRun.WithLabelValues(p.Type, "held").Inc()
				e.log.Info("escalation step held", zap.String("incident", inc.Key), zap.String("step", stepName(&p)), zap.String("by", h.By))
			})
			return store.StepOutcome{Hold: &h}, nil
		}
	}
	alerts, err := t.Alerts(inc.ID, 20)
	if err != nil {
		return store.StepOutcome{}, err
	}
	var (
		targets []string
		kind    notify.MessageKind
		event   alert.EventKind
		detail  string
		extra   []store.JobSpec // more deliveries (the post-mortem draft)
	)
	switch p.Type {
	case stepPage:
		oc := e.onCall(r.cfg, p.Role, e.now())
		targets, kind, event = oc.Targets, notify.KindPage, alert.EventEscalated
		detail = fmt.Sprintf("paged %s (%s)", p.Role, stepName(&p))
		if oc.Member != "" {
			detail = fmt.Sprintf("paged %s %s by %s (%s)", p.Role, oc.Member, oc.Source, stepName(&p))
		}
	case stepAnnounce:
		targets, kind, event = r.channelTargets(p.Channel), notify.KindInfo, alert.EventNotified
		detail = "announced to " + p.Channel
	case stepAck:
		if targets, err = t.PagedTargets(inc.ID); err != nil {
			return store.StepOutcome{}, err
		}
		t.OnCommit(func() {
			e.m.timeTo.WithLabelValues(inc.Severity.String(), "ack").Observe(inc.AcknowledgedAt.Sub(inc.OpenedAt).Seconds())
		})
		if sp := r.cfg.Communication.StatusPage; hasSeverity(sp.Severities, inc.Severity) {
			targets = append(targets, sp.Targets...) // the public incident moves to "identified"
		}
		kind, event, detail = notify.KindAcknowledge, alert.EventNotified, "acknowledgement sent"
	case stepResolve:
		if targets, err = t.PagedTargets(inc.ID); err != nil {
			return store.StepOutcome{}, err
		}
		for _, ch := range r.cfg.Communication.Channels {
			if hasSeverity(ch.Severities, inc.Severity) {
				targets = append(targets, ch.Targets...)
			}
		}
		if hasSeverity(r.cfg.Communication.StatusPage.Severities, inc.Severity) {
			targets = append(targets, r.cfg.Communication.StatusPage.Targets...)
		}
		kind, event, detail = notify.KindResolve, alert.EventNotified, "resolution sent"
		// A flapping incident's resolutions are not final: the channel
		// hears "resolved", not a resolution summary per flap.
		if inc.Severity <= alert.P1 && !inc.Flapping {
			if extra, err = e.postmortemJobs(r, j, inc); err != nil {
				return store.StepOutcome{}, err
			}
		}
		t.OnCommit(func() {
			e.m.timeTo.WithLabelValues(inc.Severity.String(), "resolve").Observe(inc.ResolvedAt.Sub(inc.OpenedAt).Seconds())
		})
	case stepSLA:
		targets, kind, event = r.severityChannels(inc.Severity, false), notify.KindInfo, alert.EventSLABreached
		detail = slaDetail(r.cfg, inc, p.SLA)
		t.OnCommit(func() { e.m.slaBreaches.WithLabelValues(inc.Severity.String(), p.SLA).Inc() })
	case stepUpdate:
		targets, kind, event = r.severityChannels(inc.Severity, true), notify.KindInfo, alert.EventNotified
		detail = "status update sent"
	case stepRemind:
		return e.remind(t, r, j, inc, alerts, &p)
	case stepFlapEnd:
		return e.flapEnd(t, r, j, inc, &p)
	case stepTicket:
		if tk := r.cfg.Communication.Ticket; tk != nil {
			targets = []string{tk.Target}
		}
		kind, event, detail = notify.KindTicket, alert.EventNotified, "ticket requested"
	default:
		return store.StepOutcome{}, fmt.Errorf("unknown step type %q", p.Type)
	}
	targets = dedupe(targets)
	out := store.StepOutcome{Jobs: extra}
	now := e.now()
	for _, tn := range targets {
		m := e.message(r.cfg, kind, inc, alerts, &p, j.Key+"/"+tn)
		b, err := json.Marshal(m)
		if err != nil {
			return store.StepOutcome{}, fmt.Errorf("encode message: %w", err)
		}
		spec := store.JobSpec{
			Key: j.Key + "/" + tn, Kind: store.KindDelivery, DueAt: now, StopOn: j.StopOn,
			Target: tn, Action: string(kind), Payload: b, Priority: int(inc.Severity),
		}
		if claim {
			e.claimAtWrite(t, r, &spec, m, now)
		}
		out.Jobs = append(out.Jobs, spec)
	}
	if len(targets) == 0 {
		detail += ": no targets configured"
	} else {
		detail += " via " + strings.Join(targets, ", ")
	}
	if err := t.AppendEvent(inc.ID, event, "router", detail); err != nil {
		return store.StepOutcome{}, err
	}
	if p.Type == stepPage {
		if len(targets) > 0 {
			if err := t.Touch(inc.ID); err != nil { // whom it paged is on the board
				return store.StepOutcome{}, err
			}
		}
		if next, ok := e.repeat(r.cfg, j, inc, &p); ok {
			out.Jobs = append(out.Jobs, next)
		}
	}
	t.OnCommit(func() {
		e.m.stepsRun.WithLabelValues(p.Type, "sent").Inc()
		e.log.Info("escalation step", zap.String("incident", inc.Key), zap.Stringer("severity", inc.Severity),
			zap.String("step", stepName(&p)), zap.Strings("targets", targets))
	})
	return out, nil
}

// repeat plans the next page of a role whose row repeats for the
// incident's severity. The one page of an incident that started flapping
// does not repeat.
func (e *Engine) repeat(cfg *config.Config, j *store.Job, inc *alert.Incident, p *stepPayload) (store.JobSpec, bool) {
	if p.Flapping {
		return store.JobSpec{}, false
	}
	for _, row := range cfg.Escalation.Matrix {
		if row.Role != p.Role || !row.Repeat.Applies(inc.Severity) || p.Seq >= row.Repeat.Limit {
			continue
		}
		np := stepPayload{Type: stepPage, Role: p.Role, Seq: p.Seq + 1, Tag: p.Tag}
		// Keep the cadence from the due time, but never schedule into the
		// past: a step that ran late (a re-plan of an old incident, a
		// restart) repeats one interval after it actually ran.
		next := j.DueAt.Add(row.Repeat.Every.D())
		if now := e.now(); !next.After(now) {
			next = now.Add(row.Repeat.Every.D())
		}
		return stepJob(fmt.Sprintf("%spage/%s#%d", keyPrefix(inc, p.Tag), p.Role, np.Seq), next, j.StopOn, np), true
	}
	return store.JobSpec{}, false
}

func stepName(p *stepPayload) string {
	switch p.Type {
	case stepPage:
		return fmt.Sprintf("%s#%d", p.Role, p.Seq)
	case stepAnnounce:
		return "announce:" + p.Channel
	case stepSLA:
		return "sla:" + p.SLA
	case stepRemind:
		return fmt.Sprintf("remind#%d", p.Seq)
	}
	return p.Type
}

func (r *routing) channelTargets(ch string) []string {
	if ch == statusPageChannel {
		return r.cfg.Communication.StatusPage.Targets
	}
	for _, c := range r.cfg.Communication.Channels {
		if c.Name == ch {
			return c.Targets
		}
	}
	return nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
