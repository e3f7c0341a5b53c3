package wire

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

// countingWriter records each Write.
type countingWriter struct {
	writes []string
	err    error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), c.err
}

func TestWriterEncodings(t *testing.T) {
	tests := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
		{"simple newline", func(w *Writer) { w.SimpleString("a\r\nb") }, "+a  b\r\n", "+a  b\r\n"},
		{"error", func(w *Writer) { w.Error("ERR syntax error") }, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"error newline", func(w *Writer) { w.Error("ERR bad\r\nthing\n") }, "-ERR bad  thing \r\n", "-ERR bad  thing \r\n"},
		{"int", func(w *Writer) { w.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"int min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"bulk nil is empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bulk string", func(w *Writer) { w.BulkString("hello") }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.ArrayLen(2); w.Int(1); w.BulkString("x") }, "*2\r\n:1\r\n$1\r\nx\r\n", "*2\r\n:1\r\n$1\r\nx\r\n"},
		{"empty array", func(w *Writer) { w.ArrayLen(0) }, "*0\r\n", "*0\r\n"},
		{"map", func(w *Writer) { w.MapLen(1); w.BulkString("k"); w.Int(7) }, "*2\r\n$1\r\nk\r\n:7\r\n", "%1\r\n$1\r\nk\r\n:7\r\n"},
		{"set", func(w *Writer) { w.SetLen(3) }, "*3\r\n", "~3\r\n"},
		{"push", func(w *Writer) { w.PushLen(3) }, "*3\r\n", ">3\r\n"},
		{"double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double 0.1", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double exp", func(w *Writer) { w.Double(1e20) }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
		{"double small", func(w *Writer) { w.Double(1e-5) }, "$22\r\n1.0000000000000001e-05\r\n", ",1.0000000000000001e-05\r\n"},
		{"double big int", func(w *Writer) { w.Double(123456789012345678) }, "$22\r\n1.2345678901234568e+17\r\n", ",1.2345678901234568e+17\r\n"},
		{"double zero", func(w *Writer) { w.Double(0) }, "$1\r\n0\r\n", ",0\r\n"},
		{"double neg zero", func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n", ",-0\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"double nan", func(w *Writer) { w.Double(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", []byte("a\nb")) }, "$3\r\na\nb\r\n", "=7\r\ntxt:a\nb\r\n"},
		{"verbatim mkd", func(w *Writer) { w.Verbatim("mkd", []byte("# x")) }, "$3\r\n# x\r\n", "=7\r\nmkd:# x\r\n"},
		{"verbatim bad format", func(w *Writer) { w.Verbatim("", nil) }, "$0\r\n\r\n", "=4\r\ntxt:\r\n"},
		{"raw", func(w *Writer) { w.Raw([]byte("+RAW\r\n")) }, "+RAW\r\n", "+RAW\r\n"},
	}
	for _, tt := range tests {
		for _, proto := range []int{2, 3} {
			var out countingWriter
			w := NewWriter(&out)
			w.SetProto(proto)
			if w.Proto() != proto {
				t.Fatalf("Proto() = %d", w.Proto())
			}
			tt.write(w)
			want := tt.resp2
			if proto == 3 {
				want = tt.resp3
			}
			if w.Buffered() != len(want) {
				t.Errorf("%s/RESP%d: Buffered = %d, want %d", tt.name, proto, w.Buffered(), len(want))
			}
			if len(out.writes) != 0 {
				t.Fatalf("%s: wrote before Flush", tt.name)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if len(out.writes) != 1 || out.writes[0] != want {
				t.Errorf("%s/RESP%d: wrote %q, want %q", tt.name, proto, out.writes, want)
			}
		}
	}
}

func TestWriterFlushAndReset(t *testing.T) {
	var out countingWriter
	w := NewWriter(&out)
	if w.Proto() != 2 {
		t.Fatalf("default proto %d", w.Proto())
	}
	if err := w.Flush(); err != nil || len(out.writes) != 0 {
		t.Fatalf("empty Flush wrote %q, %v", out.writes, err)
	}
	for range 100 {
		w.SimpleString("OK")
	}
	w.Bulk(bytes.Repeat([]byte("x"), 100000))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(out.writes) != 1 || !strings.HasPrefix(out.writes[0], strings.Repeat("+OK\r\n", 100)+"$100000\r\n") {
		t.Fatalf("got %d writes", len(out.writes))
	}
	if w.Buffered() != 0 {
		t.Fatalf("Buffered after Flush = %d", w.Buffered())
	}
	// A huge reply's buffer is not retained.
	w.Bulk(make([]byte, 2*maxRetainWriteBuf))
	_ = w.Flush()
	if cap(w.buf) > maxRetainWriteBuf {
		t.Fatalf("retained %d bytes", cap(w.buf))
	}
	// Reset discards pending output and returns to RESP2.
	w.SetProto(3)
	w.SimpleString("lost")
	var out2 countingWriter
	w.Reset(&out2)
	if w.Proto() != 2 || w.Buffered() != 0 {
		t.Fatalf("after Reset: proto %d, buffered %d", w.Proto(), w.Buffered())
	}
	w.Null()
	_ = w.Flush()
	if len(out2.writes) != 1 || out2.writes[0] != "$-1\r\n" {
		t.Fatalf("after Reset wrote %q", out2.writes)
	}
	// SetProto with anything but 3 is RESP2.
	w.SetProto(7)
	if w.Proto() != 2 {
		t.Fatalf("SetProto(7) gave %d", w.Proto())
	}
	// Write errors are returned and pending output dropped.
	boom := errors.New("boom")
	w.Reset(&countingWriter{err: boom})
	w.Int(1)
	if err := w.Flush(); err != boom || w.Buffered() != 0 {
		t.Fatalf("Flush error %v, buffered %d", err, w.Buffered())
	}
}

func TestWriterProtocolErrorReply(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Error(ErrInvalidMultibulkLength.Reply())
	w.Error(expectedDollar('\n').Reply())
	_ = w.Flush()
	want := "-ERR Protocol error: invalid multibulk length\r\n-ERR Protocol error: expected '$', got ' '\r\n"
	if out.String() != want {
		t.Fatalf("got %q", out.String())
	}
}
