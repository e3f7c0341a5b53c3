package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// binary is the rustypotato binary TestMain builds.
var binary string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "rustypotato-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(tmp, "rustypotato")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out, err := exec.Command(gobin, "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build rustypotato: %v\n%s", err, out)
		os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// run runs the binary with args (and stdin, if not nil).
func run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// want fails the test unless r exited with code and its output contains
// every string of contains.
func (r result) want(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range contains {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

// future is a deadline no test sees pass.
var future = time.Now().Add(100 * time.Hour).UnixMilli()

// binVal is a value that is not UTF-8.
var binVal = []byte{0, 1, 2, 0xfe, 0xff, '\r', '\n'}

// makeStore creates a data directory with kv: database 0 holds "a"="1",
// "bin" (a binary value), "ttl" (expiring at future) and k00..k49; database
// 2 holds "x"="y" and the binary key "\xff\x00" with a TTL.
func makeStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := kv.Open(dir, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *kv.Tx) error {
		set := func(db int, k, v []byte, exp int64) {
			if err == nil {
				_, err = tx.Set(db, k, v, kv.SetOptions{Expire: exp})
			}
		}
		set(0, []byte("a"), []byte("1"), 0)
		set(0, []byte("bin"), binVal, 0)
		set(0, []byte("ttl"), []byte("soon"), future)
		for i := 0; i < 50; i++ {
			set(0, []byte(fmt.Sprintf("k%02d", i)), []byte(strings.Repeat("v", i)), 0)
		}
		set(2, []byte("x"), []byte("y"), 0)
		set(2, []byte{0xff, 0}, []byte("z"), future+1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dump lists every live record of dir (with its absolute deadline).
func dump(t *testing.T, dir string) []string {
	t.Helper()
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixMilli()
	var out []string
	for db := 0; db < format.NumDBs; db++ {
		err := s.Records(db, func(r *kv.Record) error {
			if !r.Expired(now) {
				out = append(out, fmt.Sprintf("%d %q %d %d %q", r.DB, r.Key, r.Type, r.ExpireAt, r.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// rawUpdate writes to dir's Pebble database directly.
func rawUpdate(t *testing.T, dir string, fn func(b *pebble.Batch)) {
	t.Helper()
	r, err := kv.OpenRaw(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Pebble().NewBatch()
	fn(b)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// snapshot describes every file of dir but the lock files (ours, and
// Pebble's LOCK, which every open of the directory touches).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		if e.Name() == kv.LockFileName || e.Name() == "LOCK" {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %d\n", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// freePort returns a TCP port free on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ping sends PING to 127.0.0.1:port and reports whether PONG came back.
func ping(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// waitPing waits until a server answers PING on port.
func waitPing(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ping(port) {
		if time.Now().After(deadline) {
			t.Fatalf("no PONG on port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
