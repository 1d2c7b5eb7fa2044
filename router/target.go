package router

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/alertgate/alertgate/config"
)

// target is one configured target with its breaker and retry policy.
type target struct {
	cfg      config.Target
	lim      *rate.Limiter // nil: unlimited
	name     string
	typ      string
	n        Notifier
	cb       *gobreaker.CircuitBreaker[struct{}]
	timeout  time.Duration
	retry    config.Retry
	openFor  time.Duration
	fallback string
	// fallbackAfter sends P0/P1 deliveries to the fallback as well once
	// they have gone this long without success (0: only when dead).
	fallbackAfter time.Duration
}

func newTarget(tc config.Target, n Notifier, log *zap.Logger, m *metrics) *target {
	t := &target{
		cfg: tc, name: tc.Name, typ: tc.Type, n: n,
		timeout: tc.Timeout.D(), retry: tc.Retry, openFor: tc.Breaker.OpenFor.D(), fallback: tc.Fallback,
		fallbackAfter: tc.FallbackAfter.D(),
	}
	if t.timeout <= 0 {
		t.timeout = 10 * time.Second
	}
	if t.retry.MaxAttempts <= 0 {
		t.retry.MaxAttempts = 8
	}
	if t.retry.Backoff <= 0 {
		t.retry.Backoff = config.Duration(2 * time.Second)
	}
	if t.retry.MaxBackoff <= 0 {
		t.retry.MaxBackoff = config.Duration(5 * time.Minute)
	}
	if t.openFor <= 0 {
		t.openFor = 30 * time.Second
	}
	if rl := rateLimit(tc); rl.PerSecond > 0 {
		t.lim = rate.NewLimiter(rate.Limit(rl.PerSecond), max(rl.Burst, 1))
	}
	failures := uint32(tc.Breaker.Failures)
	if failures == 0 {
		failures = 5
	}
	tlog := log.With(zap.String("target", tc.Name), zap.String("type", tc.Type))
	m.breakerState.WithLabelValues(tc.Name).Set(0)
	t.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        tc.Name,
		MaxRequests: 1,
		Timeout:     t.openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// Only temporary failures say the target is unhealthy; a permanent
		// 4xx is about the message, not the service.
		IsSuccessful: func(err error) bool { return err == nil || !AsDeliveryError(err).Temporary },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			tlog.Info("circuit breaker state changed", zap.Stringer("from", from), zap.Stringer("to", to))
			m.breakerState.WithLabelValues(tc.Name).Set(float64(to))
		},
	})
	return t
}

// send delivers one message through the breaker with the per-attempt
// timeout.
func (t *target) send(ctx context.Context, m *Message) error {
	return t.attempt(ctx, func(ctx context.Context) error { return t.n.Notify(ctx, m) })
}

// attempt runs one delivery attempt through the breaker with the target's
// timeout.
func (t *target) attempt(ctx context.Context, do func(context.Context) error) error {
	_, err := t.cb.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, t.timeout)
		defer cancel()
		return struct{}{}, do(ctx)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &DeliveryError{Temporary: true, Reason: ReasonBreakerOpen, RetryAfter: t.openFor, Err: fmt.Errorf("circuit breaker open")}
	}
	return err
}

// ticket files a ticket through the breaker with the per-attempt timeout.
func (t *target) ticket(ctx context.Context, tk Ticketer, m *Message) (string, error) {
	var ref string
	err := t.attempt(ctx, func(ctx context.Context) error {
		var err error
		ref, err = tk.Ticket(ctx, m)
		return err
	})
	return ref, err
}

// rateLimit is the target's configured rate limit, else its service's
// documented one.
func rateLimit(tc config.Target) config.RateLimit {
	if tc.RateLimit != nil {
		return *tc.RateLimit
	}
	switch tc.Type {
	case "pagerduty":
		return config.RateLimit{PerSecond: 2, Burst: 120} // 120 events/min per routing key
	case "slack":
		return config.RateLimit{PerSecond: 1, Burst: 2} // 1 message/s per webhook, short bursts
	case "teams":
		return config.RateLimit{PerSecond: 4, Burst: 4}
	case "statuspage":
		return config.RateLimit{PerSecond: 1, Burst: 1}
	}
	return config.RateLimit{}
}

// wait takes a token at now, or says how long until one is free (and
// takes none).
func (t *target) wait(now time.Time) time.Duration {
	r := t.lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Second
	}
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// deliverRef sends through a Referencer and returns its reference.
func (t *target) deliverRef(ctx context.Context, rf Referencer, m *Message) (string, error) {
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
	slaBreaches  *prometheus.CounterVec
	timeTo       *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_deliveries_total",
			Help: "Delivery attempts by target, type, result (ok, retry, dead) and failure reason.",
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
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.breakerState, m.stepsRun, m.slaBreaches, m.timeTo, m.deferred)
	}
	return m
}
