package store

// The incident lifecycle at ingest, applied: package lifecycle decides
// what an alert does (Next) and where an alert that goes to its group
// ends up (Policy.Decide: join, suppressed, reopen, open); this file
// reads the values those decisions take and writes what they decide —
// the alert row, the incident's counts, a new incident with its first
// steps, a raised severity; a reopen is written by flap.go, a suppressed
// alert by suppress.go.

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
	"github.com/alertgate/alertgate/rules"
)

type existing struct {
	id        int64
	incident  int64
	status    alert.Status
	hash      uint64
	incStatus alert.IncidentStatus
	incSev    alert.Severity
	// suppressed is "kind:id" while the alert is silenced, in a
	// maintenance window or inhibited.
	suppressed string
}

// stored is the alert's stored state as the lifecycle decides from it
// (nil: never stored).
func (e *existing) stored() *lifecycle.Stored {
	if e == nil {
		return nil
	}
	return &lifecycle.Stored{Firing: e.status == alert.StatusFiring, Incident: e.incident,
		IncidentOpen: e.incStatus != alert.IncidentResolved, Suppressed: e.suppressed != ""}
}

func (ap *applier) lookup(k alertKey) (*existing, error) {
	if ap.s.known != nil && !ap.batchKeys[k] && !ap.s.known.has(k) {
		return nil, nil // never stored: no need to ask the database
	}
	if ap.prefetched != nil && !ap.batchKeys[k] {
		// Stale once its incident changed status or severity in this
		// batch: then read again.
		if e, ok := ap.prefetched[k]; ok && (e == nil || !ap.touched(e.incident)) {
			if e == nil {
				return nil, nil
			}
			c := *e
			return &c, nil
		}
	}
	var e existing
	var h int64
	var st, ist string
	var sev int
	err := ap.queryRow(ap.ctx, `SELECT a.id, COALESCE(a.incident_id, 0), a.status, a.hash, COALESCE(i.status, ''), COALESCE(i.severity, 0), a.suppressed
FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id
WHERE a.source = ? AND a.fingerprint = ?`, k.source, k.fingerprint).Scan(&e.id, &e.incident, &st, &h, &ist, &sev, &e.suppressed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup alert: %w", err)
	}
	e.status, e.hash, e.incStatus, e.incSev = alert.Status(st), uint64(h), alert.IncidentStatus(ist), alert.Severity(sev)
	return &e, nil
}

