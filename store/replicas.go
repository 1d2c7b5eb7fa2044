package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

// What several replicas on one database need.
//
// Writes are safe by construction: every change runs in a transaction that
// re-reads what it changes, claims use FOR UPDATE SKIP LOCKED, and a
// transaction that loses a race (unique violation on the open-group index,
// serialization failure, deadlock) runs again. What needs care is memory:
//
//   - The repeat fast path answers an unchanged firing alert from memory.
//     On a shared database another replica may have resolved the alert or
//     its incident since, so a hit is confirmed by one indexed read per
//     request (validateHits) before it is answered as unchanged.
//   - Open incidents (inhibition sources), API silences and on-call
//     overrides are reloaded every SyncEvery (1 s), so a change made
//     through another replica takes effect here within that time.
//   - Periodic work (the re-evaluation sweep of suppressed alerts, digests)
//     runs on one replica at a time: the holder of the "periodic" lease.

// leaseName is the lease of periodic work.
const leaseName = "periodic"

// Default lease timing: a leader renews every leaseTTL/3; a dead leader's
// lease is taken over at most leaseTTL after its last renewal.
const defaultLeaseTTL = 15 * time.Second

// instanceID names this process among replicas: host, pid and a random
// suffix (a restarted process is a new holder).
func instanceID() string {
	host, _ := os.Hostname()
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Leader reports whether this replica holds the periodic-work lease (as of
// its last renewal). A store alone on its database (SQLite) always does.
func (s *Store) Leader() bool { return s.leader.Load() }

// renewLease takes or renews the periodic-work lease: it succeeds when the
// lease is free, expired, or already ours.
func (s *Store) renewLease(ctx context.Context) (bool, error) {
	now := s.now()
	var n int64
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at < ?`, leaseName, s.instance, ms(now.Add(s.leaseTTL)), ms(now))
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// releaseLease gives the lease up (clean shutdown) so another replica
// takes over at its next renewal instead of after the TTL.
func (s *Store) releaseLease(ctx context.Context) error {
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, leaseName, s.instance)
		return err
	})
}

// lead renews the lease once and records the outcome; a failure to reach
// the database drops leadership (another replica may take it).
func (s *Store) lead(ctx context.Context) {
	ok, err := s.renewLease(ctx)
	if err != nil {
		s.log.Warn("renew the periodic-work lease", zap.Error(err))
		ok = false
	}
	if was := s.leader.Swap(ok); was != ok {
		if ok {
			s.log.Info("this replica now runs periodic work (lease taken)", zap.String("instance", s.instance))
		} else {
			s.log.Info("another replica runs periodic work (lease lost)", zap.String("instance", s.instance))
		}
	}
}

// syncLoop keeps a shared store's memory close to the database: the lease
// every leaseTTL/3, open incidents, silences and overrides every SyncEvery.
func (s *Store) syncLoop(every time.Duration) {
	defer close(s.syncDone)
	sync := time.NewTicker(every)
	defer sync.Stop()
	renew := time.NewTicker(s.leaseTTL / 3)
	defer renew.Stop()
	for {
		select {
		case <-s.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if s.leader.Load() {
				if err := s.releaseLease(ctx); err != nil {
					s.log.Warn("release the periodic-work lease", zap.Error(err))
				}
			}
			if err := s.leave(ctx); err != nil {
				s.log.Warn("leave the replica list", zap.Error(err))
			}
			cancel()
			return
		case <-renew.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.leaseTTL/3)
			s.lead(ctx)
			if err := s.heartbeat(ctx); err != nil {
				s.log.Warn("heartbeat", zap.Error(err))
			}
			s.checkConfigs(ctx)
			cancel()
		case <-sync.C:
			ctx, cancel := context.WithTimeout(context.Background(), every*5)
			if err := s.sync(ctx); err != nil {
				s.log.Warn("refresh from the database", zap.Error(err))
			}
			cancel()
		}
	}
}

// sync reloads what other replicas may have changed.
func (s *Store) sync(ctx context.Context) error {
	return errors.Join(s.syncOpenIncidents(ctx), s.loadSilences(ctx), s.loadOverrides(ctx))
}

// The open-incident view is refreshed from the incidents changed since the
// last sync (less syncMargin, for replicas' clock skew and transactions in
// flight), and reloaded whole every fullSyncEvery: a second's sync must
// not decode every open incident's alert when thousands are open.
const (
	syncMargin    = 5 * time.Second
	fullSyncEvery = time.Minute
)

// syncOpenIncidents brings the open-incident view up to date with the
// database (sync loop only).
func (s *Store) syncOpenIncidents(ctx context.Context) error {
	now := s.now()
	if s.lastFullSync.IsZero() || now.Sub(s.lastFullSync) >= fullSyncEvery {
		if err := s.reloadOpenIncidents(ctx); err != nil {
			return err
		}
		s.lastFullSync, s.syncedTo = now, now.Add(-syncMargin)
		return nil
	}
	// The changed incidents without their alerts first: with the margin
	// each is read several times, and an open incident already in the
	// view only needs its severity. The first alert (its data decoded) is
	// read once, for the open incidents the view does not hold yet.
	var missing []int64
	err := s.queryChanged(ctx, ms(s.syncedTo), func(id int64, sev alert.Severity, open bool) {
		if !open {
			s.cache.closed(id)
			s.open.remove(id)
			return
		}
		s.cache.opened(id)
		if had, ok := s.open.severityOf(id); !ok {
			missing = append(missing, id)
		} else if had != sev {
			s.open.severity(id, sev)
		}
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		err := s.queryIncidents(ctx, `i.id = ANY(?)`, []any{missing}, func(id int64, gk string, open bool, src rules.InhibitSource) {
			if open {
				s.open.set(id, gk, src)
			}
		})
		if err != nil {
			return err
		}
	}
	s.syncedTo = now.Add(-syncMargin)
	return nil
}

// queryChanged calls fn for every incident whose updated_at is at or
// after since, with its severity and whether it is open.
func (s *Store) queryChanged(ctx context.Context, since int64, fn func(id int64, sev alert.Severity, open bool)) error {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, severity, status <> 'resolved' FROM incidents WHERE updated_at >= ?`), since)
	if err != nil {
		return fmt.Errorf("%w: changed incidents: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var sev int
		var open bool
		if err := rows.Scan(&id, &sev, &open); err != nil {
			return fmt.Errorf("changed incidents: %w", err)
		}
		fn(id, alert.Severity(sev), open)
	}
	return rows.Err()
}

// reloadOpenIncidents replaces the open-incident view with the database's.
func (s *Store) reloadOpenIncidents(ctx context.Context) error {
	fresh := newOpenIncidents()
	if err := s.queryOpenIncidents(ctx, func(id int64, gk string, src rules.InhibitSource) { fresh.all[id] = inhibitEntry{gk, src} }); err != nil {
		return err
	}
	// The cache copies the ids first: from replace on, the map is the open
	// view's, changed under its lock.
	s.cache.replaceOpen(fresh.all)
	s.open.replace(fresh.all)
	return nil
}

// validateHits confirms repeat fast-path hits against the database (shared
// stores): a hit stands when the stored alert still has the same content,
// is firing, and its incident is still open (or, for a suppressed alert,
// it is still suppressed). It returns which hits stand; the others are
// dropped from the cache and go through the writer. Concurrent requests'
// hits are confirmed together, one query per round (confirmLoop).
func (s *Store) validateHits(ctx context.Context, hits []hit) ([]bool, error) {
	req := &confirmReq{hits: hits, res: make(chan confirmRes, 1)}
	r, err := handOff(ctx, s.stop, s.confirms, req, req.res)
	if err != nil {
		return nil, err
	}
	return r.ok, r.err
}

type confirmReq struct {
	hits []hit
	res  chan confirmRes
}

type confirmRes struct {
	ok  []bool
	err error
}

// confirmers is how many confirmation queries run at once.
const confirmers = 2

// maxConfirm bounds the alerts one confirmation query asks about.
const maxConfirm = 1000

// confirmLoop answers confirmation requests, all those queued together in
// one query.
func (s *Store) confirmLoop() {
	defer s.confirmWG.Done()
	for {
		var first *confirmReq
		select {
		case first = <-s.confirms:
		case <-s.stop:
			return
		}
		reqs := []*confirmReq{first}
		n := len(first.hits)
	fill:
		for n < maxConfirm {
			select {
			case r := <-s.confirms:
				reqs = append(reqs, r)
				n += len(r.hits)
			default:
				break fill
			}
		}
		keys := make([]alertKey, 0, n)
		for _, r := range reqs {
			for _, h := range r.hits {
				keys = append(keys, h.key)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		found, err := s.alertStates(ctx, keys)
		cancel()
		for _, r := range reqs {
			if err != nil {
				r.res <- confirmRes{err: err}
				continue
			}
			r.res <- confirmRes{ok: s.judgeHits(r.hits, found)}
		}
	}
}

// alertState is what confirming a repeat needs to know of a stored alert.
type alertState struct {
	hash       uint64
	status     string
	incident   int64
	suppressed string
	incStatus  string
}

// alertStates reads the stored state of the given alerts and their
// incidents (one query, by the unique (source, fingerprint) index).
func (s *Store) alertStates(ctx context.Context, keys []alertKey) (map[alertKey]alertState, error) {
	sources, fps := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		sources[i], fps[i] = k.source, k.fingerprint
	}
	// Shared stores are PostgreSQL: the keys go as two arrays.
	rows, err := s.r.QueryContext(ctx, `SELECT a.source, a.fingerprint, a.hash, a.status, COALESCE(a.incident_id, 0), a.suppressed, COALESCE(i.status, '')
FROM unnest($1::text[], $2::text[]) AS k(source, fingerprint)
JOIN alerts a ON a.source = k.source AND a.fingerprint = k.fingerprint
LEFT JOIN incidents i ON i.id = a.incident_id`, sources, fps)
	if err != nil {
		return nil, fmt.Errorf("%w: confirm repeats: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	found := make(map[alertKey]alertState, len(keys))
	for rows.Next() {
		var k alertKey
		var st alertState
		var h int64
		if err := rows.Scan(&k.source, &k.fingerprint, &h, &st.status, &st.incident, &st.suppressed, &st.incStatus); err != nil {
			return nil, fmt.Errorf("%w: confirm repeats: %v", ErrUnavailable, err)
		}
		st.hash = uint64(h)
		found[k] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: confirm repeats: %v", ErrUnavailable, err)
	}
	return found, nil
}

// judgeHits decides which hits stand given the stored states, and drops
// from memory what another replica changed.
func (s *Store) judgeHits(hits []hit, found map[alertKey]alertState) []bool {
	ok := make([]bool, len(hits))
	for i, h := range hits {
		r, exists := found[h.key]
		switch {
		case !exists || r.hash != h.hash || r.status != string(alert.StatusFiring):
		case h.incident == suppressedIncident:
			ok[i] = r.suppressed != ""
		default:
			ok[i] = r.incident == h.incident && r.incStatus != "" && r.incStatus != string(alert.IncidentResolved)
			if r.incident == h.incident && r.incStatus == string(alert.IncidentResolved) {
				s.cache.closed(h.incident)
				s.open.remove(h.incident)
			}
		}
		if !ok[i] {
			s.cache.drop(h.key)
		}
	}
	return ok
}

// hit is a repeat answered from the cache, pending confirmation.
type hit struct {
	a        alert.Alert
	hash     uint64
	key      alertKey
	incident int64
	stamped  bool // starts_at is the gateway's (item.stamped)
}

// Replica is one gateway process on the database.
type Replica struct {
	Instance string `json:"instance"`
	Version  string `json:"version"`
	// ConfigHash is config.Fingerprint of the config it runs.
	ConfigHash string    `json:"config_hash"`
	StartedAt  time.Time `json:"started_at"`
	SeenAt     time.Time `json:"seen_at"`
	// Leader: it holds the periodic-work lease.
	Leader bool `json:"leader"`
	// Self: the replica that answered.
	Self bool `json:"self"`
}

type identity struct {
	version, configHash string
	started             time.Time
}

// SetIdentity records the version and config this process runs (at start
// and after each config reload); replicas show it to each other.
func (s *Store) SetIdentity(ctx context.Context, version, configHash string) error {
	id := &identity{version: version, configHash: configHash, started: s.now()}
	if old := s.ident.Load(); old != nil {
		id.started = old.started
	}
	s.ident.Store(id)
	if !s.shared {
		return nil
	}
	return s.heartbeat(ctx)
}

// heartbeat says this replica is alive and what it runs.
func (s *Store) heartbeat(ctx context.Context) error {
	id := s.ident.Load()
	if id == nil {
		return nil
	}
	now := ms(s.now())
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `INSERT INTO replicas (instance, version, config_hash, started_at, seen_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (instance) DO UPDATE SET version = excluded.version, config_hash = excluded.config_hash, seen_at = excluded.seen_at`,
			s.instance, id.version, id.configHash, ms(id.started), now)
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		return nil
	})
}

// leave removes this replica from the list (clean shutdown).
func (s *Store) leave(ctx context.Context) error {
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `DELETE FROM replicas WHERE instance = ?`, s.instance)
		return err
	})
}

