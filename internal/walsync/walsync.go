// Package walsync wraps a Pebble vfs.FS so that Pebble's write-ahead log is
// fsynced by a background goroutine once per interval instead of on every
// synchronous commit: the equivalent of Redis's "appendfsync everysec".
//
// Writes to WAL files still go straight to the operating system (the wrapped
// file's Write), so a process crash (kill -9) loses nothing that Pebble has
// acknowledged; a power loss or kernel crash can lose about one interval of
// acknowledged writes. Sync, SyncData and SyncTo on a WAL file only record the
// file as dirty and return at once. A background goroutine fdatasyncs every
// dirty WAL file once per interval, Close fdatasyncs a dirty WAL file before
// closing it, and SyncNow syncs everything on demand. Every other file
// (sstables, MANIFEST, OPTIONS, directories, ...) is passed through unchanged,
// so flushes, compactions and version edits stay fully durable.
//
// A failed background fsync is never swallowed: it is counted, reported to
// the onSync callback, kept as Err() and retried on the next tick. As with
// Redis's aof_bio_fsync_status, Err() returns to nil once a later sync pass
// succeeds. The WAL writer itself never sees the error (Pebble treats a WAL
// sync error as fatal); the store is expected to check Err() and refuse
// writes while it is non-nil, as Redis does with MISCONF.
package walsync

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/wal"
)

// DefaultInterval is the background sync interval used when New is given an
// interval <= 0. It matches Redis's "appendfsync everysec".
const DefaultInterval = time.Second

// IsWAL reports whether base, the final element of a path, is the name of a
// Pebble write-ahead log file. Pebble v2 names WAL files "NNNNNN.log" (the
// primary, and recycled logs, which are renamed to the new number before
// reuse) and "NNNNNN-III.log" (additional logs of the same WAL written under
// WAL failover, in the primary or secondary directory). Other files whose name
// merely ends in ".log" are not treated as WAL files and keep synchronous
// syncs.
func IsWAL(base string) bool {
	_, _, ok := wal.ParseLogFilename(base)
	return ok
}

// FS is a vfs.FS that defers the syncs of Pebble WAL files to a background
// goroutine. Create it with New and call Stop when the database using it is
// closed. All methods are safe for concurrent use.
type FS struct {
	vfs.FS

	interval time.Duration
	onSync   func(d time.Duration, err error)

	mu    sync.Mutex
	files map[*walFile]struct{} // open WAL files

	stopped  atomic.Bool
	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}

	lastSync   atomic.Int64 // unix nanoseconds of the last clean pass; 0 if none
	lastDur    atomic.Int64 // duration of the most recent WAL fsync
	syncErrors atomic.Int64

	errMu  sync.Mutex
	err    error  // last fsync error; nil once a later pass is clean
	errGen uint64 // incremented each time err is set
}

var _ vfs.FS = (*FS)(nil)

