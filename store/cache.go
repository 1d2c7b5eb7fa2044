package store

import (
	"context"
	"fmt"
	"math"
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
	if e.incident == suppressedIncident {
		// Still suppressed: the re-evaluation sweep releases it.
		return e.incident, true
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
// must be written: status, texts, labels, annotations and times. It is on
// the hot path of every request, so it allocates nothing: FNV-1a over the
// fields, and maps hashed pair by pair and combined by addition, which
// does not depend on their order.
func contentHash(a *alert.Alert) uint64 {
	h := uint64(fnvOffset)
	h = fnvString(h, string(a.Status))
	h = fnvString(h, a.Title)
	h = fnvString(h, a.Description)
	h = fnvString(h, a.Service)
	h = fnvString(h, a.SeverityHint)
	h = fnvString(h, a.GeneratorURL)
	h = fnvUint(h, uint64(a.StartsAt.UnixNano()))
	h = fnvUint(h, uint64(a.EndsAt.UnixNano()))
	h = fnvUint(h, math.Float64bits(a.Impact.AffectedUsersPct))
	h = fnvUint(h, hashMap(a.Labels))
	return fnvUint(h, hashMap(a.Annotations)^0x9e3779b97f4a7c15)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	// A separator, so that ("ab","c") and ("a","bc") differ.
	h ^= 0xff
	return h * fnvPrime
}

func fnvUint(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

// hashMap combines per-pair hashes by addition: independent of order.
func hashMap(m map[string]string) uint64 {
	var sum uint64
	for k, v := range m {
		sum += mix(fnvString(fnvString(fnvOffset, k), v))
	}
	return sum + uint64(len(m))
}

// mix is a 64-bit finalizer (splitmix64) that spreads pair hashes before
// they are added.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// knownKeys records every alert key the database holds, as 64-bit hashes,
// so that a new alert (the whole of an alert storm) needs no lookup. A
// hash collision only costs the lookup it would have saved. It is used
// only when this process is the database's one writer (SQLite).
type knownKeys struct {
	mu sync.RWMutex
	m  map[uint64]struct{}
}

func keyHash(k alertKey) uint64 {
	return mix(fnvString(fnvString(fnvOffset, k.source), k.fingerprint))
}

func (kk *knownKeys) has(k alertKey) bool {
	kk.mu.RLock()
	_, ok := kk.m[keyHash(k)]
	kk.mu.RUnlock()
	return ok
}

func (kk *knownKeys) add(keys map[alertKey]bool) {
	if len(keys) == 0 {
		return
	}
	kk.mu.Lock()
	for k := range keys {
		kk.m[keyHash(k)] = struct{}{}
	}
	kk.mu.Unlock()
}

func (s *Store) loadKnown(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT source, fingerprint FROM alerts`)
	if err != nil {
		return fmt.Errorf("load alert keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k alertKey
		if err := rows.Scan(&k.source, &k.fingerprint); err != nil {
			return fmt.Errorf("load alert keys: %w", err)
		}
		s.known.m[keyHash(k)] = struct{}{}
	}
	return rows.Err()
}

// replaceOpen makes the set of open incidents the given one (a reload from
// a shared database).
func (c *alertCache) replaceOpen(all map[int64]inhibitEntry) {
	open := make(map[int64]struct{}, len(all))
	for id := range all {
		open[id] = struct{}{}
	}
	c.mu.Lock()
	c.open = open
	c.mu.Unlock()
}
