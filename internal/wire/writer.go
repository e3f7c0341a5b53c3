package wire

import (
	"io"
	"math"
	"strconv"
)

const (
	writeBufSize = 16 << 10
	// maxRetainWriteBuf bounds the reply buffer kept after a Flush.
	maxRetainWriteBuf = 1 << 20
)

// Writer buffers RESP replies. Every method appends to an internal buffer
// (copying its arguments, which the caller may reuse at once); only Flush
// writes, with a single Write of everything pending. The protocol version
// (SetProto) chooses how the RESP3-only types are encoded, as Redis does for
// a RESP2 client. A Writer is not safe for concurrent use.
type Writer struct {
	w     io.Writer
	buf   []byte
	proto int
}

// NewWriter returns a RESP2 Writer that flushes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, writeBufSize), proto: 2}
}

// Reset discards pending output, sets the protocol back to RESP2 and makes
// the Writer flush to w, keeping its buffer.
func (w *Writer) Reset(dst io.Writer) {
	w.w = dst
	w.buf = w.buf[:0]
	w.proto = 2
}

// SetProto selects RESP3 if v is 3 and RESP2 otherwise (HELLO's protover).
func (w *Writer) SetProto(v int) {
	if v == 3 {
		w.proto = 3
	} else {
		w.proto = 2
	}
}

// Proto returns the protocol version in use, 2 or 3.
func (w *Writer) Proto() int { return w.proto }

// Buffered returns the number of bytes pending until the next Flush.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes all pending replies with one Write call. Pending output is
// discarded even if the write fails (the connection is then unusable). An
// empty buffer writes nothing.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if cap(w.buf) > maxRetainWriteBuf {
		w.buf = make([]byte, 0, writeBufSize)
	} else {
		w.buf = w.buf[:0]
	}
	return err
}

// Raw appends b verbatim; b must be valid RESP.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// SimpleString appends +s. Any '\r' or '\n' in s is replaced by a space so
// the reply stays one line.
func (w *Writer) SimpleString(s string) {
	w.buf = append(w.buf, '+')
	w.appendLine(s)
}

// Error appends -msg, where msg starts with the error code, e.g.
// "ERR syntax error" or "WRONGTYPE Operation against a key holding the wrong
// kind of value". '\r' and '\n' in msg become spaces, as in Redis's
// addReplyErrorFormat.
func (w *Writer) Error(msg string) {
	w.buf = append(w.buf, '-')
	w.appendLine(msg)
}

func (w *Writer) appendLine(s string) {
	start := len(w.buf)
	w.buf = append(w.buf, s...)
	for i := start; i < len(w.buf); i++ {
		if c := w.buf[i]; c == '\r' || c == '\n' {
			w.buf[i] = ' '
		}
	}
	w.buf = append(w.buf, '\r', '\n')
}

// Int appends the integer reply :n.
func (w *Writer) Int(n int64) { w.prefixed(':', n) }

// Bulk appends the bulk string b. A nil b is the empty string, not null;
// use Null for a null reply.
func (w *Writer) Bulk(b []byte) {
	w.prefixed('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString appends the bulk string s.
func (w *Writer) BulkString(s string) {
	w.prefixed('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// Null appends a null: "$-1" (null bulk string) in RESP2, "_" in RESP3.
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "$-1\r\n"...)
	}
}

// NullArray appends a null array: "*-1" in RESP2, "_" in RESP3.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "*-1\r\n"...)
	}
}

// ArrayLen appends the header of an array of n elements.
func (w *Writer) ArrayLen(n int) { w.prefixed('*', int64(n)) }

// MapLen appends the header of a map of n key/value pairs: "%n" in RESP3, an
// array of 2n elements in RESP2.
func (w *Writer) MapLen(n int) {
	if w.proto == 3 {
		w.prefixed('%', int64(n))
	} else {
		w.prefixed('*', 2*int64(n))
	}
}

// SetLen appends the header of a set of n elements: "~n" in RESP3, an array
// in RESP2.
func (w *Writer) SetLen(n int) {
	if w.proto == 3 {
		w.prefixed('~', int64(n))
	} else {
		w.prefixed('*', int64(n))
	}
}

// PushLen appends the header of a push message of n elements: ">n" in
// RESP3, an array in RESP2.
func (w *Writer) PushLen(n int) {
	if w.proto == 3 {
		w.prefixed('>', int64(n))
	} else {
		w.prefixed('*', int64(n))
	}
}

// Double appends f as Redis 7.0's addReplyDouble does: formatted with %.17g
// ("inf" and "-inf" for infinities), as a ',' double in RESP3 and as a bulk
// string in RESP2. NaN is written as "nan".
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	var s []byte
	switch {
	case math.IsInf(f, 1):
		s = append(tmp[:0], "inf"...)
	case math.IsInf(f, -1):
		s = append(tmp[:0], "-inf"...)
	case math.IsNaN(f):
		s = append(tmp[:0], "nan"...)
	default:
		// strconv's 'g' with precision 17 produces the same text as C's
		// %.17g (exponent with sign and at least two digits, trailing
		// zeros removed).
		s = strconv.AppendFloat(tmp[:0], f, 'g', 17, 64)
	}
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
	} else {
		w.Bulk(s)
	}
}

// Bool appends "#t"/"#f" in RESP3 and the integer 1/0 in RESP2.
func (w *Writer) Bool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Verbatim appends a verbatim string: in RESP3 "=" with the three-byte
// format prefix ("txt" or "mkd"; anything else is written as "txt") and a
// colon before text, in RESP2 a plain bulk string of text.
func (w *Writer) Verbatim(format string, text []byte) {
	if w.proto != 3 {
		w.Bulk(text)
		return
	}
	if len(format) != 3 {
		format = "txt"
	}
	w.prefixed('=', int64(len(text))+4)
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, text...)
	w.buf = append(w.buf, '\r', '\n')
}

// prefixed appends <c><n>\r\n.
func (w *Writer) prefixed(c byte, n int64) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}
