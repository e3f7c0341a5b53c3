package respserver_test

// Protocol-level tests over raw connections: malformed requests, inline
// commands, pipelining, QUIT, the idle timeout and maxclients.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// protoCase is raw bytes sent on a fresh connection, the exact bytes the
// server answers, and whether it then closes the connection.
type protoCase struct {
	name   string
	in     []byte
	want   string
	closed bool
}

var protoCases = []protoCase{
	{"bad multibulk length", []byte("*abc\r\n"), "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"negative multibulk length is skipped", []byte("*-1\r\nPING\r\n"), "+PONG\r\n", false},
	{"empty multibulk is skipped", []byte("*0\r\nPING\r\n"), "+PONG\r\n", false},
	{"bad bulk length", []byte("*1\r\n$abc\r\n"), "-ERR Protocol error: invalid bulk length\r\n", true},
	{"negative bulk length", []byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$-1\r\n"), "-ERR Protocol error: invalid bulk length\r\n", true},
	{"bulk length over proto-max-bulk-len", []byte("*1\r\n$2147483648\r\n"), "-ERR Protocol error: invalid bulk length\r\n", true},
	{"simple string instead of bulk", []byte("*1\r\n+foo\r\n"), "-ERR Protocol error: expected '$', got '+'\r\n", true},
	{"integer instead of bulk", []byte("*2\r\n$4\r\nECHO\r\n:1\r\n"), "-ERR Protocol error: expected '$', got ':'\r\n", true},
	{"too big bulk count string", append([]byte("*1\r\n$"), bytes.Repeat([]byte("1"), 70000)...), "-ERR Protocol error: too big bulk count string\r\n", true},
	{"too big mbulk count string", append([]byte("*"), bytes.Repeat([]byte("1"), 70000)...), "-ERR Protocol error: too big mbulk count string\r\n", true},
	{"unbalanced double quotes", []byte("SET \"a b\r\n"), "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"unbalanced single quotes", []byte("SET 'a\r\n"), "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"closing quote followed by a character", []byte("PING \"a\"b\r\n"), "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"70 KB inline line", bytes.Repeat([]byte("x"), 70000), "-ERR Protocol error: too big inline request\r\n", true},
	{"inline bulk-looking command", []byte("$2147483648\r\n"), "-ERR unknown command '$2147483648', with args beginning with: \r\n", false},
	{"inline commands", []byte("PING\r\nECHO \"a b\" \r\nSET k \"\\x41\\n\"\nGET k\r\n"), "+PONG\r\n$3\r\na b\r\n+OK\r\n$2\r\nA\n\r\n", false},
	{"empty inline lines are skipped", []byte("\r\n\n  \r\nPING\r\n"), "+PONG\r\n", false},
	{"inline unknown command", []byte("NOSUCH a b\r\n"), "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n", false},
}

// readAvailable reads what the server sends within d, and reports whether
// it closed the connection.
func readAvailable(c net.Conn, d time.Duration) (string, bool) {
	var out []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(d)
	for {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return string(out), false
			}
			return string(out), true
		}
	}
}

// runProtoCases sends each case on its own connection to addr while
// another connection stays open, and checks that one is still served.
func runProtoCases(t *testing.T, addr string) {
	bystander := dialRaw(t, addr)
	for _, tc := range protoCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(tc.in); err != nil {
				t.Fatal(err)
			}
			// An open connection is given a short wait; a closing one
			// ends the read as soon as it closes.
			wait := 300 * time.Millisecond
			if tc.closed {
				wait = 5 * time.Second
			}
			got, closed := readAvailable(c, wait)
			if got != tc.want {
				t.Errorf("reply %q, want %q", got, tc.want)
			}
			if closed != tc.closed {
				t.Errorf("connection closed = %v, want %v", closed, tc.closed)
			}
			if r := bystander.Do(t, "PING"); r != "+PONG\r\n" {
				t.Fatalf("the other client got %q", r)
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	ts := newTestServer(t)
	runProtoCases(t, ts.Addr)
}

// TestProtocolErrorsAgainstRedis checks the table against a real Redis.
func TestProtocolErrorsAgainstRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("reference check of the table; skipped with -short")
	}
	runProtoCases(t, startRedisServer(t))
}

