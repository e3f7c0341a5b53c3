package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/walsync"
)

// LockFileName is the file in the data directory that a process holding the
// store keeps locked (flock) and that records its pid.
const LockFileName = "rustypotato.lock"

// Store is a durable key-value store. It is safe for concurrent use.
type Store struct {
	opts *Options
	dir  string
	db   *pebble.DB
	wfs  *walsync.FS // non-nil in EverySec mode
	lock *os.File
	log  *slog.Logger

	// mu serialises writers (exclusive) against readers (shared). A writer
	// holds it while it applies its batch to Pebble's memtable, never while
	// it waits for the disk.
	mu      sync.RWMutex
	dbmap   [format.NumDBs]uint8 // logical -> physical database
	counts  [format.NumDBs]int64 // data records per physical database
	hot     *hotTier
	writeOp *pebble.WriteOptions

	// Durable-read tracking. A committed batch is visible (published) before
	// Update has waited for its WAL sync, so a concurrent reader could
	// otherwise answer from a write that a crash then loses. commits
	// numbers the committed batches (guarded by mu); synced is the highest
	// commit number whose wait has completed (its WAL record is as durable
	// as the mode promises, and so is every earlier one: the WAL is
	// sequential). A transaction that commits nothing waits, after releasing
	// mu, until synced reaches the commits it could see (waitSynced), as
	// Redis sends no reply under appendfsync always before the fsync.
	commits  uint64
	synced   atomic.Uint64
	syncMu   sync.Mutex
	syncCond *sync.Cond // on syncMu; broadcast when synced advances or a write fails
	waiters  atomic.Int32

	failed atomic.Pointer[error] // set once a write or fsync failed
	closed atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup

	stats Stats

	// WALRepair is set when Open cut a torn write from the end of the
	// write-ahead log (see repairWALTail); nil otherwise.
	WALRepair *WALTailRepair
}

// Stats are counters the store keeps for INFO and metrics.
type Stats struct {
	ExpiredKeys  atomic.Int64 // keys removed by expiry
	EvictedKeys  atomic.Int64 // hot-tier evictions (the key stays on disk)
	HotHits      atomic.Int64 // reads served by the hot tier
	HotMisses    atomic.Int64 // reads that went to Pebble
	WriteBatches atomic.Int64 // committed batches
	OpenDuration time.Duration
}

// pebbleLogger routes Pebble's log lines into slog. Fatalf does not exit the
// process: it records the failure, so that the store refuses further writes
// (ErrWriteFailed), and panics with fatalError, which Update recovers.
type pebbleLogger struct {
	log *slog.Logger
	s   *Store
}

type fatalError struct{ msg string }

func (l pebbleLogger) Infof(f string, args ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "pebble")
}
func (l pebbleLogger) Errorf(f string, args ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "pebble")
}
func (l pebbleLogger) Fatalf(f string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(f, args...))
	l.log.Error(msg, "component", "pebble", "fatal", true)
	if l.s != nil {
		l.s.fail(errors.New(msg))
	}
	panic(fatalError{msg})
}

// Open opens (creating if needed, unless read-only) the store in dir.
func Open(dir string, o *Options) (*Store, error) {
	opts := o.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	s := &Store{opts: opts, dir: dir, log: opts.Logger, stop: make(chan struct{})}
	s.syncCond = sync.NewCond(&s.syncMu)
	s.hot = newHotTier(opts.HotTierBytes, &s.stats)

	if opts.FS == vfs.Default {
		if !opts.ReadOnly {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("kv: create data directory: %w", err)
			}
		} else if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err != nil {
			if _, err2 := os.Stat(dir); err2 != nil {
				return nil, fmt.Errorf("%w %s: %v", ErrNotExist, dir, err2)
			}
		}
		lk, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		s.lock = lk
	}

	fs := opts.FS
	switch opts.Durability {
	case EverySec:
		s.writeOp = pebble.Sync
		if !opts.ReadOnly {
			s.wfs = walsync.New(fs, opts.SyncInterval, nil)
			fs = s.wfs
		}
	case Always:
		s.writeOp = pebble.Sync
	case No:
		s.writeOp = pebble.NoSync
	}

	popts := &pebble.Options{
		FS:                          fs,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                uint64(opts.MemTableBytes),
		MemTableStopWritesThreshold: opts.MemTableStopWrites,
		ReadOnly:                    opts.ReadOnly,
		Logger:                      pebbleLogger{log: opts.Logger, s: s},
		ErrorIfNotExists:            opts.ReadOnly,
	}
	// Pebble's default reaction to a corrupt block is a fatal log line;
	// the store instead fails the read that hit it with an error, keeps
	// serving the rest, and logs the file to check and restore.
	popts.EventListener = &pebble.EventListener{
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			opts.Logger.Error("on-disk corruption: reads of the damaged block fail; run 'rustypotato check' and restore from a backup",
				"component", "pebble", "file", info.Path, "err", firstLine(info.Details))
		},
	}
	cacheSize := opts.BlockCacheBytes + int64(opts.MemTableStopWrites+1)*opts.MemTableBytes
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref()
	popts.Cache = cache
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	popts.EnsureDefaults()

	// Open with automatic compactions off, then turn them on: Pebble
	// v2.1.7's Open waits for the compactions it schedules when level 0
	// has a backlog (cockroachdb/pebble#5420, fixed upstream after v2.1.7),
	// which after loading a large store added most of a second to a
	// restart, after a crash or a clean close alike.
	compactions := !popts.DisableAutomaticCompactions
	popts.DisableAutomaticCompactions = true
	db, err := s.openRepairing(dir, popts)
	if err == nil && compactions && !opts.ReadOnly {
		enableCompactions(db)
	}
	if err != nil {
		s.releaseLock()
		if s.wfs != nil {
			s.wfs.Stop()
		}
		if opts.ReadOnly && strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("%w %s", ErrNotExist, dir)
		}
		return nil, fmt.Errorf("kv: open %s: %w", dir, err)
	}
	s.db = db
	if err := s.loadMeta(); err != nil {
		_ = db.Close()
		s.releaseLock()
		if s.wfs != nil {
			s.wfs.Stop()
		}
		return nil, err
	}
	if opts.OnOpen != nil && !opts.ReadOnly {
		var keys int64
		for _, n := range s.counts {
			keys += n
		}
		err := opts.OnOpen(db, keys)
		if err == nil {
			err = s.loadMeta()
		}
		if err != nil {
			_ = db.Close()
			s.releaseLock()
			if s.wfs != nil {
				s.wfs.Stop()
			}
			return nil, err
		}
	}
	s.stats.OpenDuration = time.Since(start)
	if !opts.ReadOnly {
		s.wg.Add(1)
		go s.expireLoop()
		empty := true
		for _, n := range s.counts {
			empty = empty && n == 0
		}
		if empty {
			s.hot.complete.Store(true)
		} else if !opts.NoBackgroundWarm {
			s.wg.Add(1)
			go s.warmLoop()
		}
	}
	return s, nil
}

