package crashbench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// errProtocol reports a reply the client cannot parse.
var errProtocol = errors.New("crashbench: protocol error in reply")

// reply is one RESP2 reply. Error replies are replies, not Go errors: a Go
// error from conn.read always means the connection is unusable.
type reply struct {
	kind byte // '+', '-', ':', '$', '*'
	str  string
	num  int64
	null bool
	arr  []reply
}

func (r reply) String() string {
	switch {
	case r.null:
		return "(nil)"
	case r.kind == ':':
		return strconv.FormatInt(r.num, 10)
	case r.kind == '*':
		return fmt.Sprintf("array of %d", len(r.arr))
	case r.kind == '-':
		return "error " + strconv.Quote(r.str)
	}
	return strconv.Quote(r.str)
}

// conn is a minimal RESP2 client connection: commands are buffered by send
// and written by flush, so callers pipeline by sending several commands
// before reading their replies in order.
type conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
	b []byte
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}, nil
}

func (c *conn) close() error { return c.c.Close() }

// deadline sets the read and write deadline of the connection.
func (c *conn) deadline(d time.Duration) { _ = c.c.SetDeadline(time.Now().Add(d)) }

// send buffers one command in the multibulk form.
func (c *conn) send(args ...string) {
	b := c.b[:0]
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	c.b = b
	_, _ = c.w.Write(b) // a write error shows up again at flush
}

func (c *conn) flush() error { return c.w.Flush() }

// do sends one command and reads its reply.
func (c *conn) do(args ...string) (reply, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

func (c *conn) line() (string, error) {
	s, err := c.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && s != "" {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	if len(s) < 3 || s[len(s)-2] != '\r' {
		return "", fmt.Errorf("%w: line %q", errProtocol, s)
	}
	return s[:len(s)-2], nil
}

// read reads one reply.
func (c *conn) read() (reply, error) {
	s, err := c.line()
	if err != nil {
		return reply{}, err
	}
	r := reply{kind: s[0]}
	body := s[1:]
	switch r.kind {
	case '+', '-':
		r.str = body
	case ':':
		if r.num, err = strconv.ParseInt(body, 10, 64); err != nil {
			return reply{}, fmt.Errorf("%w: integer %q", errProtocol, body)
		}
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return reply{}, fmt.Errorf("%w: bulk length %q", errProtocol, body)
		}
		if n == -1 {
			r.null = true
			return r, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return reply{}, fmt.Errorf("%w: bulk string not terminated by CRLF", errProtocol)
		}
		r.str = string(buf[:n])
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return reply{}, fmt.Errorf("%w: array length %q", errProtocol, body)
		}
		if n == -1 {
			r.null = true
			return r, nil
		}
		r.arr = make([]reply, n)
		for i := range r.arr {
			if r.arr[i], err = c.read(); err != nil {
				return reply{}, err
			}
		}
	default:
		return reply{}, fmt.Errorf("%w: unexpected type byte %q", errProtocol, r.kind)
	}
	return r, nil
}