// New wraps fs and starts the background syncer, which fdatasyncs dirty WAL
// files every interval (DefaultInterval if interval <= 0). onSync, which may
// be nil, is called after every fsync of a WAL file made by the wrapper (by
// the background goroutine, SyncNow, Stop or Close) with the time the fsync
// took and its error; it runs on the syncing goroutine with no lock held and
// should return quickly. The caller must call Stop when done.
func New(fs vfs.FS, interval time.Duration, onSync func(d time.Duration, err error)) *FS {
	if interval <= 0 {
		interval = DefaultInterval
	}
	w := &FS{
		FS:       fs,
		interval: interval,
		onSync:   onSync,
		files:    make(map[*walFile]struct{}),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// Interval returns the background sync interval.
func (fs *FS) Interval() time.Duration { return fs.interval }

func (fs *FS) run() {
	defer close(fs.done)
	t := time.NewTicker(fs.interval)
	defer t.Stop()
	for {
		select {
		case <-fs.quit:
			return
		case <-t.C:
			_ = fs.syncAll()
		}
	}
}

// SyncNow fdatasyncs every WAL file with writes or sync requests not yet
// synced, and returns the first error. When it returns nil, every WAL write
// that completed before the call is on stable storage. It may be called at
// any time, also after Stop.
func (fs *FS) SyncNow() error {
	return fs.syncAll()
}

// Stop stops the background goroutine and then syncs all dirty WAL files one
// last time. After Stop, Sync and SyncData on WAL files are synchronous again
// (they fdatasync before returning), so a database still open keeps its
// durability guarantees; Close still syncs. Stop is idempotent. Use SyncNow
// first if the error of the final sync matters; it is also kept in Err().
func (fs *FS) Stop() {
	fs.stopOnce.Do(func() {
		close(fs.quit)
		<-fs.done
		// stopped is set before the final pass: a sync request that the final
		// pass does not see observes stopped and syncs by itself.
		fs.stopped.Store(true)
		_ = fs.syncAll()
	})
}

// LastSync returns the time at which the most recent sync pass (background
// tick, SyncNow or Stop) finished without error, including passes that found
// nothing to sync. Every WAL write completed before that pass started was on
// stable storage by then. It is the zero time before the first clean pass.
func (fs *FS) LastSync() time.Time {
	ns := fs.lastSync.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// LastSyncDuration returns how long the most recent fsync of a WAL file took,
// whether it succeeded or not (0 if there has been none).
func (fs *FS) LastSyncDuration() time.Duration {
	return time.Duration(fs.lastDur.Load())
}

// SyncErrors returns the total number of failed WAL fsyncs.
func (fs *FS) SyncErrors() int64 { return fs.syncErrors.Load() }

// Pending returns the number of open WAL files with writes or sync requests
// that have not been fsynced yet.
func (fs *FS) Pending() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for f := range fs.files {
		if f.dirty() {
			n++
		}
	}
	return n
}

// Err returns the error of the most recent failed WAL fsync, or nil if no
// fsync has failed since the last clean sync pass. While it is non-nil some
// acknowledged writes may not be durable; the failed files stay dirty and are
// retried on every tick.
func (fs *FS) Err() error {
	fs.errMu.Lock()
	defer fs.errMu.Unlock()
	return fs.err
}

// Create implements vfs.FS.
func (fs *FS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil {
		return nil, err
	}
	return fs.wrap(name, f), nil
}

// OpenReadWrite implements vfs.FS.
func (fs *FS) OpenReadWrite(
	name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption,
) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, category, opts...)
	if err != nil {
		return nil, err
	}
	return fs.wrap(name, f), nil
}

// ReuseForWrite implements vfs.FS. Pebble recycles old WAL files through it.
func (fs *FS) ReuseForWrite(
	oldname, newname string, category vfs.DiskWriteCategory,
) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil {
		return nil, err
	}
	return fs.wrap(newname, f), nil
}

// Unwrap implements vfs.FS.
func (fs *FS) Unwrap() vfs.FS { return fs.FS }

func (fs *FS) wrap(name string, f vfs.File) vfs.File {
	if !IsWAL(fs.FS.PathBase(name)) {
		return f
	}
	wf := &walFile{File: f, fs: fs}
	fs.mu.Lock()
	fs.files[wf] = struct{}{}
	fs.mu.Unlock()
	return wf
}

func (fs *FS) unregister(f *walFile) {
	fs.mu.Lock()
	delete(fs.files, f)
	fs.mu.Unlock()
}

// syncAll fsyncs every dirty open WAL file, one at a time, without holding
// the registry mutex, and returns the first error.
func (fs *FS) syncAll() error {
	fs.errMu.Lock()
	gen := fs.errGen
	fs.errMu.Unlock()

	fs.mu.Lock()
	files := make([]*walFile, 0, len(fs.files))
	for f := range fs.files {
		if f.dirty() {
			files = append(files, f)
		}
	}
	fs.mu.Unlock()

	var first error
	for _, f := range files {
		if err := f.syncPending(); err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		fs.errMu.Lock()
		if fs.errGen == gen {
			fs.err = nil
		}
		fs.errMu.Unlock()
		fs.lastSync.Store(time.Now().UnixNano())
	}
	return first
}

