package kv

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/rustypotato/rustypotato/internal/format"
)

// Low-level access for the recovery tools and the offline CLI (package
// recovery, cmd/rustypotato): opening a data directory's Pebble database
// without interpreting its metadata, iterating a database's records, and
// warming the hot tier.

// RawOptions configure OpenRaw.
type RawOptions struct {
	// ReadOnly opens Pebble read-only: nothing in the directory is written
	// (except the lock file, as Open does).
	ReadOnly bool
	// Logger receives Pebble's log lines. Default: slog.Default().
	Logger *slog.Logger
}

// RawDB is a data directory's Pebble database opened by OpenRaw, under the
// same directory lock as a Store.
type RawDB struct {
	db   *pebble.DB
	lock *os.File
	dir  string
}

// rawLogger routes Pebble's log lines into slog. Fatalf logs and panics
// with fatalError, like the store's logger; OpenRaw turns such a panic
// during Open into an error.
type rawLogger struct{ log *slog.Logger }

func (l rawLogger) Infof(f string, args ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "pebble")
}
func (l rawLogger) Errorf(f string, args ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "pebble")
}
func (l rawLogger) Fatalf(f string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(f, args...))
	l.log.Error(msg, "component", "pebble", "fatal", true)
	panic(fatalError{msg})
}

// OpenRaw opens the Pebble database of the store in dir, taking the
// directory lock as Open does (so it fails with ErrLocked while a server
// holds the directory), but without reading, checking or initialising the
// store's metadata, and without background expiry. A read-only OpenRaw of a
// directory without a store fails with ErrNotExist; a writable one creates
// an empty Pebble database. It is meant for tools that check and repair the
// on-disk format; writes through RawDB.Pebble bypass every invariant the
// Store keeps.
func OpenRaw(dir string, o *RawOptions) (*RawDB, error) {
	var opts RawOptions
	if o != nil {
		opts = *o
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrNotExist, dir, err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kv: create data directory: %w", err)
	}
	lk, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	popts := &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		ReadOnly:           opts.ReadOnly,
		Logger:             rawLogger{log: opts.Logger},
		ErrorIfNotExists:   opts.ReadOnly,
	}
	if opts.ReadOnly {
		// Never ratchet the format of a directory opened to be inspected.
		popts.FormatMajorVersion = pebble.FormatDefault
	}
	// Pebble's default reaction to a corrupt block is a fatal log line;
	// the tools report the read error instead.
	popts.EventListener = &pebble.EventListener{
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			opts.Logger.Error("on-disk corruption", "component", "pebble", "file", info.Path, "err", firstLine(info.Details))
		},
	}
	cache := pebble.NewCache(32 << 20)
	defer cache.Unref()
	popts.Cache = cache
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	popts.EnsureDefaults()
	db, err := openPebble(dir, popts)
	if err != nil {
		if lk != nil {
			_ = lk.Close()
		}
		if opts.ReadOnly && strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("%w %s", ErrNotExist, dir)
		}
		return nil, fmt.Errorf("kv: open %s: %w", dir, err)
	}
	return &RawDB{db: db, lock: lk, dir: dir}, nil
}

// Pebble returns the database.
func (r *RawDB) Pebble() *pebble.DB { return r.db }

// Dir returns the data directory.
func (r *RawDB) Dir() string { return r.dir }

// Close closes Pebble and releases the directory lock.
func (r *RawDB) Close() error {
	if r.db == nil {
		return nil
	}
	err := r.db.Close()
	r.db = nil
	if r.lock != nil {
		_ = r.lock.Close()
		r.lock = nil
	}
	return err
}

// Record is one data record as Store.Records reports it.
type Record struct {
	DB       int    // logical database
	Key      []byte // valid only during the callback
	Type     byte   // format.TypeString, ...
	ExpireAt int64  // absolute Unix ms; 0: no TTL
	Value    []byte // the payload; valid only during the callback
}

