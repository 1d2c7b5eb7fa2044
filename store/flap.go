package store

// Reopening, applied: the group's latest resolved incident is read
// (latestResolved) for lifecycle.Policy.Decide, which decides whether it
// reopens and whether it turns flapping (dedup.reopen_within,
// dedup.flapping); reopen writes that decision.

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
	"github.com/alertgate/alertgate/rules"
)

// latestResolved reads the group's most recently resolved incident that
// may still reopen (resolved within the policy's LookBack), with the
// reopens of its flapping window when the decision needs them; nil when
// there is none.
func (ap *applier) latestResolved(it *item) (*lifecycle.Latest, error) {
	life := ap.pol.life
	look := life.LookBack()
	if look <= 0 {
		return nil, nil
	}
	if ap.groupsRead[it.d.GroupKey] {
		l, ok := ap.latestRead[it.d.GroupKey]
		if !ok {
			return nil, nil
		}
		c := *l
		return ap.recentReopens(&c)
	}
	var id, resolvedAt int64
	var flaps, flapping int
	err := ap.queryRow(ap.ctx, `SELECT id, resolved_at, flaps, flapping FROM incidents
WHERE group_key = ? AND status = 'resolved' AND resolved_at >= ? ORDER BY resolved_at DESC LIMIT 1`,
		it.d.GroupKey, ms(ap.now.Add(-look))).Scan(&id, &resolvedAt, &flaps, &flapping)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find reopenable incident: %w", err)
	}
	return ap.recentReopens(&lifecycle.Latest{ID: id, ResolvedAt: fromMS(resolvedAt), Flaps: flaps, Flapping: flapping != 0})
}

// recentReopens counts, when the decision needs them, the reopens of the
// flapping window before this one.
func (ap *applier) recentReopens(l *lifecycle.Latest) (*lifecycle.Latest, error) {
	life := ap.pol.life
	if life.CountsReopens(ap.now, *l) {
		// The reopens of the window before this one.
		err := ap.queryRow(ap.ctx, `SELECT COUNT(*) FROM events WHERE incident_id = ? AND kind = ? AND at > ?`,
			l.ID, string(alert.EventReopened), ms(ap.now.Add(-life.Flapping.Window))).Scan(&l.RecentReopens)
		if err != nil {
			return nil, fmt.Errorf("count reopens: %w", err)
		}
	}
	return l, nil
}

// reopen applies a Reopen decision (lifecycle.Policy.Decide): the group's
// recently resolved incident is triggered again, whoever had acknowledged
// it before, and escalates afresh from its first step (ChangeReopened);
// the reopen that makes it flapping tells the channel and pages the
// flapping role once (ChangeFlapping); a flapping incident's reopens only
// tell the channel (ChangeFlapped).
func (ap *applier) reopen(it *item, ex *existing, d lifecycle.Decision) (int64, error) {
	pol, r, id := ap.pol, d.Reopening, d.Incident
	inc, err := ap.incident(id)
	if err != nil {
		return 0, err
	}
	change := reopenChange[r.Change]
	joins := 0
	if ex == nil || ex.incident != id {
		joins = 1
	}
	ackedBy := inc.AcknowledgedBy
	inc.Flaps = r.Flap
	inc.Flapping = r.Flapping
	inc.Status, inc.ResolvedAt, inc.ResolvedBy = alert.IncidentTriggered, time.Time{}, ""
	inc.AcknowledgedAt, inc.AcknowledgedBy = time.Time{}, ""
	detail := pol.life.Note(r, it.a.Fingerprint, ackedBy)
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
	if c, ok := ap.counts[id]; ok {
		c.firing = 0
		ap.counts[id] = c
	}
	flag := 0
	if inc.Flapping {
		flag = 1
	}
	err = ap.write("reopen incident", `UPDATE incidents SET status = ?, resolved_at = 0, resolved_by = '', acked_at = 0, acked_by = '',
firing_count = 1 + (SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND status = 'firing' AND suppressed = '' AND id <> ?),
alert_count = alert_count + ?, flaps = flaps + 1, flapping = ?, escalated_at = ?, updated_at = ? WHERE id = ?`,
		string(alert.IncidentTriggered), id, self, joins, flag, ms(ap.now), ms(ap.now), id)
	if err != nil {
		return 0, err
	}
	if err := ap.event(id, alert.EventReopened, "source:"+it.a.Source, detail); err != nil {
		return 0, err
	}
	if err := ap.insertJobs(id, jobs); err != nil {
		return 0, err
	}
	ap.openedIncidents = append(ap.openedIncidents, inhibitEntry{groupKey: inc.GroupKey,
		src: rules.InhibitSource{IncidentID: id, IncidentKey: inc.Key, GroupKey: inc.GroupKey, Severity: inc.Severity, Alert: it.a}})
	ap.groupOpen[it.d.GroupKey] = openRef{id: id, sev: inc.Severity}
	ap.logs = append(ap.logs, func() {
		ap.s.log.Info("incident reopened", zap.String("incident", inc.Key), zap.Int("flaps", inc.Flaps),
			zap.Bool("flapping", inc.Flapping), zap.Bool("was_acknowledged", ackedBy != ""))
	})
	return id, nil
}

// reopenChange is the planner's change for each kind of reopen.
var reopenChange = [...]Change{
	lifecycle.ChangeReopened: ChangeReopened,
	lifecycle.ChangeFlapping: ChangeFlapping,
	lifecycle.ChangeFlapped:  ChangeFlapped,
}
