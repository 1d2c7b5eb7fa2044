package server

import (
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// errBusy answers a body that would take the decoding budget past its
// limit: 503 with Retry-After, so the sender retries it later.
var errBusy = errors.New("too many bodies being decoded, retry later")

// largeBody is the size from which a request, when it is the last one
// being decoded, hands the memory its decoding took back to the system.
const largeBody = 256 << 10

// freeEvery spaces the hand-backs: each is a full garbage collection
// (tens of milliseconds of CPU), which a stream of large bodies must not
// be able to trigger on every request.
const freeEvery = 10 * time.Second

// decodeBudget caps the bytes of the ingest bodies being decoded and
// stored at once (server.max_decoding_bytes). Decoding costs many times a
// body's size (see adapters.BenchmarkDecodeWorstCase), so the budget, not
// the number of requests, is what bounds the gateway's memory.
type decodeBudget struct {
	limit int64
	used  atomic.Int64
	now   func() time.Time
	// free hands the heap back to the system (debug.FreeOSMemory).
	free func()

	mu       sync.Mutex // guards lastFree and later; held while freeing
	lastFree time.Time
	// later is armed when a hand-back was due within freeEvery of the
	// last: it runs once the interval has passed, so the memory of the
	// burst's end goes back too. Stopped by stop.
	later   *time.Timer
	stopped bool
}

func newDecodeBudget(limit int64, now func() time.Time) *decodeBudget {
	// The hand-back is a full collection (~100 ms on a large heap): it
	// runs beside the request, whose answer does not wait for it.
	return &decodeBudget{limit: limit, now: now, free: func() { go debug.FreeOSMemory() }}
}

// take reserves n bytes, or reports false when that would pass the
// limit while other bodies are being decoded: a body alone always goes
// (validation keeps max_decoding_bytes ≥ max_body_bytes anyway).
func (b *decodeBudget) take(n int64) bool {
	if u := b.used.Add(n); u > b.limit && u != n {
		b.used.Add(-n)
		return false
	}
	return true
}

// give returns n bytes. When a large body was the last one being decoded,
// the heap its burst grew is handed back to the system now rather than
// minutes later, at most once per freeEvery.
func (b *decodeBudget) give(n int64) {
	if b.used.Add(-n) != 0 || n < largeBody {
		return
	}
	if !b.mu.TryLock() {
		return
	}
	defer b.mu.Unlock()
	now := b.now()
	if wait := freeEvery - now.Sub(b.lastFree); !b.lastFree.IsZero() && wait > 0 {
		if b.later == nil && !b.stopped {
			b.later = time.AfterFunc(wait, b.freeIfIdle)
		}
		return
	}
	b.lastFree = now
	b.free()
}

// freeIfIdle is the deferred hand-back: it runs when no body is being
// decoded (a body in flight will hand back itself when it is done).
func (b *decodeBudget) freeIfIdle() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.later = nil
	if b.stopped || b.used.Load() != 0 {
		return
	}
	b.lastFree = b.now()
	b.free()
}

// stop cancels a deferred hand-back; the server calls it on shutdown.
func (b *decodeBudget) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	if b.later != nil {
		b.later.Stop()
		b.later = nil
	}
}
