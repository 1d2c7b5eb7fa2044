package store

// Group commit: the single writer (commitLoop) takes every ingest request
// queued while the previous transaction ran and applies them in one
// transaction (applyBatch): group locks, the batch's prefetch, the
// incidents' count changes written once per incident. What each alert
// does to its incident: apply.go.

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/lifecycle"
)

type ingestReq struct {
	items []item
	res   chan ingestRes
}

type ingestRes struct {
	incidents []int64
	err       error
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
	t, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	t.written = map[int64][]*alert.Alert{}
	ap := &applier{Tx: *t, now: s.now(), added: map[int64][]string{},
		counts: map[int64]countDelta{}, groupOpen: map[string]openRef{}, batchKeys: map[alertKey]bool{}}
	if err := ap.lockGroups(batch); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.prefetch(batch); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.prefetchGroups(ap.groupsNeeded(batch)); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.reserveOpenings(batch); err != nil {
		ap.rollback()
		return nil, err
	}
	results := make([][]int64, len(batch))
	for i, r := range batch {
		for j := range r.items {
			inc, err := ap.apply(&r.items[j])
			if err != nil {
				ap.rollback()
				return nil, err
			}
			ap.batchKeys[r.items[j].key] = true
			if inc != 0 {
				results[i] = append(results[i], inc)
			}
		}
	}
	if err := ap.flushCounts(); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.flushAdded(); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.runImmediate(); err != nil {
		ap.rollback()
		return nil, err
	}
	if err := ap.commit(); err != nil {
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
	// groupsRead are the groups prefetchGroups read: groupOpen holds
	// their open incident, if any, and latestRead the latest incident
	// resolved within the reopen look-back, if any.
	groupsRead map[string]bool
	latestRead map[string]*lifecycle.Latest
	// batchKeys are the alerts this batch wrote (see lookup).
	batchKeys map[alertKey]bool
	// notes are the join notes written, kept once the batch commits.
	notes []noteUpdate
	// reserved are incident ids taken for the batch's new incidents
	// (reserveOpenings), in the order they are used.
	reserved []int64
	// held keeps the suppression checks reserveOpenings made.
	held map[*item]heldCheck
	// immediate are the steps due at once of the incidents this batch
	// opened (runImmediate).
	immediate []immediate
	// opened holds the incidents this batch opened, as stored, with the
	// batch's count changes (openedIncident).
	opened map[int64]*alert.Incident

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
	delete(ap.opened, inc) // read back from now on
	var n int
	err := ap.queryRow(ap.ctx, `UPDATE incidents SET alert_count = alert_count + ?, firing_count = firing_count + ?, updated_at = ? WHERE id = ? RETURNING firing_count`,
		d.alerts, d.firing+by, ms(ap.now), inc).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("update incident counts: %w", err)
	}
	return n, nil
}

// Ingest's advisory locks on PostgreSQL: groups hash into
// groupLockBuckets buckets. Two replicas' batches wait on each other only
// when they share a bucket; with 64 buckets two batches of 20 new groups
// almost always did, and a third replica then lost throughput instead of
// adding it. A transaction takes the bucket lock of each of its groups,
// at most maxGroupLocks of them (they use slots of the server's shared
// lock table); a batch of more groups takes the whole ingest instead.
const (
	groupLockBuckets = 4096
	maxGroupLocks    = 256
)

// lockGroups serializes ingest of the same groups across replicas (shared
// stores): before touching any row, the transaction takes the ingest lock
// (groupsLock) shared and then the advisory locks of its groups' buckets
// in ascending order, or, for more than maxGroupLocks buckets, the ingest
// lock alone and exclusive. Two
// replicas writing one group take turns, and the second sees the first's
// incident; two replicas writing different groups never wait in a cycle,
// so ingest does not deadlock (PostgreSQL would only detect it after
// deadlock_timeout). Both statements go in one round trip.
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
	if len(keys) > maxGroupLocks {
		if err := ap.write("lock ingest", `SELECT pg_advisory_xact_lock(?, ?)`, ap.s.lockClass, groupsLock); err != nil {
			return err
		}
		return ap.flush()
	}
	if err := ap.write("lock ingest", `SELECT pg_advisory_xact_lock_shared(?, ?)`, ap.s.lockClass, groupsLock); err != nil {
		return err
	}
	if err := ap.write("lock groups", `SELECT count(pg_advisory_xact_lock(?, k)) FROM (SELECT unnest(?::int[]) AS k ORDER BY 1) AS sorted`, ap.s.lockClass, keys); err != nil {
		return err
	}
	return ap.flush()
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
	rows, err := ap.query(ap.ctx, `SELECT a.source, a.fingerprint, a.id, COALESCE(a.incident_id, 0), a.status, a.hash,
COALESCE(i.status, ''), COALESCE(i.severity, 0), a.suppressed
FROM unnest(?::text[], ?::text[]) AS k(source, fingerprint)
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
		if o, ok := ap.opened[inc]; ok {
			o.AlertCount += d.alerts
			o.FiringCount += d.firing
			o.UpdatedAt = fromMS(ms(ap.now))
		}
		if err := ap.write("update incident counts", `UPDATE incidents SET alert_count = alert_count + ?, firing_count = firing_count + ?, updated_at = ? WHERE id = ?`,
			d.alerts, d.firing, ms(ap.now), inc); err != nil {
			return err
		}
	}
	clear(ap.counts)
	return nil
}
