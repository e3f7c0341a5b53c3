package crashbench

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
)

// pipeConn returns a client conn and the server end of an in-memory pipe.
func pipeConn(t *testing.T) (*conn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &conn{c: a, r: bufio.NewReader(a), w: bufio.NewWriter(a)}, b
}

func TestSendEncodesMultibulk(t *testing.T) {
	c, srv := pipeConn(t)
	go func() {
		c.send("SET", "k", "")
		c.send("PING")
		_ = c.flush()
	}()
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(srv, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

func TestReadReplies(t *testing.T) {
	c, srv := pipeConn(t)
	go func() {
		_, _ = srv.Write([]byte("+OK\r\n-LOADING Redis is loading\r\n:-42\r\n$3\r\na\r\n\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n*-1\r\n?\r\n"))
	}()
	check := func(want reply) {
		t.Helper()
		r, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		if r.kind != want.kind || r.str != want.str || r.num != want.num || r.null != want.null || len(r.arr) != len(want.arr) {
			t.Fatalf("read %+v, want %+v", r, want)
		}
	}
	check(reply{kind: '+', str: "OK"})
	check(reply{kind: '-', str: "LOADING Redis is loading"})
	check(reply{kind: ':', num: -42})
	check(reply{kind: '$', str: "a\r\n"})
	check(reply{kind: '$', null: true})
	check(reply{kind: '*', arr: make([]reply, 2)})
	check(reply{kind: '*', null: true})
	if _, err := c.read(); !errors.Is(err, errProtocol) {
		t.Fatalf("bad type byte: err %v, want errProtocol", err)
	}
}

func TestReadEOF(t *testing.T) {
	c, srv := pipeConn(t)
	go func() {
		_, _ = srv.Write([]byte("$5\r\nab"))
		srv.Close()
	}()
	if _, err := c.read(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated bulk: err %v, want io.ErrUnexpectedEOF", err)
	}
}
