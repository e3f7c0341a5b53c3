package respserver

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rustypotato/rustypotato/internal/metrics"
)

// serverStats are the server-wide counters INFO reports.
type serverStats struct {
	connectionsReceived atomic.Int64
	rejectedConns       atomic.Int64
	commands            atomic.Int64
	unknownCmds         atomic.Int64
	netIn, netOut       atomic.Int64
	keyspaceHits        atomic.Int64
	keyspaceMisses      atomic.Int64

	// The store's counters at the last CONFIG RESETSTAT: the store's own
	// counters are monotonic (metrics export them), so INFO reports the
	// difference.
	baseExpired, baseEvicted, baseHotHits, baseHotMisses atomic.Int64

	// BGSAVE state.
	bgsaveRunning   atomic.Bool
	bgsaveScheduled atomic.Bool  // BGSAVE SCHEDULE while one was running
	bgsaveFailed    atomic.Bool  // the last BGSAVE failed
	bgsaveLastSecs  atomic.Int64 // duration of the last BGSAVE + 1 (0: none yet)
	bgsaveStarted   atomic.Int64 // Unix seconds the running BGSAVE started
	saves           atomic.Int64 // SAVE and BGSAVE completed since RESETSTAT

	peakMemory atomic.Uint64 // highest used_memory INFO has seen
	rates      rateSampler
}

// reset clears the counters CONFIG RESETSTAT resets (Redis's
// resetServerStats); store counters are rebased at the given values.
func (st *serverStats) reset(expired, evicted, hotHits, hotMisses int64) {
	st.connectionsReceived.Store(0)
	st.rejectedConns.Store(0)
	st.commands.Store(0)
	st.unknownCmds.Store(0)
	st.netIn.Store(0)
	st.netOut.Store(0)
	st.keyspaceHits.Store(0)
	st.keyspaceMisses.Store(0)
	st.baseExpired.Store(expired)
	st.baseEvicted.Store(evicted)
	st.baseHotHits.Store(hotHits)
	st.baseHotMisses.Store(hotMisses)
	st.saves.Store(0)
	st.peakMemory.Store(0)
}

// rateSampler computes INFO's instantaneous_* figures as Redis does: every
// 100ms it samples the rate of a counter since the previous sample, and
// reports the mean of the last 16 samples.
type rateSampler struct {
	once    sync.Once
	mu      sync.Mutex
	idx     int
	n       int
	samples [3][16]float64 // per second: commands, input bytes, output bytes
}

// sampleInterval is how often rateSampler samples.
const sampleInterval = 100 * time.Millisecond

// start launches the sampling goroutine once; it stops when done returns
// true. read returns the current values of the sampled counters.
func (r *rateSampler) start(done func() bool, read func() [3]int64) {
	r.once.Do(func() {
		go func() {
			t := time.NewTicker(sampleInterval)
			defer t.Stop()
			last, lastAt := read(), time.Now()
			for range t.C {
				if done() {
					return
				}
				cur, now := read(), time.Now()
				secs := now.Sub(lastAt).Seconds()
				if secs <= 0 {
					continue
				}
				r.mu.Lock()
				for i := range cur {
					d := cur[i] - last[i]
					if d < 0 { // counters were reset
						d = 0
					}
					r.samples[i][r.idx] = float64(d) / secs
				}
				r.idx = (r.idx + 1) % len(r.samples[0])
				r.n = min(r.n+1, len(r.samples[0]))
				r.mu.Unlock()
				last, lastAt = cur, now
			}
		}()
	})
}

// rates returns the mean per-second rates of the last samples.
func (r *rateSampler) rates() (out [3]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return out
	}
	for i := range out {
		var sum float64
		for _, v := range r.samples[i][:r.n] {
			sum += v
		}
		out[i] = sum / float64(r.n)
	}
	return out
}

// latencyHist is a histogram of command latencies: a metrics.Histogram,
// whose power-of-two microsecond buckets (bucket i holds latencies in
// [2^(i-1), 2^i) µs) are the layout of Redis's LATENCY HISTOGRAM.
// Recording is one atomic add, without locks or allocations.
type latencyHist struct {
	h metrics.Histogram
}

func (h *latencyHist) record(d time.Duration) { h.h.Record(d) }

