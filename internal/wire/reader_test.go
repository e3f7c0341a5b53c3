package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads commands until an error, returning copies of them.
func readAll(r *Reader) ([][]string, error) {
	var cmds [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return cmds, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		cmds = append(cmds, cmd)
	}
}

// readers returns the ways a test input is delivered: in one piece, one
// byte at a time, and with the final data coming together with io.EOF.
func readers(in string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":   strings.NewReader(in),
		"onebyte": iotest.OneByteReader(strings.NewReader(in)),
		"dataerr": iotest.DataErrReader(strings.NewReader(in)),
		"halves":  io.MultiReader(strings.NewReader(in[:len(in)/2]), strings.NewReader(in[len(in)/2:])),
	}
}

func TestReadCommandValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]string
	}{
		{"multibulk", "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", [][]string{{"SET", "key", "value"}}},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [][]string{{"ECHO", ""}}},
		{"binary bulk", "*2\r\n$4\r\nECHO\r\n$6\r\na\x00\r\n\xffb\r\n", [][]string{{"ECHO", "a\x00\r\n\xffb"}}},
		{"star zero skipped", "*0\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}},
		{"negative count skipped", "*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}},
		{"byte after header CR unchecked", "*1\rX$4\rYPING\r\n", [][]string{{"PING"}}},
		{"bulk trailer unchecked", "*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}, {"PING"}}},
		{"max int multibulk header", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", [][]string{{"GET", "k"}}},
		{"inline", "PING\r\n", [][]string{{"PING"}}},
		{"inline LF only", "PING\nECHO hi\n", [][]string{{"PING"}, {"ECHO", "hi"}}},
		{"inline spaces and tabs", "  SET \t k\t\tv  \r\n", [][]string{{"SET", "k", "v"}}},
		{"inline vt ff skipped as leading blanks", "ECHO \va\r\n", [][]string{{"ECHO", "a"}}},
		{"inline vt inside token", "ECHO\va\r\n", [][]string{{"ECHO\va"}}},
		{"inline CR separates", "ECHO a\rb\r\n", [][]string{{"ECHO", "a", "b"}}},
		{"empty lines skipped", "\r\n\n  \t \r\nPING\r\n", [][]string{{"PING"}}},
		{"double quotes", `SET "a key" "v\x41\x4a\n\r\t\b\a\"\\\q"` + "\r\n", [][]string{{"SET", "a key", "vAJ\n\r\t\b\a\"\\q"}}},
		{"bad hex kept literally", `ECHO "\x4g"` + "\r\n", [][]string{{"ECHO", "x4g"}}},
		{"single quotes", `ECHO 'it\'s \x41 "q"'` + "\r\n", [][]string{{"ECHO", `it's \x41 "q"`}}},
		{"quote opens mid token", `ECHO a"b c"` + "\r\n", [][]string{{"ECHO", "ab c"}}},
		{"empty quoted", `ECHO "" ''` + "\r\n", [][]string{{"ECHO", "", ""}}},
		{"quote then tab", "ECHO \"a\"\tb\r\n", [][]string{{"ECHO", "a", "b"}}},
		{"mixed pipeline", "PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO y\n", [][]string{{"PING"}, {"ECHO", "x"}, {"ECHO", "y"}}},
		{"inline of max length", strings.Repeat("a", DefaultMaxInline) + "\n", [][]string{{strings.Repeat("a", DefaultMaxInline)}}},
	}
	for _, tt := range tests {
		for how, rd := range readers(tt.in) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				got, err := readAll(NewReader(rd, Limits{}))
				if err != io.EOF {
					t.Fatalf("err = %v, want io.EOF", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			})
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	long := strings.Repeat("1", DefaultMaxInline+1)
	tests := []struct {
		in   string
		want string
		err  error // the sentinel, if any
	}{
		{"*2147483648\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*abc\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*+1\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*01\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*-0\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"* 1\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*99999999999999999999\r\n", "Protocol error: invalid multibulk length", ErrInvalidMultibulkLength},
		{"*1\r\n$-1\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\n$2147483647\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\n$\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\n$+4\r\nPING\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length", ErrInvalidBulkLength},
		{"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'", nil},
		{"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "Protocol error: expected '$', got 'f'", nil},
		{"*1\r\n\r\n", "Protocol error: expected '$', got ' '", nil},
		{"*1\r\n\n\r\n", "Protocol error: expected '$', got ' '", nil},
		{"*1\r\n\x01\r\n", "Protocol error: expected '$', got '\x01'", nil},
		{"*1\r\n\xff\r\n", "Protocol error: expected '$', got '\xff'", nil},
		{`ECHO "abc` + "\r\n", "Protocol error: unbalanced quotes in request", ErrUnbalancedQuotes},
		{`ECHO "abc"d` + "\r\n", "Protocol error: unbalanced quotes in request", ErrUnbalancedQuotes},
		{`ECHO 'abc` + "\r\n", "Protocol error: unbalanced quotes in request", ErrUnbalancedQuotes},
		{`ECHO 'a'b` + "\r\n", "Protocol error: unbalanced quotes in request", ErrUnbalancedQuotes},
		{`ECHO "a\` + "\r\n", "Protocol error: unbalanced quotes in request", ErrUnbalancedQuotes},
		{strings.Repeat("a", DefaultMaxInline+1), "Protocol error: too big inline request", ErrTooBigInline},
		{strings.Repeat("a", DefaultMaxInline+1) + "\n", "Protocol error: too big inline request", ErrTooBigInline},
		{"PING\x00" + strings.Repeat("a", DefaultMaxInline) + "\n", "Protocol error: too big inline request", ErrTooBigInline},
		{"*" + long, "Protocol error: too big mbulk count string", ErrTooBigMbulkCount},
		{"*1\x00" + long + "\r\n", "Protocol error: too big mbulk count string", ErrTooBigMbulkCount},
		{"*1\r\n$" + long, "Protocol error: too big bulk count string", ErrTooBigBulkCount},
	}
	for i, tt := range tests {
		for how, rd := range readers(tt.in) {
			t.Run(fmt.Sprintf("%d/%s", i, how), func(t *testing.T) {
				r := NewReader(rd, Limits{})
				_, err := readAll(r)
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("%q: err = %v, want protocol error %q", tt.in, err, tt.want)
				}
				if pe.Error() != tt.want {
					t.Fatalf("%q: err = %q, want %q", tt.in, pe.Error(), tt.want)
				}
				if pe.Reply() != "ERR "+tt.want {
					t.Fatalf("Reply() = %q", pe.Reply())
				}
				if tt.err != nil && err != tt.err {
					t.Fatalf("err is not the sentinel")
				}
				if tt.err == nil && !IsExpectedDollar(err) {
					t.Fatalf("IsExpectedDollar false for %v", err)
				}
				// Errors are final.
				if _, err2 := r.ReadCommand(); err2 != err {
					t.Fatalf("second call: %v, want %v", err2, err)
				}
			})
		}
	}
	if IsExpectedDollar(ErrInvalidBulkLength) || IsExpectedDollar(io.EOF) {
		t.Fatal("IsExpectedDollar true for other errors")
	}
}

func TestUnauthenticatedLimits(t *testing.T) {
	cmd := func(n, size int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", n)
		for range n {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", size, strings.Repeat("x", size))
		}
		return b.String()
	}
	lim := Limits{AuthRequired: true}
	// Within limits.
	r := NewReader(strings.NewReader(cmd(10, UnauthMaxBulkLen)), lim)
	if r.Authenticated() {
		t.Fatal("AuthRequired reader starts authenticated")
	}
	if args, err := r.ReadCommand(); err != nil || len(args) != 10 || len(args[9]) != UnauthMaxBulkLen {
		t.Fatalf("got %d args, %v", len(args), err)
	}
	for _, tt := range []struct {
		in   string
		want error
	}{
		{cmd(11, 1), ErrUnauthMultibulkLength},
		{"*12\r\n$1\r\n", ErrUnauthMultibulkLength},
		{"*1\r\n$16385\r\n", ErrUnauthBulkLength},
		// Invalid lengths are checked before the unauthenticated limits.
		{"*2147483648\r\n", ErrInvalidMultibulkLength},
		{"*1\r\n$536870913\r\n", ErrInvalidBulkLength},
	} {
		_, err := NewReader(strings.NewReader(tt.in), lim).ReadCommand()
		if err != tt.want {
			t.Errorf("%.20q: err = %v, want %v", tt.in, err, tt.want)
		}
	}
	// After authentication the limits are lifted; Reset restores them.
	r = NewReader(strings.NewReader(cmd(11, UnauthMaxBulkLen+1)), lim)
	r.SetAuthenticated(true)
	if args, err := r.ReadCommand(); err != nil || len(args) != 11 {
		t.Fatalf("authenticated: %d args, %v", len(args), err)
	}
	r.Reset(strings.NewReader(cmd(11, 1)))
	if _, err := r.ReadCommand(); err != ErrUnauthMultibulkLength {
		t.Fatalf("after Reset: %v", err)
	}
	// Without AuthRequired there is no limit.
	if _, err := NewReader(strings.NewReader(cmd(11, 1)), Limits{}).ReadCommand(); err != nil {
		t.Fatal(err)
	}
}

// countingReader counts Read calls.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func TestPipelined100(t *testing.T) {
	var in bytes.Buffer
	var want [][]string
	for i := range 100 {
		key, val := fmt.Sprintf("key:%d", i), strings.Repeat("v", i)
		if i%3 == 0 {
			fmt.Fprintf(&in, "SET %s \"%s\"\r\n", key, val)
		} else {
			fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(val), val)
		}
		want = append(want, []string{"SET", key, val})
	}
	if in.Len() > readBufSize {
		t.Fatalf("test input %d bytes does not fit one read", in.Len())
	}
	total := in.Len()
	cr := &countingReader{r: &in}
	r := NewReader(cr, Limits{})
	prev := -1
	for i := range 100 {
		args, err := r.ReadCommand()
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if got := []string{string(args[0]), string(args[1]), string(args[2])}; !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("command %d = %q, want %q", i, got, want[i])
		}
		if i == 0 && r.Buffered() >= total {
			t.Fatalf("Buffered = %d after first command", r.Buffered())
		}
		if prev >= 0 && r.Buffered() >= prev {
			t.Fatalf("Buffered did not decrease: %d -> %d", prev, r.Buffered())
		}
		prev = r.Buffered()
		if i < 99 && r.Buffered() == 0 {
			t.Fatalf("Buffered = 0 after command %d of 100", i)
		}
	}
	if r.Buffered() != 0 || cr.reads != 1 {
		t.Fatalf("Buffered = %d, reads = %d; want 0, 1", r.Buffered(), cr.reads)
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestEOF(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"", io.EOF},
		{"PING\r\n", io.EOF},
		{"*0\r\n", io.EOF},
		{"\r\n", io.EOF},
		{"PING", io.ErrUnexpectedEOF},
		{"*", io.ErrUnexpectedEOF},
		{"*1\r", io.ErrUnexpectedEOF},
		{"*1\r\n", io.ErrUnexpectedEOF},
		{"*1\r\n$4\r\nPI", io.ErrUnexpectedEOF},
		{"*1\r\n$4\r\nPING", io.ErrUnexpectedEOF},
		{"*1\r\n$4\r\nPING\r", io.ErrUnexpectedEOF},
		{"PING\x00\r\n", io.ErrUnexpectedEOF}, // Redis waits for a line end it cannot see
	} {
		for how, rd := range readers(tt.in + "") {
			r := NewReader(rd, Limits{})
			_, err := readAll(r)
			if err != tt.want {
				t.Errorf("%q/%s: err = %v, want %v", tt.in, how, err, tt.want)
			}
			if _, err2 := r.ReadCommand(); err2 != err {
				t.Errorf("%q/%s: second call %v", tt.in, how, err2)
			}
		}
	}
	// Other reader errors pass through unchanged.
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("*1\r\n$4\r\nPI"), iotest.ErrReader(boom)), Limits{})
	if _, err := r.ReadCommand(); err != boom {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestHugeDeclaredLengthsDoNotAllocate(t *testing.T) {
	inputs := []string{
		"*1\r\n$2147483647\r\n",
		"*1\r\n$536870912\r\nabc",    // largest valid length, little data
		"*2147483647\r\n$1\r\nx\r\n", // largest count, little data
		"*3\r\n$536870912\r\n" + strings.Repeat("z", 100000),
	}
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewReader(strings.NewReader(in), Limits{})
		_, err := r.ReadCommand()
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%.30q: no error", in)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%.30q: allocated %d bytes", in, d)
		}
		if cap(r.arena) > 2*len(in)+minArenaChunk || cap(r.ends) > 1024 {
			t.Errorf("%.30q: arena cap %d, ends cap %d", in, cap(r.arena), cap(r.ends))
		}
	}
}

func TestLargeBulk(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16+3)
	in := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n", len(big), big)
	for how, rd := range map[string]io.Reader{"whole": strings.NewReader(in), "halves": readers(in)["halves"]} {
		r := NewReader(rd, Limits{})
		args, err := r.ReadCommand()
		if err != nil || len(args) != 3 || !bytes.Equal(args[2], big) {
			t.Fatalf("%s: big SET: %d args, err %v", how, len(args), err)
		}
		if c := cap(r.arena); c > 2*len(big)+minArenaChunk {
			t.Fatalf("%s: arena cap %d for a %d-byte value", how, c, len(big))
		}
		args, err = r.ReadCommand()
		if err != nil || len(args) != 1 || string(args[0]) != "PING" {
			t.Fatalf("%s: after big: %q %v", how, args, err)
		}
		if cap(r.arena) > maxRetainArena {
			t.Fatalf("%s: arena of %d bytes retained", how, cap(r.arena))
		}
	}
}

func TestLimits(t *testing.T) {
	small := Limits{MaxBulkLen: 10, MaxQueryBuffer: 120, MaxMultibulkLen: 3}
	inline8 := Limits{MaxInline: 8}
	for _, tt := range []struct {
		lim  Limits
		in   string
		want error
	}{
		{small, "*3\r\n$10\r\n0123456789\r\n$1\r\na\r\n$1\r\nb\r\n", nil},
		{small, "*4\r\n", ErrInvalidMultibulkLength},
		{small, "*1\r\n$11\r\n", ErrInvalidBulkLength},
		// 3*(10+32) > 120: rejected at the third header, before its data.
		{small, "*3\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n", ErrQueryBufferLimit},
		{inline8, "12345678\n", nil},
		{inline8, "123456789\n", ErrTooBigInline},
		{inline8, "*000000001\r\n", ErrTooBigMbulkCount},
		{inline8, "*1\r\n$000000001\r\n", ErrTooBigBulkCount},
		// Header lines of exactly MaxInline bytes are accepted.
		{inline8, "*1000000\r\n", io.ErrUnexpectedEOF},
		{inline8, "*1\r\n$1000000\r\n", io.ErrUnexpectedEOF},
		{inline8, "*1\r\n$10000000\r\n", ErrTooBigBulkCount},
	} {
		_, err := NewReader(strings.NewReader(tt.in), tt.lim).ReadCommand()
		if err != tt.want {
			t.Errorf("%q: err = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestArgsAliasingAndReuse(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$0\r\n\r\nPING\r\n"), Limits{})
	args, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if cap(args[0]) != 1 {
		t.Fatalf("argument capacity %d not clipped", cap(args[0]))
	}
	_ = append(args[0], 'X')
	if string(args[1]) != "b" {
		t.Fatalf("append to one argument clobbered the next: %q", args[1])
	}
	args, err = r.ReadCommand()
	if err != nil || len(args) != 1 || args[0] == nil || len(args[0]) != 0 {
		t.Fatalf("empty argument: %q %v (nil: %v)", args, err, args[0] == nil)
	}
}

func TestBeforeRead(t *testing.T) {
	// Two pipelined commands and the start of a third arrive in the first
	// read: the hook must run only once both are returned.
	first := "PING\r\nECHO a\r\n*1\r\n$4\r\nPI"
	second := "NG\r\n"
	cr := &countingReader{r: io.MultiReader(strings.NewReader(first), strings.NewReader(second))}
	r := NewReader(cr, Limits{})
	var calls []int // reads done when the hook ran
	r.SetBeforeRead(func() error { calls = append(calls, cr.reads); return nil })
	for i := range 3 {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if i < 2 && len(calls) != 1 {
			t.Fatalf("after command %d hook ran %d times", i, len(calls))
		}
	}
	if !reflect.DeepEqual(calls, []int{0, 1}) {
		t.Fatalf("hook calls %v, want [0 1]", calls)
	}
	boom := errors.New("flush failed")
	r.SetBeforeRead(func() error { return boom })
	if _, err := r.ReadCommand(); err != boom {
		t.Fatalf("hook error: %v", err)
	}
}

func TestParseInt(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "-1": -1, "10": 10, "9223372036854775807": 9223372036854775807,
		"-9223372036854775808": -9223372036854775808, "2147483648": 2147483648,
	}
	for s, want := range good {
		if v, ok := ParseInt([]byte(s)); !ok || v != want {
			t.Errorf("ParseInt(%q) = %d, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "-0", "00", " 1", "1 ", "1a", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "99999999999999999999", "000000000000000000001"} {
		if v, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) = %d, ok", s, v)
		}
	}
}
