package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// ErrDestExists is returned by Backup when the destination exists.
var ErrDestExists = errors.New("recovery: the backup destination already exists")

// BackupStats describes a backup.
type BackupStats struct {
	Dest string
	// Bytes is the size of the copy on disk (sstables are hard links to
	// the source's when both are on the same filesystem).
	Bytes int64
	// Keys is the number of keys in the copy, read back from it.
	Keys     int64
	Duration time.Duration
}

// Backup writes a consistent copy of the store in dir to dest (which must
// not exist) with a Pebble checkpoint, then opens the copy read-only to
// verify it is a valid data directory. It fails at once with kv.ErrLocked
// if a server holds dir. The source is opened for writing (Pebble flushes
// its write-ahead log into the checkpoint), but no key changes.
func Backup(ctx context.Context, dir, dest string, o *Options) (BackupStats, error) {
	o = o.withDefaults()
	start := time.Now()
	st := BackupStats{Dest: dest}
	if _, err := os.Lstat(dest); err == nil {
		return st, fmt.Errorf("%w: %s", ErrDestExists, dest)
	}
	if !hasStore(dir) {
		return st, fmt.Errorf("%w %s", kv.ErrNotExist, dir)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dest)), 0o755); err != nil {
		return st, fmt.Errorf("recovery: create the parent of %s: %w", dest, err)
	}
	raw, err := kv.OpenRaw(dir, &kv.RawOptions{Logger: o.Logger})
	if err != nil {
		return st, openError(err)
	}
	o.Progress("backup", 0, 0)
	err = raw.Pebble().Checkpoint(dest, pebble.WithFlushedWAL())
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(dest)
		return st, fmt.Errorf("recovery: checkpoint to %s: %w", dest, err)
	}
	if err := canceled(ctx); err != nil {
		return st, err
	}
	s, err := kv.Open(dest, &kv.Options{ReadOnly: true, Logger: o.Logger})
	if err != nil {
		return st, fmt.Errorf("recovery: the backup in %s does not open: %w", dest, err)
	}
	for db := 0; db < format.NumDBs; db++ {
		n, _ := s.CountRecords(db)
		st.Keys += n
	}
	if err := s.Close(); err != nil {
		return st, err
	}
	u, err := diskUsage(dest)
	st.Bytes = u.Total
	st.Duration = time.Since(start)
	o.Progress("backup", 1, 1)
	return st, err
}