// snapshot returns the bucket counts.
func (h *latencyHist) snapshot() [metrics.NumBuckets]int64 { return h.h.Snapshot().Buckets }

// percentile returns an upper bound in µs of the p-th percentile (0..100).
func (h *latencyHist) percentile(p float64) float64 { return h.h.Percentile(p) }

// histogramBucketUsec is the label LATENCY HISTOGRAM gives bucket i: Redis
// iterates its hdr histogram (nanoseconds, 2 significant digits) in
// power-of-two steps from 1024ns and labels each step with the highest
// value equivalent to 1024*2^i ns, in microseconds.
func histogramBucketUsec(i int) int64 {
	v := int64(1024) << i
	eq := int64(1)
	if m := bits.Len64(uint64(v)) - 1; m >= 8 {
		eq = int64(1) << (m - 7)
	}
	return (v + eq - 1) / 1000
}

// cumulative returns LATENCY HISTOGRAM's buckets: (label µs, cumulative
// count) for each bucket where the cumulative count grows.
func (h *latencyHist) cumulative() (labels, counts []int64) {
	s := h.snapshot()
	var total int64
	for i, n := range s {
		if n == 0 {
			continue
		}
		total += n
		labels = append(labels, histogramBucketUsec(i))
		counts = append(counts, total)
	}
	return labels, counts
}

func (h *latencyHist) reset() { h.h.Reset() }

// slowlog keeps the slowest recent commands (SLOWLOG).
type slowlog struct {
	mu      sync.Mutex
	nextID  int64
	maxLen  int
	entries []slowEntry // newest first
}

type slowEntry struct {
	id       int64
	at       int64 // Unix seconds
	duration time.Duration
	args     []string
	addr     string
	name     string
}

func (l *slowlog) add(c *client, args [][]byte, d time.Duration) {
	e := slowEntry{at: time.Now().Unix(), duration: d, addr: c.addr, name: c.name}
	// Redis keeps at most 32 arguments, each cut to 128 bytes.
	n := len(args)
	if n > 32 {
		n = 32
	}
	redact := redactedArgs(args)
	for i := 0; i < n; i++ {
		a := args[i]
		if redact(i) {
			e.args = append(e.args, "(redacted)")
			continue
		}
		if i == 31 && len(args) > 32 {
			e.args = append(e.args, "... ("+itoa(int64(len(args)-31))+" more arguments)")
			break
		}
		if len(a) > 128 {
			e.args = append(e.args, string(a[:128])+"... ("+itoa(int64(len(a)-128))+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	l.mu.Lock()
	e.id = l.nextID
	l.nextID++
	l.entries = append([]slowEntry{e}, l.entries...)
	if len(l.entries) > l.maxLen {
		l.entries = l.entries[:l.maxLen]
	}
	l.mu.Unlock()
}

// reset removes every entry (SLOWLOG RESET); ids keep increasing.
func (l *slowlog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

// len returns the number of entries.
func (l *slowlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// newest returns up to n of the newest entries, newest first; n < 0
// returns all of them.
func (l *slowlog) newest(n int) []slowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	return append([]slowEntry(nil), l.entries[:n]...)
}

// setMaxLen changes the bound (slowlog-max-len), dropping the oldest
// entries beyond it.
func (l *slowlog) setMaxLen(n int) {
	l.mu.Lock()
	l.maxLen = n
	if len(l.entries) > n {
		l.entries = l.entries[:n]
	}
	l.mu.Unlock()
}

// getMaxLen returns slowlog-max-len.
func (l *slowlog) getMaxLen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxLen
}

// redactedArgs tells which arguments of a command hold secrets that Redis
// shows as "(redacted)" in SLOWLOG: AUTH's arguments, HELLO's AUTH
// username and password, CONFIG SET requirepass's value.
func redactedArgs(args [][]byte) func(i int) bool {
	switch {
	case eq(args[0], "auth"):
		return func(i int) bool { return i > 0 }
	case eq(args[0], "hello"):
		for j := 2; j+2 < len(args); j++ {
			if eq(args[j], "auth") {
				return func(i int) bool { return i == j+1 || i == j+2 }
			}
		}
	case eq(args[0], "config") && len(args) >= 4 && eq(args[1], "set"):
		return func(i int) bool { return i >= 3 && i%2 == 1 && eq(args[i-1], "requirepass") }
	}
	return func(int) bool { return false }
}
