package kv

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrencyIncrBy: 50 goroutines each INCRBY one key 2,000 times;
// the key ends at exactly 100,000 and every increment returned a distinct
// value (no two writers read the same old value).
func TestConcurrencyIncrBy(t *testing.T) {
	const workers, perWorker = 50, 2000
	s := openTestStore(t, nil, nil)
	key := []byte("counter")
	seen := make([]atomic.Bool, workers*perWorker+1)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				var n int64
				err := s.Update(func(tx *Tx) error {
					var err error
					n, err = tx.IncrBy(0, key, 1)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if n < 1 || n > workers*perWorker || seen[n].Swap(true) {
					errs <- fmt.Errorf("INCRBY returned %d twice or out of range", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	err := s.View(func(tx *Tx) error {
		v, ok, err := tx.Get(0, key)
		if err != nil || !ok || string(v) != strconv.Itoa(workers*perWorker) {
			t.Errorf("GET counter = %q, %v, %v; want %d", v, ok, err, workers*perWorker)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrencyMixed runs writers (Update) and readers (View) on
// overlapping keys and checks that readers only ever see whole
// transactions:
//   - a and b are always written together (MSET a n b n, or two SETs in one
//     transaction), so a reader sees them equal, read with MGET or with two
//     GETs in one View, and never going backwards;
//   - c (INCRBY) and d (APPEND "x") change in one transaction, so
//     GET c == STRLEN d;
//   - transactions that write a and b and then fail are never seen;
//   - t, rewritten with a 1 ms TTL while a goroutine runs ExpireCycle in a
//     loop, is either absent or whole.
//
// It runs with the default hot tier and with one too small to hold any
// value, so that readers also go to Pebble concurrently.
func TestConcurrencyMixed(t *testing.T) {
	for _, tier := range []struct {
		name  string
		bytes int64
	}{{"hot", 0}, {"cold", 1}} {
		t.Run(tier.name, func(t *testing.T) {
			s := openTestStore(t, &Options{HotTierBytes: tier.bytes}, nil)
			concMixed(t, s)
			if tier.bytes != 0 && s.Stats().HotMisses.Load() == 0 {
				t.Error("no read went to Pebble")
			}
		})
	}
}

func concMixed(t *testing.T, s *Store) {
	const writers, readers, rounds = 4, 4, 500
	a, b, c, d, x, tk := []byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("x"), []byte("t")
	errFail := errors.New("abort")
	var stop atomic.Bool
	var wg, rwg sync.WaitGroup
	errs := make(chan error, writers+readers)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop.Store(true)
	}

	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds && !stop.Load(); i++ {
				var err error
				switch i % 4 {
				case 0: // MSET a n b n, with n read in the same transaction
					err = s.Update(func(tx *Tx) error {
						n, err := tx.IncrBy(0, a, 1)
						if err != nil {
							return err
						}
						v := []byte(strconv.FormatInt(n, 10))
						return tx.MSet(0, a, v, b, v)
					})
				case 1: // the same with two SETs and an INCRBY of b
					err = s.Update(func(tx *Tx) error {
						v, _, err := tx.Get(0, a)
						if err != nil {
							return err
						}
						if _, err := tx.Set(0, b, v, SetOptions{}); err != nil {
							return err
						}
						if _, err := tx.IncrBy(0, b, 1); err != nil {
							return err
						}
						_, err = tx.IncrBy(0, a, 1)
						return err
					})
				case 2: // c and d together, plus churn on x
					err = s.Update(func(tx *Tx) error {
						if _, err := tx.IncrBy(0, c, 1); err != nil {
							return err
						}
						if _, err := tx.Append(0, d, []byte("x")); err != nil {
							return err
						}
						if _, _, err := tx.GetDel(0, x); err != nil {
							return err
						}
						if _, err := tx.Set(0, tk, []byte("ttl"), SetOptions{Expire: tx.Now() + 1}); err != nil {
							return err
						}
						_, err := tx.Set(0, x, []byte("tmp"), SetOptions{NX: true})
						return err
					})
				case 3: // a failed transaction: nothing of it may show
					err = s.Update(func(tx *Tx) error {
						if err := tx.MSet(0, a, []byte("-1"), b, []byte("-1")); err != nil {
							return err
						}
						if _, err := tx.IncrBy(0, c, 1000); err != nil {
							return err
						}
						return errFail
					})
					if errors.Is(err, errFail) {
						err = nil
					}
				}
				if err != nil {
					report(fmt.Errorf("writer: %w", err))
					return
				}
			}
		}()
	}

	for r := 0; r < readers; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			var last int64
			check := func(tx *Tx) error {
				vs, err := tx.MGet(0, a, b)
				if err != nil {
					return err
				}
				ga, _, err := tx.Get(0, a)
				if err != nil {
					return err
				}
				gb, _, err := tx.Get(0, b)
				if err != nil {
					return err
				}
				if string(vs[0]) != string(vs[1]) || string(ga) != string(gb) || string(ga) != string(vs[0]) {
					return fmt.Errorf("half-applied write: MGET a b = %q, GET a = %q, GET b = %q", vs, ga, gb)
				}
				if vs[0] != nil {
					n, err := strconv.ParseInt(string(vs[0]), 10, 64)
					if err != nil || n < last {
						return fmt.Errorf("a = %q after %d", vs[0], last)
					}
					last = n
				}
				cv, _, err := tx.Get(0, c)
				if err != nil {
					return err
				}
				dl, err := tx.StrLen(0, d)
				if err != nil {
					return err
				}
				if cn, _ := strconv.ParseInt(string(cv), 10, 64); cn != dl {
					return fmt.Errorf("GET c = %q but STRLEN d = %d", cv, dl)
				}
				if tv, ok, err := tx.Get(0, tk); err != nil || (ok && string(tv) != "ttl") {
					return fmt.Errorf("GET t = %q, %v, %v", tv, ok, err)
				}
				return nil
			}
			for i := 0; !stop.Load(); i++ {
				var err error
				if i%8 == 7 {
					// Reads inside a writer's transaction see whole
					// transactions too.
					err = s.Update(check)
				} else {
					err = s.View(check)
				}
				if err != nil {
					report(fmt.Errorf("reader: %w", err))
					return
				}
			}
		}()
	}

	rwg.Add(1)
	go func() {
		defer rwg.Done()
		for !stop.Load() {
			if _, err := s.ExpireCycle(); err != nil {
				report(fmt.Errorf("ExpireCycle: %w", err))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each writer did rounds/4 rounds of each kind: a and b got one
	// increment per round of kinds 0 and 1, c and d one per round of kind 2.
	wantAB := strconv.Itoa(writers * rounds / 2)
	wantC := writers * rounds / 4
	err := s.View(func(tx *Tx) error {
		vs, err := tx.MGet(0, a, b, c, x)
		if err != nil {
			return err
		}
		dl, err := tx.StrLen(0, d)
		if err != nil {
			return err
		}
		if string(vs[0]) != wantAB || string(vs[1]) != wantAB || string(vs[2]) != strconv.Itoa(wantC) || dl != int64(wantC) || string(vs[3]) != "tmp" {
			t.Errorf("final a, b, c, x = %q, STRLEN d = %d; want a = b = %s, c = STRLEN d = %d, x = tmp", vs, dl, wantAB, wantC)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := s.ExpireCycle(); err != nil {
		t.Fatal(err)
	}
	_ = s.View(func(tx *Tx) error {
		if e, _ := tx.load(tx.dbmap[0], tk); e != nil {
			t.Errorf("t still stored after its deadline and an ExpireCycle: %+v", e)
		}
		return nil
	})
}

// TestAtomicUpdateRollback: an Update whose function fails after writing
// leaves nothing visible, neither in the running store nor after a reopen;
// the key counts are unchanged; and the next transaction (which may reuse
// the pooled Tx) commits only its own writes.
func TestAtomicUpdateRollback(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	update(t, s, func(tx *Tx) error {
		if err := tx.MSet(0, []byte("keep"), []byte("1"), []byte("gone"), []byte("x")); err != nil {
			return err
		}
		_, err := tx.Set(2, []byte("other"), []byte("o"), SetOptions{})
		return err
	})
	before := s.counts

	errBoom := errors.New("boom")
	err = s.Update(func(tx *Tx) error {
		if _, err := tx.Set(0, []byte("new"), []byte("v"), SetOptions{Expire: tx.Now() + 60000}); err != nil {
			return err
		}
		if err := tx.MSet(0, []byte("m1"), []byte("1"), []byte("m2"), []byte("2")); err != nil {
			return err
		}
		if _, err := tx.IncrBy(0, []byte("keep"), 10); err != nil {
			return err
		}
		if _, err := tx.Append(0, []byte("keep"), []byte("!")); err != nil {
			return err
		}
		if _, _, err := tx.GetDel(0, []byte("gone")); err != nil {
			return err
		}
		if _, err := tx.SetRange(2, []byte("other"), 3, []byte("zz")); err != nil {
			return err
		}
		if _, err := tx.IncrByFloat(5, []byte("f"), []byte("1.5")); err != nil {
			return err
		}
		// The transaction sees its own writes...
		if v, _, _ := tx.Get(0, []byte("keep")); string(v) != "11!" {
			return fmt.Errorf("own write not visible: keep = %q", v)
		}
		// ...and then fails.
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want %v", err, errBoom)
	}

	checkUntouched := func(s *Store, when string) {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			vs, err := tx.MGet(0, []byte("keep"), []byte("gone"), []byte("new"), []byte("m1"), []byte("m2"))
			if err != nil {
				return err
			}
			want := []string{"1", "x", "", "", ""}
			for i, v := range vs {
				if string(v) != want[i] || (want[i] == "" && v != nil) {
					t.Errorf("%s: MGET = %q, want keep=1 gone=x and no new, m1, m2", when, vs)
					break
				}
			}
			if v, _, _ := tx.Get(2, []byte("other")); string(v) != "o" {
				t.Errorf("%s: db2 other = %q, want %q", when, v, "o")
			}
			if _, ok, _ := tx.Get(5, []byte("f")); ok {
				t.Errorf("%s: db5 f exists", when)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.counts != before {
			t.Errorf("%s: key counts %v, want %v", when, s.counts[:6], before[:6])
		}
	}
	checkUntouched(s, "after the failed Update")

	// A panicking function is rolled back as well, and the store stays
	// usable.
	func() {
		defer func() {
			if r := recover(); r != "fn panicked" {
				t.Errorf("recovered %v", r)
			}
		}()
		_ = s.Update(func(tx *Tx) error {
			if _, err := tx.Set(0, []byte("new"), []byte("p"), SetOptions{}); err != nil {
				return err
			}
			panic("fn panicked")
		})
	}()
	checkUntouched(s, "after the panicking Update")

	// The next Update commits its own write only.
	update(t, s, func(tx *Tx) error {
		_, err := tx.Set(0, []byte("after"), []byte("a"), SetOptions{})
		return err
	})
	before[s.dbmap[0]]++
	checkUntouched(s, "after the next Update")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkUntouched(s, "after reopen")
	_ = s.View(func(tx *Tx) error {
		if v, _, _ := tx.Get(0, []byte("after")); string(v) != "a" {
			t.Errorf("after reopen: after = %q, want %q", v, "a")
		}
		return nil
	})
}
