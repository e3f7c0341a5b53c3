package metrics

import (
	"sync"
	"testing"
	"time"
)

func TestBucketOf(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{999 * time.Nanosecond, 0},
		{time.Microsecond, 1},
		{2 * time.Microsecond, 2},
		{3 * time.Microsecond, 2},
		{4 * time.Microsecond, 3},
		{1023 * time.Microsecond, 10},
		{1024 * time.Microsecond, 11},
		{time.Second, 20}, // 1e6 µs: 2^19 <= 1e6 < 2^20
		{1000 * time.Hour, NumBuckets - 1},
	}
	for _, c := range cases {
		if got := BucketOf(c.d); got != c.want {
			t.Errorf("BucketOf(%v) = %d, want %d", c.d, got, c.want)
		}
		if c.want > 0 && c.want < NumBuckets-1 {
			us := c.d.Microseconds()
			if lo, hi := BucketUpperMicros(c.want-1), BucketUpperMicros(c.want); us < lo || us >= hi {
				t.Errorf("%v (%dµs) not in bucket %d's range [%d, %d)", c.d, us, c.want, lo, hi)
			}
		}
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c.Inc()
				c.Add(2)
			}
		}()
	}
	wg.Wait()
	if got := c.Load(); got != 8*1000*3 {
		t.Fatalf("Load = %d, want %d", got, 8*1000*3)
	}
	c.Reset()
	if got := c.Load(); got != 0 {
		t.Fatalf("after Reset: %d", got)
	}
}

func TestHistogramPercentile(t *testing.T) {
	var h Histogram
	if got := h.Percentile(50); got != 0 {
		t.Fatalf("empty Percentile = %v, want 0", got)
	}
	// 90 latencies of 100µs (bucket 7, < 128µs), 9 of 1ms (bucket 10,
	// < 1024µs), 1 of 50ms (bucket 16, < 65536µs).
	for i := 0; i < 90; i++ {
		h.Record(100 * time.Microsecond)
	}
	for i := 0; i < 9; i++ {
		h.Record(time.Millisecond)
	}
	h.RecordMicros(50_000)
	if got := h.Count(); got != 100 {
		t.Fatalf("Count = %d", got)
	}
	for _, c := range []struct{ p, want float64 }{
		{0, 128}, {50, 128}, {90, 128}, {91, 1024}, {99, 1024}, {99.9, 65536}, {100, 65536},
	} {
		if got := h.Percentile(c.p); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	h.Record(0)
	s := h.Snapshot()
	if s.Buckets[0] != 1 || s.Buckets[7] != 90 || s.Buckets[10] != 9 || s.Buckets[16] != 1 || s.Count() != 101 {
		t.Fatalf("snapshot %v", s.Buckets)
	}
	var only0 Histogram
	only0.Record(10 * time.Nanosecond)
	if got := only0.Percentile(50); got != 1 {
		t.Errorf("sub-µs Percentile = %v, want 1", got)
	}
	h.Reset()
	if h.Count() != 0 {
		t.Fatal("Reset left counts")
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				h.Record(time.Duration(i*g) * time.Microsecond)
			}
		}(g)
	}
	wg.Wait()
	if got := h.Count(); got != 20000 {
		t.Fatalf("Count = %d, want 20000", got)
	}
}

func TestSetSummary(t *testing.T) {
	s := NewSet("get", "set", "get")
	if s.Len() != 2 || s.At(0).Name != "get" || s.At(1).Name != "set" {
		t.Fatalf("commands: %d", s.Len())
	}
	if s.Command([]byte("nope")) != nil {
		t.Fatal("unknown command found")
	}
	get, set := s.Command([]byte("get")), s.Command([]byte("set"))
	get.Record(3*time.Microsecond, false)
	get.Record(5*time.Microsecond, true)
	set.Record(10*time.Microsecond, false)
	set.Rejected.Inc()
	s.NetInput.Add(100)
	s.NetOutput.Add(40)
	s.KeyspaceHits.Add(3)
	s.KeyspaceMisses.Inc()
	s.ConnectedClients.Add(2)
	s.ConnectedClients.Add(-1)
	s.Unknown.Inc()

	sum := s.Summary()
	if sum.Calls != 3 || sum.Micros != 18 || sum.Failed != 1 || sum.Rejected != 1 || sum.Unknown != 1 {
		t.Fatalf("summary counts %+v", sum)
	}
	if sum.NetInputBytes != 100 || sum.NetOutputBytes != 40 || sum.ConnectedClients != 1 {
		t.Fatalf("summary net %+v", sum)
	}
	if sum.Latency.Count() != 3 || sum.Latency.Buckets[2] != 1 || sum.Latency.Buckets[3] != 1 || sum.Latency.Buckets[4] != 1 {
		t.Fatalf("merged latency %v", sum.Latency.Buckets)
	}
	if got := sum.MeanMicros(); got != 6 {
		t.Errorf("MeanMicros = %v", got)
	}
	if got := sum.HitRatio(); got != 0.75 {
		t.Errorf("HitRatio = %v", got)
	}
	if got := sum.Latency.Percentile(100); got != 16 {
		t.Errorf("p100 = %v", got)
	}

	var merged HistogramSnapshot
	g, st := get.Latency.Snapshot(), set.Latency.Snapshot()
	merged.Merge(&g)
	merged.Merge(&st)
	if merged != sum.Latency {
		t.Errorf("Merge %v != summary %v", merged.Buckets, sum.Latency.Buckets)
	}

	s.Reset()
	sum = s.Summary()
	if sum.Calls != 0 || sum.NetInputBytes != 0 || sum.Latency.Count() != 0 || sum.ConnectedClients != 1 {
		t.Fatalf("after Reset %+v", sum)
	}
	var empty Summary
	if empty.MeanMicros() != 0 || empty.HitRatio() != 0 {
		t.Fatal("empty summary ratios")
	}
}

func TestNoAllocations(t *testing.T) {
	s := NewSet("get", "set")
	name := []byte("get")
	var sum Summary
	allocs := testing.AllocsPerRun(100, func() {
		c := s.Command(name)
		c.Record(7*time.Microsecond, false)
		s.NetInput.Add(10)
		s.SummaryInto(&sum)
		_ = sum.Latency.Percentile(99)
		_ = s.Summary()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