// apply writes one alert and returns the incident it belongs to (0 for a
// resolved alert that matches no open incident): what the alert does is
// lifecycle.Next's decision, and where an alert that goes to its group
// ends up is lifecycle.Policy.Decide's (openIncidentFor).
func (ap *applier) apply(it *item) (int64, error) {
	if ap.batchKeys[it.key] {
		// A second message of an alert in one batch may change, move or
		// resolve what the batch wrote: the new incidents' steps read
		// their alerts from the database.
		ap.written = nil
	}
	ex, err := ap.lookup(it.key)
	if err != nil {
		return 0, err
	}
	st := ex.stored()
	firing := it.a.Status == alert.StatusFiring
	if !firing {
		ap.cacheDrop = append(ap.cacheDrop, it.key)
		if st != nil && st.Suppressed && st.Firing {
			if err := ap.suppressedResolved(ex); err != nil {
				return 0, err
			}
		}
	}
	switch lifecycle.Next(firing, st) {
	case lifecycle.StepRepeat:
		if ex.hash != it.hash {
			if err := ap.updateAlert(ex.id, it, true); err != nil {
				return 0, err
			}
			if err := ap.maybeRaise(ex.incident, lifecycle.Raises(ex.incSev, it.d.Severity), it); err != nil {
				return 0, err
			}
		}
		ap.cachePut = append(ap.cachePut, cacheUpdate{it.key, it.hash, ex.incident})
		return ex.incident, nil
	case lifecycle.StepRefire:
		if err := ap.updateAlert(ex.id, it, false); err != nil {
			return 0, err
		}
		if err := ap.maybeRaise(ex.incident, lifecycle.Raises(ex.incSev, it.d.Severity), it); err != nil {
			return 0, err
		}
		if err := ap.bumpCounts(ex.incident, 0, 1); err != nil {
			return 0, err
		}
		if err := ap.event(ex.incident, alert.EventAlertRefire, "source:"+it.a.Source, "alert "+it.a.Fingerprint+" fires again: "+it.a.Title); err != nil {
			return 0, err
		}
		ap.cachePut = append(ap.cachePut, cacheUpdate{it.key, it.hash, ex.incident})
		return ex.incident, nil
	case lifecycle.StepGroup:
		inc, err := ap.openIncidentFor(it, ex)
		if err != nil {
			return 0, err
		}
		if st.Counted() && ex.incident != inc {
			// It leaves the (resolved) incident that counted it firing.
			if err := ap.bumpCounts(ex.incident, 0, -1); err != nil {
				return 0, err
			}
		}
		if err := ap.upsertAlert(it, inc); err != nil {
			return 0, err
		}
		ap.remember(inc, it, ex)
		ap.cachePut = append(ap.cachePut, cacheUpdate{it.key, it.hash, inc})
		return inc, nil
	case lifecycle.StepRecord:
		// Resolved alert of a fingerprint never seen firing: record it,
		// attached to no incident.
		return 0, ap.upsertAlert(it, 0)
	case lifecycle.StepResolve:
		if err := ap.updateAlert(ex.id, it, true); err != nil {
			return 0, err
		}
		if err := ap.event(ex.incident, alert.EventAlertResolve, "source:"+it.a.Source, "alert "+it.a.Fingerprint+" resolved: "+it.a.Title); err != nil {
			return 0, err
		}
		firing, err := ap.bumpFiring(ex.incident, -1)
		if err != nil {
			return 0, err
		}
		if lifecycle.ResolvesIncident(firing) {
			inc, err := ap.incident(ex.incident)
			if err != nil {
				return 0, err
			}
			if err := ap.resolve(inc, "source:"+it.a.Source, "all alerts resolved", ap.now); err != nil {
				return 0, err
			}
			ap.forgetGroup(inc.GroupKey)
		}
		return ex.incident, nil
	}
	// StepSettle.
	if ex.hash != it.hash {
		if err := ap.updateAlert(ex.id, it, true); err != nil {
			return 0, err
		}
	}
	if st.Counted() {
		// Its incident was resolved by hand while it fired.
		if err := ap.bumpCounts(ex.incident, 0, -1); err != nil {
			return 0, err
		}
	}
	if st.InOpen() {
		return ex.incident, nil
	}
	return 0, nil
}