// report records the outcome of one WAL fsync. It is called with no lock held.
func (fs *FS) report(d time.Duration, err error) {
	fs.lastDur.Store(int64(d))
	if err != nil {
		fs.syncErrors.Add(1)
		fs.errMu.Lock()
		fs.err = err
		fs.errGen++
		fs.errMu.Unlock()
	}
	if fs.onSync != nil {
		fs.onSync(d, err)
	}
}

// walFile is an open WAL file. Writes and sync requests bump marked; a
// successful fsync stores into synced the value of marked read before it
// started, so marked != synced means "possibly unsynced data". syncMu
// serializes fsyncs of the file with each other and with Close; the write
// path (Write, Sync, SyncData, SyncTo) never takes it while the background
// syncer is running.
type walFile struct {
	vfs.File
	fs *FS

	marked atomic.Uint64
	synced atomic.Uint64

	syncMu sync.Mutex
	closed bool // guarded by syncMu
}

func (f *walFile) dirty() bool { return f.marked.Load() != f.synced.Load() }

// Write implements vfs.File: the data goes straight to the wrapped file and
// the file becomes dirty, so even writes Pebble never syncs reach stable
// storage within an interval.
func (f *walFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.marked.Add(1)
	return n, err
}

// WriteAt implements vfs.File.
func (f *walFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	f.marked.Add(1)
	return n, err
}

// Sync implements vfs.File: it records the file as dirty and returns nil at
// once (before Stop) or fdatasyncs synchronously (after Stop).
func (f *walFile) Sync() error { return f.requestSync() }

// SyncData implements vfs.File like Sync.
func (f *walFile) SyncData() error { return f.requestSync() }

// SyncTo implements vfs.File. It records the file as dirty and reports
// fullSync=false, which by the vfs.File contract promises no persistence; the
// data is fdatasynced by the next pass (or by Close).
func (f *walFile) SyncTo(length int64) (fullSync bool, err error) {
	f.marked.Add(1)
	return false, nil
}

func (f *walFile) requestSync() error {
	f.marked.Add(1)
	if f.fs.stopped.Load() {
		return f.syncPending()
	}
	return nil
}

// syncPending fdatasyncs the file if it is open and dirty.
func (f *walFile) syncPending() error {
	f.syncMu.Lock()
	if f.closed {
		f.syncMu.Unlock()
		return nil
	}
	d, did, err := f.syncLocked()
	f.syncMu.Unlock()
	if did {
		f.fs.report(d, err)
	}
	return err
}

// syncLocked fdatasyncs the file if it is dirty. f.syncMu must be held.
func (f *walFile) syncLocked() (d time.Duration, did bool, err error) {
	seq := f.marked.Load()
	if seq == f.synced.Load() {
		return 0, false, nil
	}
	start := time.Now()
	err = f.File.SyncData()
	d = time.Since(start)
	if err == nil {
		f.synced.Store(seq)
	}
	return d, true, err
}

// Close implements vfs.File: it fdatasyncs the file if it is dirty, then
// closes it. The wrapped file is closed even if the sync fails, and the sync
// error is returned.
func (f *walFile) Close() error {
	f.syncMu.Lock()
	if f.closed {
		f.syncMu.Unlock()
		return f.File.Close() // reports the wrapped file's "already closed" error
	}
	f.closed = true
	d, did, serr := f.syncLocked()
	cerr := f.File.Close()
	f.syncMu.Unlock()
	f.fs.unregister(f)
	if did {
		f.fs.report(d, serr)
	}
	if serr != nil {
		return serr
	}
	return cerr
}
