package kv

import (
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a controllable clock for expiry tests.
type testClock struct{ ms atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ms.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli())
	return c
}
func (c *testClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// openTestStore opens a store on a fresh temporary directory, closed at the
// end of the test. A nil clock uses real time.
func openTestStore(t testing.TB, o *Options, clock *testClock) *Store {
	t.Helper()
	if o == nil {
		o = &Options{}
	}
	if clock != nil {
		o.Now = clock.Now
		o.ExpireInterval = time.Hour // tests call ExpireCycle themselves
	}
	s, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// update runs fn in a write transaction and fails the test on error.
func update(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}
