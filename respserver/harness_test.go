package respserver_test

// The test harness of the integration, differential, protocol, fuzz and CLI
// tests: an in-process server on a free loopback port, go-redis clients for
// it, and a raw RESP connection that writes command encodings itself and
// reads replies byte for byte.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/respserver"
)

// testServer is a server started by newTestServer.
type testServer struct {
	Srv   *respserver.Server
	Store *kv.Store
	Addr  string // host:port
	Dir   string
}

// serverSetup is what serverOpts adjust: the server's Config, and an
// optional wrapper of its listener.
type serverSetup struct {
	cfg    respserver.Config
	wrapLn func(net.Listener) net.Listener
	memFS  bool
}

// serverOpt adjusts a test server.
type serverOpt func(*serverSetup)

func withPass(p string) serverOpt { return func(s *serverSetup) { s.cfg.RequirePass = p } }

func withTimeout(d time.Duration) serverOpt { return func(s *serverSetup) { s.cfg.Timeout = d } }

func withMaxClients(n int) serverOpt { return func(s *serverSetup) { s.cfg.MaxClients = n } }

// withMemFS keeps the store in memory: nothing is left on disk even when
// the process is killed (fuzz workers are).
func withMemFS() serverOpt { return func(s *serverSetup) { s.memFS = true } }

// withListener wraps the server's listener (to observe its connections).
func withListener(wrap func(net.Listener) net.Listener) serverOpt {
	return func(s *serverSetup) { s.wrapLn = wrap }
}

// quietLogger discards the server's and the store's logs.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 100}))
}

