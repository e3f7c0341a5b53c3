package benchmarks

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// Environment variables that turn the test binary into a fill process for
// the crash-recovery benchmarks (see fillAndKill).
const (
	envFillDir  = "RP_BENCH_FILL_DIR"
	envFillKeys = "RP_BENCH_FILL_KEYS"
)

// childReady is the line a fill process prints once every write is
// acknowledged.
const childReady = "RP-BENCH-FILLED"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envFillDir); dir != "" {
		os.Exit(fillChild(dir, os.Getenv(envFillKeys)))
	}
	os.Exit(m.Run())
}

// fillChild is the body of the fill process: it fills the new store in
// dir with n keys (fillRaw), reports childReady on stdout and waits to be
// killed, without closing the store.
func fillChild(dir, keys string) int {
	n, err := strconv.Atoi(keys)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fill child: bad key count %q\n", keys)
		return 2
	}
	s, err := kv.Open(dir, benchOptions())
	if err != nil {
		fmt.Fprintf(os.Stderr, "fill child: %v\n", err)
		return 2
	}
	if err := fillRaw(s, n); err != nil {
		fmt.Fprintf(os.Stderr, "fill child: %v\n", err)
		return 2
	}
	fmt.Println(childReady)
	time.Sleep(10 * time.Minute) // the parent kills us long before
	fmt.Fprintln(os.Stderr, "fill child: never killed")
	return 2
}

// benchOptions are the options of every benchmark store: the defaults
// (EverySec durability) with warnings only in the log.
func benchOptions() *kv.Options {
	return &kv.Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// openStore opens the store in dir with benchOptions.
func openStore(tb testing.TB, dir string) *kv.Store {
	tb.Helper()
	s, err := kv.Open(dir, benchOptions())
	if err != nil {
		tb.Fatalf("open %s: %v", dir, err)
	}
	return s
}

// newStore opens a store in a fresh temporary directory, closed when the
// benchmark ends.
func newStore(tb testing.TB) *kv.Store {
	tb.Helper()
	s := openStore(tb, tb.TempDir())
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// keyOf returns the i-th preloaded key, "key:00000042".
func keyOf(i int) []byte {
	return fmt.Appendf(nil, "key:%08d", i)
}

// valueOf returns the 16-byte value preload stores at keyOf(i).
func valueOf(i int) []byte {
	return fmt.Appendf(nil, "v%015d", i)
}

// makeKeys returns keyOf(0..n-1) with the given prefix instead of "key:".
func makeKeys(prefix string, n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%s%08d", prefix, i)
	}
	return keys
}

// preloadBatch is how many keys one preload transaction writes.
const preloadBatch = 2000

// preload sets keyOf(i) to valueOf(i) for i in [0, n) with MSet, in
// transactions of preloadBatch keys.
func preload(s *kv.Store, n int) error {
	kvs := make([][]byte, 0, 2*preloadBatch)
	for lo := 0; lo < n; lo += preloadBatch {
		kvs = kvs[:0]
		for i := lo; i < min(n, lo+preloadBatch); i++ {
			kvs = append(kvs, keyOf(i), valueOf(i))
		}
		if err := s.Update(func(tx *kv.Tx) error { return tx.MSet(0, kvs...) }); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
	}
	return nil
}

// fillRaw writes the same records as preload(s, n) would on a new store
// (keyOf(i) = valueOf(i) in database 0, in batches of preloadBatch with the
// key count updated in each batch), but straight into Pebble with the
// format package's encoding, skipping the store's per-key existence
// check. The on-disk result (sstables and WAL) has the same shape as the
// store's, at a fraction of the time: it builds the benchmarks' large
// stores. The store must be new, and must not be used through its API
// afterwards (its in-memory key counts and hot tier do not know about
// these records): close and reopen it.
func fillRaw(s *kv.Store, n int) error {
	db := s.Pebble()
	var kbuf []byte
	vbuf := make([]byte, 0, format.HeaderLen+16)
	for lo := 0; lo < n; lo += preloadBatch {
		b := db.NewBatch()
		hi := min(n, lo+preloadBatch)
		for i := lo; i < hi; i++ {
			kbuf = format.AppendDataKey(kbuf[:0], 0, keyOf(i))
			vbuf = format.AppendValue(vbuf[:0], format.TypeString, 0, valueOf(i))
			if err := b.Set(kbuf, vbuf, nil); err != nil {
				return err
			}
		}
		if err := b.Set(format.CountKey(0), format.EncodeCount(int64(hi)), nil); err != nil {
			return err
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	return nil
}

// mustPreload is preload that fails the benchmark on error.
func mustPreload(tb testing.TB, s *kv.Store, n int) {
	tb.Helper()
	if err := preload(s, n); err != nil {
		tb.Fatal(err)
	}
}

// fillAndKill fills a store in dir with n keys in a child process (this
// test binary, see TestMain) and kills it with SIGKILL once the child has
// seen every write acknowledged: dir is then a crashed store, never closed.
func fillAndKill(tb testing.TB, dir string, n int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envFillDir+"="+dir, envFillKeys+"="+strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == childReady {
				ready <- true
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			tb.Fatalf("fill child exited early: %s", stderr.String())
		}
	case <-time.After(5 * time.Minute):
		tb.Fatalf("fill child did not finish: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		tb.Fatal("fill child exited cleanly; want killed")
	}
}

// cloneStore copies the (closed or crashed) store in src to the new
// directory dst. Sstables, which Pebble never modifies, are hard-linked;
// everything else (WALs, which Pebble may recycle in place, the MANIFEST,
// ...) is copied.
func cloneStore(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if strings.HasSuffix(e.Name(), ".sst") {
			if err := os.Link(from, to); err == nil {
				continue
			}
		}
		if err := copyFile(from, to); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