// countingListener counts the Write calls on the connections it accepts.
type countingListener struct {
	net.Listener
	writes atomic.Int64
	reads  atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.l.reads.Add(1)
	}
	return n, err
}

// TestPipelining: 100 commands in one write get 100 replies, in order,
// with few reads and writes on the server's side; larger pipelines
// (beyond one server batch) too.
func TestPipelining(t *testing.T) {
	cl := &countingListener{}
	ts := newTestServer(t, withListener(func(ln net.Listener) net.Listener { cl.Listener = ln; return cl }))
	c := dialRaw(t, ts.Addr)
	if r := c.Do(t, "PING"); r != "+PONG\r\n" {
		t.Fatal(r)
	}
	reads0, writes0 := cl.reads.Load(), cl.writes.Load()
	var want strings.Builder
	for i := 0; i < 100; i++ {
		switch i % 4 {
		case 0:
			c.Queue("ECHO", "m"+strconv.Itoa(i))
			fmt.Fprintf(&want, "$%d\r\nm%d\r\n", len("m"+strconv.Itoa(i)), i)
		case 1:
			c.Queue("INCR", "counter")
			fmt.Fprintf(&want, ":%d\r\n", i/4+1)
		case 2:
			c.Queue("SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
			want.WriteString("+OK\r\n")
		case 3:
			c.Queue("GET", "k"+strconv.Itoa(i-1))
			fmt.Fprintf(&want, "$%d\r\n%d\r\n", len(strconv.Itoa(i-1)), i-1)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for i := 0; i < 100; i++ {
		r, err := c.ReadRaw()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		got.Write(r)
	}
	if got.String() != want.String() {
		t.Fatalf("replies out of order or wrong:\n got %q\nwant %q", got.String(), want.String())
	}
	reads, writes := cl.reads.Load()-reads0, cl.writes.Load()-writes0
	t.Logf("100 pipelined commands: %d server reads, %d server writes", reads, writes)
	if writes > 4 || reads > 4 {
		t.Errorf("100 pipelined commands took %d reads and %d writes on the server, want a few", reads, writes)
	}

	// 5000 commands, more than one server batch, with errors among them.
	var buf []byte
	for i := 0; i < 5000; i++ {
		if i%100 == 99 {
			buf = encodeCommand(buf, []byte("INCR"))
			continue
		}
		buf = encodeCommand(buf, []byte("INCR"), []byte("big"))
	}
	go func() { _, _ = c.Write(buf) }()
	n := int64(0)
	for i := 0; i < 5000; i++ {
		r, err := c.Read()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if i%100 == 99 {
			if string(r.Raw) != "-ERR wrong number of arguments for 'incr' command\r\n" {
				t.Fatalf("reply %d = %s", i, r)
			}
			continue
		}
		n++
		if r.Type != ':' || r.Int != n {
			t.Fatalf("reply %d = %s, want :%d", i, r, n)
		}
	}
}

// TestQuitClosesAfterOK: QUIT's +OK is sent, and nothing after it.
func TestQuitClosesAfterOK(t *testing.T) {
	ts := newTestServer(t)
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("PING\r\nQUIT\r\nPING\r\nSET after quit\r\n")); err != nil {
		t.Fatal(err)
	}
	got, closed := readAvailable(c, 5*time.Second)
	if got != "+PONG\r\n+OK\r\n" || !closed {
		t.Fatalf("got %q closed=%v, want \"+PONG\\r\\n+OK\\r\\n\" and a close", got, closed)
	}
	rc := dialRaw(t, ts.Addr)
	if r := rc.Do(t, "EXISTS", "after"); r != ":0\r\n" {
		t.Fatalf("a command after QUIT ran: EXISTS after = %q", r)
	}
	// QUIT inside MULTI is not queued.
	if r := rc.Do(t, "MULTI"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	if r := rc.Do(t, "QUIT"); r != "+OK\r\n" {
		t.Fatalf("QUIT in MULTI = %q", r)
	}
	expectClosed(t, rc, 5*time.Second)
}

// TestIdleTimeout: with Config.Timeout, an idle client is closed and a
// busy one is not.
func TestIdleTimeout(t *testing.T) {
	ts := newTestServer(t, withTimeout(200*time.Millisecond))
	idle := dialRaw(t, ts.Addr)
	busy := dialRaw(t, ts.Addr)
	start := time.Now()
	if r := idle.Do(t, "PING"); r != "+PONG\r\n" {
		t.Fatal(r)
	}
	for time.Since(start) < 600*time.Millisecond {
		if r := busy.Do(t, "PING"); r != "+PONG\r\n" {
			t.Fatalf("busy client: %q", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	expectClosed(t, idle, 2*time.Second)
	if r := busy.Do(t, "PING"); r != "+PONG\r\n" {
		t.Fatalf("busy client after 600 ms: %q", r)
	}
	// A client that never sends anything is closed too, not before the
	// timeout.
	silent := dialRaw(t, ts.Addr)
	t0 := time.Now()
	expectClosed(t, silent, 3*time.Second)
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the 200 ms timeout", d)
	}
}

// TestMaxClients: with MaxClients 2, a third connection is refused with
// Redis's error and closed; once a client leaves, a new one is accepted.
func TestMaxClients(t *testing.T) {
	ts := newTestServer(t, withMaxClients(2))
	a := dialRaw(t, ts.Addr)
	b := dialRaw(t, ts.Addr)
	for _, c := range []*rawConn{a, b} {
		if r := c.Do(t, "PING"); r != "+PONG\r\n" {
			t.Fatal(r)
		}
	}
	third, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	got, closed := readAvailable(third, 5*time.Second)
	if got != "-ERR max number of clients reached\r\n" || !closed {
		t.Fatalf("third client: %q closed=%v", got, closed)
	}
	if r := a.Do(t, "PING"); r != "+PONG\r\n" {
		t.Fatalf("first client after the refusal: %q", r)
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("PING\r\n"))
		got, _ := readAvailable(c, 500*time.Millisecond)
		c.Close()
		if got == "+PONG\r\n" {
			break
		}
		if got != "-ERR max number of clients reached\r\n" || time.Now().After(deadline) {
			t.Fatalf("after a client left: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConcurrentClients: many clients at once, each with its own
// pipelined INCRs on a shared counter and its own key.
func TestConcurrentClients(t *testing.T) {
	ts := newTestServer(t)
	const clients, per = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", ts.Addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			rc := &rawConn{Conn: c, br: newBufReader(c)}
			own := "own" + strconv.Itoa(i)
			for j := 0; j < per; j++ {
				rc.Queue("INCR", "shared")
				rc.Queue("APPEND", own, "x")
			}
			if err := rc.Flush(); err != nil {
				errs <- err
				return
			}
			for j := 0; j < per; j++ {
				r1, err := rc.Read()
				if err != nil {
					errs <- err
					return
				}
				r2, err := rc.Read()
				if err != nil {
					errs <- err
					return
				}
				if r1.Type != ':' || r2.Type != ':' || r2.Int != int64(j+1) {
					errs <- fmt.Errorf("client %d reply %d: %s %s", i, j, r1, r2)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rc := dialRaw(t, ts.Addr)
	if r := rc.Do(t, "GET", "shared"); r != fmt.Sprintf("$4\r\n%d\r\n", clients*per) {
		t.Fatalf("shared counter = %q, want %d", r, clients*per)
	}
}

// TestShutdownClosesClients: Shutdown answers what was read and closes
// idle connections at once.
func TestShutdownClosesClients(t *testing.T) {
	ts := newTestServer(t)
	c := dialRaw(t, ts.Addr)
	if r := c.Do(t, "SET", "k", "v"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, c.br)
		done <- err
	}()
	// The cleanup's Shutdown must return promptly even though c is idle
	// in a read; run it here to time it.
	start := time.Now()
	if err := shutdownNow(ts); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v with an idle client", d)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle client was not closed by Shutdown")
	}
}
