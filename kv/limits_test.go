package kv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// Acceptance tests for the store's limits: expiry latency and precision,
// the hot tier's memory bound, and restart time. Speed targets are measured
// (and reported with t.Logf) rather than asserted, except where a bound is
// part of the behaviour (expiry within 3 s of the deadline, the heap bound).
// The benchmarks in ../benchmarks measure the same figures repeatably.

// limKey and limValue are the keys and 16-byte values the fill helpers
// write.
func limKey(i int) []byte   { return fmt.Appendf(nil, "key:%08d", i) }
func limValue(i int) []byte { return fmt.Appendf(nil, "v%015d", i) }

// limFill sets limKey(i) to limValue(i) for i in [0, n), 2,000 keys per
// transaction.
func limFill(s *Store, n int) error {
	const batch = 2000
	kvs := make([][]byte, 0, 2*batch)
	for lo := 0; lo < n; lo += batch {
		kvs = kvs[:0]
		for i := lo; i < min(n, lo+batch); i++ {
			kvs = append(kvs, limKey(i), limValue(i))
		}
		if err := s.Update(func(tx *Tx) error { return tx.MSet(0, kvs...) }); err != nil {
			return err
		}
	}
	return nil
}

// limRace reports whether the test binary was built with the race
// detector, which slows the store down about tenfold: the timing and
// memory figures of these tests mean nothing under it.
func limRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// limLogger logs warnings and errors only, to stderr.
func limLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// limReplayLog is a slog.Handler that keeps Pebble's WAL replay lines
// ("Found N WALs", "... replayed N keys in M batches") and passes warnings
// and errors to stderr.
type limReplayLog struct {
	mu    sync.Mutex
	lines []string
}

func (h *limReplayLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *limReplayLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *limReplayLog) WithGroup(string) slog.Handler            { return h }
func (h *limReplayLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		fmt.Fprintf(os.Stderr, "%s %s\n", r.Level, r.Message)
	}
	if strings.Contains(r.Message, "replayed") || strings.Contains(r.Message, "WALs") {
		h.mu.Lock()
		h.lines = append(h.lines, r.Message)
		h.mu.Unlock()
	}
	return nil
}

// String summarises the replay: WAL files found, and keys and batches
// replayed.
func (h *limReplayLog) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	found := "?"
	var keys, batches, wals int
	for _, l := range h.lines {
		if m := limFoundRE.FindStringSubmatch(l); m != nil {
			found = m[1]
		}
		if m := limReplayRE.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			keys, batches, wals = keys+k, batches+b, wals+1
		}
	}
	return fmt.Sprintf("%s WAL files found, %d replayed: %d Pebble keys in %d batches", found, wals, keys, batches)
}

var (
	limFoundRE  = regexp.MustCompile(`Found (\d+) WALs`)
	limReplayRE = regexp.MustCompile(`replayed (\d+) keys in (\d+) batches`)
)

