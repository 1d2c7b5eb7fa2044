package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
	"github.com/alertgate/alertgate/rules"
)

// Hold says what mutes every firing alert of an open incident. While it
// lasts the incident's pages are held back, not dropped; when it ends
// they are released and each fires once.
type Hold struct {
	// By names what holds it: "silence:<id>" or "maintenance:<name>",
	// several joined by "," (sorted) when its alerts are muted by
	// different ones. Held steps record it.
	By string `json:"by"`
	// Reason is what the timeline says: "suppressed by silence s-1 until
	// … (alice: deploy)".
	Reason string `json:"reason"`
}

// Suppression reports whether every firing alert of an incident is
// silenced or in a maintenance window now, and by what. Inhibition does
// not hold an open incident's pages (it only keeps alerts from opening
// one); an incident without firing alerts is never held.
func (t *Tx) Suppression(inc int64) (Hold, bool, error) {
	firing := rowsData(func() (*sql.Rows, error) {
		rows, err := t.query(t.ctx, `SELECT data FROM alerts WHERE incident_id = ? AND status = 'firing' AND suppressed = ''`, inc)
		if err != nil {
			return nil, fmt.Errorf("incident suppression: %w", err)
		}
		return rows, nil
	})
	if written, ok := t.written[inc]; ok && written != nil {
		// An incident the batch opened: its alerts are those the batch
		// wrote, all firing and none suppressed (see Alerts).
		firing = func(yield func(alert.Alert) bool) error {
			for _, a := range written {
				if !yield(*a) {
					break
				}
			}
			return nil
		}
	}
	now := t.s.now()
	h, held, err := t.s.suppression(t.pol, firing, now)
	if err != nil || !held || !t.s.shared || !heldBySilence(h.By) || t.silencesLoaded {
		return h, held, err
	}
	// Another replica may have expired the silence since this one last
	// synced (up to a second ago): confirm with the database's silences,
	// read once per transaction however many steps it holds.
	if err := t.s.loadSilences(t.ctx); err != nil {
		return Hold{}, false, err
	}
	t.silencesLoaded = true
	return t.s.suppression(t.pol, firing, now)
}

// rowsData turns a query of alerts' data into the iteration suppression
// takes.
func rowsData(query func() (*sql.Rows, error)) func(yield func(alert.Alert) bool) error {
	return func(yield func(alert.Alert) bool) error {
		rows, err := query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data string
			if err := rows.Scan(&data); err != nil {
				return fmt.Errorf("incident suppression: %w", err)
			}
			var a alert.Alert
			if err := unmarshalAlert(data, &a); err != nil {
				return err
			}
			if !yield(a) {
				return nil
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("incident suppression: %w", err)
		}
		return nil
	}
}

// suppression decides whether the firing alerts of an incident, those
// firing yields, are all muted.
func (s *Store) suppression(pol *Policy, firing func(yield func(alert.Alert) bool) error, now time.Time) (Hold, bool, error) {
	if pol == nil || pol.classifier == nil {
		return Hold{}, false, nil
	}
	silences := s.silencesNow()
	reasons := map[string]string{}
	pages := false
	err := firing(func(a alert.Alert) bool {
		d := pol.classifier.Evaluate(&a)
		sup, ok := pol.classifier.Suppress(&a, &d, now, silences, nil)
		if !ok || (sup.Kind != rules.KindSilence && sup.Kind != rules.KindMaintenance) {
			pages = true // this alert pages
			return false
		}
		reasons[lifecycle.Tag(sup)] = holdReason(sup)
		return true
	})
	if err != nil {
		return Hold{}, false, err
	}
	if pages || len(reasons) == 0 {
		return Hold{}, false, nil
	}
	by := make([]string, 0, len(reasons))
	for k := range reasons {
		by = append(by, k)
	}
	sort.Strings(by)
	why := make([]string, len(by))
	for i, k := range by {
		why[i] = reasons[k]
	}
	return Hold{By: strings.Join(by, ","), Reason: strings.Join(why, "; ")}, true, nil
}

// holdReason words a suppression for the timeline: "suppressed by
// silence s-1 until … (alice: deploy)", "suppressed by maintenance window
// sunday until …".
func holdReason(sup rules.Suppression) string {
	if sup.Kind == rules.KindSilence {
		return "suppressed by silence " + sup.ID + strings.TrimPrefix(sup.Detail, "silenced by "+sup.ID)
	}
	return "suppressed by " + sup.Detail
}

// heldBySilence reports whether a Hold.By names a silence (which another
// replica may have expired since the last sync).
func heldBySilence(by string) bool {
	for _, tag := range strings.Split(by, ",") {
		if kind, _ := lifecycle.SplitTag(tag); kind == rules.KindSilence {
			return true
		}
	}
	return false
}

// holdName turns a Hold.By into words: "silence s-1, maintenance window
// sunday".
func holdName(by string) string {
	parts := strings.Split(by, ",")
	for i, p := range parts {
		kind, id := lifecycle.SplitTag(p)
		if kind == rules.KindMaintenance {
			kind = "maintenance window"
		}
		parts[i] = kind + " " + id
	}
	return strings.Join(parts, ", ")
}

// stepLabel is a step's key without its incident's: "page/oncall#1".
func stepLabel(j *Job) string {
	return strings.TrimPrefix(j.Key, alert.IncidentKey(j.IncidentID)+"/")
}