// openIncidentFor places a firing alert that is in no open incident, as
// lifecycle.Policy.Decide decides from the group's latest incident: it
// joins the group's open incident, is suppressed, reopens the group's
// recently resolved incident (flap.go) or opens a new one. The group's
// incidents are read only as far as the decision needs them: suppression
// is checked only when the group has no open incident, a resolved
// incident read only when the alert is not suppressed.
func (ap *applier) openIncidentFor(it *item, ex *existing) (int64, error) {
	ref, ok := ap.groupOpen[it.d.GroupKey]
	if !ok && !ap.groupsRead[it.d.GroupKey] {
		var sev int
		err := ap.queryRow(ap.ctx, `SELECT id, severity FROM incidents WHERE group_key = ? AND status <> 'resolved'`, it.d.GroupKey).Scan(&ref.id, &sev)
		switch {
		case err == nil:
			ref.sev, ok = alert.Severity(sev), true
			ap.groupOpen[it.d.GroupKey] = ref
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("find open incident: %w", err)
		}
	}
	var latest *lifecycle.Latest
	var sup rules.Suppression
	var suppressed bool
	if ok {
		latest = &lifecycle.Latest{ID: ref.id, Open: true, Severity: ref.sev}
	} else if sup, suppressed = ap.suppress(it); !suppressed {
		l, err := ap.latestResolved(it)
		if err != nil {
			return 0, err
		}
		latest = l
	}
	d := ap.pol.life.Decide(ap.now, it.d.Severity, latest, suppressed)
	switch d.Action {
	case lifecycle.Join:
		if err := ap.bumpCounts(d.Incident, 1, 1); err != nil {
			return 0, err
		}
		ap.added[d.Incident] = append(ap.added[d.Incident], it.a.Fingerprint)
		return d.Incident, ap.maybeRaise(d.Incident, d.Raise, it)
	case lifecycle.Suppress:
		return suppressedIncident, ap.recordSuppressed(it, sup, ex)
	case lifecycle.Reopen:
		return ap.reopen(it, ex, d)
	}
	opening := lifecycle.Opening(&it.a, &it.d, ap.now)
	inc := &opening
	resp, resol := ap.pol.planner.Deadlines(inc.Severity)
	inc.AckDue, inc.ResolveDue = ap.now.Add(resp), ap.now.Add(resol)
	if err := ap.insertIncident(inc); err != nil {
		return 0, err
	}
	inc.Key = alert.IncidentKey(inc.ID)
	if ap.fresh == nil {
		ap.fresh = map[int64]bool{}
	}
	ap.fresh[inc.ID] = true
	ap.keepOpened(inc)
	// The incident's first alert's classification goes on its timeline:
	// which rules matched and which one decided.
	why := ap.pol.classifier.Matched(&it.a)
	if err := ap.event(inc.ID, alert.EventDetected, "source:"+it.a.Source, fmt.Sprintf("alert %s (%s): %s", it.a.Fingerprint, it.a.Source, it.a.Title)); err != nil {
		return 0, err
	}
	if err := ap.event(inc.ID, alert.EventClassified, "rules", why.Reason()+", group "+it.d.GroupKey); err != nil {
		return 0, err
	}
	plan := ap.splitImmediate(inc, ap.pol.planner.Plan(ChangeOpened, inc, PlanOptions{Base: inc.OpenedAt}))
	if ap.written != nil {
		ap.written[inc.ID] = []*alert.Alert{}
	}
	if err := ap.insertJobs(inc.ID, plan); err != nil {
		return 0, err
	}
	ap.openedIncidents = append(ap.openedIncidents, inhibitEntry{groupKey: inc.GroupKey,
		src: rules.InhibitSource{IncidentID: inc.ID, IncidentKey: inc.Key, GroupKey: inc.GroupKey, Severity: inc.Severity, Alert: it.a}})
	ap.groupOpen[inc.GroupKey] = openRef{id: inc.ID, sev: inc.Severity}
	ap.logs = append(ap.logs, func() {
		ap.s.log.Info("incident opened", zap.String("incident", inc.Key), zap.Stringer("severity", inc.Severity),
			zap.String("title", inc.Title), zap.String("service", inc.Service), zap.String("group_key", inc.GroupKey))
	})
	return inc.ID, nil
}

// insertIncident writes a new incident and sets its id: one reserved by
// reserveOpenings, written with the batch's other writes, or else the
// one the insert returns.
func (ap *applier) insertIncident(inc *alert.Incident) error {
	const cols = `group_key, status, severity, title, service, category, runbook, source, alert_count, firing_count, opened_at, ack_due, resolve_due, updated_at, escalated_at`
	const vals = `?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?`
	args := []any{inc.GroupKey, inc.Status, int(inc.Severity), inc.Title, inc.Service, inc.Category, inc.Runbook, inc.Source,
		ms(inc.OpenedAt), ms(inc.AckDue), ms(inc.ResolveDue), ms(inc.UpdatedAt), ms(inc.OpenedAt)}
	if len(ap.reserved) > 0 {
		inc.ID, ap.reserved = ap.reserved[0], ap.reserved[1:]
		return ap.write("open incident", `INSERT INTO incidents (id, `+cols+`) VALUES (?, `+vals+`)`, append([]any{inc.ID}, args...)...)
	}
	var err error
	inc.ID, err = ap.insertID("open incident", `INSERT INTO incidents (`+cols+`) VALUES (`+vals+`)`, args...)
	return err
}

// remember notes the alert written into incident inc when the batch
// opened inc, for the steps that run in the opening commit (Tx.Alerts):
// a new alert row takes the next id, so the batch's order is the id order
// the database would give; an alert stored before (ex) keeps its older
// id, so that incident's alerts are read from the database instead.
func (ap *applier) remember(inc int64, it *item, ex *existing) {
	kept, ok := ap.written[inc]
	switch {
	case !ok || kept == nil:
	case ex != nil:
		ap.written[inc] = nil
	default:
		asStored(&it.a)
		ap.written[inc] = append(kept, &it.a)
	}
}

