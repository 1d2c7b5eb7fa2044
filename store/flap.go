package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

// reopen reopens the most recent incident of the alert's group when it
// resolved less than the reopen window ago (a flap). A reopened incident
// is triggered again, whoever had acknowledged it before, and escalates
// afresh from its first step (ChangeReopened). The reopen that makes
// Flapping.Reopens reopens within Flapping.Window marks it flapping
// (ChangeFlapping: the channel is told, the flapping role paged once);
// a flapping incident's reopens only tell the channel (ChangeFlapped),
// until it has stayed resolved for the window.
func (ap *applier) reopen(it *item, ex *existing) (int64, bool, error) {
	pol := ap.pol
	if pol.reopen <= 0 {
		return 0, false, nil
	}
	look := pol.reopen
	if pol.flapping.on() && pol.flapping.Window > look {
		look = pol.flapping.Window // a flapping incident stays reopenable for its window
	}
	var id, resolvedAt int64
	var flapping int
	err := ap.queryRow(ap.ctx, `SELECT id, resolved_at, flapping FROM incidents
WHERE group_key = ? AND status = 'resolved' AND resolved_at >= ? ORDER BY resolved_at DESC LIMIT 1`,
		it.d.GroupKey, ms(ap.now.Add(-look))).Scan(&id, &resolvedAt, &flapping)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find reopenable incident: %w", err)
	}
	since := ap.now.Sub(fromMS(resolvedAt))
	stillFlapping := flapping != 0 && pol.flapping.on() && resolvedAt > ms(ap.now.Add(-pol.flapping.Window))
	if resolvedAt < ms(ap.now.Add(-pol.reopen)) && !stillFlapping {
		return 0, false, nil
	}
	inc, err := ap.incident(id)
	if err != nil {
		return 0, false, err
	}
	change := ChangeReopened
	var recent int
	switch {
	case stillFlapping:
		change = ChangeFlapped
	case pol.flapping.on():
		// The reopens of the window before this one.
		err := ap.queryRow(ap.ctx, `SELECT COUNT(*) FROM events WHERE incident_id = ? AND kind = ? AND at > ?`,
			id, string(alert.EventReopened), ms(ap.now.Add(-pol.flapping.Window))).Scan(&recent)
		if err != nil {
			return 0, false, fmt.Errorf("count reopens: %w", err)
		}
		if recent+1 >= pol.flapping.Reopens {
			change = ChangeFlapping
		}
	}
	joins := 0
	if ex == nil || ex.incident != id {
		joins = 1
	}
	ackedBy := inc.AcknowledgedBy
	inc.Flaps++
	inc.Flapping = change != ChangeReopened
	inc.Status, inc.ResolvedAt, inc.ResolvedBy = alert.IncidentTriggered, time.Time{}, ""
	inc.AcknowledgedAt, inc.AcknowledgedBy = time.Time{}, ""
	detail := fmt.Sprintf("alert %s fired again %s after resolution (flap #%d)", it.a.Fingerprint, since.Round(time.Second), inc.Flaps)
	if ackedBy != "" {
		detail += "; the acknowledgement by " + ackedBy + " does not carry over"
	}
	switch change {
	case ChangeReopened:
		detail += "; escalation starts again"
	case ChangeFlapping:
		detail += fmt.Sprintf("; flapping (%d reopens within %s): paged once, later reopens only tell the channel until it stays resolved for %s",
			recent+1, pol.flapping.Window, pol.flapping.Window)
	case ChangeFlapped:
		detail += "; flapping: the channel is told, nobody is paged"
	}
	jobs := pol.planner.Plan(change, inc, PlanOptions{Base: ap.now, Tag: "r" + strconv.Itoa(inc.Flaps)})
	ap.markChanged(inc.ID)
	// Its firing alerts are counted afresh: resolved by hand, it may still
	// hold alerts that fire (and this one among them). The count covers
	// moves of its alerts earlier in this batch, so their pending changes
	// are dropped.
	var self int64
	if ex != nil {
		self = ex.id
	}
	if d, ok := ap.counts[id]; ok {
		d.firing = 0
		ap.counts[id] = d
	}
	flag := 0
	if inc.Flapping {
		flag = 1
	}
	_, err = ap.exec(ap.ctx, `UPDATE incidents SET status = ?, resolved_at = 0, resolved_by = '', acked_at = 0, acked_by = '',
firing_count = 1 + (SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND status = 'firing' AND suppressed = '' AND id <> ?),
alert_count = alert_count + ?, flaps = flaps + 1, flapping = ?, escalated_at = ?, updated_at = ? WHERE id = ?`,
		string(alert.IncidentTriggered), id, self, joins, flag, ms(ap.now), ms(ap.now), id)
	if err != nil {
		return 0, false, fmt.Errorf("reopen incident: %w", err)
	}
	if err := ap.event(id, alert.EventReopened, "source:"+it.a.Source, detail); err != nil {
		return 0, false, err
	}
	if err := ap.insertJobs(id, jobs); err != nil {
		return 0, false, err
	}
	ap.openedIncidents = append(ap.openedIncidents, inhibitEntry{groupKey: inc.GroupKey,
		src: rules.InhibitSource{IncidentID: id, IncidentKey: inc.Key, GroupKey: inc.GroupKey, Severity: inc.Severity, Alert: it.a}})
	ap.groupOpen[it.d.GroupKey] = openRef{id: id, sev: inc.Severity}
	ap.logs = append(ap.logs, func() {
		ap.s.log.Info("incident reopened", zap.String("incident", inc.Key), zap.Int("flaps", inc.Flaps),
			zap.Bool("flapping", inc.Flapping), zap.Bool("was_acknowledged", ackedBy != ""))
	})
	return id, true, nil
}