// Expired reports whether the record's deadline is at or before now (Unix
// ms): such a key no longer exists, though its record may still be on disk.
func (r *Record) Expired(now int64) bool { return r.ExpireAt != 0 && r.ExpireAt <= now }

// Records calls fn for every data record of logical database db, in the
// store's hash order, from a consistent point-in-time view of Pebble; it
// includes records past their deadline (see Record.Expired). fn returning
// an error stops the walk and Records returns it. A record that does not
// decode stops the walk with an error wrapping format.ErrCorrupt.
func (s *Store) Records(db int, fn func(r *Record) error) (err error) {
	defer CatchFatal(&err)
	if s.closed.Load() {
		return ErrClosed
	}
	s.mu.RLock()
	phys, err := s.phys(db)
	var snap *pebble.Snapshot
	if err == nil {
		snap = s.db.NewSnapshot()
	}
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: format.DataPrefix(phys), UpperBound: format.DataUpper(phys)})
	if err != nil {
		return err
	}
	defer it.Close()
	var rec Record
	for ok := it.First(); ok; ok = it.Next() {
		_, _, key, err := format.DecodeDataKey(it.Key())
		if err != nil {
			return fmt.Errorf("kv: %w (run 'rustypotato check')", err)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		typ, exp, payload, err := format.DecodeValue(v)
		if err != nil {
			return fmt.Errorf("kv: key %q: %w (run 'rustypotato check')", key, err)
		}
		rec = Record{DB: db, Key: key, Type: typ, ExpireAt: exp, Value: payload}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return it.Error()
}

// CountRecords returns the number of data records of logical database db
// as the store's metadata records it (DBSIZE, without a transaction).
func (s *Store) CountRecords(db int) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	phys, err := s.phys(db)
	if err != nil {
		return 0, err
	}
	return s.counts[phys], nil
}

// WarmStats reports what Warm loaded.
type WarmStats struct {
	Keys     int
	Bytes    int64 // as the hot tier accounts for them
	Duration time.Duration
}

// Warm loads data records into the hot tier, database by database in hash
// order (an unbiased sample of the keys: the store keeps no access
// history), until about maxBytes (and never more than the hot tier's
// budget) are cached. It reads at most that many bytes of records, so its
// cost does not grow with the number of keys. It shares warmChunk with the
// background warm-up, so writers wait at most one chunk.
func (s *Store) Warm(maxBytes int64) (st WarmStats, err error) {
	start := time.Now()
	if s.closed.Load() {
		return st, ErrClosed
	}
	budget := min(maxBytes, s.opts.HotTierBytes)
	for phys := uint8(0); phys < format.NumDBs && budget > 0; phys++ {
		for from := []byte(nil); ; {
			n, b, last, ok, err := s.warmChunk(phys, from, budget)
			st.Keys += n
			st.Bytes += b
			if err != nil {
				return st, err
			}
			if !ok {
				st.Duration = time.Since(start)
				return st, nil
			}
			if last == nil {
				break
			}
			from = last
		}
	}
	st.Duration = time.Since(start)
	return st, nil
}

// ErrPebbleFatal wraps a fatal error Pebble reported while reading, such
// as a corrupt sstable block (see CatchFatal).
var ErrPebbleFatal = errors.New("kv: Pebble reported a fatal error (run 'rustypotato check')")

// CatchFatal, deferred, turns the panic that the store's Pebble logger
// raises for a fatal Pebble error (Pebble reports a corrupt sstable block
// read by default as fatal) into an error wrapping ErrPebbleFatal stored in
// *err. Other panics propagate. Offline tools defer it around reads of a
// possibly damaged store; the store itself refuses writes after such an
// error.
func CatchFatal(err *error) {
	if r := recover(); r != nil {
		fe, ok := r.(fatalError)
		if !ok {
			panic(r)
		}
		*err = fmt.Errorf("%w: %s", ErrPebbleFatal, firstLine(fe.msg))
	}
}

func firstLine(v any) string {
	s := fmt.Sprint(v)
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
