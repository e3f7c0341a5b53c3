package benchmarks

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rustypotato/rustypotato/internal/wire"
	"github.com/rustypotato/rustypotato/kv"
)

// scatter maps iteration i to a pseudo-random index in [0, n).
func scatter(i, n int) int { return int((uint64(i) * 11400714819323198485 >> 32) % uint64(n)) }

// appendKey appends keyOf(i), "key:00000042", to dst without allocating.
func appendKey(dst []byte, i int) []byte {
	dst = append(dst, "key:00000000"...)
	for j := len(dst) - 1; i > 0 && j >= len(dst)-8; j-- {
		dst[j] = byte('0' + i%10)
		i /= 10
	}
	return dst
}

// Benchmark_memory_patterns compares the allocation patterns the server
// avoids with the ones it uses (allocs/op is the figure to read):
//
//   - string_allocation/strings: a SET's three arguments converted to Go
//     strings, as a string-based parser would (three allocations);
//     string_allocation/arena: the server's way, the arguments copied into
//     a reused per-connection arena and used as []byte (none);
//   - buffer_reuse/fresh_writer: a new wire.Writer for each 256-byte bulk
//     reply; buffer_reuse/reused_writer: one Writer per connection, its
//     buffer reused by every reply;
//   - shared_value/get_shared: GET of a 1 KB value through kv, which
//     returns the hot tier's immutable slice without copying;
//     shared_value/get_copy: the same GET plus the copy a store without
//     shared handles would make.
func Benchmark_memory_patterns(b *testing.B) {
	args := [][]byte{[]byte("SET"), []byte("user:1000:name"), bytes.Repeat([]byte{'v'}, 64)}
	b.Run("string_allocation/strings", func(b *testing.B) {
		b.ReportAllocs()
		var out []string
		for i := 0; i < b.N; i++ {
			out = out[:0]
			for _, a := range args {
				out = append(out, string(a))
			}
		}
		if len(out) != 3 {
			b.Fatal(out)
		}
	})
	b.Run("string_allocation/arena", func(b *testing.B) {
		b.ReportAllocs()
		var arena []byte
		var spans []int
		var argv [][]byte
		for i := 0; i < b.N; i++ {
			arena, spans, argv = arena[:0], spans[:0], argv[:0]
			for _, a := range args {
				arena = append(arena, a...)
				spans = append(spans, len(arena))
			}
			start := 0
			for _, end := range spans {
				argv = append(argv, arena[start:end:end])
				start = end
			}
		}
		if len(argv) != 3 || !bytes.Equal(argv[1], args[1]) {
			b.Fatal(argv)
		}
	})

	val := bytes.Repeat([]byte{'r'}, 256)
	b.Run("buffer_reuse/fresh_writer", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			w := wire.NewWriter(io.Discard)
			w.Bulk(val)
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("buffer_reuse/reused_writer", func(b *testing.B) {
		b.ReportAllocs()
		w := wire.NewWriter(io.Discard)
		for i := 0; i < b.N; i++ {
			w.Bulk(val)
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})

	const nkeys = 1000
	sharedDir := filepath.Join(b.TempDir(), "shared") // outlives the sub-benchmarks
	var s *kv.Store
	var keys [][]byte
	setupShared := func(b *testing.B) {
		if s != nil {
			return
		}
		var err error
		s, err = kv.Open(sharedDir, &kv.Options{Logger: srvLogger()})
		if err != nil {
			b.Fatal(err)
		}
		kb := bytes.Repeat([]byte{'s'}, 1<<10)
		for i := 0; i < nkeys; i++ {
			keys = append(keys, fmt.Appendf(nil, "shared:%04d", i))
		}
		if err := s.Update(func(tx *kv.Tx) error {
			for _, k := range keys {
				if _, err := tx.Set(0, k, kb, kv.SetOptions{}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	get := func(b *testing.B, copyValue bool) {
		setupShared(b)
		b.ReportAllocs()
		b.ResetTimer()
		var n int
		for i := 0; i < b.N; i++ {
			k := keys[scatter(i, len(keys))]
			if err := s.View(func(tx *kv.Tx) error {
				v, ok, err := tx.Get(0, k)
				if err != nil || !ok {
					b.Fatalf("get %s: %v %v", k, ok, err)
				}
				if copyValue {
					v = append([]byte(nil), v...)
				}
				n += len(v)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		if n != b.N<<10 {
			b.Fatalf("read %d bytes, want %d", n, b.N<<10)
		}
	}
	b.Run("shared_value/get_shared", func(b *testing.B) { get(b, false) })
	b.Run("shared_value/get_copy", func(b *testing.B) { get(b, true) })
}

// hotEntryBytes approximates what one preloaded key costs the hot tier: a
// 12-byte key, a 16-byte value and about 96 bytes of bookkeeping.
const hotEntryBytes = 12 + 16 + 96

// Benchmark_scalability_large extends Benchmark_scalability's read test to
// the sizes where memory runs out:
//
//   - get_with_keys/1M: random GETs among 1M keys (default 256 MiB hot
//     tier, so they all fit once read);
//   - larger_than_hot_tier: random GETs among about 4× as many keys as a
//     4 MiB hot tier holds, so most reads go to Pebble (the hot_hit_%
//     metric is the share the hot tier served);
//   - fits_hot_tier: the same keys and reads with the default hot tier,
//     for comparison.
//
// The stores are built with fillRaw (straight into Pebble, outside the
// timer) and reopened, so the hot tier starts empty, as after a restart.
// The 1M-key store is skipped with -short.
func Benchmark_scalability_large(b *testing.B) {
	root := b.TempDir()
	run := func(name string, n int, hotBytes int64) {
		var s *kv.Store
		b.Run(name, func(b *testing.B) {
			if s == nil {
				if n >= 1_000_000 && testing.Short() {
					b.Skip("1M-key store: skipped with -short")
				}
				s = openLarge(b, filepath.Join(root, fmt.Sprintf("keys-%d", n)), n, hotBytes)
			}
			if k := appendKey(nil, n-1); !bytes.Equal(k, keyOf(n-1)) {
				b.Fatalf("appendKey %q != keyOf %q", k, keyOf(n-1))
			}
			st := s.Stats()
			var k []byte
			hits0, misses0 := st.HotHits.Load(), st.HotMisses.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k = appendKey(k[:0], scatter(i, n))
				var ok bool
				if err := s.View(func(tx *kv.Tx) error {
					var err error
					_, ok, err = tx.Get(0, k)
					return err
				}); err != nil || !ok {
					b.Fatalf("get %s: ok=%v err=%v", k, ok, err)
				}
			}
			b.StopTimer()
			hits, misses := st.HotHits.Load()-hits0, st.HotMisses.Load()-misses0
			if hits+misses > 0 {
				b.ReportMetric(100*float64(hits)/float64(hits+misses), "hot_hit_%")
			}
		})
		if s != nil {
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	run("get_with_keys/1M", 1_000_000, 0)
	const smallHot = 4 << 20
	n := 4 * smallHot / hotEntryBytes
	run("larger_than_hot_tier", n, smallHot)
	run("fits_hot_tier", n, 0)
}

// openLarge opens the store of n keys (keyOf(i) = valueOf(i)) in dir with
// a hotBytes hot tier (0: the default), building it first with fillRaw if
// dir does not exist yet.
func openLarge(b *testing.B, dir string, n int, hotBytes int64) *kv.Store {
	b.Helper()
	opts := &kv.Options{HotTierBytes: hotBytes, Logger: srvLogger()}
	if _, err := os.Stat(dir); err != nil {
		s, err := kv.Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := fillRaw(s, n); err != nil {
			s.Close()
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	s, err := kv.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
