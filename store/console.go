package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
)

// IncidentsChangedSince returns up to limit incidents whose updated_at is
// at or after since, oldest change first: the console's live board asks
// for them every half second.
func (s *Store) IncidentsChangedSince(ctx context.Context, since time.Time, limit int) ([]alert.Incident, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.listIncidents(ctx, "changed incidents",
		`SELECT `+incidentCols+` FROM incidents WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?`, ms(since), limit)
}

// maxPagedIDs bounds one Paged query (the board shows at most 1000 rows).
const maxPagedIDs = 1000

// Paged returns, per incident, whom its escalation steps paged, in
// order ("oncall alice", "cto"), from the timeline's escalated events.
func (s *Store) Paged(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > maxPagedIDs {
		return nil, fmt.Errorf("%w: paged: %d incidents (at most %d)", ErrInvalid, len(ids), maxPagedIDs)
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, string(alert.EventEscalated))
	for _, id := range ids {
		args = append(args, id)
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT incident_id, detail FROM events WHERE kind = ? AND incident_id IN (`+ph+`) ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("%w: paged: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var detail string
		if err := rows.Scan(&id, &detail); err != nil {
			return nil, fmt.Errorf("paged: %w", err)
		}
		out[id] = append(out[id], pagedWho(detail))
	}
	return out, rows.Err()
}

// pagedWho shortens an escalated event's detail, "paged oncall alice by
// rotation (oncall#0)", to "oncall alice".
func pagedWho(detail string) string {
	who := strings.TrimPrefix(detail, "paged ")
	if i := strings.Index(who, " ("); i >= 0 {
		who = who[:i]
	}
	if i := strings.Index(who, " by "); i >= 0 {
		who = who[:i]
	}
	return who
}

// FiringAlerts returns up to limit firing alerts, newest first, with their
// incident and what suppresses them: the console's silence preview
// matches them against the matchers being typed.
func (s *Store) FiringAlerts(ctx context.Context, limit int) ([]StoredAlert, error) {
	if limit <= 0 || limit > 5000 {
		limit = 5000
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT data, repeats, suppressed, incident_id FROM alerts WHERE status = 'firing' ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("%w: firing alerts: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	out := []StoredAlert{}
	for rows.Next() {
		var data string
		var inc sql.NullInt64
		var sa StoredAlert
		if err := rows.Scan(&data, &sa.Repeats, &sa.SuppressedBy, &inc); err != nil {
			return nil, fmt.Errorf("firing alerts: %w", err)
		}
		if err := unmarshalAlert(data, &sa.Alert); err != nil {
			return nil, err
		}
		if inc.Valid {
			sa.IncidentKey = alert.IncidentKey(inc.Int64)
		}
		out = append(out, sa)
	}
	return out, rows.Err()
}

// SetSeverity changes an open incident's severity on a person's behalf.
// The deadlines follow the new level (counted from the opening); the
// pending and held pages, SLA checks and reminders of the old level give
// way to the new level's plan: raised, its steps already due run now, as
// when an alert raises it; lowered, its pages already due are left out
// (nobody is paged again because the incident became less urgent). The
// timeline records who did it (severity_raised or severity_lowered).
// The same severity changes nothing; a resolved incident is ErrConflict.
// lifecycle.SetSeverity decides raised or lowered and which steps of the
// new plan are left out.
func (s *Store) SetSeverity(ctx context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error) {
	if !sev.Valid() {
		return nil, fmt.Errorf("%w: severity %s", ErrInvalid, sev)
	}
	return s.change(ctx, id, func(t *Tx, inc *alert.Incident) error {
		if lifecycle.Relevels(inc.Status) == lifecycle.Refused {
			return fmt.Errorf("%w: %s is resolved", ErrConflict, inc.Key)
		}
		lv := lifecycle.SetSeverity(inc.Severity, sev)
		if lv == lifecycle.Kept {
			return nil
		}
		now := s.now()
		from := inc.Severity
		inc.Severity = sev
		inc.UpdatedAt = fromMS(ms(now))
		t.markChanged(id)
		kind := lv.Event()
		detail := fmt.Sprintf("severity %s → %s", from, sev)
		if note != "" {
			detail += ": " + note
		}
		if err := t.changeLevel(inc, now, kind, actor, detail); err != nil {
			return fmt.Errorf("set severity: %w", err)
		}
		// A tag of its own: a severity set again later plans afresh.
		tag := "m" + strconv.Itoa(int(sev)) + "@" + strconv.FormatInt(now.UnixMilli(), 10)
		jobs := t.pol.planner.Plan(ChangeRaised, inc, PlanOptions{Base: inc.OpenedAt, Tag: tag})
		kept := jobs[:0]
		for _, j := range jobs {
			if !lv.Skips(strings.Contains(j.Key, "/page/"), j.DueAt, now) {
				kept = append(kept, j)
			}
		}
		jobs = kept
		return t.insertJobs(id, jobs)
	})
}
