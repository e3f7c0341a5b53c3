package rnum

import (
	"errors"
	"math"
	"testing"
)

func TestErrorStrings(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{ErrNotInteger, "ERR value is not an integer or out of range"},
		{ErrNotFloat, "ERR value is not a valid float"},
		{ErrOverflow, "ERR increment or decrement would overflow"},
		{ErrDecrOverflow, "ERR decrement would overflow"},
		{ErrNaNOrInfinity, "ERR increment would produce NaN or Infinity"},
		{ErrValueNaNOrInfinity, "ERR value is NaN or Infinity"},
		{ErrHashNotFloat, "ERR hash value is not a float"},
		{ErrHashNotInteger, "ERR hash value is not an integer"},
	}
	for _, c := range cases {
		if c.err.Error() != c.want {
			t.Errorf("got %q, want %q", c.err.Error(), c.want)
		}
	}
	if MsgNotInteger != ErrNotInteger.Error() || MsgNotFloat != ErrNotFloat.Error() ||
		MsgOverflow != ErrOverflow.Error() || MsgNaNOrInfinity != ErrNaNOrInfinity.Error() {
		t.Error("Msg constants and Err values disagree")
	}
}

// Rows checked against redis-server 7.0.15 with SET/INCRBY (see
// TestIntAgainstRedis) and Redis's own string2ll unit tests.
func TestParseInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"99", 99, true},
		{"-99", -99, true},
		{"1234567890", 1234567890, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"123456789012345678901", 0, false}, // 21 bytes
		{"-0", 0, false},
		{"00", 0, false},
		{"01", 0, false},
		{"-01", 0, false},
		{"00000000000000000001", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1\x00", 0, false},
		{"\x00", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"+", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"abc", 0, false},
		{"12a", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseInt([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFormatInt(t *testing.T) {
	cases := []struct {
		v    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {-7, "-7"}, {1000, "1000"},
		{math.MaxInt64, "9223372036854775807"},
		{math.MinInt64, "-9223372036854775808"},
	}
	for _, c := range cases {
		if got := string(FormatInt([]byte("x="), c.v)); got != "x="+c.want {
			t.Errorf("FormatInt(%d) = %q", c.v, got)
		}
		if back, ok := ParseInt([]byte(c.want)); !ok || back != c.v {
			t.Errorf("ParseInt(FormatInt(%d)) = %d, %v", c.v, back, ok)
		}
	}
}

func TestAddInt(t *testing.T) {
	cases := []struct {
		a, b int64
		want int64
		err  error
	}{
		{1, 2, 3, nil},
		{-5, 3, -2, nil},
		{math.MaxInt64, 0, math.MaxInt64, nil},
		{math.MaxInt64, 1, 0, ErrOverflow},
		{math.MaxInt64 - 1, 1, math.MaxInt64, nil},
		{math.MinInt64, -1, 0, ErrOverflow},
		{math.MinInt64 + 1, -1, math.MinInt64, nil},
		{math.MinInt64, math.MaxInt64, -1, nil},
		{-1, math.MinInt64, 0, ErrOverflow},
		{0, math.MinInt64, math.MinInt64, nil},
		{5, math.MaxInt64, 0, ErrOverflow},
	}
	for _, c := range cases {
		got, err := AddInt(c.a, c.b)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("AddInt(%d, %d) = %d, %v; want %d, %v", c.a, c.b, got, err, c.want, c.err)
		}
	}
}

// Accepted rows: ZADD z <in> m; ZSCORE z m on redis-server 7.0.15 (the
// reply is FormatFloatResp of the parsed value). Rejected rows: ZADD
// replied "ERR value is not a valid float".
func TestParseFloatAndFormatResp(t *testing.T) {
	accepted := []struct{ in, zscore string }{
		{"0.1", "0.10000000000000001"},
		{"0.2", "0.20000000000000001"},
		{"0.3", "0.29999999999999999"},
		{"1", "1"},
		{"-1", "-1"},
		{"1.5", "1.5"},
		{"100", "100"},
		{"1e16", "10000000000000000"},
		{"1e17", "1e+17"},
		{"123456789012345678", "1.2345678901234568e+17"},
		{"1e20", "1e+20"},
		{"1e-4", "0.0001"},
		{"1e-5", "1.0000000000000001e-05"},
		{"0.0001234", "0.00012339999999999999"},
		{"3.14159", "3.1415899999999999"},
		{"inf", "inf"},
		{"-inf", "-inf"},
		{"+inf", "inf"},
		{"Infinity", "inf"},
		{"1e308", "1e+308"},
		{"4.9e-324", "4.9406564584124654e-324"},
		{"1e-320", "9.9998886718268301e-321"},
		{"2.5", "2.5"},
		{"-2.5e-10", "-2.5000000000000002e-10"},
		{"0x10", "16"},
		{"0x1p-3", "0.125"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
		{"12345678901234567890", "1.2345678901234567e+19"},
		{"0.5", "0.5"},
		{"1e15", "1000000000000000"},
		{"123.456", "123.456"},
		{"7e-1", "0.69999999999999996"},
		{".5", "0.5"},
		{"5.", "5"},
		{"+3", "3"},
		{"1E3", "1000"},
		{"-0", "-0"}, // listpack zsets store it as "0"; skiplist ones reply "-0"
		{"-INF", "-inf"},
		{"2.4703282292062328e-324", "4.9406564584124654e-324"},
		{"0X1.8P1", "3"},
		{"0x1.", "1"},
		{"1e-310", "9.9999999999999694e-311"},
	}
	for _, c := range accepted {
		v, ok := ParseFloat([]byte(c.in))
		if !ok {
			t.Errorf("ParseFloat(%q) rejected", c.in)
			continue
		}
		if got := string(FormatFloatResp([]byte(">"), v)); got != ">"+c.zscore {
			t.Errorf("FormatFloatResp(ParseFloat(%q)) = %q, want %q", c.in, got, c.zscore)
		}
	}
	rejected := []string{
		"1e309", "-1e309", "1e-400", "nan", "NaN", "-nan", "nan(123)", "", " 1", "1 ", "1\x00",
		"abc", "1e", "0x", ".", "infinit", "1,5", "1e-325", "2.4703282292062327e-324",
		"\t1", "1\n", "+", "-", "e5", "0xp1", "0x1p", "1.5.5", "--1", "+-1", "1e+", "0x1.8p1024",
	}
	for _, in := range rejected {
		if v, ok := ParseFloat([]byte(in)); ok {
			t.Errorf("ParseFloat(%q) = %v, want rejection", in, v)
		}
	}
}

func TestFormatFloatResp(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1, "1"},
		{-1.5, "-1.5"},
		{0.1, "0.10000000000000001"},
		{1.0 / 3, "0.33333333333333331"},
		{1e16, "10000000000000000"},
		{1e17, "1e+17"},
		{1e-4, "0.0001"},
		{1e-5, "1.0000000000000001e-05"},
		{1e100, "1e+100"},
		{123456789, "123456789"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.SmallestNonzeroFloat64, "4.9406564584124654e-324"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, c := range cases {
		if got := string(FormatFloatResp(nil, c.v)); got != c.want {
			t.Errorf("FormatFloatResp(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestStrtod(t *testing.T) {
	cases := []struct {
		in     string
		v      float64
		n      int
		erange bool
	}{
		{"1.5", 1.5, 3, false},
		{"  -2.5xyz", -2.5, 6, false},
		{"\t\n\v\f\r 7", 7, 7, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{"1e5x", 1e5, 3, false},
		{"0x", 0, 1, false},
		{"0x.", 0, 1, false},
		{"0xg", 0, 1, false},
		{"0x1p", 1, 3, false},
		{"0x1.8p1", 3, 7, false},
		{"0x.8", 0.5, 4, false},
		{".", 0, 0, false},
		{"  .", 0, 0, false},
		{"abc", 0, 0, false},
		{"", 0, 0, false},
		{"+", 0, 0, false},
		{"infinity!", math.Inf(1), 8, false},
		{"-infinit", math.Inf(-1), 4, false},
		{"INF", math.Inf(1), 3, false},
		{"nan(abc_1)x", math.NaN(), 10, false},
		{"nan(abc", math.NaN(), 3, false},
		{"nan()", math.NaN(), 5, false},
		{"1e309", math.Inf(1), 5, true},
		{"-1e309", math.Inf(-1), 6, true},
		{"1e-400", 0, 6, true},
		{"0e-400", 0, 6, false},
		{"4e-320", 4e-320, 6, false},
		{"1e99999999999999999999", math.Inf(1), 22, true},
		{"1e-99999999999999999999", 0, 23, true},
		{"0x1p-1075", 0, 9, true},
		{"0x1.0000000000001p-1075", 5e-324, 23, false},
		{"1\x002", 1, 1, false},
	}
	for _, c := range cases {
		v, n, erange := Strtod([]byte(c.in))
		same := math.Float64bits(v) == math.Float64bits(c.v) || (math.IsNaN(v) && math.IsNaN(c.v))
		if !same || n != c.n || erange != c.erange {
			t.Errorf("Strtod(%q) = %v, %d, %v; want %v, %d, %v", c.in, v, n, erange, c.v, c.n, c.erange)
		}
	}
}

// incrRows were produced by redis-server 7.0.15: DEL k; [SET k cur;]
// INCRBYFLOAT k incr. want is the bulk reply, or err the error reply.
var incrRows = []struct {
	cur    string
	exists bool
	incr   string
	want   string
	err    string
}{
	{"10.50", true, "0.1", "10.6", ""},
	{"0.1", true, "0.2", "0.3", ""},
	{"", false, "3.0e3", "3000", ""},
	{"5.0e3", true, "0", "5000", ""},
	{"1.5e10", true, "0", "15000000000", ""},
	{"10", true, "0.1", "10.1", ""},
	{"1.1", true, "2.2", "3.3", ""},
	{"0.1", true, "0.7", "0.8", ""},
	{"-1.5", true, "1.5", "0", ""},
	{"3", true, "-3.0", "0", ""},
	{"", false, "1e-17", "0.00000000000000001", ""},
	{"", false, "5e-18", "0", ""},
	{"", false, "4e-18", "0", ""},
	{"", false, "-4e-18", "0", ""},
	{"", false, "6e-18", "0.00000000000000001", ""},
	{"", false, "-6e-18", "-0.00000000000000001", ""},
	{"", false, "0.000003814697265625", "0.00000381469726562", ""},
	{"", false, "0.000003814697265635", "0.00000381469726563", ""},
	{"", false, "3.14159265358979323846", "3.14159265358979324", ""},
	{"", false, "0.333333333333333333333", "0.33333333333333333", ""},
	{"", false, "2.5e-6", "0.0000025", ""},
	{"", false, "1e-5", "0.00001", ""},
	{"9223372036854775807", true, "1", "9223372036854775808", ""},
	{"18446744073709551615", true, "1", "18446744073709551616", ""},
	{"", false, "1e19", "10000000000000000000", ""},
	{"123456789012345678901234567890", true, "1", "123456789012345678899921813504", ""},
	{"1e308", true, "1e308", "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096", ""},
	{"1.7976931348623157e308", true, "1.7976931348623157e308", "359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768", ""},
	{"", false, "1e100", "9999999999999999999669353532207342619498699019828496079271391541752018669482644324418977840117055488", ""},
	{"1.18973149535723176502e4932", true, "1.18973149535723176502e4932", "", "ERR increment would produce NaN or Infinity"},
	{"", false, "1e-4940", "0", ""},
	{"", false, "-1e-4940", "0", ""},
	{"", false, "inf", "", "ERR increment would produce NaN or Infinity"},
	{"", false, "-inf", "", "ERR increment would produce NaN or Infinity"},
	{"1", true, "+Infinity", "", "ERR increment would produce NaN or Infinity"},
	{"", false, "nan", "", "ERR value is not a valid float"},
	{"abc", true, "1", "", "ERR value is not a valid float"},
	{"1", true, "abc", "", "ERR value is not a valid float"},
	{"", true, "1", "", "ERR value is not a valid float"},
	{" 1", true, "1", "", "ERR value is not a valid float"},
	{"1 ", true, "1", "", "ERR value is not a valid float"},
	{"1", true, "1\x00", "", "ERR value is not a valid float"},
	{"", false, "0x10", "16", ""},
	{"", false, "0x1p-3", "0.125", ""},
	{"", false, "0x.8", "0.5", ""},
	{"", false, "1e", "", "ERR value is not a valid float"},
	{"", false, ".5", "0.5", ""},
	{"", false, "5.", "5", ""},
	{"", false, "+.5e1", "5", ""},
	{"", false, "-0", "0", ""},
	{"-0", true, "-0", "0", ""},
	{"", false, "1e5000", "", "ERR value is not a valid float"},
	{"", false, "1e-5000", "", "ERR value is not a valid float"},
	{"007", true, "1", "8", ""},
	{"1e2", true, "1E-2", "100.01", ""},
	{"100", true, "-0.01", "99.99", ""},
	{"0.1", true, "0.1", "0.2", ""},
	{"1000000.1", true, "0.2", "1000000.30000000000001137", ""},
	{"", false, "123456789.123456789", "123456789.12345678899873747", ""},
	{"", false, "0.1234567890123456789", "0.12345678901234568", ""},
	{"", false, "99999999999999999.99", "99999999999999999.9921875", ""},
	{"", false, "-0.000000000000000015", "-0.00000000000000002", ""},
	{"", false, "0.000000000000000025", "0.00000000000000002", ""},
}

func TestIncrByFloat(t *testing.T) {
	for _, c := range incrRows {
		got, err := IncrByFloat([]byte(c.cur), c.exists, []byte(c.incr))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("IncrByFloat(%q, %v, %q) = %q, %v; want error %q", c.cur, c.exists, c.incr, got, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("IncrByFloat(%q, %v, %q) = %q, %v; want %q", c.cur, c.exists, c.incr, got, err, c.want)
		}
	}
	if _, err := IncrByFloat(nil, false, []byte("inf")); !errors.Is(err, ErrNaNOrInfinity) {
		t.Errorf("inf increment: %v", err)
	}
	if _, err := IncrByFloat([]byte("x"), true, []byte("1")); !errors.Is(err, ErrNotFloat) {
		t.Errorf("bad value: %v", err)
	}
}