// newTestServer opens a kv store in t.TempDir() and serves it on a free
// port of 127.0.0.1 until the test ends.
func newTestServer(t testing.TB, opts ...serverOpt) *testServer {
	t.Helper()
	setup := serverSetup{cfg: respserver.Config{Addr: "127.0.0.1:0", Logger: quietLogger()}}
	for _, o := range opts {
		o(&setup)
	}
	kvOpts := &kv.Options{Durability: kv.No, Logger: quietLogger()}
	dir := "/mem"
	if setup.memFS {
		kvOpts.FS = vfs.NewMem()
	} else {
		dir = t.TempDir()
	}
	store, err := kv.Open(dir, kvOpts)
	if err != nil {
		t.Fatalf("kv.Open: %v", err)
	}
	setup.cfg.Store = store
	srv, err := respserver.New(setup.cfg)
	if err != nil {
		store.Close()
		t.Fatalf("respserver.New: %v", err)
	}
	ln, err := srv.Listen()
	if err != nil {
		store.Close()
		t.Fatalf("Listen: %v", err)
	}
	addr := ln.Addr().String()
	if setup.wrapLn != nil {
		ln = setup.wrapLn(ln)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, respserver.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return &testServer{Srv: srv, Store: store, Addr: addr, Dir: dir}
}

// Port returns the server's port.
func (ts *testServer) Port() int {
	_, p, _ := net.SplitHostPort(ts.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// goRedis returns a go-redis client speaking protocol proto (2 or 3),
// closed when the test ends. It does not send CLIENT SETINFO or
// maintenance-notification handshakes, so it depends only on the commands
// under test.
func (ts *testServer) goRedis(t testing.TB, proto int, mod ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{
		Addr:            ts.Addr,
		Protocol:        proto,
		DisableIdentity: true,
		PoolSize:        4,
		MaxRetries:      -1,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	for _, m := range mod {
		m(o)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedisServer starts a real redis-server on a free port, or skips the
// test when none is installed. The server is killed when the test ends.
func startRedisServer(t testing.TB, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH: install it (apt-get install redis-server) to run the differential tests")
	}
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		args := append([]string{"--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--bind", "127.0.0.1", "--dir", t.TempDir(), "--daemonize", "no"}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = dieWithParent()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				deadline = time.Time{}
				continue
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
				rc := &rawConn{Conn: c, br: bufio.NewReader(c)}
				rc.Send("PING")
				r, err := rc.ReadRaw()
				c.Close()
				if err == nil && string(r) == "+PONG\r\n" {
					t.Cleanup(func() {
						cmd.Process.Kill()
						<-exited
					})
					return addr
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Kill()
		<-exited
		if attempt == 2 {
			t.Fatalf("redis-server did not start: %s", out.String())
		}
	}
}

// rawConn is a RESP connection on which the test writes command encodings
// itself and reads each reply as the exact bytes the server sent.
type rawConn struct {
	net.Conn
	br *bufio.Reader
	wb []byte
}

// dialRaw connects to addr; the connection is closed when the test ends.
func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// encodeCommand appends the multibulk encoding of args to dst.
func encodeCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

func strArgs(args []string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// Queue buffers a command; Flush sends what is buffered.
func (rc *rawConn) Queue(args ...string) { rc.wb = encodeCommand(rc.wb, strArgs(args)...) }

// QueueBytes buffers a command given as byte slices.
func (rc *rawConn) QueueBytes(args [][]byte) { rc.wb = encodeCommand(rc.wb, args...) }

// Flush writes the buffered commands.
func (rc *rawConn) Flush() error {
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := rc.Write(rc.wb)
	rc.wb = rc.wb[:0]
	return err
}

// Send writes one command.
func (rc *rawConn) Send(args ...string) error {
	rc.Queue(args...)
	return rc.Flush()
}

// ReadRaw reads one reply and returns its exact bytes.
func (rc *rawConn) ReadRaw() ([]byte, error) {
	_ = rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := readReply(rc.br)
	if err != nil {
		return nil, err
	}
	return v.Raw, nil
}

// Read reads one parsed reply.
func (rc *rawConn) Read() (*reply, error) {
	_ = rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readReply(rc.br)
}

// Do sends one command and returns the raw reply.
func (rc *rawConn) Do(t testing.TB, args ...string) string {
	t.Helper()
	if err := rc.Send(args...); err != nil {
		t.Fatalf("send %q: %v", args, err)
	}
	r, err := rc.ReadRaw()
	if err != nil {
		t.Fatalf("reply to %q: %v", args, err)
	}
	return string(r)
}

// reply is one parsed RESP2/RESP3 reply.
type reply struct {
	Type  byte   // '+', '-', ':', '$', '*', '_', ',', '#', '!', '=', '(', '%', '~', '>'
	Str   []byte // simple, error, bulk, verbatim, double, big number text
	Int   int64
	Null  bool // $-1, *-1 or _
	Elems []*reply
	Attr  *reply // a RESP3 attribute preceding the reply
	Raw   []byte // the reply's exact bytes, attribute included
}

// errMalformed reports a reply that breaks the RESP grammar.
var errMalformed = errors.New("malformed RESP reply")

// readReply reads one complete reply, checking the RESP grammar.
func readReply(br *bufio.Reader) (*reply, error) {
	var raw []byte
	r, err := readReplyInto(br, &raw, 0)
	if err != nil {
		return nil, err
	}
	r.Raw = raw
	return r, nil
}

func readLine(br *bufio.Reader, raw *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long simple string or error: keep reading.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil {
			return nil, err
		}
	}
	*raw = append(*raw, line...)
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line %q does not end in CRLF", errMalformed, line)
	}
	return line[:len(line)-2], nil
}

func readReplyInto(br *bufio.Reader, raw *[]byte, depth int) (*reply, error) {
	if depth > 64 {
		return nil, fmt.Errorf("%w: nested too deeply", errMalformed)
	}
	line, err := readLine(br, raw)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("%w: empty line", errMalformed)
	}
	r := &reply{Type: line[0]}
	body := line[1:]
	num := func() (int64, error) {
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: bad number in %q", errMalformed, line)
		}
		return n, nil
	}
	switch r.Type {
	case '+', '-':
		if bytes.ContainsAny(body, "\r\n") {
			return nil, fmt.Errorf("%w: CR or LF in %q", errMalformed, line)
		}
		r.Str = append([]byte(nil), body...)
	case ':':
		if r.Int, err = num(); err != nil {
			return nil, err
		}
	case ',', '(':
		r.Str = append([]byte(nil), body...)
		if len(body) == 0 {
			return nil, fmt.Errorf("%w: empty number", errMalformed)
		}
	case '#':
		if string(body) != "t" && string(body) != "f" {
			return nil, fmt.Errorf("%w: bad boolean %q", errMalformed, line)
		}
		r.Str = append([]byte(nil), body...)
	case '_':
		if len(body) != 0 {
			return nil, fmt.Errorf("%w: bad null %q", errMalformed, line)
		}
		r.Null = true
	case '$', '!', '=':
		n, err := num()
		if err != nil {
			return nil, err
		}
		if n == -1 && r.Type == '$' {
			r.Null = true
			return r, nil
		}
		if n < 0 || n > 1<<30 {
			return nil, fmt.Errorf("%w: bad length %q", errMalformed, line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		*raw = append(*raw, buf...)
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return nil, fmt.Errorf("%w: bulk of %d bytes not followed by CRLF", errMalformed, n)
		}
		r.Str = buf[:n]
		if r.Type == '=' && (n < 4 || buf[3] != ':') {
			return nil, fmt.Errorf("%w: bad verbatim string", errMalformed)
		}
	case '*', '~', '>', '%', '|':
		n, err := num()
		if err != nil {
			return nil, err
		}
		if n == -1 && r.Type == '*' {
			r.Null = true
			return r, nil
		}
		if n < 0 || n > 1<<24 {
			return nil, fmt.Errorf("%w: bad count %q", errMalformed, line)
		}
		if r.Type == '%' || r.Type == '|' {
			n *= 2
		}
		for i := int64(0); i < n; i++ {
			e, err := readReplyInto(br, raw, depth+1)
			if err != nil {
				return nil, err
			}
			r.Elems = append(r.Elems, e)
		}
		if r.Type == '|' {
			// An attribute: the reply proper follows.
			next, err := readReplyInto(br, raw, depth+1)
			if err != nil {
				return nil, err
			}
			next.Attr = r
			return next, nil
		}
	default:
		return nil, fmt.Errorf("%w: unknown type byte in %q", errMalformed, line)
	}
	return r, nil
}

// String renders a reply in a compact readable form for messages.
func (r *reply) String() string {
	if r == nil {
		return "<nil>"
	}
	if r.Raw != nil {
		return strconv.Quote(string(r.Raw))
	}
	var b strings.Builder
	b.WriteByte(r.Type)
	switch {
	case r.Null:
		b.WriteString("null")
	case r.Elems != nil:
		b.WriteString("[")
		for i, e := range r.Elems {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(e.String())
		}
		b.WriteString("]")
	case r.Type == ':':
		b.WriteString(strconv.FormatInt(r.Int, 10))
	default:
		b.WriteString(strconv.Quote(string(r.Str)))
	}
	return b.String()
}

// expectClosed asserts that the server closes c (after any replies already
// read) within d.
func expectClosed(t testing.TB, c *rawConn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 256)
	n, err := c.br.Read(buf)
	if err == nil {
		t.Fatalf("connection still open: read %q", buf[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection not closed within %v", d)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isConnReset(err) {
		t.Fatalf("read after close: %v", err)
	}
}

func isConnReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

func newBufReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }

// shutdownNow runs the server's Shutdown with a 10 s limit (the cleanup's
// Shutdown then finds nothing left to do).
func shutdownNow(ts *testServer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ts.Srv.Shutdown(ctx)
}

// dieWithParent returns process attributes that make a child (redis-server,
// the rustypotato binary) get SIGKILL when the test process dies, where the
// platform has that (Linux's Pdeathsig), so that a killed test run leaves no
// server behind.
func dieWithParent() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL).Convert(f.Type()))
	}
	return attr
}
