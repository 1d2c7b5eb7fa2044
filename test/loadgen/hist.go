package main

import (
	"math"
	"math/bits"
	"time"
)

// Latencies are recorded in a log-linear histogram, like HdrHistogram with
// two significant binary digits more than a percent: values below
// 2*subBuckets nanoseconds are exact, larger ones fall into one of
// subBuckets equal buckets per power of two, so a bucket's width is at
// most 1/subBuckets (1.6 %) of its values. Recording is an array
// increment; each worker owns its histogram and they are merged at the end.
const (
	subBucketBits = 6
	subBuckets    = 1 << subBucketBits // 64
	exactLimit    = 2 * subBuckets     // values below are their own bucket
	// numBuckets covers every uint64: shifts 1..57 above exactLimit.
	numBuckets = exactLimit + (64-subBucketBits-1)*subBuckets
)

// histogram counts durations in log-linear buckets. The zero value is empty
// and ready to use.
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	min, max uint64 // nanoseconds; valid when n > 0
}

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	if v < exactLimit {
		return int(v)
	}
	shift := bits.Len64(v) - (subBucketBits + 1) // leaves v>>shift in [64, 128)
	return exactLimit + (shift-1)*subBuckets + int(v>>uint(shift)) - subBuckets
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < exactLimit {
		return uint64(i), uint64(i)
	}
	i -= exactLimit
	shift := uint(i/subBuckets + 1)
	m := uint64(i%subBuckets + subBuckets)
	lo = m << shift
	return lo, lo + (1 << shift) - 1
}

// record adds one duration; negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
}

// merge adds the counts of o to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100): the
// smallest recorded value such that at least p % of the values are at most
// it, reported as the upper bound of its bucket clamped to the observed
// minimum and maximum. An empty histogram gives 0.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
