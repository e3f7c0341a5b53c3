package walsync_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/rustypotato/rustypotato/internal/walsync"
)

// never is an interval long enough that the background syncer never fires
// during a test.
const never = time.Hour

var errInjected = errors.New("injected fsync failure")

// countingFS wraps an FS, counts Sync/SyncData calls per file base name, and
// can be told to fail the syncs of WAL files.
type countingFS struct {
	vfs.FS
	mu     sync.Mutex
	syncs  map[string]int
	syncTo atomic.Int64
	fail   atomic.Bool
}

func newCountingFS(inner vfs.FS) *countingFS {
	return &countingFS{FS: inner, syncs: make(map[string]int)}
}

func (c *countingFS) count(base string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs[base]
}

func (c *countingFS) walSyncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for name, k := range c.syncs {
		if walsync.IsWAL(name) {
			n += k
		}
	}
	return n
}

func (c *countingFS) wrap(name string, f vfs.File) vfs.File {
	return &countingFile{File: f, fs: c, base: c.PathBase(name)}
}

func (c *countingFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := c.FS.Create(name, cat)
	if err != nil {
		return nil, err
	}
	return c.wrap(name, f), nil
}

func (c *countingFS) OpenReadWrite(name string, cat vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := c.FS.OpenReadWrite(name, cat, opts...)
	if err != nil {
		return nil, err
	}
	return c.wrap(name, f), nil
}

func (c *countingFS) ReuseForWrite(oldname, newname string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := c.FS.ReuseForWrite(oldname, newname, cat)
	if err != nil {
		return nil, err
	}
	return c.wrap(newname, f), nil
}

func (c *countingFS) OpenDir(name string) (vfs.File, error) {
	f, err := c.FS.OpenDir(name)
	if err != nil {
		return nil, err
	}
	return c.wrap(name, f), nil
}

type countingFile struct {
	vfs.File
	fs   *countingFS
	base string
}

func (f *countingFile) record() error {
	f.fs.mu.Lock()
	f.fs.syncs[f.base]++
	f.fs.mu.Unlock()
	if f.fs.fail.Load() && walsync.IsWAL(f.base) {
		return errInjected
	}
	return nil
}