// openRepairing opens Pebble; if a power loss tore the end of the
// write-ahead log, it cuts the log at its last intact record (never past an
// fsync, see repairWALTail) and opens again.
func (s *Store) openRepairing(dir string, popts *pebble.Options) (*pebble.DB, error) {
	db, err := openPebble(dir, popts)
	if err == nil || popts.ReadOnly || !isTornWAL(err) {
		return db, err
	}
	rep, rerr := repairWALTail(popts.FS, dir)
	if rerr != nil {
		return nil, fmt.Errorf("%w (cutting the torn write-ahead log tail also failed: %v)", err, rerr)
	}
	if rep == nil {
		return nil, err
	}
	s.log.Warn("cut a torn write at the end of the write-ahead log (a power loss interrupted an unsynced write)",
		"wal", rep.WAL, "kept_bytes", rep.Offset, "dropped_bytes", rep.Dropped, "original", rep.Quarantine)
	s.WALRepair = rep
	return openPebble(dir, popts)
}

// openPebble opens Pebble, turning a panic from a fatal log line into an error.
func openPebble(dir string, popts *pebble.Options) (db *pebble.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			err = errors.New(fe.msg)
		}
	}()
	return pebble.Open(dir, popts)
}

func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if os.IsPermission(err) || errors.Is(err, syscall.EROFS) {
			// A read-only directory: nobody can write it, so nobody holds it.
			return nil, nil
		}
		return nil, fmt.Errorf("kv: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		pid := strings.TrimSpace(string(b[:n]))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%w (pid %s): %s", ErrLocked, pid, dir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func (s *Store) releaseLock() {
	if s.lock != nil {
		_ = s.lock.Close() // closing releases the flock
		s.lock = nil
	}
}

// loadMeta reads (or, for a new store, writes) the format version, the
// database map and the key counts. It reads a constant number of keys: open
// time does not grow with the number of keys.
func (s *Store) loadMeta() error {
	v, closer, err := s.db.Get(format.KeyVersion)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if s.hasUserData() {
			return fmt.Errorf("%w: the data directory holds records but no format version record; run 'rustypotato check' and 'rustypotato repair'", ErrFormatVersion)
		}
		if s.opts.ReadOnly {
			// An empty, never-initialised store: treat as version 1, empty.
			s.dbmap = format.IdentityDBMap()
			return nil
		}
		b := s.db.NewBatch()
		_ = b.Set(format.KeyVersion, []byte(strconv.Itoa(format.Version)), nil)
		m := format.IdentityDBMap()
		_ = b.Set(format.KeyDBMap, m[:], nil)
		for i := 0; i < format.NumDBs; i++ {
			_ = b.Set(format.CountKey(uint8(i)), format.EncodeCount(0), nil)
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("kv: initialise store: %w", err)
		}
		s.dbmap = m
		return nil
	case err != nil:
		return fmt.Errorf("kv: read format version: %w", err)
	}
	ver, perr := strconv.Atoi(string(v))
	closer.Close()
	if perr != nil {
		return fmt.Errorf("%w: unreadable version record %q", ErrFormatVersion, v)
	}
	if ver > format.Version || ver < 1 {
		return fmt.Errorf("%w: the data directory has format %d, this release reads up to %d; upgrade RustyPotato", ErrFormatVersion, ver, format.Version)
	}
	mv, closer, err := s.db.Get(format.KeyDBMap)
	if err != nil {
		return fmt.Errorf("kv: read database map: %w", err)
	}
	s.dbmap, err = format.DecodeDBMap(mv)
	closer.Close()
	if err != nil {
		return fmt.Errorf("kv: %w (run 'rustypotato repair')", err)
	}
	for i := 0; i < format.NumDBs; i++ {
		cv, closer, err := s.db.Get(format.CountKey(uint8(i)))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("kv: read key count: %w", err)
		}
		n, err := format.DecodeCount(cv)
		closer.Close()
		if err != nil {
			return fmt.Errorf("kv: %w (run 'rustypotato repair')", err)
		}
		s.counts[i] = n
	}
	return nil
}

