// Package metrics holds RustyPotato's hot-path metric types: a Counter and a
// latency Histogram that record with a single atomic add and no allocation
// or lock, and a Set of per-command statistics whose Summary aggregates
// them without allocating.
//
// The Histogram has the layout of Redis's LATENCY HISTOGRAM: power-of-two
// microsecond buckets, bucket i holding latencies in [2^(i-1), 2^i) µs
// (bucket 0: under 1µs). Readers take a Snapshot, which is a plain value
// that can be merged, queried for percentiles and converted into any
// exposition format (the Prometheus collector of package respserver
// converts it into a native Prometheus histogram at scrape time).
//
// Snapshots are not atomic across buckets: a snapshot taken while records
// happen may include some of them and not others, but never counts a record
// twice, and every count is monotonic between resets.
package metrics

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Counter is a lock-free, allocation-free int64 counter. The zero value is
// ready to use. A Counter must not be copied after first use.
type Counter struct {
	v atomic.Int64
}

// Add adds n (which may be negative, for a gauge) to the counter.
func (c *Counter) Add(n int64) { c.v.Add(n) }

// Inc adds one to the counter.
func (c *Counter) Inc() { c.v.Add(1) }

// Load returns the counter's value.
func (c *Counter) Load() int64 { return c.v.Load() }

// Reset sets the counter to zero.
func (c *Counter) Reset() { c.v.Store(0) }

// NumBuckets is the number of Histogram buckets. The last bucket also holds
// every latency beyond its range (2^38 µs, about 76 hours).
const NumBuckets = 40

// BucketOf returns the index of the bucket that holds latency d: the number
// of bits of d in whole microseconds, so bucket i holds [2^(i-1), 2^i) µs.
// Negative durations count as zero.
func BucketOf(d time.Duration) int {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	i := bits.Len64(uint64(us))
	if i >= NumBuckets {
		i = NumBuckets - 1
	}
	return i
}

// BucketUpperMicros returns the exclusive upper bound of bucket i in
// microseconds, 2^i: every latency in bucket i is below it. (Bucket
// NumBuckets-1 is open-ended.)
func BucketUpperMicros(i int) int64 { return int64(1) << i }

// Histogram is a lock-free, allocation-free latency histogram with
// power-of-two microsecond buckets. The zero value is ready to use. A
// Histogram must not be copied after first use.
type Histogram struct {
	b [NumBuckets]atomic.Int64
}

// Record adds one latency d: one atomic add.
func (h *Histogram) Record(d time.Duration) {
	h.b[BucketOf(d)].Add(1)
}

// RecordMicros adds one latency of us microseconds.
func (h *Histogram) RecordMicros(us int64) {
	h.Record(time.Duration(us) * time.Microsecond)
}

// Snapshot returns the current bucket counts.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	for i := range h.b {
		s.Buckets[i] = h.b[i].Load()
	}
	return s
}

// Percentile returns an upper bound in µs of the p-th percentile (p in
// 0..100) of the recorded latencies, or 0 if there are none; see
// HistogramSnapshot.Percentile.
func (h *Histogram) Percentile(p float64) float64 {
	s := h.Snapshot()
	return s.Percentile(p)
}

// Count returns the number of recorded latencies.
func (h *Histogram) Count() int64 {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	return n
}

// Reset clears every bucket.
func (h *Histogram) Reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

// HistogramSnapshot is a copy of a Histogram's bucket counts
// (non-cumulative: Buckets[i] is the number of latencies in bucket i).
type HistogramSnapshot struct {
	Buckets [NumBuckets]int64
}

// Count returns the number of latencies in the snapshot.
func (s *HistogramSnapshot) Count() int64 {
	var n int64
	for _, c := range s.Buckets {
		n += c
	}
	return n
}

// Merge adds o's counts to s.
func (s *HistogramSnapshot) Merge(o *HistogramSnapshot) {
	for i, c := range o.Buckets {
		s.Buckets[i] += c
	}
}

// Percentile returns an upper bound in µs of the p-th percentile (p in
// 0..100): the upper bound 2^i of the first bucket i at which the
// cumulative count reaches p% of the total (rounded to the nearest
// latency, at least the first). It returns 0 for an empty
// snapshot. This is the figure INFO latencystats reports.
func (s *HistogramSnapshot) Percentile(p float64) float64 {
	total := s.Count()
	if total == 0 {
		return 0
	}
	want := int64(float64(total)*p/100 + 0.5)
	if want < 1 {
		want = 1
	}
	var seen int64
	for i, n := range s.Buckets {
		seen += n
		if seen >= want {
			return float64(BucketUpperMicros(i))
		}
	}
	return float64(BucketUpperMicros(NumBuckets - 1))
}