func (f *countingFile) Sync() error {
	if err := f.record(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *countingFile) SyncData() error {
	if err := f.record(); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *countingFile) SyncTo(length int64) (bool, error) {
	f.fs.syncTo.Add(1)
	return f.File.SyncTo(length)
}

// syncLog records the onSync callbacks.
type syncLog struct {
	mu   sync.Mutex
	ok   int
	errs []error
}

func (l *syncLog) cb(d time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	if err != nil {
		l.errs = append(l.errs, err)
	} else {
		l.ok++
	}
}

func (l *syncLog) counts() (ok, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, len(l.errs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func writeAndSync(t *testing.T, f vfs.File, data string) {
	t.Helper()
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestIsWAL(t *testing.T) {
	for name, want := range map[string]bool{
		"000001.log":      true,
		"123456.log":      true,
		"000007-001.log":  true, // failover: second log file of WAL 7
		"000007-012.log":  true,
		"MANIFEST-000001": false,
		"000002.sst":      false,
		"OPTIONS-000003":  false,
		"CURRENT":         false,
		"LOG":             false,
		"server.log":      false, // ends in .log but not a Pebble WAL
		"000001.log.tmp":  false,
		"failover_source": false,
	} {
		if got := walsync.IsWAL(name); got != want {
			t.Errorf("IsWAL(%q) = %v, want %v", name, got, want)
		}
	}
}

// (1) A WAL file's Sync/SyncData/SyncTo return without fsyncing, and the
// background syncer syncs it later.
func TestWALSyncIsDeferred(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, never, nil)
	defer w.Stop()

	f, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 100; i++ {
		writeAndSync(t, f, "record\n")
		if err := f.SyncData(); err != nil {
			t.Fatal(err)
		}
		full, err := f.SyncTo(int64(7 * (i + 1)))
		if err != nil || full {
			t.Fatalf("SyncTo = %v, %v; want false, nil", full, err)
		}
	}
	if n := cfs.count("000001.log"); n != 0 {
		t.Fatalf("underlying syncs = %d, want 0", n)
	}
	if n := cfs.syncTo.Load(); n != 0 {
		t.Fatalf("underlying SyncTo calls = %d, want 0", n)
	}
	if p := w.Pending(); p != 1 {
		t.Fatalf("Pending = %d, want 1", p)
	}
	// The data is in the OS already: another handle reads it.
	got, err := os.ReadFile(filepath.Join(dir, "000001.log"))
	if err != nil || len(got) != 700 {
		t.Fatalf("read back %d bytes, %v; want 700", len(got), err)
	}
	if !w.LastSync().IsZero() {
		t.Fatalf("LastSync = %v before any pass", w.LastSync())
	}
}

func TestBackgroundSync(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	var log syncLog
	w := walsync.New(cfs, 10*time.Millisecond, log.cb)
	defer w.Stop()
	if w.Interval() != 10*time.Millisecond {
		t.Fatalf("Interval = %v", w.Interval())
	}

	f, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := time.Now()
	writeAndSync(t, f, "hello")
	waitFor(t, "background sync", func() bool { return cfs.count("000001.log") >= 1 && w.Pending() == 0 })
	waitFor(t, "onSync", func() bool { ok, _ := log.counts(); return ok >= 1 })
	waitFor(t, "LastSync", func() bool { return w.LastSync().After(before) })
	if w.Err() != nil || w.SyncErrors() != 0 {
		t.Fatalf("Err = %v, SyncErrors = %d", w.Err(), w.SyncErrors())
	}
	if w.LastSyncDuration() <= 0 {
		t.Fatalf("LastSyncDuration = %v", w.LastSyncDuration())
	}
	// A clean file is not fsynced again on later ticks.
	n := cfs.count("000001.log")
	time.Sleep(50 * time.Millisecond)
	if m := cfs.count("000001.log"); m != n {
		t.Fatalf("idle file fsynced again: %d -> %d", n, m)
	}
	// A plain Write (no Sync) is synced by the next tick too.
	if _, err := f.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sync of unsynced write", func() bool { return cfs.count("000001.log") > n && w.Pending() == 0 })
}

// (2) Non-WAL files are passed through and sync synchronously.
func TestNonWALFilesSyncSynchronously(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, never, nil)
	defer w.Stop()

	for _, name := range []string{"MANIFEST-000001", "000002.sst", "OPTIONS-000003", "server.log"} {
		f, err := w.Create(filepath.Join(dir, name), "test")
		if err != nil {
			t.Fatal(err)
		}
		writeAndSync(t, f, "x")
		if n := cfs.count(name); n != 1 {
			t.Fatalf("%s: underlying syncs after Sync = %d, want 1", name, n)
		}
		if err := f.SyncData(); err != nil {
			t.Fatal(err)
		}
		if n := cfs.count(name); n != 2 {
			t.Fatalf("%s: underlying syncs after SyncData = %d, want 2", name, n)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	d, err := w.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if n := cfs.count(filepath.Base(dir)); n != 1 {
		t.Fatalf("directory syncs = %d, want 1", n)
	}
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d, want 0", p)
	}
}

// (3) Close fsyncs a dirty WAL file, and only a dirty one.
func TestCloseSyncsDirtyWAL(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	var log syncLog
	w := walsync.New(cfs, never, log.cb)
	defer w.Stop()

	f, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	writeAndSync(t, f, "abc")
	if n := cfs.count("000001.log"); n != 0 {
		t.Fatalf("underlying syncs before Close = %d", n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n := cfs.count("000001.log"); n != 1 {
		t.Fatalf("underlying syncs after Close = %d, want 1", n)
	}
	if ok, _ := log.counts(); ok != 1 {
		t.Fatalf("onSync calls = %d, want 1", ok)
	}
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d after Close", p)
	}
	if err := f.Close(); err == nil {
		t.Fatal("second Close succeeded")
	}

	// A file already synced is closed without another fsync.
	g, err := w.Create(filepath.Join(dir, "000002.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	writeAndSync(t, g, "def")
	if err := w.SyncNow(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if n := cfs.count("000002.log"); n != 1 {
		t.Fatalf("underlying syncs of clean file = %d, want 1", n)
	}
}

// (4) SyncNow syncs every dirty WAL file, including recycled ones.
func TestSyncNow(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, never, nil)
	defer w.Stop()

	// Recycle an old log the way Pebble does.
	old, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	writeAndSync(t, old, "old")
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := w.ReuseForWrite(filepath.Join(dir, "000001.log"), filepath.Join(dir, "000003.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := w.Create(filepath.Join(dir, "000004-001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	writeAndSync(t, a, "aaa")
	writeAndSync(t, b, "bbb")
	if n := cfs.count("000003.log") + cfs.count("000004-001.log"); n != 0 {
		t.Fatalf("underlying syncs before SyncNow = %d", n)
	}
	if p := w.Pending(); p != 2 {
		t.Fatalf("Pending = %d, want 2", p)
	}
	if err := w.SyncNow(); err != nil {
		t.Fatal(err)
	}
	if a, b := cfs.count("000003.log"), cfs.count("000004-001.log"); a != 1 || b != 1 {
		t.Fatalf("underlying syncs after SyncNow = %d, %d; want 1, 1", a, b)
	}
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d after SyncNow", p)
	}
	if w.LastSync().IsZero() {
		t.Fatal("LastSync zero after SyncNow")
	}
	if err := w.SyncNow(); err != nil {
		t.Fatal(err)
	}
	if n := cfs.count("000003.log") + cfs.count("000004-001.log"); n != 2 {
		t.Fatalf("SyncNow with nothing dirty fsynced: total %d, want 2", n)
	}
}

// Stop makes a final pass, and afterwards WAL syncs are synchronous.
func TestStop(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, never, nil)

	f, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeAndSync(t, f, "x")
	w.Stop()
	if n := cfs.count("000001.log"); n != 1 {
		t.Fatalf("syncs after Stop = %d, want 1", n)
	}
	w.Stop() // idempotent
	writeAndSync(t, f, "y")
	if n := cfs.count("000001.log"); n != 2 {
		t.Fatalf("syncs after post-Stop Sync = %d, want 2", n)
	}
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d", p)
	}
}

// Concurrent writers, the background syncer, SyncNow and Close race without
// data races or lost syncs (run with -race).
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, time.Millisecond, nil)
	defer w.Stop()

	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				f, err := w.Create(filepath.Join(dir, fmt.Sprintf("%06d.log", i*100+j)), "test")
				if err != nil {
					t.Error(err)
					return
				}
				for k := 0; k < 20; k++ {
					if _, err := f.Write([]byte("data")); err != nil {
						t.Error(err)
					}
					if err := f.Sync(); err != nil {
						t.Error(err)
					}
				}
				if err := f.Close(); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				if err := w.SyncNow(); err != nil {
					t.Error(err)
				}
				_ = w.Pending()
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d after all files closed", p)
	}
	// Every file was written and closed dirty or synced: each got >= 1 fsync.
	for i := 0; i < 4; i++ {
		for j := 0; j < 20; j++ {
			name := fmt.Sprintf("%06d.log", i*100+j)
			if cfs.count(name) < 1 {
				t.Fatalf("%s never fsynced", name)
			}
		}
	}
}

// (6) A failing fsync is reported via onSync, Err and SyncErrors, the file
// stays dirty and is retried, and Err clears after a clean pass.
func TestSyncErrors(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	var log syncLog
	w := walsync.New(cfs, 5*time.Millisecond, log.cb)
	defer w.Stop()

	f, err := w.Create(filepath.Join(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfs.fail.Store(true)
	// Sync itself does not fail: the WAL writer never sees the error.
	writeAndSync(t, f, "x")
	waitFor(t, "two failed fsyncs", func() bool { _, failed := log.counts(); return failed >= 2 })
	if err := w.Err(); !errors.Is(err, errInjected) {
		t.Fatalf("Err = %v, want %v", err, errInjected)
	}
	if w.SyncErrors() < 2 {
		t.Fatalf("SyncErrors = %d, want >= 2", w.SyncErrors())
	}
	if p := w.Pending(); p != 1 {
		t.Fatalf("Pending = %d, want 1 (file still dirty)", p)
	}
	if err := w.SyncNow(); !errors.Is(err, errInjected) {
		t.Fatalf("SyncNow = %v, want %v", err, errInjected)
	}
	log.mu.Lock()
	for _, e := range log.errs {
		if !errors.Is(e, errInjected) {
			t.Errorf("onSync got %v", e)
		}
	}
	log.mu.Unlock()

	cfs.fail.Store(false)
	waitFor(t, "recovery", func() bool { return w.Err() == nil && w.Pending() == 0 })
	if ok, _ := log.counts(); ok < 1 {
		t.Fatal("no successful onSync after recovery")
	}

	// Close with a failing disk returns the error but still closes the file.
	// (The fault is injected first so no background pass can sync "y".)
	cfs.fail.Store(true)
	writeAndSync(t, f, "y")
	if err := f.Close(); !errors.Is(err, errInjected) {
		t.Fatalf("Close = %v, want %v", err, errInjected)
	}
	if err := w.Err(); !errors.Is(err, errInjected) {
		t.Fatalf("Err after failed Close = %v", err)
	}
	if p := w.Pending(); p != 0 {
		t.Fatalf("Pending = %d after Close", p)
	}
	cfs.fail.Store(false)
}

func openDB(t *testing.T, dir string, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{
		FS:                 fs,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf(format, args...))
}

func checkKeys(t *testing.T, db *pebble.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key-%05d", i)
		v, closer, err := db.Get([]byte(k))
		if err != nil {
			t.Fatalf("Get(%s): %v", k, err)
		}
		if string(v) != "val-"+k {
			t.Fatalf("Get(%s) = %q", k, v)
		}
		closer.Close()
	}
}

// (5) A real Pebble database on the wrapper: Sync commits do not fsync the
// WAL, and all data survives close and reopen.
func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	w := walsync.New(cfs, never, nil)
	db := openDB(t, dir, w)

	const writers, perWriter = 4, 250
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g * perWriter; i < (g+1)*perWriter; i++ {
				k := fmt.Sprintf("key-%05d", i)
				if err := db.Set([]byte(k), []byte("val-"+k), pebble.Sync); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	if n := cfs.walSyncs(); n != 0 {
		t.Fatalf("WAL fsyncs during %d Sync commits = %d, want 0", writers*perWriter, n)
	}
	if w.Pending() < 1 {
		t.Fatalf("Pending = %d, want >= 1", w.Pending())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	w.Stop()
	if n := cfs.walSyncs(); n < 1 {
		t.Fatalf("WAL never fsynced by Close (%d)", n)
	}
	if w.Pending() != 0 || w.Err() != nil {
		t.Fatalf("after close: Pending = %d, Err = %v", w.Pending(), w.Err())
	}

	w2 := walsync.New(vfs.Default, 10*time.Millisecond, nil)
	defer w2.Stop()
	db2 := openDB(t, dir, w2)
	defer db2.Close()
	checkKeys(t, db2, writers*perWriter)
}

// Power loss before a sync pass loses the deferred WAL data; after SyncNow
// the data survives. This checks the durability contract against Pebble with
// a crashable in-memory FS that keeps only synced data.
func TestPebbleCrashDurability(t *testing.T) {
	mem := vfs.NewCrashableMem()
	w := walsync.New(mem, never, nil)
	defer w.Stop()
	db := openDB(t, "db", w)
	defer db.Close()

	if err := db.Set([]byte("key-00000"), []byte("val-key-00000"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	lost := openDB(t, "db", mem.CrashClone(vfs.CrashCloneCfg{}))
	if _, _, err := lost.Get([]byte("key-00000")); !errors.Is(err, pebble.ErrNotFound) {
		t.Fatalf("unsynced write survived a crash: err = %v", err)
	}
	lost.Close()

	if err := w.SyncNow(); err != nil {
		t.Fatal(err)
	}
	kept := openDB(t, "db", mem.CrashClone(vfs.CrashCloneCfg{}))
	defer kept.Close()
	checkKeys(t, kept, 1)
}

// Pebble keeps committing while the WAL disk fails; Err reports it.
func TestPebbleWithFailingSync(t *testing.T) {
	dir := t.TempDir()
	cfs := newCountingFS(vfs.Default)
	var log syncLog
	w := walsync.New(cfs, 5*time.Millisecond, log.cb)
	defer w.Stop()
	db := openDB(t, dir, w)

	cfs.fail.Store(true)
	if err := db.Set([]byte("key-00000"), []byte("val-key-00000"), pebble.Sync); err != nil {
		t.Fatalf("Set with failing WAL fsync: %v", err)
	}
	waitFor(t, "reported failure", func() bool { _, failed := log.counts(); return failed >= 1 && w.Err() != nil })
	if !errors.Is(w.Err(), errInjected) {
		t.Fatalf("Err = %v", w.Err())
	}
	cfs.fail.Store(false)
	waitFor(t, "recovery", func() bool { return w.Err() == nil && w.Pending() == 0 })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openDB(t, dir, w)
	defer db2.Close()
	checkKeys(t, db2, 1)
}