// hasUserData reports whether any data, expiry or sub-key record exists.
func (s *Store) hasUserData() bool {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{format.PrefixData}, UpperBound: []byte{format.PrefixEnd}})
	if err != nil {
		return true // be conservative: do not initialise over unknown state
	}
	defer it.Close()
	return it.First()
}

func (s *Store) fail(err error) {
	s.failed.CompareAndSwap(nil, &err)
	s.syncMu.Lock()
	s.syncCond.Broadcast()
	s.syncMu.Unlock()
}

// markSynced records that commit n (and so every earlier one) is durable.
func (s *Store) markSynced(n uint64) {
	for {
		cur := s.synced.Load()
		if n <= cur {
			return
		}
		if s.synced.CompareAndSwap(cur, n) {
			break
		}
	}
	if s.waiters.Load() > 0 {
		s.syncMu.Lock()
		s.syncCond.Broadcast()
		s.syncMu.Unlock()
	}
}

// waitSynced waits until commit n is durable. It returns the store's write
// failure if one happens first: the commit may then never become durable.
func (s *Store) waitSynced(n uint64) error {
	if s.synced.Load() >= n {
		return nil
	}
	s.waiters.Add(1)
	s.syncMu.Lock()
	for s.synced.Load() < n && s.failed.Load() == nil {
		s.syncCond.Wait()
	}
	s.syncMu.Unlock()
	s.waiters.Add(-1)
	if s.synced.Load() >= n {
		return nil
	}
	return s.Err()
}

// Err returns the write failure that made the store refuse writes, if any.
func (s *Store) Err() error {
	if p := s.failed.Load(); p != nil {
		return fmt.Errorf("%w: %v", ErrWriteFailed, *p)
	}
	if s.wfs != nil {
		if err := s.wfs.Err(); err != nil {
			return fmt.Errorf("%w: %v", ErrWriteFailed, err)
		}
	}
	return nil
}

// Options returns the store's effective options.
func (s *Store) Options() Options { return *s.opts }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Pebble returns the underlying Pebble database, for tools that inspect
// the LSM (metrics, checkpoints, compaction). Writing to it directly
// bypasses the store's bookkeeping.
func (s *Store) Pebble() *pebble.DB { return s.db }

// Sync makes every acknowledged write durable now (an fsync of the WAL),
// whatever the durability mode.
func (s *Store) Sync() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return nil
	}
	if s.wfs != nil {
		return s.wfs.SyncNow()
	}
	return s.db.LogData(nil, pebble.Sync)
}

// LastSync returns the time of the last background WAL fsync (EverySec
// mode), or the zero time.
func (s *Store) LastSync() time.Time {
	if s.wfs != nil {
		return s.wfs.LastSync()
	}
	return time.Time{}
}

// Checkpoint writes a consistent copy of the store to dest (which must not
// exist) that opens as a data directory. Writes continue meanwhile.
func (s *Store) Checkpoint(dest string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.db.Checkpoint(dest, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("kv: checkpoint to %s: %w", dest, err)
	}
	return nil
}

// Close stops background work, makes every acknowledged write durable,
// flushes Pebble's memtables (so that the next Open has no write-ahead log
// to replay and costs the same however much was written before) and closes
// Pebble. It is safe to call more than once.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if !s.opts.ReadOnly && s.Err() == nil {
		if err := s.db.Flush(); err != nil {
			errs = append(errs, err)
		}
		if err := s.db.LogData(nil, pebble.Sync); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	if s.wfs != nil {
		s.wfs.Stop()
	}
	s.releaseLock()
	return errors.Join(errs...)
}

// Shutdown is Close bounded by ctx: if ctx ends first, Shutdown returns
// ctx's error and the close finishes in the background.
func (s *Store) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// nowMs returns the current time in Unix milliseconds.
func (s *Store) nowMs() int64 { return s.opts.Now().UnixMilli() }

// Phys returns the physical database behind logical database db.
func (s *Store) phys(db int) (uint8, error) {
	if db < 0 || db >= format.NumDBs {
		return 0, ErrDBIndex
	}
	return s.dbmap[db], nil
}