// maybeRaise raises an open incident's severity when a new or changed
// alert is classified more urgent, and re-plans its escalation for the new
// level at once: steps of the new level that are already due page now
// (their stop conditions still apply). A less urgent alert never lowers the
// severity.
func (ap *applier) maybeRaise(id int64, cur alert.Severity, it *item) error {
	if it.d.Severity >= cur {
		return nil
	}
	inc, err := ap.incident(id)
	if err != nil {
		return err
	}
	if it.d.Severity >= inc.Severity {
		return nil
	}
	from := inc.Severity
	inc.Severity = it.d.Severity
	if ap.raised == nil {
		ap.raised = map[int64]alert.Severity{}
	}
	ap.raised[id] = inc.Severity
	if ref, ok := ap.groupOpen[inc.GroupKey]; ok && ref.id == id {
		ap.groupOpen[inc.GroupKey] = openRef{id: id, sev: inc.Severity}
	}
	if err := ap.changeLevel(inc, ap.now, alert.EventRaised, "rules",
		fmt.Sprintf("severity %s → %s by alert %s: %s", from, inc.Severity, it.a.Fingerprint, it.d.Reason())); err != nil {
		return fmt.Errorf("raise severity: %w", err)
	}
	ap.logs = append(ap.logs, func() {
		ap.s.log.Info("incident severity raised", zap.String("incident", inc.Key), zap.Stringer("from", from), zap.Stringer("to", inc.Severity))
	})
	return ap.insertJobs(id, ap.pol.planner.Plan(ChangeRaised, inc, PlanOptions{Base: inc.OpenedAt, Tag: "s" + strconv.Itoa(int(inc.Severity))}))
}

// changeLevel stores the incident's new severity (inc.Severity) with the
// deadlines of that level, records the change on the timeline, and
// cancels the old level's pending or held pages, SLA checks and
// reminders; the caller plans the new level's steps.
func (t *Tx) changeLevel(inc *alert.Incident, now time.Time, kind alert.EventKind, actor, detail string) error {
	resp, resol := t.pol.planner.Deadlines(inc.Severity)
	inc.AckDue, inc.ResolveDue = inc.OpenedAt.Add(resp), inc.OpenedAt.Add(resol)
	if _, err := t.exec(t.ctx, `UPDATE incidents SET severity = ?, ack_due = ?, resolve_due = ?, updated_at = ? WHERE id = ?`,
		int(inc.Severity), ms(inc.AckDue), ms(inc.ResolveDue), ms(now), inc.ID); err != nil {
		return err
	}
	if err := t.event(inc.ID, kind, actor, detail); err != nil {
		return err
	}
	_, err := t.exec(t.ctx, `UPDATE jobs SET state = 'cancelled', updated_at = ?
WHERE incident_id = ? AND kind = 'step' AND state IN ('pending', 'held') AND (key LIKE ? OR key LIKE ? OR key LIKE ?)`,
		ms(now), inc.ID, "%/page/%", "%/sla/%", "%/remind#%")
	return err
}
