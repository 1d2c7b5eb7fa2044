package router

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// target is one configured target with its breaker and retry policy.
type target struct {
	cfg      config.Target
	lim      *rate.Limiter // nil: unlimited
	name     string
	typ      string
	n        notify.Notifier
	cb       *gobreaker.CircuitBreaker[struct{}]
	timeout  time.Duration
	retry    config.Retry
	openFor  time.Duration
	fallback string
	// fallbackAfter sends P0/P1 deliveries to the fallback as well once
	// they have gone this long without success (0: only when dead).
	fallbackAfter time.Duration
	// concurrency is the target's bulkhead: how many of its deliveries
	// may be in flight at once.
	concurrency int
	// st is the state a reload with unchanged settings keeps (shared by
	// the copies of the target).
	st  *targetState
	now func() time.Time
}

// targetState is what a target learns while sending: until when its
// breaker is open, until when it asked (429) not to be sent to, and the
// rate its limiter was slowed to.
type targetState struct {
	mu          sync.Mutex
	openUntil   time.Time
	pausedUntil time.Time
	// recent counts the sends that reached the target, per minute, over
	// the last RecentWindow: its recent success rate.
	recent [recentMinutes]minuteCount
}

// RecentWindow is how far back a target's recent success rate looks.
const RecentWindow = recentMinutes * time.Minute

const recentMinutes = 15

// minuteCount is one minute's sends of a target.
type minuteCount struct {
	minute     int64 // Unix minutes
	ok, failed uint32
}

// sent records a send that reached the target (or timed out trying): ok
// when it was delivered.
func (s *targetState) sent(now time.Time, ok bool) {
	m := now.Unix() / 60
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.recent[m%recentMinutes]
	if b.minute != m {
		*b = minuteCount{minute: m}
	}
	if ok {
		b.ok++
	} else {
		b.failed++
	}
}

// recentCounts sums the sends of the last RecentWindow.
func (s *targetState) recentCounts(now time.Time) (ok, failed uint32) {
	m := now.Unix() / 60
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.recent {
		if d := m - b.minute; d >= 0 && d < recentMinutes {
			ok, failed = ok+b.ok, failed+b.failed
		}
	}
	return ok, failed
}

func newTarget(tc config.Target, n notify.Notifier, log *zap.Logger, m *metrics, now func() time.Time) *target {
	d := tc
	d.ApplyDefaults() // for targets made in code; Load has applied them
	t := &target{
		cfg: tc, name: tc.Name, typ: tc.Type, n: n,
		timeout: d.Timeout.D(), retry: d.Retry, openFor: d.Breaker.OpenFor.D(), fallback: tc.Fallback,
		fallbackAfter: tc.FallbackAfter.D(), concurrency: d.Concurrency, st: &targetState{}, now: now,
	}
	if rl := rateLimit(tc); rl.PerSecond > 0 {
		t.lim = rate.NewLimiter(rate.Limit(rl.PerSecond), max(rl.Burst, 1))
	}
	failures := uint32(d.Breaker.Failures)
	tlog := log.With(zap.String("target", tc.Name), zap.String("type", tc.Type))
	t.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        tc.Name,
		MaxRequests: 1,
		// gobreaker keeps the counts and the one half-open probe; the open
		// period is timed on the engine's clock (openUntil, checked before
		// each attempt), so gobreaker's own is as short as it gets.
		Timeout:     time.Nanosecond,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// Only temporary failures say the target is unhealthy; a permanent
		// 4xx is about the message, not the service.
		IsSuccessful: func(err error) bool { return err == nil || !notify.AsDeliveryError(err).Temporary },
		// A 429 is the target pacing us, not failing: it slows the target
		// down (pause, limiter) and never counts toward opening.
		IsExcluded: func(err error) bool {
			return err != nil && notify.AsDeliveryError(err).Reason == notify.ReasonRateLimited
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			tlog.Info("circuit breaker state changed", zap.Stringer("from", from), zap.Stringer("to", to))
			m.breakerState.WithLabelValues(tc.Name).Set(float64(to))
			t.st.mu.Lock()
			t.st.openUntil = time.Time{}
			if to == gobreaker.StateOpen {
				t.st.openUntil = now().Add(t.openFor)
			}
			t.st.mu.Unlock()
		},
	})
	return t
}