func (ap *applier) upsertAlert(it *item, inc int64) error {
	data := it.data
	var incArg any
	if inc > 0 {
		incArg = inc
	}
	sup := ""
	if it.sup != nil {
		sup = lifecycle.Tag(*it.sup)
	}
	t := ms(ap.now)
	err := ap.write("upsert alert", `INSERT INTO alerts (source, fingerprint, incident_id, status, data, hash, first_seen, last_seen, suppressed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, fingerprint) DO UPDATE SET incident_id = excluded.incident_id, status = excluded.status,
data = excluded.data, hash = excluded.hash, last_seen = excluded.last_seen, repeats = alerts.repeats + 1, suppressed = excluded.suppressed`,
		it.key.source, it.key.fingerprint, incArg, string(it.a.Status), data, int64(it.hash), t, t, sup)
	if err != nil {
		return err
	}
	ap.batchKeys[it.key] = true
	return nil
}

// updateAlert writes a later message of a stored alert. sameFiring: it
// belongs to the firing already stored (a changed repeat, its resolution),
// so an alert whose sender gives no starts_at keeps the stored one instead
// of the gateway's clock at this message.
func (ap *applier) updateAlert(id int64, it *item, sameFiring bool) error {
	if sameFiring && it.stamped {
		if err := ap.keepStart(id, it); err != nil {
			return err
		}
	}
	data := it.data
	err := ap.write("update alert", `UPDATE alerts SET status = ?, data = ?, hash = ?, last_seen = ?, repeats = repeats + 1 WHERE id = ?`,
		string(it.a.Status), data, int64(it.hash), ms(ap.now), id)
	if err != nil {
		return err
	}
	return nil
}

// maybeRaise raises an open incident's severity when the alert is more
// urgent (raise: lifecycle.Raises against the severity the batch knows,
// checked again against the stored incident), and re-plans its escalation
// for the new level at once: steps of the new level that are already due
// page now (their stop conditions still apply). A less urgent alert never
// lowers the severity.
func (ap *applier) maybeRaise(id int64, raise bool, it *item) error {
	if !raise {
		return nil
	}
	inc, err := ap.incident(id)
	if err != nil {
		return err
	}
	if !lifecycle.Raises(inc.Severity, it.d.Severity) {
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
	if err := t.write("change severity", `UPDATE incidents SET severity = ?, ack_due = ?, resolve_due = ?, updated_at = ? WHERE id = ?`,
		int(inc.Severity), ms(inc.AckDue), ms(inc.ResolveDue), ms(now), inc.ID); err != nil {
		return err
	}
	if err := t.event(inc.ID, kind, actor, detail); err != nil {
		return err
	}
	return t.write("cancel the old level's steps", `UPDATE jobs SET state = 'cancelled', updated_at = ?
WHERE incident_id = ? AND kind = 'step' AND state IN ('pending', 'held') AND (key LIKE ? OR key LIKE ? OR key LIKE ?)`,
		ms(now), inc.ID, "%/page/%", "%/sla/%", "%/remind#%")
}

// keepStart gives it the starts_at of the stored alert id and encodes it
// again.
func (ap *applier) keepStart(id int64, it *item) error {
	var data string
	if err := ap.queryRow(ap.ctx, `SELECT data FROM alerts WHERE id = ?`, id).Scan(&data); err != nil {
		return fmt.Errorf("read alert start: %w", err)
	}
	var stored struct {
		StartsAt time.Time `json:"starts_at"`
	}
	if err := json.Unmarshal([]byte(data), &stored); err != nil {
		return fmt.Errorf("read alert start: %w", err)
	}
	if stored.StartsAt.IsZero() || stored.StartsAt.Equal(it.a.StartsAt) {
		return nil
	}
	it.a.StartsAt = stored.StartsAt
	d, err := alertData(&it.a)
	if err != nil {
		return err
	}
	it.data = d
	return nil
}
