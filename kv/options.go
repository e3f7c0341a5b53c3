package kv

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Durability selects when a write is acknowledged, with Redis's appendfsync
// names. See docs/format.md for the exact contract of each mode.
type Durability int

const (
	// EverySec (the default): a write returns once its WAL record has been
	// written to the operating system, so it survives the process being
	// killed; the WAL is fsynced at least once a second, so a power loss
	// loses at most about one second of writes.
	EverySec Durability = iota
	// Always: a write returns only after its WAL record is fsynced.
	// Concurrent writers share fsyncs (group commit).
	Always
	// No: fsync is left to the operating system and Pebble. Writes since the
	// last WAL block flush may be lost even when only the process dies.
	No
)

// String returns the appendfsync name of d.
func (d Durability) String() string {
	switch d {
	case Always:
		return "always"
	case EverySec:
		return "everysec"
	case No:
		return "no"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// ParseDurability parses an appendfsync name (case-insensitive).
func ParseDurability(s string) (Durability, error) {
	switch strings.ToLower(s) {
	case "always":
		return Always, nil
	case "everysec":
		return EverySec, nil
	case "no":
		return No, nil
	}
	return 0, fmt.Errorf("kv: unknown durability %q (want always, everysec or no)", s)
}

// Options configure a Store. The zero value is usable: EnsureDefaults fills
// every unset field with its documented default.
type Options struct {
	// Durability is the fsync policy. Default: EverySec.
	Durability Durability

	// HotTierBytes bounds the in-memory hot tier (keys, values and their
	// bookkeeping). Default: 256 MiB. Keys evicted from the hot tier are
	// still served from Pebble.
	HotTierBytes int64

	// BlockCacheBytes is Pebble's block cache for sstable reads, on top of
	// the memtable reservation. Default: 32 MiB.
	BlockCacheBytes int64

	// MemTableBytes is the size of one Pebble memtable; the unflushed WAL
	// that a restart replays is bounded by about MemTableStopWrites times
	// this. Default: 8 MiB.
	MemTableBytes int64

	// MemTableStopWrites is the number of queued memtables at which Pebble
	// stalls writes. Default: 2 (Pebble's own default).
	MemTableStopWrites int

	// SyncInterval is how often EverySec fsyncs the WAL. Default: 1s.
	SyncInterval time.Duration

	// ExpireInterval is how often the background expirer looks for keys
	// past their deadline. Default: 100ms.
	ExpireInterval time.Duration

	// NoBackgroundWarm disables the background warm-up that, after Open,
	// loads keys into the hot tier while the store serves. When every key
	// fits in the hot tier, the warm-up makes the hot tier complete: reads
	// of missing keys and writes of new keys then need no Pebble lookup.
	// Default: false (warm-up on).
	NoBackgroundWarm bool

	// OnOpen, if set, runs once inside Open after the store's metadata has
	// been read and before any background work (expiry, warm-up) starts.
	// It gets the underlying Pebble database and the number of keys. Writes
	// it makes must keep the store's invariants (the recovery package uses
	// it to rebuild derived data after an unclean shutdown); Open re-reads
	// the metadata afterwards. An error fails Open. Ignored when ReadOnly.
	// Default: nil.
	OnOpen func(db *pebble.DB, keys int64) error

	// ReadOnly opens the store without writing anything: no background
	// expiry, writes fail with ErrReadOnly. Default: false.
	ReadOnly bool

	// FS is the filesystem Pebble runs on. Default: the operating system's
	// (vfs.Default). Tests use vfs.NewCrashableMem to simulate crashes.
	FS vfs.FS

	// Logger receives the store's and Pebble's log lines. Default:
	// slog.Default().
	Logger *slog.Logger

	// Now returns the current time; tests may override it. Default: time.Now.
	Now func() time.Time
}

// EnsureDefaults returns a copy of o (which may be nil) with every unset
// field set to its default.
func (o *Options) EnsureDefaults() *Options {
	var n Options
	if o != nil {
		n = *o
	}
	if n.HotTierBytes == 0 {
		n.HotTierBytes = 256 << 20
	}
	if n.BlockCacheBytes == 0 {
		n.BlockCacheBytes = 32 << 20
	}
	if n.MemTableBytes == 0 {
		n.MemTableBytes = 8 << 20
	}
	if n.MemTableStopWrites == 0 {
		n.MemTableStopWrites = 2
	}
	if n.SyncInterval == 0 {
		n.SyncInterval = time.Second
	}
	if n.ExpireInterval == 0 {
		n.ExpireInterval = 100 * time.Millisecond
	}
	if n.FS == nil {
		n.FS = vfs.Default
	}
	if n.Logger == nil {
		n.Logger = slog.Default()
	}
	if n.Now == nil {
		n.Now = time.Now
	}
	return &n
}

// Validate reports every problem with o at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Durability < EverySec || o.Durability > No {
		errs = append(errs, fmt.Errorf("kv: Durability %d is not always, everysec or no", int(o.Durability)))
	}
	if o.HotTierBytes < 0 {
		errs = append(errs, fmt.Errorf("kv: HotTierBytes %d is negative", o.HotTierBytes))
	}
	if o.BlockCacheBytes < 0 {
		errs = append(errs, fmt.Errorf("kv: BlockCacheBytes %d is negative", o.BlockCacheBytes))
	}
	if o.MemTableBytes < 0 || (o.MemTableBytes > 0 && o.MemTableBytes < 1<<20) || o.MemTableBytes >= 4<<30 {
		errs = append(errs, fmt.Errorf("kv: MemTableBytes %d must be between 1 MiB and 4 GiB", o.MemTableBytes))
	}
	if o.MemTableStopWrites < 0 || o.MemTableStopWrites == 1 {
		errs = append(errs, fmt.Errorf("kv: MemTableStopWrites %d must be at least 2", o.MemTableStopWrites))
	}
	if o.SyncInterval < 0 {
		errs = append(errs, fmt.Errorf("kv: SyncInterval %s is negative", o.SyncInterval))
	}
	if o.ExpireInterval < 0 {
		errs = append(errs, fmt.Errorf("kv: ExpireInterval %s is negative", o.ExpireInterval))
	}
	return errors.Join(errs...)
}
