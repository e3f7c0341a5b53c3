package recovery

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// future is a deadline far enough ahead that no test sees it pass.
var future = time.Now().Add(240 * time.Hour).UnixMilli()

// buildStore creates a store in a new temporary directory with a known
// content and closes it: db 0 holds n keys "k%05d" (every third with a
// TTL), db 3 holds a binary key and value, db 5 an empty value with a TTL.
func buildStore(t testing.TB, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := kv.Open(dir, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *kv.Tx) error {
		for i := 0; i < n; i++ {
			o := kv.SetOptions{}
			if i%3 == 0 {
				o.Expire = future + int64(i)
			}
			if _, err := tx.Set(0, []byte(fmt.Sprintf("k%05d", i)), []byte(fmt.Sprintf("value-%d-%s", i, bytes.Repeat([]byte{'x'}, i%50))), o); err != nil {
				return err
			}
		}
		if _, err := tx.Set(3, []byte{0xff, 0x00, 'b'}, []byte{0x00, 0x01, 0xfe, 0xff}, kv.SetOptions{}); err != nil {
			return err
		}
		_, err := tx.Set(5, []byte("empty"), nil, kv.SetOptions{Expire: future})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rawUpdate applies fn to the store's Pebble database directly.
func rawUpdate(t testing.TB, dir string, fn func(b *pebble.Batch)) {
	t.Helper()
	r, err := kv.OpenRaw(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Pebble().NewBatch()
	fn(b)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// dump returns every live record of the store as "db key type exp value".
func dump(t testing.TB, dir string) []string {
	t.Helper()
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixMilli()
	var out []string
	for db := 0; db < format.NumDBs; db++ {
		err := s.Records(db, func(r *kv.Record) error {
			if !r.Expired(now) {
				out = append(out, fmt.Sprintf("%d %q %d %d %q", r.DB, r.Key, r.Type, r.ExpireAt, r.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// flipSSTable flushes nothing itself: it flips bytes in the middle of the
// largest sstable of dir and returns its name.
func flipSSTable(t testing.TB, dir string) string {
	t.Helper()
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no sstable to damage")
	}
	best, size := "", int64(0)
	for _, p := range ssts {
		fi, err := os.Stat(p)
		if err == nil && fi.Size() > size {
			best, size = p, fi.Size()
		}
	}
	b, err := os.ReadFile(best)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+16; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(best, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(best)
}

// flushStore opens dir and flushes its memtable into an sstable.
func flushStore(t testing.TB, dir string) {
	t.Helper()
	s, err := kv.Open(dir, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pebble().Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func kinds(f Findings) map[Kind]int {
	m := map[Kind]int{}
	for _, p := range f.Problems {
		m[p.Kind]++
	}
	return m
}
