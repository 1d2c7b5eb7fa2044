package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// suppressedIncident stands for "no incident: suppressed" where an
// incident id is expected.
const suppressedIncident int64 = -1

// Silence is a silence as the API shows it.
type Silence struct {
	ID              string    `json:"id"`
	Matchers        []string  `json:"matchers"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	CreatedBy       string    `json:"created_by"`
	Comment         string    `json:"comment"`
	ExpireOnResolve bool      `json:"expire_on_resolve"`
	// State is pending, active or expired.
	State string `json:"state"`
	// Origin is "api" or "config".
	Origin string `json:"origin"`
}

// openIncidents is the in-memory view of open incidents that inhibition
// needs: every open incident with its severity and first alert, and among
// them the candidates — those whose alert matches some inhibit rule's
// source matchers (with the default rule, the open P0s). Only candidates
// are handed to the rules, as one slice rebuilt when they change. When
// the classifier indexes inhibition (every inhibit rule requires the same
// labels equal, as the default's service), the candidates are also filed
// by those labels' values and an alert is checked only against the
// candidates with its own values: in a storm of new incidents the check
// stays the size of one service's open P0s, not of all of them.
type openIncidents struct {
	mu    sync.RWMutex
	all   map[int64]inhibitEntry
	cands map[int64]rules.InhibitSource
	list  []rules.InhibitSource // candidates, sorted; nil after a change
	can   func(*rules.InhibitSource) bool
	idx   inhibitIndex // nil: no index
	keys  map[int64]string
	byKey map[string]map[int64]struct{}
	lists map[string][]rules.InhibitSource // per key, sorted; built on demand
}

// inhibitIndex is what a classifier offers to index inhibition
// (rules.Engine): keys such that only a source with the target's key can
// inhibit it; indexed false when there is no such key.
type inhibitIndex interface {
	InhibitTargetKey(a *alert.Alert, d *rules.Decision) (key string, indexed bool)
	InhibitSourceKey(src *rules.InhibitSource) (key string, indexed bool)
}

type inhibitEntry struct {
	groupKey string
	src      rules.InhibitSource
}

func newOpenIncidents() *openIncidents {
	return &openIncidents{all: map[int64]inhibitEntry{}, cands: map[int64]rules.InhibitSource{},
		keys: map[int64]string{}, byKey: map[string]map[int64]struct{}{}, lists: map[string][]rules.InhibitSource{}}
}

// update files e as a candidate or not; the caller holds mu.
func (o *openIncidents) update(id int64, e inhibitEntry) {
	_, was := o.cands[id]
	is := o.can != nil && o.can(&e.src)
	switch {
	case is:
		o.cands[id] = e.src
		o.list = nil
		o.unfile(id)
		if o.idx != nil {
			if k, ok := o.idx.InhibitSourceKey(&e.src); ok {
				o.keys[id] = k
				if o.byKey[k] == nil {
					o.byKey[k] = map[int64]struct{}{}
				}
				o.byKey[k][id] = struct{}{}
				delete(o.lists, k)
			}
		}
	case was:
		delete(o.cands, id)
		o.list = nil
		o.unfile(id)
	}
}

// unfile removes a candidate from the index; the caller holds mu.
func (o *openIncidents) unfile(id int64) {
	k, ok := o.keys[id]
	if !ok {
		return
	}
	delete(o.keys, id)
	delete(o.byKey[k], id)
	if len(o.byKey[k]) == 0 {
		delete(o.byKey, k)
	}
	delete(o.lists, k)
}

func (o *openIncidents) set(id int64, groupKey string, src rules.InhibitSource) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := inhibitEntry{groupKey: groupKey, src: src}
	o.all[id] = e
	o.update(id, e)
}

func (o *openIncidents) severity(id int64, sev alert.Severity) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.all[id]; ok {
		e.src.Severity = sev
		o.all[id] = e
		o.update(id, e)
	}
}

func (o *openIncidents) remove(id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.all, id)
	if _, ok := o.cands[id]; ok {
		delete(o.cands, id)
		o.list = nil
		o.unfile(id)
	}
}

// recheck re-files every open incident with a new test and index (config
// reload); idx may be nil.
func (o *openIncidents) recheck(can func(*rules.InhibitSource) bool, idx inhibitIndex) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.can, o.idx = can, idx
	clear(o.cands)
	clear(o.keys)
	clear(o.byKey)
	clear(o.lists)
	o.list = nil
	for id, e := range o.all {
		o.update(id, e)
	}
}

// sourcesFor returns the candidate inhibitors of an alert about to open an
// incident: those filed under its key when inhibition is indexed, else
// every candidate (sources). The slice is shared and must not be modified.
func (o *openIncidents) sourcesFor(a *alert.Alert, d *rules.Decision) []rules.InhibitSource {
	o.mu.RLock()
	idx := o.idx
	if idx == nil {
		o.mu.RUnlock()
		return o.sources()
	}
	k, indexed := idx.InhibitTargetKey(a, d)
	if !indexed {
		o.mu.RUnlock()
		return o.sources()
	}
	if k == "" || len(o.byKey[k]) == 0 {
		o.mu.RUnlock()
		return nil
	}
	l, ok := o.lists[k]
	o.mu.RUnlock()
	if ok {
		return l
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if l, ok := o.lists[k]; ok {
		return l
	}
	l = make([]rules.InhibitSource, 0, len(o.byKey[k]))
	for id := range o.byKey[k] {
		l = append(l, o.cands[id])
	}
	sort.Slice(l, func(i, j int) bool { return l[i].IncidentID < l[j].IncidentID })
	o.lists[k] = l
	return l
}

// sources returns the candidate inhibitors. The slice is shared and must
// not be modified; the rules skip the alert's own incident.
func (o *openIncidents) sources() []rules.InhibitSource {
	o.mu.RLock()
	l, n := o.list, len(o.cands)
	o.mu.RUnlock()
	if l != nil || n == 0 {
		return l
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.list == nil {
		o.list = make([]rules.InhibitSource, 0, len(o.cands))
		for _, src := range o.cands {
			o.list = append(o.list, src)
		}
		sort.Slice(o.list, func(i, j int) bool { return o.list[i].IncidentID < o.list[j].IncidentID })
	}
	return o.list
}

func (s *Store) loadOpenIncidents(ctx context.Context) error {
	return s.queryOpenIncidents(ctx, func(id int64, gk string, src rules.InhibitSource) {
		s.open.set(id, gk, src)
	})
}

// queryOpenIncidents calls fn for every open incident with its first alert.
func (s *Store) queryOpenIncidents(ctx context.Context, fn func(id int64, groupKey string, src rules.InhibitSource)) error {
	return s.queryIncidents(ctx, `i.status <> 'resolved'`, nil, func(id int64, gk string, open bool, src rules.InhibitSource) {
		fn(id, gk, src)
	})
}

// queryIncidents calls fn for the incidents matching where, with whether
// each is open and, for an open one, its first alert.
func (s *Store) queryIncidents(ctx context.Context, where string, args []any, fn func(id int64, groupKey string, open bool, src rules.InhibitSource)) error {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT i.id, i.group_key, i.severity, i.status <> 'resolved',
CASE WHEN i.status <> 'resolved' THEN COALESCE(a.data, '') ELSE '' END
FROM incidents i LEFT JOIN alerts a ON a.id = (SELECT MIN(id) FROM alerts WHERE incident_id = i.id)
WHERE `+where), args...)
	if err != nil {
		return fmt.Errorf("%w: load incidents: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var gk, data string
		var sev int
		var open bool
		if err := rows.Scan(&id, &gk, &sev, &open, &data); err != nil {
			return fmt.Errorf("load incidents: %w", err)
		}
		src := rules.InhibitSource{IncidentID: id, IncidentKey: alert.IncidentKey(id), GroupKey: gk, Severity: alert.Severity(sev)}
		if data != "" {
			if err := unmarshalAlert(data, &src.Alert); err != nil {
				return err
			}
		}
		fn(id, gk, open, src)
	}
	return rows.Err()
}

