package respserver_test

// Tests with Redis's own tools (redis-cli, redis-benchmark) against the
// in-process server, and tests of the rustypotato binary's serve command.

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
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lookTool returns the path of a Redis tool, or skips the test.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install redis-tools): skipping", name)
	}
	return p
}

// runTool runs a tool with a time limit and returns its combined output.
func runTool(t *testing.T, limit time.Duration, stdin *os.File, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s did not finish within %v", name, limit)
	}
	return string(out), err
}

func TestRedisCLI(t *testing.T) {
	cli := lookTool(t, "redis-cli")
	ts := newTestServer(t)
	port := strconv.Itoa(ts.Port())
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"ping"}, "PONG"},
		{[]string{"set", "foo", "bar"}, "OK"},
		{[]string{"get", "foo"}, "bar"},
		{[]string{"incrby", "n", "41"}, "41"},
		{[]string{"-3", "incr", "n"}, "42"},
		{[]string{"-n", "2", "set", "x", "in db 2"}, "OK"},
		{[]string{"-n", "2", "get", "x"}, "in db 2"},
		{[]string{"get", "x"}, ""},
		{[]string{"dbsize"}, "2"},
		{[]string{"nosuch", "cmd"}, "ERR unknown command 'nosuch', with args beginning with: 'cmd' "},
	}
	for _, s := range steps {
		args := append([]string{"-h", "127.0.0.1", "-p", port}, s.args...)
		out, err := runTool(t, 10*time.Second, nil, cli, args...)
		if err != nil {
			t.Fatalf("redis-cli %q: %v\n%s", s.args, err, out)
		}
		if got := strings.TrimRight(out, "\n"); got != s.want {
			t.Fatalf("redis-cli %q = %q, want %q", s.args, got, s.want)
		}
	}
}

// writeMassInsert writes n SET commands in RESP to a file.
func writeMassInsert(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mass.resp")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		v := "value:" + strconv.Itoa(i)
		buf = encodeCommand(buf[:0], []byte("SET"), []byte(k), []byte(v))
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRedisCLIPipe mass-inserts keys with redis-cli --pipe: 1,000,000, or
// 100,000 with -short.
func TestRedisCLIPipe(t *testing.T) {
	cli := lookTool(t, "redis-cli")
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ts := newTestServer(t)
	path := writeMassInsert(t, n)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	out, err := runTool(t, 5*time.Minute, f, cli, "-h", "127.0.0.1", "-p", strconv.Itoa(ts.Port()), "--pipe")
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("redis-cli --pipe: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("errors: 0, replies: %d", n); !strings.Contains(out, want) {
		t.Fatalf("redis-cli --pipe output lacks %q:\n%s", want, out)
	}
	t.Logf("redis-cli --pipe: %d keys in %v (%.0f keys/s)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	rc := dialRaw(t, ts.Addr)
	if got, want := rc.Do(t, "DBSIZE"), fmt.Sprintf(":%d\r\n", n); got != want {
		t.Fatalf("DBSIZE = %q, want %q", got, want)
	}
	last := strconv.Itoa(n - 1)
	if got, want := rc.Do(t, "GET", "key:"+last), fmt.Sprintf("$%d\r\nvalue:%s\r\n", len("value:"+last), last); got != want {
		t.Fatalf("GET key:%s = %q, want %q", last, got, want)
	}
}

func TestRedisBenchmark(t *testing.T) {
	bench := lookTool(t, "redis-benchmark")
	ts := newTestServer(t)
	out, err := runTool(t, 5*time.Minute, nil, bench, "-h", "127.0.0.1", "-p", strconv.Itoa(ts.Port()),
		"-t", "set,get,incr,mset,ping", "-P", "16", "-n", "20000", "-q")
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	if strings.Contains(out, "ERR") || strings.Contains(strings.ToLower(out), "error") {
		t.Fatalf("redis-benchmark reported errors:\n%s", out)
	}
	for _, test := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"} {
		if !strings.Contains(out, test+": ") || !regexp.MustCompile(regexp.QuoteMeta(test)+`: [0-9.]+ requests per second`).MatchString(out) {
			t.Errorf("redis-benchmark output has no %s result:\n%s", test, out)
		}
	}
	var results []string
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.Contains(line, "requests per second") {
			results = append(results, strings.TrimSpace(line))
		}
	}
	t.Logf("redis-benchmark -P 16 -n 20000:\n%s", strings.Join(results, "\n"))
}

