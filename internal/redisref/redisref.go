// Package redisref is a minimal RESP2 client for tests that compare
// RustyPotato's helpers with a real redis-server 7.0 (the reference). The
// tests are skipped unless RUSTYPOTATO_REDIS_REF names a server.
package redisref

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// Env names the environment variable holding the address of a real
// redis-server 7.0 used as reference by the differential tests. When it is
// unset those tests are skipped, so the normal test run needs no server.
// Example:
//
//	redis-server --port 16399 --bind 127.0.0.1 --save '' --appendonly no &
//	RUSTYPOTATO_REDIS_REF=127.0.0.1:16399 go test ./internal/glob/ ./internal/rnum/
const Env = "RUSTYPOTATO_REDIS_REF"

// Conn is a minimal RESP2 client, enough for the reference tests.
type Conn struct {
	c net.Conn
	r *bufio.Reader
}

// Dial connects to the reference server, or skips the test when
// RUSTYPOTATO_REDIS_REF is unset.
func Dial(t *testing.T) *Conn {
	t.Helper()
	addr := os.Getenv(Env)
	if addr == "" {
		t.Skipf("%s not set; skipping comparison with a real redis-server", Env)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Conn{c: c, r: bufio.NewReader(c)}
}

// Do sends one command and returns the reply: string for simple and bulk
// strings, error for errors, int64 for integers, nil for null, []any for
// arrays.
func (rc *Conn) Do(t *testing.T, args ...[]byte) any {
	t.Helper()
	buf := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		buf = append(buf, "$"+strconv.Itoa(len(a))+"\r\n"...)
		buf = append(buf, a...)
		buf = append(buf, "\r\n"...)
	}
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(buf); err != nil {
		t.Fatal(err)
	}
	v, err := rc.read()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (rc *Conn) read() (any, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return fmt.Errorf("%s", body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = rc.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply line %q", line)
}