// replace makes all the open incidents (a reload from the database).
func (o *openIncidents) replace(all map[int64]inhibitEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = all
	clear(o.cands)
	o.list = nil
	for id, e := range all {
		o.update(id, e)
	}
}

// silencesNow returns every silence the rules should consider: the
// config's and the API's.
func (s *Store) silencesNow() []rules.Silence {
	var out []rules.Silence
	if p := s.policy.Load(); p != nil && p.classifier != nil {
		out = append(out, p.classifier.Silences()...)
	}
	if api := s.apiSilences.Load(); api != nil {
		out = append(out, (*api)...)
	}
	return out
}

// suppress reports whether an alert that would open an incident is
// silenced, in a maintenance window, or inhibited by another open incident.
func (ap *applier) suppress(it *item) (rules.Suppression, bool) {
	return ap.pol.classifier.Suppress(&it.a, &it.d, ap.now, ap.s.silencesNow(), ap.s.open.sourcesFor(&it.a, &it.d))
}

// recordSuppressed notes a suppressed alert: it is stored with its reason
// and no incident; an inhibited one is told on the inhibiting incident's
// timeline.
func (ap *applier) recordSuppressed(it *item, sup rules.Suppression, ex *existing) error {
	it.sup = &sup
	tag := sup.Kind + ":" + sup.ID
	if ex != nil && ex.suppressed == tag {
		return nil // already recorded
	}
	if sup.Kind == rules.KindInhibited && sup.IncidentID > 0 {
		if err := ap.event(sup.IncidentID, alert.EventSuppressed, "rules",
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
// a silence with expire_on_resolve ends once none of its alerts fire.
func (ap *applier) suppressedResolved(ex *existing) error {
	id, ok := strings.CutPrefix(ex.suppressed, rules.KindSilence+":")
	if !ok {
		return nil
	}
	var n int
	if err := ap.queryRow(ap.ctx, `SELECT COUNT(*) FROM alerts WHERE suppressed <> '' AND suppressed = ? AND status = 'firing' AND id <> ?`,
		ex.suppressed, ex.id).Scan(&n); err != nil {
		return fmt.Errorf("silence alerts: %w", err)
	}
	if n > 0 {
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

// CreateSilence stores a silence made through the API.
func (s *Store) CreateSilence(ctx context.Context, c config.Silence) (*Silence, error) {
	now := s.now()
	if c.ID != "" {
		return nil, fmt.Errorf("%w: id is assigned by the gateway", ErrInvalid)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("silence id: %w", err)
	}
	c.ID = "s-" + hex.EncodeToString(b[:])
	sil, err := rules.ParseSilence(c, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !sil.EndsAt.After(now) {
		return nil, fmt.Errorf("%w: ends_at is in the past", ErrInvalid)
	}
	// As stored: milliseconds.
	sil.StartsAt, sil.EndsAt = fromMS(ms(sil.StartsAt)), fromMS(ms(sil.EndsAt))
	if c.CreatedBy == "" {
		return nil, fmt.Errorf("%w: created_by is required", ErrInvalid)
	}
	matchers, _ := json.Marshal(c.Matchers)
	eor := 0
	if c.ExpireOnResolve {
		eor = 1
	}
	err = s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, expire_on_resolve, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, string(matchers), ms(sil.StartsAt), ms(sil.EndsAt), c.CreatedBy, c.Comment, eor, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("create silence: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadSilences(ctx); err != nil {
		return nil, err
	}
	s.log.Info("silence created", zap.String("silence", c.ID), zap.Strings("matchers", c.Matchers),
		zap.Time("ends_at", sil.EndsAt), zap.String("created_by", c.CreatedBy))
	v := silenceView(sil, c.Matchers, "api", now)
	return &v, nil
}

// ExpireSilence ends a silence now (DELETE /api/v1/silences/{id}); the
// alerts it suppressed are evaluated afresh at once.
func (s *Store) ExpireSilence(ctx context.Context, id string) error {
	now := s.now()
	var n int64
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `UPDATE silences SET ends_at = ?, updated_at = ? WHERE id = ? AND ends_at > ?`, ms(now), ms(now), id, ms(now))
		if err != nil {
			return fmt.Errorf("expire silence: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		var exists int
		if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM silences WHERE id = ?`), id).Scan(&exists); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if exists == 0 {
			return fmt.Errorf("silence %s: %w", id, ErrNotFound)
		}
		return nil // already expired
	}
	s.log.Info("silence expired", zap.String("silence", id))
	if err := s.loadSilences(ctx); err != nil {
		return err
	}
	// Held pages of open incidents it silenced are released here, on
	// whichever replica took the request (the sweep is the leader's).
	if n, err := s.ReleaseHeld(ctx); err != nil {
		s.log.Warn("release held pages", zap.Error(err))
	} else if n > 0 {
		s.log.Info("held pages released", zap.Int("incidents", n))
	}
	s.triggerReevaluate()
	return nil
}

// ListSilences returns the config's silences and the API's (expired ones
// of the last 7 days included), newest end first.
func (s *Store) ListSilences(ctx context.Context) ([]Silence, error) {
	now := s.now()
	out := []Silence{}
	if p := s.policy.Load(); p != nil && p.classifier != nil {
		for _, sil := range p.classifier.Silences() {
			out = append(out, silenceView(sil, matcherStrings(sil), "config", now))
		}
	}
	api, err := s.querySilences(ctx, now.Add(-7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	for _, a := range api {
		out = append(out, silenceView(a.sil, a.matchers, "api", now))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EndsAt.After(out[j].EndsAt) })
	return out, nil
}

type storedSilence struct {
	sil      rules.Silence
	matchers []string
}

func (s *Store) querySilences(ctx context.Context, endsAfter time.Time) ([]storedSilence, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, matchers, starts_at, ends_at, created_by, comment, expire_on_resolve FROM silences WHERE ends_at > ? ORDER BY id`), ms(endsAfter))
	if err != nil {
		return nil, fmt.Errorf("%w: silences: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	var out []storedSilence
	for rows.Next() {
		var c config.Silence
		var m string
		var starts, ends int64
		var eor int
		if err := rows.Scan(&c.ID, &m, &starts, &ends, &c.CreatedBy, &c.Comment, &eor); err != nil {
			return nil, fmt.Errorf("silences: %w", err)
		}
		if err := json.Unmarshal([]byte(m), &c.Matchers); err != nil {
			return nil, fmt.Errorf("silence %s: %w", c.ID, err)
		}
		// A silence expired early (at or before its start) is stored with
		// ends_at <= starts_at; it parses as a silence that ended at once.
		parseStart := starts
		if ends <= starts {
			parseStart = ends - 1
		}
		c.StartsAt, c.EndsAt, c.ExpireOnResolve = fromMS(parseStart).Format(time.RFC3339Nano), fromMS(ends).Format(time.RFC3339Nano), eor == 1
		sil, err := rules.ParseSilence(c, fromMS(parseStart))
		if err != nil {
			return nil, fmt.Errorf("silence %s: %w", c.ID, err)
		}
		out = append(out, storedSilence{sil: sil, matchers: c.Matchers})
	}
	return out, rows.Err()
}

// loadSilences refreshes the in-memory list of API silences not yet ended.
func (s *Store) loadSilences(ctx context.Context) error {
	api, err := s.querySilences(ctx, s.now())
	if err != nil {
		return err
	}
	list := make([]rules.Silence, 0, len(api))
	for _, a := range api {
		list = append(list, a.sil)
	}
	s.apiSilences.Store(&list)
	return nil
}

func matcherStrings(sil rules.Silence) []string {
	out := make([]string, 0, len(sil.Matchers))
	for _, m := range sil.Matchers {
		out = append(out, m.String())
	}
	return out
}

func silenceView(sil rules.Silence, matchers []string, origin string, now time.Time) Silence {
	v := Silence{ID: sil.ID, Matchers: matchers, StartsAt: sil.StartsAt.UTC(), EndsAt: sil.EndsAt.UTC(), CreatedBy: sil.CreatedBy,
		Comment: sil.Comment, ExpireOnResolve: sil.ExpireOnResolve, Origin: origin, State: "active"}
	switch {
	case now.Before(sil.StartsAt):
		v.State = "pending"
	case !now.Before(sil.EndsAt):
		v.State = "expired"
	}
	return v
}

// Reevaluate takes every firing alert that is suppressed and evaluates it
// afresh: one whose silence ended, whose maintenance window closed or whose
// inhibiting incident resolved is ingested again and pages if it should.
// It returns how many alerts were released.
func (s *Store) Reevaluate(ctx context.Context) (int, error) {
	pol := s.policy.Load()
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
		if sup, ok := pol.classifier.Suppress(&a, &d, now, s.silencesNow(), s.open.sourcesFor(&a, &d)); ok && sup.Kind+":"+sup.ID == tag {
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
