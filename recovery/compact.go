package recovery

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

// CompactStats describes a manual compaction.
type CompactStats struct {
	// Before and After are the data directory's size in bytes.
	Before, After int64
	// LSMBefore and LSMAfter are the LSM's shape.
	LSMBefore, LSMAfter []LevelStats
	Duration            time.Duration
}

// Compact flushes the memtable and compacts the whole key range of the
// store in dir, dropping deleted and overwritten records, and reports the
// directory's size before and after. It fails at once with kv.ErrLocked if
// a server holds dir. Canceling ctx stops the compaction; Pebble's
// compactions are atomic, so the store stays consistent.
func Compact(ctx context.Context, dir string, o *Options) (CompactStats, error) {
	o = o.withDefaults()
	start := time.Now()
	var st CompactStats
	if !hasStore(dir) {
		return st, fmt.Errorf("%w %s", kv.ErrNotExist, dir)
	}
	raw, err := kv.OpenRaw(dir, &kv.RawOptions{Logger: o.Logger})
	if err != nil {
		return st, openError(err)
	}
	defer raw.Close()
	u, err := diskUsage(dir)
	if err != nil {
		return st, err
	}
	st.Before = u.Total
	db := raw.Pebble()
	st.LSMBefore = lsm(db.Metrics().Levels[:])
	o.Progress("compact", 0, 0)
	if err := db.Flush(); err != nil {
		return st, fmt.Errorf("recovery: flush: %w", err)
	}
	if err := db.Compact(ctx, []byte{0}, bytes.Repeat([]byte{0xff}, 32), true); err != nil {
		return st, fmt.Errorf("recovery: compact: %w", err)
	}
	st.LSMAfter = lsm(db.Metrics().Levels[:])
	if err := raw.Close(); err != nil {
		return st, err
	}
	u, err = diskUsage(dir)
	st.After = u.Total
	st.Duration = time.Since(start)
	o.Progress("compact", 1, 1)
	return st, err
}
