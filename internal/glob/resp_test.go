package glob

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

// refEnv names the environment variable holding the address of a real
// redis-server 7.0 used as reference by the differential tests. When it is
// unset those tests are skipped, so the normal test run needs no server.
// Example:
//
//	redis-server --port 16399 --bind 127.0.0.1 --save '' --appendonly no &
//	RUSTYPOTATO_REDIS_REF=127.0.0.1:16399 go test ./internal/glob/
const refEnv = "RUSTYPOTATO_REDIS_REF"

// refConn is a minimal RESP2 client, enough for the reference tests.
type refConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialRef(t *testing.T) *refConn {
	t.Helper()
	addr := os.Getenv(refEnv)
	if addr == "" {
		t.Skipf("%s not set; skipping comparison with a real redis-server", refEnv)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &refConn{c: c, r: bufio.NewReader(c)}
}

// do sends one command and returns the reply: string for simple and bulk
// strings, error for errors, int64 for integers, nil for null, []any for
// arrays.
func (rc *refConn) do(t *testing.T, args ...[]byte) any {
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

func (rc *refConn) read() (any, error) {
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
