package main

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBucketBounds(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 999_999, 1 << 40, math.MaxUint64}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketBounds(i)
		require.Less(t, i, numBuckets, "v=%d", v)
		require.LessOrEqual(t, lo, v, "v=%d", v)
		require.GreaterOrEqual(t, hi, v, "v=%d", v)
		if v >= exactLimit {
			require.LessOrEqual(t, float64(hi-lo+1)/float64(lo), 1.0/subBuckets, "bucket of %d too wide", v)
		}
	}
	t.Run("buckets tile the line", func(t *testing.T) {
		for i := 1; i < numBuckets; i++ {
			_, prevHi := bucketBounds(i - 1)
			lo, _ := bucketBounds(i)
			require.Equal(t, prevHi+1, lo, "bucket %d", i)
		}
	})
}

func TestPercentile(t *testing.T) {
	uniform := func(n int) []time.Duration { // 1µs, 2µs, … n µs
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * time.Microsecond
		}
		return out
	}
	tests := []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "empty", p: 50, want: 0},
		{name: "single", values: []time.Duration{3 * time.Millisecond}, p: 99, want: 3 * time.Millisecond},
		{name: "exact small values", values: []time.Duration{5, 1, 4, 2, 3}, p: 50, want: 3},
		{name: "nearest rank rounds up", values: []time.Duration{10, 20, 30, 40}, p: 50, want: 20},
		{name: "p100 is the maximum", values: uniform(1000), p: 100, want: 1000 * time.Microsecond},
		{name: "p50 of 1..1000 µs", values: uniform(1000), p: 50, want: 500 * time.Microsecond},
		{name: "p99 of 1..1000 µs", values: uniform(1000), p: 99, want: 990 * time.Microsecond},
		{name: "outlier only moves p100", values: append(uniform(99), time.Second), p: 99, want: 99 * time.Microsecond},
		{name: "negative counts as zero", values: []time.Duration{-5}, p: 50, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, v := range tc.values {
				h.record(v)
			}
			got := h.percentile(tc.p)
			tol := float64(tc.want) / subBuckets // one bucket's width
			require.InDelta(t, float64(tc.want), float64(got), tol, "got %s", got)
			require.GreaterOrEqual(t, got, tc.want, "reported as the bucket's upper bound")
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := range 2000 {
		d := time.Duration(i*i) * time.Nanosecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{})
	require.Equal(t, all, m)
}
