package benchmarks

import (
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

func TestProbeFill(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	defer s.Close()
	var slow []time.Duration
	t0 := time.Now()
	kvs := make([][]byte, 0, 4000)
	for lo := 0; lo < 100000; lo += 2000 {
		kvs = kvs[:0]
		for i := lo; i < lo+2000; i++ {
			kvs = append(kvs, keyOf(i), valueOf(i))
		}
		t1 := time.Now()
		if err := s.Update(func(tx *kv.Tx) error { return tx.MSet(0, kvs...) }); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, time.Since(t1))
	}
	t.Logf("total %v: %v", time.Since(t0), slow)
}
