package wire

import (
	"bytes"
	"io"
	"testing"
)

// loopReader serves data over and over.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], l.data[l.off:])
		n += k
		l.off = (l.off + k) % len(l.data)
	}
	return n, nil
}

func BenchmarkReadCommand(b *testing.B) {
	for _, bc := range []struct {
		name string
		cmd  string
	}{
		{"multibulk", "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$32\r\n01234567890123456789012345678901\r\n"},
		{"inline", "SET key:000000000001 \"01234567890123456789012345678901\"\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := bytes.Repeat([]byte(bc.cmd), 1000)
			r := NewReader(&loopReader{data: data}, Limits{})
			b.SetBytes(int64(len(bc.cmd)))
			b.ReportAllocs()
			for b.Loop() {
				args, err := r.ReadCommand()
				if err != nil || len(args) != 3 {
					b.Fatal(len(args), err)
				}
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	w.SetProto(3)
	val := []byte("01234567890123456789012345678901")
	b.ReportAllocs()
	for b.Loop() {
		// A pipeline of typical replies, flushed once.
		for range 16 {
			w.SimpleString("OK")
			w.Bulk(val)
			w.Int(123456)
			w.Null()
			w.ArrayLen(2)
			w.BulkString("field")
			w.Double(3.25)
			w.Error("ERR syntax error")
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
