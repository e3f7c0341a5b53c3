package kv

import (
	"fmt"
	"testing"
	"time"
)

// TestCompactionsEnabledAfterOpen checks the workaround for Pebble's Open
// blocking on compactions: the store opens with automatic compactions off
// and turns them on, and level 0 is then compacted in the background.
func TestCompactionsEnabledAfterOpen(t *testing.T) {
	dir := t.TempDir()
	o := &Options{Durability: No, MemTableBytes: 1 << 20, NoBackgroundWarm: true}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if !compactionsEnabled(s.db) {
		t.Fatal("automatic compactions are off after Open")
	}
	// Build a level-0 backlog: many small flushes with compactions off.
	if !setAutomaticCompactions(s.db, false) {
		t.Fatal("cannot reach Pebble's options")
	}
	val := make([]byte, 512)
	for f := 0; f < 8; f++ { // fewer than L0StopWritesThreshold (12) files
		update(t, s, func(tx *Tx) error {
			for i := 0; i < 500; i++ {
				if _, err := tx.Set(0, []byte(fmt.Sprintf("k%d-%d", f, i)), val, SetOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err := s.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !compactionsEnabled(s.db) {
		t.Fatal("automatic compactions are off after reopening")
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.db.Metrics().Compact.Count == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no compaction ran within 20s; L0 has %d files", s.db.Metrics().Levels[0].TablesCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok, err := func() ([]byte, bool, error) {
		var v []byte
		var ok bool
		err := s.View(func(tx *Tx) (err error) { v, ok, err = tx.Get(0, []byte("k7-499")); return err })
		return v, ok, err
	}(); err != nil || !ok {
		t.Fatalf("k7-499 after reopen: ok=%v err=%v", ok, err)
	}
}
