package server

import (
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// errBusy answers a body that would take the decoding budget past its
// limit: 503 with Retry-After, so the sender retries it later.
var errBusy = errors.New("too many bodies being decoded, retry later")

// largeBody is the size from which a request, when it is the last one
// being decoded, hands the memory its decoding took back to the system.
const largeBody = 256 << 10

// decodeBudget caps the bytes of the ingest bodies being decoded and
// stored at once (server.max_decoding_bytes). Decoding costs many times a
// body's size (see adapters.BenchmarkDecodeWorstCase), so the budget, not
// the number of requests, is what bounds the gateway's memory.
type decodeBudget struct {
	limit int64
	used  atomic.Int64
	// freeing is held while memory is handed back, by one request at a
	// time.
	freeing sync.Mutex
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
// the heap it grew is returned to the system now rather than minutes
// later: after a burst the gateway shrinks back at once.
func (b *decodeBudget) give(n int64) {
	if b.used.Add(-n) != 0 || n < largeBody {
		return
	}
	if b.freeing.TryLock() {
		debug.FreeOSMemory()
		b.freeing.Unlock()
	}
}
