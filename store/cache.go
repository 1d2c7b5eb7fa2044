package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"sync"

	"github.com/alertgate/alertgate/alert"
)

// alertCache answers repeats of unchanged firing alerts from memory, the
// most common request by far (Alertmanager re-sends every group on each
// group_interval and repeat_interval). An entry is trusted only while its
// incident is open.
type alertCache struct {
	mu     sync.RWMutex
	alerts map[alertKey]cacheEntry
	open   map[int64]struct{}
}

type alertKey struct{ source, fingerprint string }

type cacheEntry struct {
	hash     uint64
	incident int64
}

func newAlertCache() *alertCache {
	return &alertCache{alerts: make(map[alertKey]cacheEntry), open: make(map[int64]struct{})}
}

// unchanged returns the incident of a firing alert whose content hash is
// the stored one and whose incident is still open.
func (c *alertCache) unchanged(k alertKey, h uint64) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.alerts[k]
	if !ok || e.hash != h {
		return 0, false
	}
	_, open := c.open[e.incident]
	return e.incident, open
}

func (c *alertCache) put(k alertKey, h uint64, inc int64) {
	c.mu.Lock()
	c.alerts[k] = cacheEntry{hash: h, incident: inc}
	c.mu.Unlock()
}

func (c *alertCache) drop(k alertKey) {
	c.mu.Lock()
	delete(c.alerts, k)
	c.mu.Unlock()
}

func (c *alertCache) opened(inc int64) {
	c.mu.Lock()
	c.open[inc] = struct{}{}
	c.mu.Unlock()
}

func (c *alertCache) closed(inc int64) {
	c.mu.Lock()
	delete(c.open, inc)
	c.mu.Unlock()
}

// clearHashes forgets every alert so that the next copy of each is
// evaluated afresh (after a rules change).
func (c *alertCache) clearHashes() {
	c.mu.Lock()
	c.alerts = make(map[alertKey]cacheEntry)
	c.mu.Unlock()
}

// loadCache fills the cache with the firing alerts of open incidents.
func (s *Store) loadCache(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT a.source, a.fingerprint, a.hash, a.incident_id
FROM alerts a JOIN incidents i ON i.id = a.incident_id
WHERE a.status = 'firing' AND i.status <> 'resolved'`)
	if err != nil {
		return fmt.Errorf("load cache: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k alertKey
		var h, inc int64
		if err := rows.Scan(&k.source, &k.fingerprint, &h, &inc); err != nil {
			return fmt.Errorf("load cache: %w", err)
		}
		s.cache.alerts[k] = cacheEntry{hash: uint64(h), incident: inc}
		s.cache.open[inc] = struct{}{}
	}
	return rows.Err()
}

// contentHash fingerprints everything about an alert that, when changed,
// must be written: status, texts, labels, annotations and times.
func contentHash(a *alert.Alert) uint64 {
	h := fnv.New64a()
	w := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	w(string(a.Status))
	w(a.Title)
	w(a.Description)
	w(a.Service)
	w(a.SeverityHint)
	w(a.GeneratorURL)
	w(strconv.FormatInt(a.StartsAt.UnixNano(), 36))
	w(strconv.FormatInt(a.EndsAt.UnixNano(), 36))
	w(strconv.FormatFloat(a.Impact.AffectedUsersPct, 'g', -1, 64))
	hashMap(w, a.Labels)
	w("\x01")
	hashMap(w, a.Annotations)
	return h.Sum64()
}

func hashMap(w func(string), m map[string]string) {
	var buf [32]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w(k)
		w(m[k])
	}
}
