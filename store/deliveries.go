package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertgate/alertgate/alert"
)

// Delivery is a delivery job as the API shows it.
type Delivery struct {
	ID        int64     `json:"id"`
	Key       string    `json:"key"`
	Incident  string    `json:"incident"`
	Target    string    `json:"target"`
	Action    string    `json:"action"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	DueAt     time.Time `json:"due_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ListDeliveries lists deliveries in a state (dead letters: "dead";
// "pending" includes those waiting for a retry), newest first.
func (s *Store) ListDeliveries(ctx context.Context, state string, limit int) ([]Delivery, error) {
	switch state {
	case JobPending, JobRunning, JobDone, JobDead, JobCancelled:
	default:
		return nil, fmt.Errorf("%w: state %q (want pending, running, done, dead or cancelled)", ErrInvalid, state)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, key, incident_id, target, action, state, attempts, last_error, due_at, updated_at
FROM jobs WHERE state = ? AND kind = 'delivery' ORDER BY id DESC LIMIT ?`), state, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: deliveries: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var inc, due, upd int64
		if err := rows.Scan(&d.ID, &d.Key, &inc, &d.Target, &d.Action, &d.State, &d.Attempts, &d.LastError, &due, &upd); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		d.Incident, d.DueAt, d.UpdatedAt = alert.IncidentKey(inc), fromMS(due), fromMS(upd)
		out = append(out, d)
	}
	return out, rows.Err()
}

// RetryDelivery puts a dead letter back in the queue, due now, with its
// attempts reset; the timeline says who did it. It keeps its idempotency
// key, so a receiver that did get the first attempt can drop the repeat.
func (s *Store) RetryDelivery(ctx context.Context, id int64, actor string) (*Delivery, error) {
	var out *Delivery
	err := s.withTx(ctx, func(t *Tx) error {
		var inc int64
		var state, target, key string
		err := t.queryRow(ctx, `SELECT incident_id, state, target, key FROM jobs WHERE id = ? AND kind = 'delivery'`, id).Scan(&inc, &state, &target, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delivery %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delivery %d: %w", id, err)
		}
		if state != JobDead {
			return fmt.Errorf("%w: delivery %d is %s, only dead letters are retried", ErrConflict, id, state)
		}
		now := ms(s.now())
		if _, err := t.exec(ctx, `UPDATE jobs SET state = 'pending', due_at = ?, attempts = 0, last_error = '', lease_until = 0, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		if err := t.event(inc, alert.EventNotified, actor, fmt.Sprintf("%s: dead letter %s requeued", target, key)); err != nil {
			return err
		}
		t.jobsAdded = true
		out = &Delivery{ID: id, Key: key, Incident: alert.IncidentKey(inc), Target: target, State: JobPending, DueAt: fromMS(now), UpdatedAt: fromMS(now)}
		return nil
	})
	return out, err
}

// QueueCollector exports the delivery queue depth by target and state
// (pending, running, dead) as alertgate_delivery_queue, counted on scrape.
// Every target that targets names (the configured ones) is exported in
// every state, with 0 when it has no such delivery, so the series exist
// before the first delivery; targets is nil-safe.
func (s *Store) QueueCollector(targets func() []string) prometheus.Collector {
	return queueCollector{s, targets}
}

type queueCollector struct {
	s       *Store
	targets func() []string
}

// WriteTxCollector exports the number of transactions begun on the
// writer (ingest batches and every other write), so that idle write load
// shows: alertgate_store_write_transactions_total.
func (s *Store) WriteTxCollector() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "alertgate_store_write_transactions_total",
		Help: "Transactions begun on the store's writer connection (ingest batches, escalation steps, claims, leases).",
	}, func() float64 { return float64(s.WriteTransactions()) })
}

// WriteTransactions returns the number of transactions begun on the
// writer so far.
func (s *Store) WriteTransactions() uint64 { return s.writeTxs.Load() }

// StatementCollector exports the number of statements run in the
// writer's transactions: alertgate_store_statements_total.
func (s *Store) StatementCollector() prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "alertgate_store_statements_total",
		Help: "Statements run in transactions on the store's writer connection.",
	}, func() float64 { return float64(s.Statements()) })
}

// Statements returns the number of statements run in the writer's
// transactions so far.
func (s *Store) Statements() uint64 { return s.stmtsRun.Load() }

var queueDesc = prometheus.NewDesc("alertgate_delivery_queue",
	"Deliveries by target and state: pending (waiting, including retries), running (being sent), dead (dead letters).",
	[]string{"target", "state"}, nil)

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var names []string
	if c.targets != nil {
		names = c.targets()
	}
	for _, state := range []string{JobPending, JobRunning, JobDead} {
		counts := make(map[string]float64, len(names))
		for _, n := range names {
			counts[n] = 0
		}
		rows, err := c.s.r.QueryContext(ctx, c.s.d.rebind(`SELECT target, COUNT(*) FROM jobs WHERE state = ? AND kind = 'delivery' GROUP BY target`), state)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(queueDesc, err)
			return
		}
		for rows.Next() {
			var target string
			var n float64
			if err := rows.Scan(&target, &n); err == nil {
				counts[target] = n
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(queueDesc, err)
			return
		}
		for target, n := range counts {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, n, target, state)
		}
	}
}