// Replicas lists the live gateway processes on this database: those seen
// within three lease periods (a store alone on its database: itself).
func (s *Store) Replicas(ctx context.Context) ([]Replica, error) {
	if !s.shared {
		r := Replica{Instance: s.instance, Leader: true, Self: true, SeenAt: s.now()}
		if id := s.ident.Load(); id != nil {
			r.Version, r.ConfigHash, r.StartedAt = id.version, id.configHash, id.started
		}
		return []Replica{r}, nil
	}
	now := s.now()
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT r.instance, r.version, r.config_hash, r.started_at, r.seen_at, COALESCE(l.holder, '') = r.instance
FROM replicas r LEFT JOIN leases l ON l.name = ? AND l.expires_at >= ?
WHERE r.seen_at >= ? ORDER BY r.started_at, r.instance`), leaseName, ms(now), ms(now.Add(-3*s.leaseTTL)))
	if err != nil {
		return nil, fmt.Errorf("%w: replicas: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	out := []Replica{}
	for rows.Next() {
		var r Replica
		var started, seen int64
		if err := rows.Scan(&r.Instance, &r.Version, &r.ConfigHash, &started, &seen, &r.Leader); err != nil {
			return nil, fmt.Errorf("replicas: %w", err)
		}
		r.StartedAt, r.SeenAt, r.Self = fromMS(started), fromMS(seen), r.Instance == s.instance
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	return out, nil
}

// checkConfigs warns, on the leader, when live replicas run different
// configs (once per change of the set of fingerprints), and keeps the
// alertgate_replicas figures.
func (s *Store) checkConfigs(ctx context.Context) {
	list, err := s.Replicas(ctx)
	if err != nil {
		s.log.Warn("list replicas", zap.Error(err))
		return
	}
	hashes := map[string][]string{}
	for _, r := range list {
		hashes[r.ConfigHash] = append(hashes[r.ConfigHash], r.Instance)
	}
	s.replicaCount.Store(int64(len(list)))
	s.configCount.Store(int64(len(hashes)))
	key := fmt.Sprint(hashes)
	if len(hashes) > 1 && s.Leader() && key != s.lastDrift {
		s.log.Warn("replicas run different configs: deploy the same file to every replica and reload", zap.Any("instances_by_config", hashes))
	}
	s.lastDrift = key
}

// ReplicaCounts are the live replicas and how many different configs they
// run (alertgate_replicas, alertgate_replica_configs).
func (s *Store) ReplicaCounts() (replicas, configs int64) {
	return s.replicaCount.Load(), s.configCount.Load()
}
