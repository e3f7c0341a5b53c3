package benchmarks

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

// keyspace is the number of distinct keys the read/write benchmarks use.
const keyspace = 10_000

// value16 is the value the write benchmarks store.
var value16 = []byte("0123456789abcdef")

// spread maps an iteration number to a pseudo-random index in [0, n).
func spread(i, n int) int { return int(uint64(i) * 2654435761 % uint64(n)) }

func Benchmark_memory_store(b *testing.B) {
	b.Run("set_string", func(b *testing.B) {
		s := newStore(b)
		keys := makeKeys("key:", keyspace)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i%keyspace]
			if err := s.Update(func(tx *kv.Tx) error {
				_, err := tx.Set(0, k, value16, kv.SetOptions{})
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get_existing", func(b *testing.B) {
		s := newStore(b)
		mustPreload(b, s, keyspace)
		keys := makeKeys("key:", keyspace)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[spread(i, keyspace)]
			var ok bool
			if err := s.View(func(tx *kv.Tx) error {
				var err error
				_, ok, err = tx.Get(0, k)
				return err
			}); err != nil || !ok {
				b.Fatalf("get %s: ok=%v err=%v", k, ok, err)
			}
		}
	})
	b.Run("get_missing", func(b *testing.B) {
		s := newStore(b)
		mustPreload(b, s, keyspace)
		keys := makeKeys("missing:", keyspace)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[spread(i, keyspace)]
			var ok bool
			if err := s.View(func(tx *kv.Tx) error {
				var err error
				_, ok, err = tx.Get(0, k)
				return err
			}); err != nil || ok {
				b.Fatalf("get %s: ok=%v err=%v", k, ok, err)
			}
		}
	})
	b.Run("delete", func(b *testing.B) {
		s := newStore(b)
		b.StopTimer()
		mustPreload(b, s, b.N)
		keys := makeKeys("key:", b.N)
		b.ReportAllocs()
		b.ResetTimer()
		b.StartTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i]
			var n int
			if err := s.Update(func(tx *kv.Tx) error {
				var err error
				n, err = tx.Del(0, k)
				return err
			}); err != nil || n != 1 {
				b.Fatalf("del %s: n=%d err=%v", k, n, err)
			}
		}
	})
	b.Run("concurrent_mixed", func(b *testing.B) {
		// 80% GET, 20% SET over keyspace keys, from GOMAXPROCS goroutines.
		s := newStore(b)
		mustPreload(b, s, keyspace)
		keys := makeKeys("key:", keyspace)
		var seed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seed.Add(1)) * 7_777_777
			for pb.Next() {
				i++
				k := keys[spread(i, keyspace)]
				var err error
				if i%5 == 0 {
					err = s.Update(func(tx *kv.Tx) error {
						_, err := tx.Set(0, k, value16, kv.SetOptions{})
						return err
					})
				} else {
					err = s.View(func(tx *kv.Tx) error {
						_, _, err := tx.Get(0, k)
						return err
					})
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func Benchmark_integer_operations(b *testing.B) {
	b.Run("incr_new_key", func(b *testing.B) {
		s := newStore(b)
		keys := makeKeys("counter:", b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[i]
			var v int64
			if err := s.Update(func(tx *kv.Tx) error {
				var err error
				v, err = tx.IncrBy(0, k, 1)
				return err
			}); err != nil || v != 1 {
				b.Fatalf("incr %s: %d, %v", k, v, err)
			}
		}
	})
	incrExisting := func(b *testing.B, delta int64) {
		s := newStore(b)
		k := []byte("counter")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var v int64
			if err := s.Update(func(tx *kv.Tx) error {
				var err error
				v, err = tx.IncrBy(0, k, delta)
				return err
			}); err != nil || v != int64(i+1)*delta {
				b.Fatalf("incrby %d: %d, %v", delta, v, err)
			}
		}
	}
	b.Run("incr_existing_key", func(b *testing.B) { incrExisting(b, 1) })
	b.Run("decr_existing_key", func(b *testing.B) { incrExisting(b, -1) })
}

func Benchmark_ttl_operations(b *testing.B) {
	b.Run("expire", func(b *testing.B) {
		s := newStore(b)
		mustPreload(b, s, keyspace)
		keys := makeKeys("key:", keyspace)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[spread(i, keyspace)]
			var ok bool
			if err := s.Update(func(tx *kv.Tx) error {
				// A new deadline every time, an hour ahead: each call moves
				// the key's expiry-index entry.
				var err error
				ok, err = tx.Expire(0, k, tx.Now()+time.Hour.Milliseconds()+int64(i), kv.ExpireAlways)
				return err
			}); err != nil || !ok {
				b.Fatalf("expire %s: %v, %v", k, ok, err)
			}
		}
	})
	b.Run("ttl", func(b *testing.B) {
		s := newStore(b)
		keys := makeKeys("key:", keyspace)
		if err := s.Update(func(tx *kv.Tx) error {
			deadline := tx.Now() + time.Hour.Milliseconds()
			for _, k := range keys {
				if _, err := tx.Set(0, k, value16, kv.SetOptions{Expire: deadline}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := keys[spread(i, keyspace)]
			var ttl int64
			if err := s.View(func(tx *kv.Tx) error {
				var err error
				ttl, err = tx.TTL(0, k)
				return err
			}); err != nil || ttl <= 0 {
				b.Fatalf("ttl %s: %d, %v", k, ttl, err)
			}
		}
	})
}

// sizeName names a key count: 1K, 10K, 100K, 1M.
func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "K"
	}
	return strconv.Itoa(n)
}

func Benchmark_scalability(b *testing.B) {
	b.Run("get_with_keys", func(b *testing.B) {
		for _, n := range []int{1_000, 10_000, 100_000} {
			// The framework calls the sub-benchmark several times (growing
			// b.N): preload once per size and keep the store across calls.
			var s *kv.Store
			var keys [][]byte
			dir := filepath.Join(b.TempDir(), sizeName(n))
			b.Run(sizeName(n), func(b *testing.B) {
				if s == nil {
					s = openStore(b, dir)
					mustPreload(b, s, n)
					keys = makeKeys("key:", n)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := keys[spread(i, n)]
					var ok bool
					if err := s.View(func(tx *kv.Tx) error {
						var err error
						_, ok, err = tx.Get(0, k)
						return err
					}); err != nil || !ok {
						b.Fatalf("get %s: ok=%v err=%v", k, ok, err)
					}
				}
			})
			if s != nil {
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// openAndRead opens the store in dir, reads one preloaded key (checking its
// value) and returns the store and the time from the start of Open to the
// end of the read.
func openAndRead(b *testing.B, dir string, n int) (*kv.Store, time.Duration) {
	i := n / 2
	start := time.Now()
	s := openStore(b, dir)
	var v []byte
	var ok bool
	err := s.View(func(tx *kv.Tx) error {
		var err error
		v, ok, err = tx.Get(0, keyOf(i))
		return err
	})
	d := time.Since(start)
	if err != nil || !ok || !bytes.Equal(v, valueOf(i)) {
		_ = s.Close()
		b.Fatalf("first read of %s: %q, %v, %v", keyOf(i), v, ok, err)
	}
	return s, d
}

// reportOpen reports the mean open-to-first-read time in milliseconds.
func reportOpen(b *testing.B, total time.Duration) {
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "open_ms")
}

// Benchmark_persistence measures restart cost: the time from the start of
// Open to the end of the first read served (the open_ms metric; ns/op is
// the same time), at 100K and 1M keys.
//
//   - recovery_N: the writer was killed with SIGKILL after its last write
//     was acknowledged, without Close (fillAndKill). Pebble replays the
//     unflushed WAL.
//   - reopen_N: the same store after it was recovered once and closed
//     cleanly.
//
// The stores are built with fillRaw in a child process. Each recovery
// iteration opens a fresh copy of the crashed directory.
func Benchmark_persistence(b *testing.B) {
	root := b.TempDir()
	for _, n := range []int{100_000, 1_000_000} {
		name := sizeName(n)
		var crashDir, cleanDir string
		setup := func(b *testing.B) {
			if n >= 1_000_000 && testing.Short() {
				b.Skip("1M-key store: skipped with -short")
			}
			if crashDir != "" {
				return
			}
			crashDir = filepath.Join(root, "crashed-"+name)
			fillAndKill(b, crashDir, n)
			cleanDir = filepath.Join(root, "clean-"+name)
			if err := cloneStore(crashDir, cleanDir); err != nil {
				b.Fatal(err)
			}
			s := openStore(b, cleanDir)
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("reopen_"+name, func(b *testing.B) {
			setup(b)
			b.ReportAllocs()
			b.ResetTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				s, d := openAndRead(b, cleanDir, n)
				total += d
				b.StopTimer()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			reportOpen(b, total)
		})
		b.Run("recovery_"+name, func(b *testing.B) {
			setup(b)
			b.ReportAllocs()
			b.ResetTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir, err := os.MkdirTemp(root, "run")
				if err != nil {
					b.Fatal(err)
				}
				if err := cloneStore(crashDir, dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				s, d := openAndRead(b, dir, n)
				total += d
				b.StopTimer()
				var size int64
				_ = s.View(func(tx *kv.Tx) error {
					size, _ = tx.DBSize(0)
					return nil
				})
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				if size != int64(n) {
					b.Fatalf("recovered %d keys, want %d", size, n)
				}
				_ = os.RemoveAll(dir)
				b.StartTimer()
			}
			reportOpen(b, total)
		})
	}
}