// buildBinary builds cmd/rustypotato into a temporary directory of t.
func buildBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot build the binary")
	}
	bin := filepath.Join(t.TempDir(), "rustypotato")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/rustypotato")
	cmd.Dir = filepath.Dir(filepath.Dir(file)) // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/rustypotato: %v\n%s", err, out)
	}
	return bin
}

// daemon is a running `rustypotato serve`.
type daemon struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs `rustypotato serve` with args; it is killed when the
// test ends if it is still running.
func startDaemon(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(bin, append([]string{"serve"}, args...)...),
		stderr: &syncBuffer{}, done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = d.stderr, d.stderr
	d.cmd.SysProcAttr = dieWithParent()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// waitReady waits until the daemon answers PING on addr.
func (d *daemon) waitReady(t *testing.T, addr string) {
	t.Helper()
	d.addr = addr
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			t.Fatalf("serve exited early: %v\n%s", d.err, d.stderr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			rc := &rawConn{Conn: c, br: newBufReader(c)}
			if rc.Send("PING") == nil {
				if r, err := rc.ReadRaw(); err == nil && string(r) == "+PONG\r\n" {
					c.Close()
					return
				}
			}
			c.Close()
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("serve did not answer PING on %s:\n%s", addr, d.stderr)
}

// wait waits for the daemon to exit and returns its exit code.
func (d *daemon) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(limit):
		t.Fatalf("serve did not exit within %v:\n%s", limit, d.stderr)
	}
	var ee *exec.ExitError
	if errors.As(d.err, &ee) {
		return ee.ExitCode()
	}
	if d.err != nil {
		t.Fatalf("serve: %v", d.err)
	}
	return 0
}

func TestServeBinary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{"--port", strconv.Itoa(port), "--dir", dir, "--appendfsync", "everysec"}

	bin := buildBinary(t)
	d := startDaemon(t, bin, args...)
	d.waitReady(t, addr)
	rc := dialRaw(t, addr)
	for _, s := range []struct{ cmd []string }{{[]string{"SET", "persisted", "yes"}}, {[]string{"SELECT", "3"}}, {[]string{"SET", "db3", "three"}}} {
		if r := rc.Do(t, s.cmd...); r != "+OK\r\n" {
			t.Fatalf("%q = %q", s.cmd, r)
		}
	}

	t.Run("second serve on the same dir fails at once", func(t *testing.T) {
		d2 := startDaemon(t, bin, "--port", strconv.Itoa(freePort(t)), "--dir", dir)
		start := time.Now()
		code := d2.wait(t, 10*time.Second)
		if code == 0 {
			t.Fatalf("second serve exited 0:\n%s", d2.stderr)
		}
		if !strings.Contains(d2.stderr.String(), "data directory is in use") {
			t.Fatalf("second serve's message lacks \"data directory is in use\":\n%s", d2.stderr)
		}
		t.Logf("second serve exited %d after %v: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(d2.stderr.String()))
	})

	// SIGTERM: a clean exit with code 0.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, d.stderr)
	}

	// A restart on the same dir serves the data.
	d = startDaemon(t, bin, args...)
	d.waitReady(t, addr)
	rc = dialRaw(t, addr)
	if r := rc.Do(t, "GET", "persisted"); r != "$3\r\nyes\r\n" {
		t.Fatalf("GET persisted after restart = %q", r)
	}
	rc.Do(t, "SELECT", "3")
	if r := rc.Do(t, "GET", "db3"); r != "$5\r\nthree\r\n" {
		t.Fatalf("GET db3 after restart = %q", r)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("serve exited %d after the second SIGTERM:\n%s", code, d.stderr)
	}
}

// TestServeRefusesOpenBindWithoutPassword: --bind 0.0.0.0 without
// --requirepass is refused before anything listens.
func TestServeRefusesOpenBindWithoutPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, buildBinary(t), "--bind", "0.0.0.0", "--port", strconv.Itoa(freePort(t)), "--dir", dir)
	code := d.wait(t, 10*time.Second)
	if code == 0 {
		t.Fatalf("serve --bind 0.0.0.0 without a password exited 0:\n%s", d.stderr)
	}
	msg := d.stderr.String()
	for _, want := range []string{"0.0.0.0", "requirepass"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("the refused serve created its data directory %s", dir)
	}
	t.Logf("exit %d: %s", code, strings.TrimSpace(msg))
}
