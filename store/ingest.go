package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

type item struct {
	a    alert.Alert
	d    rules.Decision
	hash uint64
	key  alertKey
	// data is the alert's JSON, encoded by the request's goroutine so the
	// single writer doesn't have to.
	data string
	// sup is set when the alert would open an incident but is suppressed.
	sup *rules.Suppression
	// reevaluate marks a suppressed alert submitted again by the sweep.
	reevaluate bool
}

type ingestReq struct {
	items []item
	res   chan ingestRes
}

type ingestRes struct {
	incidents []int64
	err       error
}

// Ingest stores a request's alerts: unchanged repeats of firing alerts are
// answered from memory; everything else is classified and written in the
// next group-commit transaction. It returns after that transaction
// committed, so a nil error means the alerts are durable.
func (s *Store) Ingest(ctx context.Context, alerts []alert.Alert) (IngestResult, error) {
	res := IngestResult{Alerts: len(alerts)}
	pol := s.policy.Load()
	if pol.classifier == nil || pol.planner == nil {
		return res, errors.New("ingest: no rules or planner configured")
	}
	now := s.now()
	incs := make(map[int64]struct{}, 1)
	items := make([]item, 0, len(alerts))
	var hits []hit
	for i := range alerts {
		a := alerts[i]
		if !a.Status.Valid() {
			return res, fmt.Errorf("ingest: alert %d: invalid status %q", i, a.Status)
		}
		if err := checkText(i, &a); err != nil {
			return res, err
		}
		if a.Fingerprint == "" {
			a.Fingerprint = alert.FingerprintLabels(a.Labels)
		}
		// Hash the alert as received: a sender that omits startsAt repeats
		// the same content, which must not look changed.
		h := contentHash(&a)
		if a.StartsAt.IsZero() {
			a.StartsAt = now
		}
		if a.Status == alert.StatusResolved && a.EndsAt.IsZero() {
			a.EndsAt = now // on the same clock as the starts_at stamped above
		}
		k := alertKey{a.Source, a.Fingerprint}
		if a.Status == alert.StatusFiring {
			if inc, ok := s.cache.unchanged(k, h); ok {
				if s.shared {
					hits = append(hits, hit{a: a, hash: h, key: k, incident: inc})
					continue
				}
				res.Unchanged++
				incs[inc] = struct{}{}
				continue
			}
		}
		it, err := newItem(pol, a, h, k)
		if err != nil {
			return res, err
		}
		items = append(items, it)
	}
	if len(hits) > 0 {
		// Another replica may have changed these alerts: confirm first.
		ok, err := s.validateHits(ctx, hits)
		if err != nil {
			return res, err
		}
		for i, h := range hits {
			if ok[i] {
				res.Unchanged++
				incs[h.incident] = struct{}{}
				continue
			}
			it, err := newItem(pol, h.a, h.hash, h.key)
			if err != nil {
				return res, err
			}
			items = append(items, it)
		}
	}
	if len(items) > 0 {
		ids, err := s.submit(ctx, items)
		if err != nil {
			return res, err
		}
		for _, id := range ids {
			incs[id] = struct{}{}
		}
	}
	ids := make([]int64, 0, len(incs))
	for id := range incs {
		if id <= 0 {
			res.Suppressed++
			continue
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		res.Incidents = append(res.Incidents, alert.IncidentKey(id))
	}
	return res, nil
}

func newItem(pol *policy, a alert.Alert, h uint64, k alertKey) (item, error) {
	data, err := alertData(&a)
	if err != nil {
		return item{}, err
	}
	return item{a: a, d: pol.classifier.Evaluate(&a), hash: h, key: k, data: data}, nil
}

// submit hands items to the group-commit writer and waits for the commit.
// If it gives up waiting, the transaction may still commit; the sender
// retries and the retry is a harmless repeat.
func (s *Store) submit(ctx context.Context, items []item) ([]int64, error) {
	req := &ingestReq{items: items, res: make(chan ingestRes, 1)}
	r, err := handOff(ctx, s.stop, s.ingest, req, req.res)
	if err != nil {
		return nil, err
	}
	return r.incidents, r.err
}

// handOff queues req for one of the store's worker loops and waits for the
// answer on res, giving up (ErrUnavailable) when ctx ends or the store
// stops.
func handOff[Q, R any](ctx context.Context, stop <-chan struct{}, queue chan<- Q, req Q, res <-chan R) (R, error) {
	var zero R
	select {
	case queue <- req:
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	case <-stop:
		return zero, fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
	select {
	case r := <-res:
		return r, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	case <-stop:
		return zero, fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
}

// commitLoop is the single writer of ingested alerts: it takes every
// request queued while the previous transaction ran and commits them
// together.
func (s *Store) commitLoop() {
	defer close(s.done)
	for {
		var first *ingestReq
		select {
		case first = <-s.ingest:
		case <-s.stop:
			for {
				select {
				case r := <-s.ingest:
					r.res <- ingestRes{err: fmt.Errorf("%w: shutting down", ErrUnavailable)}
				default:
					return
				}
			}
		}
		batch := []*ingestReq{first}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case r := <-s.ingest:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commitBatch(batch)
	}
}

func (s *Store) commitBatch(batch []*ingestReq) {
	results, err := s.applyBatch(batch)
	// Another replica changed what this transaction read (it opened the
	// same group's incident first): run it again, it now joins.
	for try := 0; err != nil && try < 5 && retryable(err); try++ {
		results, err = s.applyBatch(batch)
	}
	if err == nil {
		for i, r := range batch {
			r.res <- ingestRes{incidents: results[i]}
		}
		s.walGrew()
		return
	}
	if len(batch) == 1 && permanent(err) {
		// The request's own data: the sender gets a 400, not a 503 that
		// would make it send the same body again.
		s.log.Warn("ingest refused by the database", zap.Error(err))
		batch[0].res <- ingestRes{err: refusal(err)}
		return
	}
	if len(batch) == 1 {
		s.log.Error("ingest transaction", zap.Error(err))
		batch[0].res <- ingestRes{err: fmt.Errorf("%w: %v", ErrUnavailable, err)}
		return
	}
	// Retry one by one so that one request's problem fails only itself.
	s.log.Warn("ingest batch failed, retrying requests one by one", zap.Int("requests", len(batch)), zap.Error(err))
	for _, r := range batch {
		s.commitBatch([]*ingestReq{r})
	}
}

func (s *Store) applyBatch(batch []*ingestReq) ([][]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.writeTxs.Add(1)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	ap := &applier{Tx: Tx{tx: tx, s: s, ctx: ctx, pol: s.policy.Load()}, now: s.now(), added: map[int64][]string{},
		counts: map[int64]countDelta{}, groupOpen: map[string]openRef{}, batchKeys: map[alertKey]bool{}}
	if err := ap.lockGroups(batch); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := ap.prefetch(batch); err != nil {
		tx.Rollback()
		return nil, err
	}
	results := make([][]int64, len(batch))
	for i, r := range batch {
		for j := range r.items {
			inc, err := ap.apply(&r.items[j])
			if err != nil {
				tx.Rollback()
				return nil, err
			}
			ap.batchKeys[r.items[j].key] = true
			if inc != 0 {
				results[i] = append(results[i], inc)
			}
		}
	}
	if err := ap.flushCounts(); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := ap.flushAdded(); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := ap.runImmediate(); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	ap.afterCommit()
	return results, nil
}

// applier applies one batch inside its transaction and remembers what the
// cache must learn once it commits.
type applier struct {
	Tx
	now   time.Time
	added map[int64][]string // incident → fingerprints that joined

	counts map[int64]countDelta
	// prefetched holds the stored state of the batch's alerts read before
	// the first write (nil value: not stored); shared stores only.
	prefetched map[alertKey]*existing
	// groupOpen remembers, for this batch, the open incident of a group
	// key, so a storm of alerts into one group reads it once.
	groupOpen map[string]openRef
	// batchKeys are the alerts this batch wrote (see lookup).
	batchKeys map[alertKey]bool
	// notes are the join notes written, kept once the batch commits.
	notes []noteUpdate
	// immediate are the steps due at once of the incidents this batch
	// opened (runImmediate).
	immediate []immediate

	cachePut  []cacheUpdate
	cacheDrop []alertKey
}

type openRef struct {
	id  int64
	sev alert.Severity
}

type cacheUpdate struct {
	k   alertKey
	h   uint64
	inc int64
}

func (ap *applier) afterCommit() {
	c := ap.s.cache
	for _, u := range ap.cachePut {
		c.put(u.k, u.h, u.inc)
	}
	if ap.s.known != nil {
		ap.s.known.add(ap.batchKeys)
	}
	for _, k := range ap.cacheDrop {
		c.drop(k)
	}
	ap.keepNotes()
	ap.finish()
}

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

// countedFiring reports whether the stored alert counts in its incident's
// firing count: it fires, belongs to an incident and is not suppressed.
func (e *existing) countedFiring() bool {
	return e != nil && e.status == alert.StatusFiring && e.incident > 0 && e.suppressed == ""
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
// resolved alert that matches no open incident).
func (ap *applier) apply(it *item) (int64, error) {
	ex, err := ap.lookup(it.key)
	if err != nil {
		return 0, err
	}
	incOpen := ex != nil && ex.incident != 0 && ex.incStatus != alert.IncidentResolved
	if it.a.Status == alert.StatusFiring {
		switch {
		case incOpen && ex.status == alert.StatusFiring:
			if ex.hash != it.hash {
				if err := ap.updateAlert(ex.id, it); err != nil {
					return 0, err
				}
				if err := ap.maybeRaise(ex.incident, ex.incSev, it); err != nil {
					return 0, err
				}
			}
			ap.cachePut = append(ap.cachePut, cacheUpdate{it.key, it.hash, ex.incident})
			return ex.incident, nil
		case incOpen:
			if err := ap.updateAlert(ex.id, it); err != nil {
				return 0, err
			}
			if err := ap.maybeRaise(ex.incident, ex.incSev, it); err != nil {
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
		}
		inc, err := ap.openIncidentFor(it, ex)
		if err != nil {
			return 0, err
		}
		if ex.countedFiring() && ex.incident != inc {
			// It leaves the (resolved) incident that counted it firing.
			if err := ap.bumpCounts(ex.incident, 0, -1); err != nil {
				return 0, err
			}
		}
		if err := ap.upsertAlert(it, inc); err != nil {
			return 0, err
		}
		ap.cachePut = append(ap.cachePut, cacheUpdate{it.key, it.hash, inc})
		return inc, nil
	}

	// Resolved.
	ap.cacheDrop = append(ap.cacheDrop, it.key)
	if ex != nil && ex.suppressed != "" && ex.status == alert.StatusFiring {
		if err := ap.suppressedResolved(ex); err != nil {
			return 0, err
		}
	}
	switch {
	case ex == nil:
		// Resolved alert of a fingerprint never seen firing: record it,
		// attached to no incident.
		return 0, ap.upsertAlert(it, 0)
	case incOpen && ex.status == alert.StatusFiring:
		if err := ap.updateAlert(ex.id, it); err != nil {
			return 0, err
		}
		if err := ap.event(ex.incident, alert.EventAlertResolve, "source:"+it.a.Source, "alert "+it.a.Fingerprint+" resolved: "+it.a.Title); err != nil {
			return 0, err
		}
		firing, err := ap.bumpFiring(ex.incident, -1)
		if err != nil {
			return 0, err
		}
		if firing <= 0 {
			inc, err := ap.incident(ex.incident)
			if err != nil {
				return 0, err
			}
			if err := ap.resolve(inc, "source:"+it.a.Source, "all alerts resolved", ap.now); err != nil {
				return 0, err
			}
			delete(ap.groupOpen, inc.GroupKey)
		}
		return ex.incident, nil
	default:
		if ex.hash != it.hash {
			if err := ap.updateAlert(ex.id, it); err != nil {
				return 0, err
			}
		}
		if ex.countedFiring() {
			// Its incident was resolved by hand while it fired.
			if err := ap.bumpCounts(ex.incident, 0, -1); err != nil {
				return 0, err
			}
		}
		if incOpen {
			return ex.incident, nil
		}
		return 0, nil
	}
}

// openIncidentFor attaches a firing alert to the open incident of its
// group, opening one when there is none.
func (ap *applier) openIncidentFor(it *item, ex *existing) (int64, error) {
	ref, ok := ap.groupOpen[it.d.GroupKey]
	if !ok {
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
	if ok {
		if err := ap.bumpCounts(ref.id, 1, 1); err != nil {
			return 0, err
		}
		ap.added[ref.id] = append(ap.added[ref.id], it.a.Fingerprint)
		return ref.id, ap.maybeRaise(ref.id, ref.sev, it)
	}
	if sup, ok := ap.suppress(it); ok {
		return suppressedIncident, ap.recordSuppressed(it, sup, ex)
	}
	if id, ok, err := ap.reopen(it, ex); err != nil || ok {
		return id, err
	}
	inc := &alert.Incident{
		Severity:    it.d.Severity,
		Status:      alert.IncidentTriggered,
		Title:       it.a.Title,
		Service:     it.a.Service,
		Category:    it.d.Category,
		Runbook:     it.d.Runbook,
		GroupKey:    it.d.GroupKey,
		Source:      it.a.Source,
		AlertCount:  1,
		FiringCount: 1,
		OpenedAt:    ap.now,
		UpdatedAt:   ap.now,
	}
	if inc.Title == "" {
		inc.Title = it.a.Fingerprint
	}
	resp, resol := ap.pol.planner.Deadlines(inc.Severity)
	inc.AckDue, inc.ResolveDue = ap.now.Add(resp), ap.now.Add(resol)
	err := ap.queryRow(ap.ctx, `INSERT INTO incidents
(group_key, status, severity, title, service, category, runbook, source, alert_count, firing_count, opened_at, ack_due, resolve_due, updated_at, escalated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?) RETURNING id`,
		inc.GroupKey, inc.Status, int(inc.Severity), inc.Title, inc.Service, inc.Category, inc.Runbook, inc.Source,
		ms(inc.OpenedAt), ms(inc.AckDue), ms(inc.ResolveDue), ms(inc.UpdatedAt), ms(inc.OpenedAt)).Scan(&inc.ID)
	if err != nil {
		return 0, fmt.Errorf("open incident: %w", err)
	}
	inc.Key = alert.IncidentKey(inc.ID)
	actor := "source:" + it.a.Source
	if err := ap.event(inc.ID, alert.EventDetected, actor, fmt.Sprintf("alert %s (%s): %s", it.a.Fingerprint, it.a.Source, it.a.Title)); err != nil {
		return 0, err
	}
	// The incident's first alert is explained in full on its timeline:
	// which rules matched and which one decided.
	why := ap.pol.classifier.Explain(&it.a)
	if err := ap.event(inc.ID, alert.EventClassified, "rules", why.Reason()+", group "+it.d.GroupKey); err != nil {
		return 0, err
	}
	plan := ap.splitImmediate(inc.ID, ap.pol.planner.Plan(ChangeOpened, inc, PlanOptions{Base: inc.OpenedAt}))
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

// joinNoteWindow is how long one "alert(s) joined" timeline entry keeps
// counting the alerts that join its incident: a storm adds one line per
// incident per window, not one per batch.
const joinNoteWindow = time.Minute

// joinNoteList is how many fingerprints a join note names.
const joinNoteList = 10

// joinNote is the open "alert(s) joined" entry of an incident's timeline.
// The writer alone reads and changes the notes (commit loop).
type joinNote struct {
	event int64
	first time.Time
	n     int
	fps   []string
}

func (n *joinNote) detail() string {
	d := fmt.Sprintf("%d alert(s) joined: %s", n.n, strings.Join(n.fps, ", "))
	if n.n > len(n.fps) {
		d += fmt.Sprintf(" (+%d more)", n.n-len(n.fps))
	}
	return d
}

// flushAdded records the alerts that joined open incidents in this batch.
// An incident whose last timeline entry is a join note younger than
// joinNoteWindow gets that note updated in place; otherwise a new note
// starts. The UPDATE checks the note is still the incident's latest entry
// (an ack or a re-fire written since, here or by another replica, starts
// a new note), so the timeline stays in order. It is written in the
// batch's transaction: durable with the alerts.
func (ap *applier) flushAdded() error {
	for id, fps := range ap.added {
		old, ok := ap.s.joins[id]
		if ok && ap.now.Sub(old.first) < joinNoteWindow {
			n := &joinNote{event: old.event, first: old.first, n: old.n + len(fps), fps: old.fps}
			if free := joinNoteList - len(n.fps); free > 0 {
				n.fps = append(n.fps[:len(n.fps):len(n.fps)], head(fps, free)...)
			}
			res, err := ap.exec(ap.ctx, `UPDATE events SET detail = ? WHERE id = ? AND id = (SELECT MAX(id) FROM events WHERE incident_id = ?)`,
				n.detail(), n.event, id)
			if err != nil {
				return fmt.Errorf("update join note: %w", err)
			}
			if rows, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("update join note: %w", err)
			} else if rows == 1 {
				ap.notes = append(ap.notes, noteUpdate{id, n})
				continue
			}
		}
		n := &joinNote{first: ap.now, n: len(fps), fps: head(fps, joinNoteList)}
		var err error
		if n.event, err = ap.eventID(id, alert.EventAlertAdded, "", n.detail()); err != nil {
			return err
		}
		ap.notes = append(ap.notes, noteUpdate{id, n})
	}
	return nil
}

type noteUpdate struct {
	incident int64
	note     *joinNote
}

// keepNotes remembers the batch's join notes once it committed, and
// forgets notes past their window.
func (ap *applier) keepNotes() {
	for _, u := range ap.notes {
		ap.s.joins[u.incident] = u.note
	}
	if len(ap.s.joins) > 4096 {
		for id, n := range ap.s.joins {
			if ap.now.Sub(n.first) >= joinNoteWindow {
				delete(ap.s.joins, id)
			}
		}
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func alertData(a *alert.Alert) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode alert: %w", err)
	}
	return string(b), nil
}

func (ap *applier) upsertAlert(it *item, inc int64) error {
	data := it.data
	var incArg any
	if inc > 0 {
		incArg = inc
	}
	sup := ""
	if it.sup != nil {
		sup = it.sup.Kind + ":" + it.sup.ID
	}
	t := ms(ap.now)
	_, err := ap.exec(ap.ctx, `INSERT INTO alerts (source, fingerprint, incident_id, status, data, hash, first_seen, last_seen, suppressed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, fingerprint) DO UPDATE SET incident_id = excluded.incident_id, status = excluded.status,
data = excluded.data, hash = excluded.hash, last_seen = excluded.last_seen, repeats = alerts.repeats + 1, suppressed = excluded.suppressed`,
		it.key.source, it.key.fingerprint, incArg, string(it.a.Status), data, int64(it.hash), t, t, sup)
	if err != nil {
		return fmt.Errorf("upsert alert: %w", err)
	}
	ap.batchKeys[it.key] = true
	return nil
}

func (ap *applier) updateAlert(id int64, it *item) error {
	data := it.data
	_, err := ap.exec(ap.ctx, `UPDATE alerts SET status = ?, data = ?, hash = ?, last_seen = ?, repeats = repeats + 1 WHERE id = ?`,
		string(it.a.Status), data, int64(it.hash), ms(ap.now), id)
	if err != nil {
		return fmt.Errorf("update alert: %w", err)
	}
	return nil
}

// countDelta is a change to an incident's alert counts not yet written.
type countDelta struct{ alerts, firing int }

// bumpCounts notes a change to an incident's counts; the batch writes one
// UPDATE per incident (flushCounts), not one per alert.
func (ap *applier) bumpCounts(inc int64, alerts, firing int) error {
	d := ap.counts[inc]
	d.alerts += alerts
	d.firing += firing
	ap.counts[inc] = d
	return nil
}

// bumpFiring changes an incident's firing count now (with any pending
// change) and returns the new count.
func (ap *applier) bumpFiring(inc int64, by int) (int, error) {
	d := ap.counts[inc]
	delete(ap.counts, inc)
	var n int
	err := ap.queryRow(ap.ctx, `UPDATE incidents SET alert_count = alert_count + ?, firing_count = firing_count + ?, updated_at = ? WHERE id = ? RETURNING firing_count`,
		d.alerts, d.firing+by, ms(ap.now), inc).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("update incident counts: %w", err)
	}
	return n, nil
}

// groupLockBuckets bounds the advisory locks one ingest transaction takes
// on PostgreSQL (they use slots of the server's shared lock table).
const groupLockBuckets = 64

// lockGroups serializes ingest of the same groups across replicas (shared
// stores): before touching any row, the transaction takes the advisory
// locks of its groups' buckets, in ascending order. Two replicas writing
// one group take turns, and the second sees the first's incident; two
// replicas writing different groups never wait in a cycle, so ingest does
// not deadlock (PostgreSQL would only detect it after deadlock_timeout).
func (ap *applier) lockGroups(batch []*ingestReq) error {
	if !ap.s.d.advisory {
		return nil
	}
	seen := map[int32]bool{}
	var keys []int32
	for _, r := range batch {
		for i := range r.items {
			h := fnv.New32a()
			h.Write([]byte(r.items[i].d.GroupKey))
			k := int32(h.Sum32() % groupLockBuckets)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	ap.s.stmtsRun.Add(1)
	_, err := ap.tx.ExecContext(ap.ctx, `SELECT count(pg_advisory_xact_lock($1, k)) FROM (SELECT unnest($2::int[]) AS k ORDER BY 1) AS sorted`, ap.s.lockClass, keys)
	if err != nil {
		return fmt.Errorf("lock groups: %w", err)
	}
	return nil
}

// touched reports whether an incident's status or severity changed in this
// transaction.
func (ap *applier) touched(id int64) bool {
	_, raised := ap.raised[id]
	return raised || ap.changed[id]
}

// prefetch reads the stored state of every alert of the batch in one
// query (shared stores, where each lookup is a network round trip). The
// group locks are held, so no other replica's ingest changes them before
// this transaction ends; a key written earlier in the batch is read again.
func (ap *applier) prefetch(batch []*ingestReq) error {
	if !ap.s.shared {
		return nil
	}
	var sources, fps []string
	ap.prefetched = map[alertKey]*existing{}
	for _, r := range batch {
		for i := range r.items {
			k := r.items[i].key
			if _, dup := ap.prefetched[k]; dup {
				continue
			}
			ap.prefetched[k] = nil
			sources, fps = append(sources, k.source), append(fps, k.fingerprint)
		}
	}
	ap.s.stmtsRun.Add(1)
	rows, err := ap.tx.QueryContext(ap.ctx, `SELECT a.source, a.fingerprint, a.id, COALESCE(a.incident_id, 0), a.status, a.hash,
COALESCE(i.status, ''), COALESCE(i.severity, 0), a.suppressed
FROM unnest($1::text[], $2::text[]) AS k(source, fingerprint)
JOIN alerts a ON a.source = k.source AND a.fingerprint = k.fingerprint
LEFT JOIN incidents i ON i.id = a.incident_id`, sources, fps)
	if err != nil {
		return fmt.Errorf("lookup alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k alertKey
		var e existing
		var h int64
		var st, ist string
		var sev int
		if err := rows.Scan(&k.source, &k.fingerprint, &e.id, &e.incident, &st, &h, &ist, &sev, &e.suppressed); err != nil {
			return fmt.Errorf("lookup alerts: %w", err)
		}
		e.status, e.hash, e.incStatus, e.incSev = alert.Status(st), uint64(h), alert.IncidentStatus(ist), alert.Severity(sev)
		ap.prefetched[k] = &e
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lookup alerts: %w", err)
	}
	return nil
}

// flushCounts writes the batch's count changes, in incident order (the
// same lock order in every transaction).
func (ap *applier) flushCounts() error {
	ids := make([]int64, 0, len(ap.counts))
	for id := range ap.counts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, inc := range ids {
		d := ap.counts[inc]
		if _, err := ap.exec(ap.ctx, `UPDATE incidents SET alert_count = alert_count + ?, firing_count = firing_count + ?, updated_at = ? WHERE id = ?`,
			d.alerts, d.firing, ms(ap.now), inc); err != nil {
			return fmt.Errorf("update incident counts: %w", err)
		}
	}
	clear(ap.counts)
	return nil
}
