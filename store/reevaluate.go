package store

// Re-evaluation of suppressed alerts: periodically, and when a silence
// ends or an incident resolves, each is evaluated afresh and one no longer
// suppressed for the same reason goes through ingest again; held pages
// are released in the same sweep (hold.go).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
)

// Reevaluate takes every firing alert that is suppressed and evaluates it
// afresh: one whose silence ended, whose maintenance window closed or whose
// inhibiting incident resolved is ingested again and pages if it should.
// It returns how many alerts were released.
func (s *Store) Reevaluate(ctx context.Context) (int, error) {
	pol := s.Policy()
	rows, err := s.r.QueryContext(ctx, `SELECT data, hash, suppressed FROM alerts WHERE suppressed <> '' AND status = 'firing' LIMIT 5000`)
	if err != nil {
		return 0, fmt.Errorf("%w: suppressed alerts: %v", ErrUnavailable, err)
	}
	var items []item
	now := s.now()
	for rows.Next() {
		var data, tag string
		var h int64
		if err := rows.Scan(&data, &h, &tag); err != nil {
			rows.Close()
			return 0, fmt.Errorf("suppressed alerts: %w", err)
		}
		var a alert.Alert
		if err := unmarshalAlert(data, &a); err != nil {
			rows.Close()
			return 0, err
		}
		d := pol.classifier.Evaluate(&a)
		if sup, ok := pol.classifier.Suppress(&a, &d, now, s.silencesNow(), s.open.sourcesFor(&a, &d)); !lifecycle.Releases(tag, sup, ok) {
			continue // still suppressed, for the same reason
		}
		items = append(items, item{a: a, d: d, hash: uint64(h), key: alertKey{a.Source, a.Fingerprint}, data: data, reevaluate: true})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("suppressed alerts: %w", err)
	}
	if len(items) == 0 {
		return 0, nil
	}
	if _, err := s.submit(ctx, items); err != nil {
		return 0, err
	}
	return len(items), nil
}

func (s *Store) triggerReevaluate() {
	select {
	case s.reeval <- struct{}{}:
	default:
	}
}

// reevaluateLoop re-evaluates suppressed alerts, and the held pages of
// suppressed incidents, every interval and when a silence ends or an
// incident resolves.
func (s *Store) reevaluateLoop(every time.Duration) {
	defer close(s.reevalDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.reeval:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if !s.shared { // a shared store's sync loop reloads them every second
			if err := errors.Join(s.loadSilences(ctx), s.loadOverrides(ctx)); err != nil {
				s.log.Warn("reload silences and overrides", zap.Error(err))
			}
		}
		if !s.Leader() {
			// Another replica sweeps; its releases go through the
			// database like any ingest.
			cancel()
			continue
		}
		n, err := s.Reevaluate(ctx)
		switch {
		case err != nil:
			s.log.Warn("re-evaluate suppressed alerts", zap.Error(err))
		case n > 0:
			s.log.Info("suppressed alerts released for evaluation", zap.Int("alerts", n))
		}
		n, err = s.ReleaseHeld(ctx)
		cancel()
		switch {
		case err != nil:
			s.log.Warn("release held pages", zap.Error(err))
		case n > 0:
			s.log.Info("held pages released", zap.Int("incidents", n))
		}
	}
}
