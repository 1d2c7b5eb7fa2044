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

	mu       sync.Mutex // guards lastFree; held while freeing
	lastFree time.Time
}

func newDecodeBudget(limit int64, now func() time.Time) *decodeBudget {
	return &decodeBudget{limit: limit, now: now, free: debug.FreeOSMemory}
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
	if now := b.now(); b.lastFree.IsZero() || now.Sub(b.lastFree) >= freeEvery {
		b.lastFree = now
		b.free()
	}
}