// hold keeps a due step back. The timeline says so once per suppression:
// when the incident had no held step yet, or when what holds it changed
// (its other held steps then record the new reason too).
func (t *Tx) hold(j *Job, h Hold) error {
	now := ms(t.s.now())
	var prev string
	err := t.queryRow(t.ctx, `SELECT held_by FROM jobs WHERE incident_id = ? AND state = 'held' LIMIT 1`, j.IncidentID).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hold step: %w", err)
	}
	if err := t.write("hold step", `UPDATE jobs SET state = 'held', held_by = ?, updated_at = ? WHERE id = ?`, h.By, now, j.ID); err != nil {
		return err
	}
	if prev == h.By {
		return nil
	}
	if prev != "" {
		if err := t.write("hold step", `UPDATE jobs SET held_by = ?, updated_at = ? WHERE incident_id = ? AND state = 'held'`, h.By, now, j.IncidentID); err != nil {
			return err
		}
	}
	key := alert.IncidentKey(j.IncidentID)
	t.logs = append(t.logs, func() {
		t.s.log.Info("incident pages held", zap.String("incident", key), zap.String("by", h.By), zap.String("step", stepLabel(j)))
	})
	return t.event(j.IncidentID, alert.EventSuppressed, "router", fmt.Sprintf("%s: pages held from %s on", h.Reason, stepLabel(j)))
}

// ReleaseHeld looks again at every incident with held steps: when its
// firing alerts are no longer all muted (the silence ended or was expired,
// the window closed, an alert that is not silenced joined), its held steps
// are due at once, each to run once — the repeats of a page that fell in
// the hold collapse into the one held step. A step whose stop condition
// was met meanwhile was cancelled with the incident's other pending work.
// It returns how many incidents were released. Replicas may run it
// together: each incident is released under its row lock, once.
func (s *Store) ReleaseHeld(ctx context.Context) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT incident_id, held_by FROM jobs WHERE state = 'held' LIMIT 1000`)
	if err != nil {
		return 0, fmt.Errorf("%w: held steps: %v", ErrUnavailable, err)
	}
	type heldBy struct {
		id int64
		by string
	}
	var list []heldBy
	for rows.Next() {
		var h heldBy
		if err := rows.Scan(&h.id, &h.by); err != nil {
			rows.Close()
			return 0, fmt.Errorf("held steps: %w", err)
		}
		list = append(list, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("held steps: %w", err)
	}
	pol, now := s.Policy(), s.now()
	n := 0
	for _, l := range list {
		// Most sweeps find an incident held as before: that is decided
		// on the read pool, without a write transaction.
		h, held, err := s.suppression(pol, s.firingQuery(ctx, l.id), now)
		if err != nil {
			return n, err
		}
		if held && h.By == l.by {
			continue
		}
		released := false
		err = s.withTx(ctx, func(t *Tx) error {
			var err error
			released, err = t.releaseHeld(l.id)
			return err
		})
		if err != nil {
			return n, err
		}
		if released {
			n++
		}
	}
	return n, nil
}

// firingQuery reads the firing alerts of an incident on the read pool.
func (s *Store) firingQuery(ctx context.Context, id int64) func(yield func(alert.Alert) bool) error {
	return rowsData(func() (*sql.Rows, error) {
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT data FROM alerts WHERE incident_id = ? AND status = 'firing' AND suppressed = ''`), id)
		if err != nil {
			return nil, fmt.Errorf("%w: incident suppression: %v", ErrUnavailable, err)
		}
		return rows, nil
	})
}

// releaseHeld releases an incident's held steps if it is no longer
// suppressed, or records what holds it now.
func (t *Tx) releaseHeld(id int64) (bool, error) {
	if _, err := t.incident(id); err != nil { // takes the row lock
		return false, err
	}
	rows, err := t.query(t.ctx, `SELECT key, held_by FROM jobs WHERE incident_id = ? AND state = 'held' ORDER BY due_at, id`, id)
	if err != nil {
		return false, fmt.Errorf("held steps: %w", err)
	}
	var held []string
	var by string
	for rows.Next() {
		j := Job{IncidentID: id}
		if err := rows.Scan(&j.Key, &by); err != nil {
			rows.Close()
			return false, fmt.Errorf("held steps: %w", err)
		}
		held = append(held, stepLabel(&j))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("held steps: %w", err)
	}
	if len(held) == 0 {
		return false, nil // another replica released them
	}
	h, ok, err := t.Suppression(id)
	if err != nil {
		return false, err
	}
	now := ms(t.s.now())
	if ok {
		if h.By == by {
			return false, nil
		}
		// Still muted, by something else now (a second silence took over).
		if err := t.write("hold steps", `UPDATE jobs SET held_by = ?, updated_at = ? WHERE incident_id = ? AND state = 'held'`, h.By, now, id); err != nil {
			return false, err
		}
		return false, t.event(id, alert.EventSuppressed, "router", h.Reason+": pages still held")
	}
	if err := t.write("release held steps", `UPDATE jobs SET state = 'pending', held_by = '', due_at = ?, updated_at = ? WHERE incident_id = ? AND state = 'held'`,
		now, now, id); err != nil {
		return false, err
	}
	t.jobsAdded = true
	key := alert.IncidentKey(id)
	t.logs = append(t.logs, func() {
		t.s.log.Info("incident pages released", zap.String("incident", key), zap.String("by", by), zap.Strings("steps", held))
	})
	return true, t.event(id, alert.EventUnsuppressed, "router",
		fmt.Sprintf("no longer suppressed by %s: %d held step(s) due now (%s)", holdName(by), len(held), strings.Join(held, ", ")))
}

// heldSteps lists an incident's held steps and what holds them.
func (s *Store) heldSteps(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT key FROM jobs WHERE incident_id = ? AND state = 'held' ORDER BY due_at, id`), id)
	if err != nil {
		return nil, fmt.Errorf("%w: held steps: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		j := Job{IncidentID: id}
		if err := rows.Scan(&j.Key); err != nil {
			return nil, fmt.Errorf("held steps: %w", err)
		}
		out = append(out, stepLabel(&j))
	}
	return out, rows.Err()
}
