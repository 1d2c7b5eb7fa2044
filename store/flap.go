package store

// Reopening: an alert of a group whose incident resolved within the
// reopen window reopens it, and an incident that keeps reopening turns
// flapping (dedup.reopen_within, dedup.flapping).

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
