package respserver

// Test helpers for the package's internal tests: an in-process server on a
// free loopback port and a raw RESP connection that returns replies byte
// for byte.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

// discardLogger drops every log line.
func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 100}))
}

// startTestServer opens a kv store in t.TempDir() and serves it on a free
// port of 127.0.0.1 (Addr "127.0.0.1:0") until the test ends; then the
// server is shut down and the store closed. cfg, if not nil, adjusts the
// Config before New (Store, Addr and Logger are preset).
func startTestServer(t testing.TB, cfg func(*Config)) (addr string, srv *Server, store *kv.Store) {
	t.Helper()
	store, err := kv.Open(t.TempDir(), &kv.Options{Durability: kv.No, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("kv.Open: %v", err)
	}
	c := Config{Addr: "127.0.0.1:0", Store: store, Logger: discardLogger()}
	if cfg != nil {
		cfg(&c)
	}
	srv, err = New(c)
	if err != nil {
		store.Close()
		t.Fatalf("New: %v", err)
	}
	ln, err := srv.Listen()
	if err != nil {
		store.Close()
		t.Fatalf("Listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return ln.Addr().String(), srv, store
}

// testConn is a raw RESP connection.
type testConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialTest connects to addr; the connection is closed when the test ends.
func dialTest(t testing.TB, addr string) *testConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// encodeRESP encodes a command as a RESP array of bulk strings.
func encodeRESP(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// send writes one command without reading its reply.
func (tc *testConn) send(args ...string) {
	tc.t.Helper()
	if _, err := tc.conn.Write(encodeRESP(args...)); err != nil {
		tc.t.Fatalf("write %q: %v", args, err)
	}
}

// read returns the next complete reply, exactly as sent.
func (tc *testConn) read() (string, error) {
	_ = tc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var raw []byte
	err := readRawReply(tc.br, &raw)
	return string(raw), err
}

// do sends a command and returns its raw reply; it fails the test if the
// connection breaks.
func (tc *testConn) do(args ...string) string {
	tc.t.Helper()
	tc.send(args...)
	r, err := tc.read()
	if err != nil {
		tc.t.Fatalf("%q: reading reply: %v (got %q)", args, err, r)
	}
	return r
}

// readRawReply appends one RESP2/RESP3 reply to raw.
func readRawReply(br *bufio.Reader, raw *[]byte) error {
	line, err := br.ReadString('\n')
	*raw = append(*raw, line...)
	if err != nil {
		return err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("bad reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		*raw = append(*raw, buf...)
		return nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readRawReply(br, raw); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}

// expectEOF checks that the server closes the connection without sending
// anything more.
func (tc *testConn) expectEOF() {
	tc.t.Helper()
	_ = tc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := tc.br.ReadByte()
	if err == nil {
		rest, _ := tc.br.Peek(tc.br.Buffered())
		tc.t.Fatalf("expected the connection to close, got %q", string(b)+string(rest))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tc.t.Fatalf("expected the connection to close, it is still open")
	}
}
