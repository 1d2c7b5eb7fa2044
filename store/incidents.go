package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
)

// ListIncidents returns incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context, f IncidentFilter) ([]alert.Incident, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Open {
		where = append(where, "status <> 'resolved'")
	}
	if f.Severity != nil {
		where = append(where, "severity = ?")
		args = append(args, int(*f.Severity))
	}
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	if f.Text != "" {
		like := "%" + likeEscaper.Replace(strings.ToLower(f.Text)) + "%"
		where = append(where, `(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(service) LIKE ? ESCAPE '\' OR LOWER(category) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	q := `SELECT ` + incidentCols + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	return s.listIncidents(ctx, "list incidents", q, args...)
}

// listIncidents runs q, a SELECT of incidentCols, on the reader and scans
// every row; what names the query in its errors.
func (s *Store) listIncidents(ctx context.Context, what, q string, args ...any) ([]alert.Incident, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, what, err)
	}
	defer rows.Close()
	out := []alert.Incident{}
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, *inc)
	}
	return out, rows.Err()
}

// likeEscaper makes text match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// GetIncident returns an incident with its alerts and timeline.
func (s *Store) GetIncident(ctx context.Context, id int64) (*IncidentDetail, error) {
	inc, err := scanIncident(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+incidentCols+` FROM incidents WHERE id = ?`), id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("incident %s: %w", alert.IncidentKey(id), ErrNotFound)
		}
		return nil, fmt.Errorf("%w: get incident: %v", ErrUnavailable, err)
	}
	d := &IncidentDetail{Incident: *inc, Alerts: []StoredAlert{}, Timeline: []alert.Event{}}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT data, repeats FROM alerts WHERE incident_id = ? ORDER BY id LIMIT 1000`), id)
	if err != nil {
		return nil, fmt.Errorf("%w: incident alerts: %v", ErrUnavailable, err)
	}
	for rows.Next() {
		var data string
		var sa StoredAlert
		if err := rows.Scan(&data, &sa.Repeats); err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident alerts: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &sa.Alert); err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident alerts: decode: %w", err)
		}
		sa.IncidentKey = inc.Key
		d.Alerts = append(d.Alerts, sa)
	}
	rows.Close()
	evs, err := s.timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	d.Timeline = evs
	if inc.Open() {
		if h, ok, err := s.suppression(s.Policy(), s.firingQuery(ctx, id), s.now()); err != nil {
			return nil, err
		} else if ok {
			d.Suppressed = &h
		}
		if d.Held, err = s.heldSteps(ctx, id); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Store) timeline(ctx context.Context, id int64) ([]alert.Event, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, at, kind, actor, detail FROM events WHERE incident_id = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("%w: timeline: %v", ErrUnavailable, err)
	}
	return scanEvents(rows, id)
}

// Timeline reads an incident's timeline inside the transaction.
func (t *Tx) Timeline(id int64) ([]alert.Event, error) {
	rows, err := t.query(t.ctx, `SELECT id, at, kind, actor, detail FROM events WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return scanEvents(rows, id)
}

func scanEvents(rows *sql.Rows, id int64) ([]alert.Event, error) {
	defer rows.Close()
	out := []alert.Event{}
	for rows.Next() {
		e := alert.Event{IncidentID: id}
		var at int64
		var kind string
		if err := rows.Scan(&e.ID, &at, &kind, &e.Actor, &e.Detail); err != nil {
			return nil, fmt.Errorf("timeline: %w", err)
		}
		e.At, e.Kind = fromMS(at), alert.EventKind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Acknowledge acknowledges an open incident: escalation steps that stop on
// acknowledgement are cancelled in the same transaction. Acknowledging an
// acknowledged incident changes nothing; a resolved one is ErrConflict.
func (s *Store) Acknowledge(ctx context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return s.change(ctx, id, func(t *Tx, inc *alert.Incident) error {
		switch lifecycle.Acknowledge(inc.Status) {
		case lifecycle.Refused:
			return fmt.Errorf("%w: %s is already resolved", ErrConflict, inc.Key)
		case lifecycle.Unchanged:
			return nil
		}
		return t.acknowledge(inc, actor, note)
	})
}

// Resolve resolves an incident and cancels all its pending escalation.
// Resolving a resolved incident changes nothing.
func (s *Store) Resolve(ctx context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return s.change(ctx, id, func(t *Tx, inc *alert.Incident) error {
		if lifecycle.Resolve(inc.Status) == lifecycle.Unchanged {
			return nil
		}
		return t.resolve(inc, actor, note, s.now())
	})
}

// change reads an incident in a write transaction, lets fn change it, and
// returns it as fn left it.
func (s *Store) change(ctx context.Context, id int64, fn func(t *Tx, inc *alert.Incident) error) (*alert.Incident, error) {
	var out *alert.Incident
	err := s.withTx(ctx, func(t *Tx) error {
		inc, err := t.incident(id)
		if err != nil {
			return err
		}
		out = inc
		return fn(t, inc)
	})
	return out, err
}

func unmarshalAlert(data string, a *alert.Alert) error {
	if err := json.Unmarshal([]byte(data), a); err != nil {
		return fmt.Errorf("decode alert: %w", err)
	}
	return nil
}

// PostUpdate records a status update on the incident's timeline and plans
// its fan-out (internal channel, and the status page for P0/P1).
func (s *Store) PostUpdate(ctx context.Context, id int64, actor, text string) (*alert.Incident, error) {
	return s.change(ctx, id, func(t *Tx, inc *alert.Incident) error {
		now := s.now()
		if err := t.event(id, alert.EventUpdate, actor, text); err != nil {
			return err
		}
		return t.insertJobs(id, t.pol.planner.Plan(ChangeUpdate, inc, PlanOptions{Base: now, Note: text, Tag: "u" + strconv.FormatInt(now.UnixMilli(), 10)}))
	})
}

// LastEventAt returns when the incident last had an event of kind (zero
// when never).
func (t *Tx) LastEventAt(inc int64, kind alert.EventKind) (time.Time, error) {
	var at sql.NullInt64
	if err := t.queryRow(t.ctx, `SELECT MAX(at) FROM events WHERE incident_id = ? AND kind = ?`, inc, string(kind)).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("last event: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMS(at.Int64), nil
}