// send delivers one message through the breaker with the per-attempt
// timeout.
func (t *target) send(ctx context.Context, m *notify.Message) error {
	return t.attempt(ctx, func(ctx context.Context) error { return t.n.Notify(ctx, m) })
}

// attempt runs one delivery attempt through the breaker with the target's
// timeout.
func (t *target) attempt(ctx context.Context, do func(context.Context) error) error {
	t.st.mu.Lock()
	open := t.st.openUntil.After(t.now())
	t.st.mu.Unlock()
	if open {
		return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonBreakerOpen, Err: errBreakerOpen}
	}
	_, err := t.cb.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, t.timeout)
		defer cancel()
		return struct{}{}, do(ctx)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &notify.DeliveryError{Temporary: true, Reason: notify.ReasonBreakerOpen, Err: errBreakerOpen}
	}
	return err
}

var errBreakerOpen = errors.New("circuit breaker open")

// halfOpenAt is when a delivery the open breaker turned away, having made
// sent real attempts, should come back: when the breaker lets a probe
// through, or, while a probe is in flight (half-open), a second later.
// Each attempt made puts it a millisecond later, so that the probe (the
// first due) is the delivery with the most attempts left, not one that a
// failed probe would kill.
func (t *target) halfOpenAt(now time.Time, sent int) time.Time {
	t.st.mu.Lock()
	defer t.st.mu.Unlock()
	at := now.Add(time.Second)
	if t.st.openUntil.After(now) {
		at = t.st.openUntil
	}
	return at.Add(time.Duration(max(sent, 0)) * time.Millisecond)
}

// minRateFraction is how far 429s may slow a limiter: to 1/8 of its rate.
const minRateFraction = 8

// throttle records a 429: nothing is sent to the target until the
// Retry-After (1s when the answer gave none, at most the breaker's
// open_for), and a limited target's rate is halved (down to 1/8 of its
// configured rate; successes restore it). It returns when the target may
// be sent to again. The cap is what an open breaker waits before its
// probe: a target asking for an hour's rest still gets a try every
// open_for, so that its pages reach their retry.max_age, and then the
// fallback, on time (a day's Retry-After held them, unsent, for the day).
func (t *target) throttle(now time.Time, retryAfter time.Duration) time.Time {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	if t.openFor > 0 && retryAfter > t.openFor {
		retryAfter = t.openFor
	}
	t.st.mu.Lock()
	defer t.st.mu.Unlock()
	if until := now.Add(retryAfter); until.After(t.st.pausedUntil) {
		t.st.pausedUntil = until
	}
	if t.lim != nil {
		floor := rate.Limit(rateLimit(t.cfg).PerSecond) / minRateFraction
		t.lim.SetLimitAt(now, max(t.lim.Limit()/2, floor))
	}
	return t.st.pausedUntil
}

// recovered records a success: a slowed limiter regains a tenth of its
// configured rate.
func (t *target) recovered(now time.Time) {
	if t.lim == nil {
		return
	}
	full := rate.Limit(rateLimit(t.cfg).PerSecond)
	if l := t.lim.Limit(); l < full {
		t.lim.SetLimitAt(now, min(l+full/10, full))
	}
}

// room is how many deliveries the target can start at now, given inflight
// of its own: none while a 429 holds it, at most its free concurrency, and
// at most the tokens its rate limiter has.
func (t *target) room(now time.Time, inflight int) int {
	t.st.mu.Lock()
	paused, open := t.st.pausedUntil.After(now), t.st.openUntil.After(now)
	t.st.mu.Unlock()
	if paused {
		return 0
	}
	n := t.concurrency - inflight
	// Half-open: one delivery, the probe, and none while it is in flight
	// (the others would only be turned away). (Not asked while open:
	// gobreaker would half-open at once.)
	if !open && t.cb.State() == gobreaker.StateHalfOpen {
		n = min(n, 1)
		if t.cb.Counts().Requests > 0 {
			n = 0
		}
	}
	if t.lim != nil {
		n = min(n, int(math.Floor(t.lim.TokensAt(now))))
	}
	return max(n, 0)
}

