package store

// Suppression at ingest: an alert that would open an incident but is
// silenced, in a maintenance window or inhibited is stored with the
// reason and no incident, and its resolution may end an
// expire_on_resolve silence; package lifecycle decides what is written. What it checks against: silences.go and
// inhibit.go; what releases it: reevaluate.go.

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
	"github.com/alertgate/alertgate/rules"
)

// suppressedIncident stands for "no incident: suppressed" where an
// incident id is expected.
const suppressedIncident int64 = -1

// suppress reports whether an alert that would open an incident is
// silenced, in a maintenance window, or inhibited by another open incident.
func (ap *applier) suppress(it *item) (rules.Suppression, bool) {
	if c, ok := ap.held[it]; ok {
		return c.sup, c.held
	}
	return ap.pol.classifier.Suppress(&it.a, &it.d, ap.now, ap.s.silencesNow(), ap.s.open.sourcesFor(&it.a, &it.d))
}

// suppressOnce is suppress, kept for the item's later check in this batch
// (reserveOpenings asks first, openIncidentFor after).
func (ap *applier) suppressOnce(it *item) (rules.Suppression, bool) {
	sup, held := ap.suppress(it)
	if ap.held == nil {
		ap.held = map[*item]heldCheck{}
	}
	ap.held[it] = heldCheck{sup: sup, held: held}
	return sup, held
}

// heldCheck is a kept suppression check.
type heldCheck struct {
	sup  rules.Suppression
	held bool
}

// recordSuppressed notes a suppressed alert: it is stored with its reason
// and no incident; a new suppression is logged and a new inhibition told
// on the inhibiting incident's timeline (lifecycle.RecordSuppression).
func (ap *applier) recordSuppressed(it *item, sup rules.Suppression, ex *existing) error {
	it.sup = &sup
	prev := ""
	if ex != nil {
		prev = ex.suppressed
	}
	rec := lifecycle.RecordSuppression(prev, sup)
	if !rec.New {
		return nil // already recorded
	}
	if rec.Inhibitor > 0 {
		if err := ap.event(rec.Inhibitor, alert.EventSuppressed, "rules",
			fmt.Sprintf("inhibits alert %s (%s %s): %s", it.a.Fingerprint, it.d.Severity, it.a.Service, it.a.Title)); err != nil {
			return err
		}
	}
	ap.logs = append(ap.logs, func() {
		ap.s.log.Info("alert suppressed", zap.String("fingerprint", it.a.Fingerprint), zap.String("source", it.a.Source),
			zap.String("kind", sup.Kind), zap.String("by", sup.ID), zap.String("detail", sup.Detail))
	})
	return nil
}

// suppressedResolved handles the resolution of a suppressed firing alert:
// a silence with expire_on_resolve ends once none of its alerts fire
// (lifecycle.ExpiringSilence, lifecycle.EndsSilence).
func (ap *applier) suppressedResolved(ex *existing) error {
	id, ok := lifecycle.ExpiringSilence(ex.suppressed)
	if !ok {
		return nil
	}
	var n int
	if err := ap.queryRow(ap.ctx, `SELECT COUNT(*) FROM alerts WHERE suppressed <> '' AND suppressed = ? AND status = 'firing' AND id <> ?`,
		ex.suppressed, ex.id).Scan(&n); err != nil {
		return fmt.Errorf("silence alerts: %w", err)
	}
	if !lifecycle.EndsSilence(n) {
		return nil
	}
	res, err := ap.exec(ap.ctx, `UPDATE silences SET ends_at = ?, updated_at = ? WHERE id = ? AND expire_on_resolve = 1 AND ends_at > ?`,
		ms(ap.now), ms(ap.now), id, ms(ap.now))
	if err != nil {
		return fmt.Errorf("expire silence: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		ap.silencesChanged = true
		ap.logs = append(ap.logs, func() { ap.s.log.Info("silence expired: its alerts resolved", zap.String("silence", id)) })
	}
	return nil
}

// SuppressedAlerts lists the firing alerts that are suppressed, with why.
func (s *Store) SuppressedAlerts(ctx context.Context, limit int) ([]StoredAlert, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT data, repeats, suppressed FROM alerts WHERE suppressed <> '' AND status = 'firing' LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("%w: suppressed alerts: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	out := []StoredAlert{}
	for rows.Next() {
		var data string
		var sa StoredAlert
		if err := rows.Scan(&data, &sa.Repeats, &sa.SuppressedBy); err != nil {
			return nil, fmt.Errorf("suppressed alerts: %w", err)
		}
		if err := unmarshalAlert(data, &sa.Alert); err != nil {
			return nil, err
		}
		out = append(out, sa)
	}
	return out, rows.Err()
}
