package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tidwall/resp"
)

var fuzzLimits = Limits{MaxBulkLen: 1 << 16, MaxQueryBuffer: 1 << 18, MaxInline: 1 << 10}

// parseAll reads every command of data from rd, copying them, and returns
// the final error.
func parseAll(t *testing.T, rd io.Reader, inputLen int, lim Limits) ([][][]byte, error) {
	t.Helper()
	r := NewReader(rd, lim)
	var cmds [][][]byte
	for {
		args, err := r.ReadCommand()
		// Memory stays proportional to the input actually received,
		// whatever lengths the input declares.
		if c := cap(r.arena); c > 2*inputLen+2*minArenaChunk {
			t.Fatalf("arena capacity %d for %d input bytes", c, inputLen)
		}
		if c := cap(r.ends); c > 2*inputLen+16 {
			t.Fatalf("argument table capacity %d for %d input bytes", c, inputLen)
		}
		if n := len(r.buf); n > max(readBufSize, 2*(lim.MaxInline+2)) {
			t.Fatalf("read buffer grew to %d", n)
		}
		if err != nil {
			var pe *ProtocolError
			if err != io.EOF && err != io.ErrUnexpectedEOF && err != ErrQueryBufferLimit && !errors.As(err, &pe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return cmds, err
		}
		if len(args) == 0 {
			t.Fatal("ReadCommand returned no arguments and no error")
		}
		cmd := make([][]byte, len(args))
		for i, a := range args {
			if cap(a) != len(a) {
				t.Fatalf("argument %d capacity not clipped", i)
			}
			cmd[i] = bytes.Clone(a)
		}
		cmds = append(cmds, cmd)
	}
}

// encodeInline quotes args so that sdssplitargs returns them unchanged.
func encodeInline(args [][]byte) []byte {
	var b []byte
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, '"')
		for _, c := range a {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c >= 0x20 && c < 0x7f:
				b = append(b, c)
			default:
				b = fmt.Appendf(b, `\x%02x`, c)
			}
		}
		b = append(b, '"')
	}
	return append(b, '\r', '\n')
}

func checkRoundTrip(t *testing.T, args [][]byte) {
	t.Helper()
	// Re-encode with tidwall/resp, an independent encoder.
	vals := make([]resp.Value, len(args))
	for i, a := range args {
		vals[i] = resp.BytesValue(a)
	}
	enc, err := resp.ArrayValue(vals).MarshalRESP()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseAll(t, bytes.NewReader(enc), len(enc), fuzzLimits)
	if err != io.EOF || len(got) != 1 || !equalArgs(got[0], args) {
		t.Fatalf("multibulk round trip of %q: got %q, %v", args, got, err)
	}
	// tidwall/resp's reader must agree on the well-formed encoding.
	v, _, _, err := resp.NewReader(bytes.NewReader(enc)).ReadMultiBulk()
	if err != nil {
		t.Fatalf("tidwall/resp rejects %q: %v", enc, err)
	}
	arr := v.Array()
	if len(arr) != len(args) {
		t.Fatalf("tidwall/resp read %d args, want %d", len(arr), len(args))
	}
	for i := range arr {
		if !bytes.Equal(arr[i].Bytes(), args[i]) {
			t.Fatalf("tidwall/resp arg %d = %q, want %q", i, arr[i].Bytes(), args[i])
		}
	}
	// And the inline form, when it fits on one line.
	if line := encodeInline(args); len(line) <= fuzzLimits.MaxInline {
		got, err := parseAll(t, bytes.NewReader(line), len(line), fuzzLimits)
		if err != io.EOF || len(got) != 1 || !equalArgs(got[0], args) {
			t.Fatalf("inline round trip of %q via %q: got %q, %v", args, line, got, err)
		}
	}
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
		"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\nECHO \"a\\x41\\n\" 'b\\'c'\r\nSET k v\n",
		"\r\n\r\n*0\r\n*-1\r\nPING\r\n",
		"*1\rX$4\rYPINGXY",
		"ECHO a\"bc\" \"x\"y\r\n",
		"ECHO \"abc\r\n",
		"*2147483648\r\n",
		"*2147483647\r\n$1\r\nx\r\n",
		"*1\r\n$2147483647\r\n",
		"*1\r\n$65536\r\nabc",
		"*1\r\n$-1\r\n",
		"*1\r\nfoo\r\n",
		"*1\r\n\r\n",
		"*01\r\n",
		"*1\r\n$04\r\nPING\r\n",
		"PING\x00\r\n",
		"*1\x00\r\n",
		"*3\r\n$1\r\na\r\n$0\r\n\r\n$3\r\n\x00\r\n\r\n",
		strings.Repeat("a", 1100) + "\n",
		"*" + strings.Repeat("9", 1100),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := parseAll(t, bytes.NewReader(data), len(data), fuzzLimits)
		for _, c := range cmds[:min(len(cmds), 64)] {
			checkRoundTrip(t, c)
		}
		// Incremental parsing gives the same result whatever the
		// read boundaries.
		if len(data) <= 4096 {
			cmds2, err2 := parseAll(t, iotest.OneByteReader(bytes.NewReader(data)), len(data), fuzzLimits)
			if len(cmds2) != len(cmds) || errString(err2) != errString(err) {
				t.Fatalf("one byte at a time: %d cmds, %v; whole: %d cmds, %v", len(cmds2), err2, len(cmds), err)
			}
			for i := range cmds {
				if !equalArgs(cmds[i], cmds2[i]) {
					t.Fatalf("command %d differs: %q vs %q", i, cmds[i], cmds2[i])
				}
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
