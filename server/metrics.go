package server

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unknownSource labels requests for sources that are not configured, so
// label cardinality stays bounded by the configuration.
const unknownSource = "unknown"

// metrics are the ingest endpoint's Prometheus series.
type metrics struct {
	requests  *prometheus.CounterVec
	received  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	truncated *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_ingest_requests_total",
			Help: "Ingest requests by source and HTTP status code.",
		}, []string{"source", "code"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_alerts_received_total",
			Help: "Alerts decoded from ingest requests by source and alert status.",
		}, []string{"source", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alertgate_ingest_duration_seconds",
			Help:    "Time to handle an ingest request, including the durable commit.",
			Buckets: prometheus.DefBuckets,
		}, []string{"source"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_alerts_truncated_total",
			Help: "Alerts the sender dropped from its payload (max_alerts), by source.",
		}, []string{"source"}),
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.received, err = register(reg, m.received); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.truncated, err = register(reg, m.truncated); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description (a second Server on the same registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// initSource exports a configured source's series at 0 (accepted
// requests, alerts by status, durations, truncations), so they exist
// before its first request.
func (m *metrics) initSource(source string) {
	m.requests.WithLabelValues(source, "200")
	m.received.WithLabelValues(source, "firing")
	m.received.WithLabelValues(source, "resolved")
	m.duration.WithLabelValues(source)
	m.truncated.WithLabelValues(source)
}

// observeIngest records one finished ingest request. source must be a
// configured name or unknownSource, never request bytes.
func (m *metrics) observeIngest(source string, code int, took time.Duration) {
	m.requests.WithLabelValues(source, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(source).Observe(took.Seconds())
}
