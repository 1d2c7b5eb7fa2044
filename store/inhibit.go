package store

// The in-memory index of open incidents that inhibition checks: every
// open incident with its severity and first alert, and the candidates
// that can inhibit, filed by the classifier's inhibit keys. Loaded from
// the database at start; the applier keeps it current.

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

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

// appendSorted returns l with src added when that keeps it in incident
// order (a new incident has the highest id so far: the usual case, one
// append instead of rebuilding and sorting the list), ok false otherwise.
// A slice handed out before is not changed: an append writes only past
// its length.
func appendSorted(l []rules.InhibitSource, src rules.InhibitSource) ([]rules.InhibitSource, bool) {
	if len(l) > 0 && l[len(l)-1].IncidentID >= src.IncidentID {
		return nil, false
	}
	return append(l, src), true
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
		// A new candidate joins the lists built, a changed one (its
		// severity) has them built again.
		if l, ok := appendSorted(o.list, e.src); !was && o.list != nil && ok {
			o.list = l
		} else {
			o.list = nil
		}
		o.unfile(id)
		if o.idx != nil {
			if k, ok := o.idx.InhibitSourceKey(&e.src); ok {
				o.keys[id] = k
				if o.byKey[k] == nil {
					o.byKey[k] = map[int64]struct{}{}
				}
				o.byKey[k][id] = struct{}{}
				if l, built := o.lists[k]; built {
					if l, ok := appendSorted(l, e.src); !was && ok {
						o.lists[k] = l
					} else {
						delete(o.lists, k)
					}
				}
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

// severityOf returns an open incident's severity, ok false when the view
// does not hold it.
func (o *openIncidents) severityOf(id int64) (alert.Severity, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	e, ok := o.all[id]
	return e.src.Severity, ok
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