// limRawCount counts the Pebble keys in [lower, upper), reading Pebble
// directly (not through the store).
func limRawCount(t *testing.T, db *pebble.DB, lower, upper []byte) int {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLimitsExpiry: 100,000 keys with a 1 s TTL, on the real clock and the
// default ExpireInterval, are gone from Pebble itself (data records and
// expiry-index entries, read with a raw Pebble iterator) within 3 s of
// their deadline, and keys without a TTL are untouched.
//
// The expirer never scans the keyspace: each cycle reads the expiry index
// of each database only up to the current time (dueKeys' iterator is
// bounded by format.ExpirePrefix and format.ExpireUpper(now)), so its cost
// is proportional to the number of keys due, not to the number of keys.
// Keys without a TTL are written alongside to check that the expirer
// leaves them alone; Stats.ExpiredKeys must count exactly the expiring
// ones.
func TestLimitsExpiry(t *testing.T) {
	const persistent = 10_000
	expiring, bound, giveUp := 100_000, 3*time.Second, 10*time.Second
	if limRace() {
		// Under the race detector: fewer keys, and the bound is not
		// asserted, only that the keys go.
		expiring, bound, giveUp = 10_000, time.Hour, time.Minute
	}
	s := openTestStore(t, nil, nil)
	if got := s.Options().ExpireInterval; got != 100*time.Millisecond {
		t.Fatalf("default ExpireInterval %v", got)
	}
	if err := limFill(s, persistent); err != nil {
		t.Fatal(err)
	}
	// SET exp:<i> v PX 1000, 2,000 keys per transaction; every key's
	// deadline is its transaction's clock + 1000 ms.
	var lastDeadline int64
	start := time.Now()
	for lo := 0; lo < expiring; lo += 2000 {
		update(t, s, func(tx *Tx) error {
			d, err := SetDeadline(tx.Now(), 1000, false, false)
			if err != nil {
				return err
			}
			lastDeadline = d
			for i := lo; i < lo+2000; i++ {
				if _, err := tx.Set(0, fmt.Appendf(nil, "exp:%08d", i), []byte("x"), SetOptions{Expire: d}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	t.Logf("wrote %d keys with PX 1000 in %v", expiring, time.Since(start))

	var phys uint8
	if err := s.View(func(tx *Tx) (err error) {
		phys, err = tx.physOf(0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db := s.Pebble()
	deadline := time.UnixMilli(lastDeadline)
	var data, index int
	for {
		data = limRawCount(t, db, format.DataPrefix(phys), format.DataUpper(phys))
		index = limRawCount(t, db, format.ExpirePrefix(phys), format.ExpireEnd(phys))
		if data == persistent && index == 0 {
			break
		}
		if time.Since(deadline) > giveUp {
			t.Fatalf("%v after the deadline Pebble still holds %d data records (want %d) and %d expiry-index entries", giveUp, data, persistent, index)
		}
		time.Sleep(20 * time.Millisecond)
	}
	lag := time.Since(deadline)
	t.Logf("all %d expired keys gone from Pebble %v after the last deadline (ExpiredKeys=%d)", expiring, lag, s.Stats().ExpiredKeys.Load())
	if lag > bound {
		t.Errorf("expired keys left Pebble %v after their deadline; want <= %v", lag, bound)
	}
	if got := s.Stats().ExpiredKeys.Load(); got != int64(expiring) {
		t.Errorf("Stats.ExpiredKeys = %d, want %d", got, expiring)
	}
	if err := s.View(func(tx *Tx) error {
		n, err := tx.DBSize(0)
		if err != nil {
			return err
		}
		if n != persistent {
			t.Errorf("DBSize = %d, want %d", n, persistent)
		}
		for _, i := range []int{0, persistent / 2, persistent - 1} {
			v, ok, err := tx.Get(0, limKey(i))
			if err != nil || !ok || !bytes.Equal(v, limValue(i)) {
				t.Errorf("persistent key %s: %q %v %v", limKey(i), v, ok, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLimitsPTTLMillisecond: PTTL is exact to the millisecond, from the hot
// tier and after a reopen (from Pebble).
func TestLimitsPTTLMillisecond(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	o := &Options{Now: clock.Now, ExpireInterval: time.Hour}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	key := []byte("k")
	update(t, s, func(tx *Tx) error {
		d, err := SetDeadline(tx.Now(), 1500, false, false) // SET k v PX 1500
		if err != nil {
			return err
		}
		_, err = tx.Set(0, key, []byte("v"), SetOptions{Expire: d})
		return err
	})
	clock.Advance(123 * time.Millisecond)
	check := func(when string, wantPTTL, wantTTL int64) {
		t.Helper()
		if err := s.View(func(tx *Tx) error {
			pttl, err := tx.PTTL(0, key)
			if err != nil {
				return err
			}
			ttl, err := tx.TTL(0, key)
			if err != nil {
				return err
			}
			if pttl != wantPTTL || ttl != wantTTL {
				t.Errorf("%s: PTTL %d TTL %d, want %d and %d", when, pttl, ttl, wantPTTL, wantTTL)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check("after 123 ms", 1377, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, o); err != nil {
		t.Fatal(err)
	}
	check("after a reopen", 1377, 1)
	clock.Advance(876 * time.Millisecond)
	check("after 999 ms", 501, 1)
	clock.Advance(500 * time.Millisecond)
	check("after 1499 ms", 1, 0)
	clock.Advance(time.Millisecond)
	check("at the deadline", -2, -2)
}

// limValueBytes fills v with the pseudo-random content of key i.
func limValueBytes(v []byte, i int) {
	r := rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15)
	for j := 0; j+8 <= len(v); j += 8 {
		x := r.Uint64()
		for k := 0; k < 8; k++ {
			v[j+k] = byte(x >> (8 * k))
		}
	}
}

// limRSS returns the process's resident set size in bytes (Linux), or -1.
func limRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// limFull reports whether the full-size acceptance cases run: the 1 GiB
// hot-tier test and the 1M-key restart test. Each takes minutes on a
// loaded two-core machine, so they run only with RUSTYPOTATO_LIMITS_FULL=1
// (and never with -short).
func limFull(t *testing.T) bool {
	if os.Getenv(limEnvFull) == "1" && !testing.Short() {
		return true
	}
	t.Logf("full-size case skipped; set %s=1 to run it", limEnvFull)
	return false
}

// TestLimitsHotTierBounded: writing 1 GiB of values through a store with a
// 16 MiB hot tier keeps the Go heap within the hot tier, Pebble's memory
// (block cache and memtables, which live outside the Go heap in a cgo
// build) and a small constant; every value reads back intact (content
// checksum per key). By default it writes 128 MiB (8× the hot tier);
// RUSTYPOTATO_LIMITS_FULL=1 writes the full 1 GiB (65,536 × 16 KiB).
func TestLimitsHotTierBounded(t *testing.T) {
	if testing.Short() || limRace() {
		t.Skip("writes 128 MiB to 1 GiB; skipped with -short and under the race detector")
	}
	const (
		valSize  = 16 << 10
		perBatch = 64 // 1 MiB per transaction
		slack    = 32 << 20
	)
	keys := 8_192 // 128 MiB of values
	if limFull(t) {
		keys = 65_536 // 1 GiB
	}
	o := &Options{HotTierBytes: 16 << 20, MemTableBytes: 4 << 20, BlockCacheBytes: 8 << 20}
	s := openTestStore(t, o, nil)
	eo := s.Options()
	bound := uint64(eo.HotTierBytes + eo.BlockCacheBytes + int64(eo.MemTableStopWrites+1)*eo.MemTableBytes + slack)

	sums := make([]uint64, keys)
	buf := make([]byte, perBatch*valSize)
	kvs := make([][]byte, 0, 2*perBatch)
	var peak uint64
	var ms runtime.MemStats
	start := time.Now()
	for lo := 0; lo < keys; lo += perBatch {
		kvs = kvs[:0]
		for i := lo; i < lo+perBatch; i++ {
			v := buf[(i-lo)*valSize : (i-lo+1)*valSize]
			limValueBytes(v, i)
			sums[i] = xxhash.Sum64(v)
			kvs = append(kvs, limKey(i), v)
		}
		update(t, s, func(tx *Tx) error { return tx.MSet(0, kvs...) })
		if lo%(keys/8) == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	writeTime := time.Since(start)
	buf, kvs = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	hotBytes, hotKeys := s.hot.size()
	t.Logf("wrote %d × %d B = %d MiB in %v (%.0f MiB/s); after GC: HeapAlloc %.1f MiB (sampled peak before GC %.1f MiB), bound %.0f MiB; RSS %.1f MiB; hot tier %.1f MiB in %d keys, %d evictions",
		keys, valSize, keys*valSize>>20, writeTime, float64(keys*valSize>>20)/writeTime.Seconds(),
		float64(ms.HeapAlloc)/(1<<20), float64(peak)/(1<<20), float64(bound)/(1<<20), float64(limRSS())/(1<<20),
		float64(hotBytes)/(1<<20), hotKeys, s.Stats().EvictedKeys.Load())
	if ms.HeapAlloc > bound {
		t.Errorf("HeapAlloc after writing %d MiB = %d, want <= %d", keys*valSize>>20, ms.HeapAlloc, bound)
	}
	if hotBytes > eo.HotTierBytes {
		t.Errorf("hot tier accounts %d bytes, budget %d", hotBytes, eo.HotTierBytes)
	}

	start = time.Now()
	bad := 0
	for lo := 0; lo < keys; lo += perBatch {
		if err := s.View(func(tx *Tx) error {
			for i := lo; i < lo+perBatch; i++ {
				v, ok, err := tx.Get(0, limKey(i))
				if err != nil {
					return err
				}
				if !ok || len(v) != valSize || xxhash.Sum64(v) != sums[i] {
					if bad++; bad <= 5 {
						t.Errorf("key %s: ok=%v len=%d, content checksum mismatch", limKey(i), ok, len(v))
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	readTime := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("read back and verified %d keys in %v; after GC: HeapAlloc %.1f MiB; RSS %.1f MiB", keys, readTime, float64(ms.HeapAlloc)/(1<<20), float64(limRSS())/(1<<20))
	if bad > 0 {
		t.Errorf("%d of %d keys read back wrong", bad, keys)
	}
	if ms.HeapAlloc > bound {
		t.Errorf("HeapAlloc after reading %d MiB = %d, want <= %d", keys*valSize>>20, ms.HeapAlloc, bound)
	}
}

// Environment of the child process of TestLimitsRestart.
const (
	limEnvDir  = "RUSTYPOTATO_LIMITS_FILL_DIR"  // set only in the child
	limEnvKeys = "RUSTYPOTATO_LIMITS_FILL_KEYS" // number of keys to write
	limEnvFull = "RUSTYPOTATO_LIMITS_FULL"      // "1" runs the full-size cases
	limReady   = "RUSTYPOTATO-LIMITS-FILLED"
)

// limChild is the child process of TestLimitsRestart: it fills the store,
// reports limReady on stdout once every write is acknowledged and waits to
// be killed, without closing the store.
func limChild(dir string) {
	die := func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "limits child: "+f+"\n", a...)
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Getenv(limEnvKeys))
	if err != nil {
		die("key count: %v", err)
	}
	s, err := Open(dir, &Options{Logger: limLogger()})
	if err != nil {
		die("open: %v", err)
	}
	if err := limFill(s, n); err != nil {
		die("fill: %v", err)
	}
	fmt.Println(limReady)
	time.Sleep(10 * time.Minute)
	die("never killed")
}

// limFillAndKill fills a store in dir with n keys in a child process and
// kills it with SIGKILL after every write was acknowledged.
func limFillAndKill(t *testing.T, dir string, n int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLimitsRestart$")
	cmd.Env = append(os.Environ(), limEnvDir+"="+dir, limEnvKeys+"="+strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == limReady {
				ready <- true
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("fill child exited early: %s", stderr.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("fill child did not finish: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("fill child exited cleanly; want killed")
	}
}

// limOpenAndRead opens the store in dir and reads one key; it returns the
// time from the start of Open to the end of that read. It then checks that
// the store holds all n keys and that a sample of them (and the last one
// written) read back correctly.
func limOpenAndRead(t *testing.T, dir string, n int) (open, total time.Duration) {
	t.Helper()
	i := n / 2
	replay := &limReplayLog{}
	start := time.Now()
	s, err := Open(dir, &Options{Logger: slog.New(replay)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	open = time.Since(start)
	t.Logf("Pebble at Open: %s", replay)
	var v []byte
	var ok bool
	err = s.View(func(tx *Tx) error {
		v, ok, err = tx.Get(0, limKey(i))
		return err
	})
	total = time.Since(start)
	if err != nil || !ok || !bytes.Equal(v, limValue(i)) {
		t.Fatalf("first read of %s: %q %v %v", limKey(i), v, ok, err)
	}
	if err := s.View(func(tx *Tx) error {
		size, err := tx.DBSize(0)
		if err != nil {
			return err
		}
		if size != int64(n) {
			t.Errorf("DBSize after reopen = %d, want %d", size, n)
		}
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		for j := 0; j < 1000; j++ {
			k := rng.IntN(n)
			if j == 0 {
				k = n - 1
			}
			v, ok, err := tx.Get(0, limKey(k))
			if err != nil {
				return err
			}
			if !ok || !bytes.Equal(v, limValue(k)) {
				t.Errorf("after reopen %s = %q (%v), want %q", limKey(k), v, ok, limValue(k))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return open, total
}

// walBytes returns the total size of the WAL files in dir.
func walBytes(dir string) int64 {
	ents, _ := os.ReadDir(dir)
	var n int64
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// TestLimitsRestart: a store serves its first read shortly after Open,
// after a clean Close and after the writing process was killed (SIGKILL),
// and the cost does not grow with the number of keys: Open reads a
// constant number of metadata records, and Pebble replays only the
// unflushed WAL. The figures are logged, not asserted (beyond a generous
// sanity bound); Benchmark_persistence measures them. The 1M-key case runs
// only with RUSTYPOTATO_LIMITS_FULL=1 (and not with -short): its fills take
// tens of seconds.
func TestLimitsRestart(t *testing.T) {
	if dir := os.Getenv(limEnvDir); dir != "" {
		limChild(dir)
		return
	}
	if limRace() {
		t.Skip("restart timing: skipped under the race detector")
	}
	const sanity = 10 * time.Second
	sizes := []int{100_000}
	if limFull(t) {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			// Clean: fill, Close, reopen.
			dir := filepath.Join(t.TempDir(), "clean")
			s, err := Open(dir, &Options{Logger: limLogger()})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := limFill(s, n); err != nil {
				t.Fatal(err)
			}
			fill := time.Since(start)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wal := walBytes(dir)
			open, first := limOpenAndRead(t, dir, n)
			t.Logf("%d keys, clean Close (filled in %v, %.1f MiB of WAL on disk): Open %v, first read served %v after Open started",
				n, fill, float64(wal)/(1<<20), open, first)
			if first > sanity {
				t.Errorf("first read %v after Open after a clean Close", first)
			}

			// Crash: fill in a child, SIGKILL it, reopen.
			dir = filepath.Join(t.TempDir(), "crashed")
			start = time.Now()
			limFillAndKill(t, dir, n)
			fill = time.Since(start)
			wal = walBytes(dir)
			open, first = limOpenAndRead(t, dir, n)
			t.Logf("%d keys, SIGKILL (filled in %v, %.1f MiB of WAL on disk): Open %v, first read served %v after Open started",
				n, fill, float64(wal)/(1<<20), open, first)
			if first > sanity {
				t.Errorf("first read %v after Open after a crash", first)
			}
		})
	}
}