// readyAt is when a target with no room (paused, out of tokens) may have
// some; zero when only a free slot would help.
func (t *target) readyAt(now time.Time) time.Time {
	t.st.mu.Lock()
	paused := t.st.pausedUntil
	t.st.mu.Unlock()
	if paused.After(now) {
		return paused
	}
	if t.lim != nil && t.lim.TokensAt(now) < 1 {
		need := 1 - t.lim.TokensAt(now)
		if l := float64(t.lim.Limit()); l > 0 {
			return now.Add(time.Duration(need / l * float64(time.Second)))
		}
	}
	return time.Time{}
}

// ticket files a ticket through the breaker with the per-attempt timeout.
func (t *target) ticket(ctx context.Context, tk notify.Ticketer, m *notify.Message) (string, error) {
	var ref string
	err := t.attempt(ctx, func(ctx context.Context) error {
		var err error
		ref, err = tk.Ticket(ctx, m)
		return err
	})
	return ref, err
}

// rateLimit is the target's rate limit: its own, or its type's default
// that the target registry's check filled in (router/notifier).
func rateLimit(tc config.Target) config.RateLimit {
	if tc.RateLimit != nil {
		return *tc.RateLimit
	}
	return config.RateLimit{}
}

// reserve takes a token at now and returns it (to cancel, should it go
// unused); with none free it takes none and says how long until one is.
func (t *target) reserve(now time.Time) (*rate.Reservation, time.Duration) {
	r := t.lim.ReserveN(now, 1)
	if !r.OK() {
		return nil, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// deliverRef sends through a Referencer and returns its reference.
func (t *target) deliverRef(ctx context.Context, rf notify.Referencer, m *notify.Message) (string, error) {
	var ref string
	err := t.attempt(ctx, func(ctx context.Context) error {
		var err error
		ref, err = rf.Deliver(ctx, m)
		return err
	})
	return ref, err
}

// backoff is the wait before attempt n+1 (n ≥ 1): exponential from
// Backoff, capped at MaxBackoff, with ±20% jitter so that retries of many
// deliveries spread out.
func (t *target) backoff(n int) time.Duration {
	d := t.retry.Backoff.D()
	for i := 1; i < n && d < t.retry.MaxBackoff.D(); i++ {
		d *= 2
	}
	if d > t.retry.MaxBackoff.D() {
		d = t.retry.MaxBackoff.D()
	}
	j := time.Duration(float64(d) * 0.2 * (rand.Float64()*2 - 1))
	return d + j
}

type metrics struct {
	deliveries   *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	breakerState *prometheus.GaugeVec
	stepsRun     *prometheus.CounterVec
	deferred     *prometheus.CounterVec
	passes       *prometheus.CounterVec
	slaBreaches  *prometheus.CounterVec
	timeTo       *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_deliveries_total",
			Help: "Delivery attempts by target, type, result (ok, retry, wait: turned away by an open breaker or slowed by a 429, dead) and failure reason.",
		}, []string{"target", "type", "result", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alertgate_delivery_duration_seconds",
			Help:    "Duration of delivery attempts by target.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"target"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "alertgate_breaker_state",
			Help: "Circuit breaker state by target: 0 closed, 1 half-open, 2 open.",
		}, []string{"target"}),
		stepsRun: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_escalation_steps_total",
			Help: "Escalation steps run, by type and outcome (sent, skipped, held).",
		}, []string{"type", "outcome"}),
	}
	m.slaBreaches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_sla_breaches_total",
		Help: "SLA breaches by severity and kind (response: not acknowledged in time; resolution: not resolved in time).",
	}, []string{"severity", "kind"})
	m.timeTo = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "alertgate_incident_time_to_seconds",
		Help:    "Time from opening to acknowledgement (event=ack) and to resolution (event=resolve), by severity.",
		Buckets: []float64{60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800},
	}, []string{"severity", "event"})
	m.deferred = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_deliveries_deferred_total",
		Help: "Deliveries put back in the queue because the target's rate limit was reached.",
	}, []string{"target"})
	m.passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_engine_passes_total",
		Help: "Passes of the escalation engine over due steps and deliveries, by what woke it: start, store (new work written), freed (a delivery's slot was given back), timer (the next due time or the poll interval).",
	}, []string{"woken_by"})
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.breakerState, m.stepsRun, m.slaBreaches, m.timeTo, m.deferred, m.passes)
	}
	m.initSeries()
	return m
}
