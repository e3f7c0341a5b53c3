package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startRedis starts a throwaway redis-server on a free loopback port, or
// skips the test when none is installed.
func startRedis(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping redis-server comparison in -short mode")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisExchange sends in to a fresh connection and returns what Redis
// replied and whether it closed the connection within the wait.
func redisExchange(t *testing.T, addr string, setup, in string) (string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if setup != "" {
		if _, err := c.Write([]byte(setup)); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "+OK\r\n" {
			t.Fatalf("setup %q: %q %v", setup, line, err)
		}
	}
	if _, err := c.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var out bytes.Buffer
	_, err = io.Copy(&out, c)
	var ne net.Error
	timedOut := errors.As(err, &ne) && ne.Timeout()
	return out.String(), !timedOut
}

// ourExchange parses in with our Reader, "executes" PING and ECHO, and
// returns the replies and whether the server would close the connection
// (true after a protocol error; false when the input ends mid-request,
// where Redis keeps waiting).
func ourExchange(t *testing.T, in string, lim Limits) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(&out)
	r := NewReader(strings.NewReader(in), lim)
	for {
		args, err := r.ReadCommand()
		var pe *ProtocolError
		switch {
		case err == nil:
		case errors.As(err, &pe):
			w.Error(pe.Reply())
			_ = w.Flush()
			return out.String(), true
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			_ = w.Flush()
			return out.String(), false
		default:
			t.Fatalf("%q: %v", in, err)
		}
		switch cmd := strings.ToUpper(string(args[0])); {
		case cmd == "PING" && len(args) == 1:
			w.SimpleString("PONG")
		case cmd == "ECHO" && len(args) == 2:
			w.Bulk(args[1])
		case cmd == "QUIT" && len(args) == 1:
			w.SimpleString("OK")
			_ = w.Flush()
			return out.String(), true
		default:
			t.Fatalf("test input %q uses command %q", in, args)
		}
	}
}

// TestMatchesRedis compares the Reader with a real Redis server, when one is
// installed: same commands parsed, same protocol error replies, and a closed
// connection exactly when Redis closes it.
func TestMatchesRedis(t *testing.T) {
	addr := startRedis(t)
	long := strings.Repeat("1", DefaultMaxInline+1)
	inputs := []string{
		"*0\r\nPING\r\n", "*-1\r\nPING\r\n", "*-5\r\nPING\r\n",
		"*2147483648\r\n", "*abc\r\n", "*\r\n", "*+1\r\n", "*01\r\n", "*-0\r\n", "* 1\r\n",
		"*1\r\nfoo\r\n", "*1\r\n$-1\r\n", "*1\r\n$536870913\r\n", "*1\r\n$2147483647\r\n",
		"*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n", "*1\rX$4\rYPING\r\n",
		"*1\r\n\r\n", "*1\r\n\n\r\n", "*1\r\n\x01\r\n", "*1\r\n\xff\r\n",
		"*1\r\n$\r\n", "*1\r\n$+4\r\nPING\r\n", "*1\r\n$04\r\nPING\r\n",
		"*2\r\n$4\r\nECHO\r\n$5\r\na\x00\r\nb\r\n",
		"ECHO \"a\\x41\\n\\q\"\r\n", "ECHO 'b\\'c'\r\n", "ECHO \"abc\r\n", "ECHO \"abc\"d\r\n",
		"ECHO a\"bc\"\r\n", "\r\n\r\n  \t \r\nPING\r\n", "\nPING\n", "ECHO \va\r\n",
		"ECHO \"\\x4g\"\r\n", "ECHO '\\x41'\r\n", "ECHO \"a\"\t\r\nPING\r\n",
		"PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO y\n",
		strings.Repeat("a", DefaultMaxInline+1), "*" + long, "*1\r\n$" + long,
		"PING\x00" + strings.Repeat("a", DefaultMaxInline) + "\n", "*1\x00" + long,
		"ECHO " + strings.Repeat("b", DefaultMaxInline-5) + "\n",
		// Incomplete: Redis waits, we report io.ErrUnexpectedEOF.
		"*1\r\n$4\r\nPING\r", "PING\x00\r\n", "*1\r\n$100000\r\nabc",
	}
	for _, in := range inputs {
		// A QUIT after input that ends between requests makes Redis
		// close at once instead of the test waiting for a timeout.
		if r := NewReader(strings.NewReader(in), Limits{}); func() bool {
			for {
				if _, err := r.ReadCommand(); err != nil {
					return err == io.EOF
				}
			}
		}() {
			in += "QUIT\r\n"
		}
		want, wantClosed := redisExchange(t, addr, "", in)
		got, gotClosed := ourExchange(t, in, Limits{})
		if got != want || gotClosed != wantClosed {
			t.Errorf("%.40q:\nredis: %.80q closed=%v\nours:  %.80q closed=%v", in, want, wantClosed, got, gotClosed)
		}
	}

	// Unauthenticated limits, on connections opened after requirepass is set.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "CONFIG SET requirepass secret\r\n")
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q %v", line, err)
	}
	for _, in := range []string{
		"*11\r\n", "*12\r\n$1\r\n", "*1\r\n$16385\r\n", "*2147483648\r\n", "*1\r\n$536870913\r\n",
	} {
		want, wantClosed := redisExchange(t, addr, "", in)
		got, gotClosed := ourExchange(t, in, Limits{AuthRequired: true})
		if got != want || gotClosed != wantClosed {
			t.Errorf("unauthenticated %q:\nredis: %q closed=%v\nours:  %q closed=%v", in, want, wantClosed, got, gotClosed)
		}
	}
}
