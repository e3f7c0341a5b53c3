package kv

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/internal/format"
)

// ksScanAll iterates SCAN to the end in one View per page and returns the
// keys in the order returned, checking the cursor invariants on the way.
func ksScanAll(t *testing.T, s *Store, db int, match []byte, count int, typ string, between func()) (keys []string, pages int) {
	t.Helper()
	var cursor uint64
	for {
		var next uint64
		var page [][]byte
		err := s.View(func(tx *Tx) error {
			var err error
			next, page, err = tx.Scan(db, cursor, match, count, typ)
			return err
		})
		if err != nil {
			t.Fatalf("scan %d: %v", cursor, err)
		}
		pages++
		for _, k := range page {
			h := format.Hash(k)
			if h < cursor || (next != 0 && h >= next) {
				t.Fatalf("scan %d returned %q (hash %d) outside [%d, %d)", cursor, k, h, cursor, next)
			}
			keys = append(keys, string(k))
		}
		if next == 0 {
			return keys, pages
		}
		if next <= cursor {
			t.Fatalf("cursor went back from %d to %d", cursor, next)
		}
		cursor = next
		if between != nil {
			between()
		}
	}
}

func ksFill(t *testing.T, s *Store, db int, typ byte, format_ string, n int, exp int64) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for i := 0; i < n; i++ {
			if err := ksPut(tx, db, fmt.Appendf(nil, format_, i), typ, []byte("v"), exp); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestScanIteratesEveryKeyOnce(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	ksFill(t, s, 3, format.TypeString, "key:%d", 1000, 0)
	for _, count := range []int{0, 1, 10, 97, 5000} {
		t.Run(fmt.Sprintf("scan 0 count %d", count), func(t *testing.T) {
			keys, pages := ksScanAll(t, s, 3, nil, count, "", nil)
			if len(keys) != 1000 {
				t.Fatalf("got %d keys, want 1000", len(keys))
			}
			slices.Sort(keys)
			if n := len(slices.Compact(keys)); n != 1000 {
				t.Fatalf("got %d distinct keys, want 1000", n)
			}
			per := count
			if per < 1 {
				per = DefaultScanCount
			}
			// Each page visits count keys (no hash collisions here), so
			// there are ceil(1000/count) pages, plus possibly one empty one.
			if min := (1000 + per - 1) / per; pages < min || pages > min+1 {
				t.Fatalf("%d pages, want %d or %d", pages, min, min+1)
			}
		})
	}
	// Other databases are unaffected.
	if keys, _ := ksScanAll(t, s, 0, nil, 10, "", nil); len(keys) != 0 {
		t.Fatalf("db 0 scan returned %d keys", len(keys))
	}
}

func TestScanPageShape(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	ksFill(t, s, 0, format.TypeString, "k%d", 100, 0)
	err := s.View(func(tx *Tx) error {
		next, keys, err := tx.Scan(0, 0, nil, 5, "")
		if err != nil {
			return err
		}
		if len(keys) != 5 {
			t.Fatalf("scan 0 count 5: %d keys", len(keys))
		}
		if want := format.Hash(keys[4]) + 1; next != want {
			t.Fatalf("scan 0 count 5: next %d, want last hash + 1 = %d", next, want)
		}
		for i := 1; i < len(keys); i++ {
			if format.Hash(keys[i-1]) >= format.Hash(keys[i]) {
				t.Fatalf("page not in hash order: %q %q", keys[i-1], keys[i])
			}
		}
		// Resuming at a key's own hash returns that key first.
		_, again, err := tx.Scan(0, format.Hash(keys[2]), nil, 1, "")
		if err != nil || len(again) != 1 || string(again[0]) != string(keys[2]) {
			t.Fatalf("scan at hash of %q: %q %v", keys[2], again, err)
		}
		// Past every key: an empty, final page.
		next, keys, err = tx.Scan(0, math.MaxUint64, nil, 10, "")
		if err != nil || next != 0 || len(keys) != 0 {
			t.Fatalf("scan max: next %d keys %q err %v", next, keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScanMatchAndType(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	ksFill(t, s, 0, format.TypeString, "user:%d", 60, 0)
	ksFill(t, s, 0, format.TypeHash, "hash:%d", 40, 0)
	ksFill(t, s, 0, format.TypeList, "user:list:%d", 5, 0)
	update(t, s, func(tx *Tx) error { return ksPut(tx, 0, []byte{}, format.TypeString, []byte("empty"), 0) })
	tests := []struct {
		name  string
		match []byte
		typ   string
		want  int
	}{
		{"scan 0", nil, "", 106},
		{"scan 0 match *", []byte("*"), "", 106},
		{"scan 0 match user:*", []byte("user:*"), "", 65},
		{"scan 0 match user:?", []byte("user:?"), "", 10},
		{`scan 0 match ""`, []byte{}, "", 1},
		{"scan 0 match nothing", []byte("nothing"), "", 0},
		{"scan 0 type string", nil, "string", 61},
		{"scan 0 type STRING", nil, "STRING", 61},
		{"scan 0 type hash", nil, "hash", 40},
		{"scan 0 type list", nil, "list", 5},
		{"scan 0 type set", nil, "set", 0},
		{"scan 0 type none", nil, "none", 0},
		{"scan 0 type foo", nil, "foo", 0},
		{"scan 0 match user:* type string", []byte("user:*"), "string", 60},
		{"scan 0 match user:* type hash", []byte("user:*"), "hash", 0},
	}
	_, unfilteredPages := ksScanAll(t, s, 0, nil, 7, "", nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, pages := ksScanAll(t, s, 0, tc.match, 7, tc.typ, nil)
			if len(keys) != tc.want {
				t.Fatalf("got %d keys, want %d: %q", len(keys), tc.want, keys)
			}
			// Filters apply after visiting: the cursor sequence is the
			// same as without them.
			if pages != unfilteredPages {
				t.Fatalf("%d pages, want %d as without filters", pages, unfilteredPages)
			}
		})
	}
	// A filtered page may be empty while the iteration goes on.
	err := s.View(func(tx *Tx) error {
		next, keys, err := tx.Scan(0, 0, []byte("nothing"), 10, "")
		if err != nil || next == 0 || len(keys) != 0 {
			t.Fatalf("scan 0 match nothing count 10: next %d keys %q err %v", next, keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScanSkipsExpiredKeys(t *testing.T) {
	clock := newTestClock()
	s := openTestStore(t, &Options{Durability: No}, clock)
	ksFill(t, s, 0, format.TypeString, "stay%d", 20, 0)
	ksFill(t, s, 0, format.TypeString, "go%d", 30, clock.ms.Load()+1000)
	if keys, _ := ksScanAll(t, s, 0, nil, 10, "", nil); len(keys) != 50 {
		t.Fatalf("before expiry: %d keys, want 50", len(keys))
	}
	clock.Advance(time.Second)
	for _, typ := range []string{"", "string", "none"} {
		keys, _ := ksScanAll(t, s, 0, nil, 10, typ, nil)
		want := 20
		if typ == "none" {
			want = 0
		}
		if len(keys) != want {
			t.Fatalf("type %q after expiry: %d keys, want %d: %q", typ, len(keys), want, keys)
		}
	}
}

// TestScanGuarantee checks SCAN's guarantee under heavy churn: every key
// present for the whole iteration is returned (exactly once), and no key is
// returned twice, while many keys are added and removed between pages.
func TestScanGuarantee(t *testing.T) {
	for _, pass := range []struct {
		name string
		o    *Options
	}{{"hot", &Options{Durability: No}}, {"disk", &Options{Durability: No, HotTierBytes: 1 << 10}}} {
		t.Run(pass.name, func(t *testing.T) {
			s := openTestStore(t, pass.o, nil)
			const stable = 10_000
			ksFill(t, s, 1, format.TypeString, "stable:%d", stable, 0)
			churn := map[string]bool{} // churn keys currently present
			ever := map[string]bool{}  // churn keys ever present
			next := 0
			between := func() {
				update(t, s, func(tx *Tx) error {
					for i := 0; i < 100; i++ {
						k := fmt.Sprintf("churn:%d", next)
						next++
						if err := ksPut(tx, 1, []byte(k), format.TypeString, []byte("v"), 0); err != nil {
							return err
						}
						churn[k], ever[k] = true, true
					}
					n := 0
					for k := range churn { // random order
						if n == 70 {
							break
						}
						if _, err := tx.Del(1, []byte(k)); err != nil {
							return err
						}
						delete(churn, k)
						n++
					}
					return nil
				})
			}
			keys, _ := ksScanAll(t, s, 1, nil, 100, "", between)
			seen := map[string]bool{}
			for _, k := range keys {
				if seen[k] {
					t.Fatalf("key %q returned twice", k)
				}
				seen[k] = true
				var i int
				if _, err := fmt.Sscanf(k, "stable:%d", &i); err != nil && !ever[k] {
					t.Fatalf("unknown key %q returned", k)
				}
			}
			for i := 0; i < stable; i++ {
				if k := fmt.Sprintf("stable:%d", i); !seen[k] {
					t.Fatalf("stable key %q not returned", k)
				}
			}
			if next < 8000 {
				t.Fatalf("only %d churn keys added: the test churned too little", next)
			}
			// The count stays exact through the churn.
			if got, want := ksDBSizes(t, s)[1], int64(stable+len(churn)); got != want {
				t.Fatalf("dbsize %d, want %d", got, want)
			}
		})
	}
}

// TestScanSeesPendingWrites scans inside a write transaction.
func TestScanSeesPendingWrites(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	ksFill(t, s, 0, format.TypeString, "old%d", 30, 0)
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 10; i++ {
			if err := ksPut(tx, 0, fmt.Appendf(nil, "new%d", i), format.TypeString, nil, 0); err != nil {
				return err
			}
			if _, err := tx.Del(0, fmt.Appendf(nil, "old%d", i)); err != nil {
				return err
			}
		}
		var all []string
		var cursor uint64
		for {
			next, keys, err := tx.Scan(0, cursor, nil, 4, "")
			if err != nil {
				return err
			}
			for _, k := range keys {
				all = append(all, string(k))
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		slices.Sort(all)
		var want []string
		for i := 0; i < 10; i++ {
			want = append(want, fmt.Sprintf("new%d", i))
		}
		for i := 10; i < 30; i++ {
			want = append(want, fmt.Sprintf("old%d", i))
		}
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Fatalf("scan in tx: got %q, want %q", all, want)
		}
		keys, err := tx.Keys(0, []byte("new*"))
		if err != nil || len(keys) != 10 {
			t.Fatalf("keys new* in tx: %d %v", len(keys), err)
		}
		return nil
	})
}
