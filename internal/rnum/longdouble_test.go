package rnum

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// ldString renders x exactly as "[-]mant*2^exp" with mant odd, or "0",
// "-0", "inf", "-inf", "nan"; the reference rows below were printed the
// same way from glibc strtold results (frexpl) in a C program.
func ldString(x LongDouble) string {
	switch {
	case x.IsNaN():
		return "nan"
	case x.IsInf():
		if x.neg {
			return "-inf"
		}
		return "inf"
	case x.mant == 0:
		if x.neg {
			return "-0"
		}
		return "0"
	}
	m, e := x.mant, x.exp
	for m&1 == 0 {
		m >>= 1
		e++
	}
	sign := ""
	if x.neg {
		sign = "-"
	}
	return fmt.Sprintf("%s%d*2^%d", sign, m, e)
}

// How Redis prints LDBL_MAX: 4933 integer digits, no fraction.
const (
	ldMaxPrefix = "11897314953572317650212638530309702051690633222946242004403237338917370055229707"
	ldMaxSuffix = "444156604419552086811989770240"
)

func TestParseLongDouble(t *testing.T) {
	cases := []struct {
		in, repr, human string
	}{
		// Checked against glibc 2.36 strtold + "%.17Lf" (ld2string).
		{"0.1", "14757395258967641293*2^-67", "0.1"},
		{"0.2", "14757395258967641293*2^-66", "0.2"},
		{"0.3", "5534023222112865485*2^-64", "0.3"},
		{"10.5", "21*2^-1", "10.5"},
		{"-0", "-0", "0"},
		{"0x0p0", "0", "0"},
		{"18446744073709551615", "18446744073709551615*2^0", "18446744073709551615"},
		{"18446744073709551617", "1*2^64", "18446744073709551616"}, // tie, to even
		{"36893488147419103231", "1*2^65", "36893488147419103232"},
		{"9223372036854775807", "9223372036854775807*2^0", "9223372036854775807"},
		{"1e400", "7870919839581207795*2^1266", "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"},
		{"-1e-4940", "-13716670257*2^-16444", "0"},
		{"3.64519953188247460253e-4951", "1*2^-16445", "0"}, // smallest subnormal
		{"1.8225997659412373013e-4951", "1*2^-16445", "0"},  // just above half of it
		{"3.36210314311209350626e-4932", "1*2^-16382", "0"}, // smallest normal
		{"0x1p-16445", "1*2^-16445", "0"},
		{"0x1.8p-16446", "1*2^-16445", "0"},
		{"0x1.fffffffffffffffe8p16383", "18446744073709551615*2^16320", ""},
		{"1.18973149535723176502e4932", "18446744073709551615*2^16320", ""},
		{"inf", "inf", "inf"},
		{"-Infinity", "-inf", "-inf"},
		{"+INF", "inf", "inf"},
		{"0x10", "1*2^4", "16"},
		{".5", "1*2^-1", "0.5"},
		{"5.", "5*2^0", "5"},
	}
	for _, c := range cases {
		x, ok := ParseLongDouble([]byte(c.in))
		if !ok {
			t.Errorf("ParseLongDouble(%q) rejected", c.in)
			continue
		}
		if got := ldString(x); got != c.repr {
			t.Errorf("ParseLongDouble(%q) = %s, want %s", c.in, got, c.repr)
		}
		human := string(x.AppendHuman(nil))
		if c.human == "" { // LDBL_MAX
			if !strings.HasPrefix(human, ldMaxPrefix) || !strings.HasSuffix(human, ldMaxSuffix) || len(human) != 4933 {
				t.Errorf("AppendHuman(LDBL_MAX) = %.40s... (%d bytes)", human, len(human))
			}
		} else if human != c.human {
			t.Errorf("AppendHuman(%q) = %q, want %q", c.in, human, c.human)
		}
	}
	rejected := []string{
		"", " 1", "1 ", "\t1", "1\x00", "\x00", "nan", "-NaN", "nan(1)", "abc", "1e", "0x", ".",
		"1e5000", "-1e5000", "1e-5000", "1.18973149535723176508e4932", "1.82259976594123730126e-4951",
		"0x1p-16446", "0x1.ffffffffffffffffp16383", "1,5", "--1", strings.Repeat("1", 5120),
	}
	for _, in := range rejected {
		if x, ok := ParseLongDouble([]byte(in)); ok {
			t.Errorf("ParseLongDouble(%.20q) = %s, want rejection", in, ldString(x))
		}
	}
	// 5119 bytes is the longest accepted input (MAX_LONG_DOUBLE_CHARS-1).
	long := "1." + strings.Repeat("0", 5116) + "5"
	if x, ok := ParseLongDouble([]byte(long)); !ok || ldString(x) != "1*2^0" {
		t.Errorf("5119-byte input: %s, %v", ldString(x), ok)
	}
	long = "1." + strings.Repeat("0", 5117) + "5"
	if _, ok := ParseLongDouble([]byte(long)); ok {
		t.Errorf("5120-byte input accepted")
	}
}

func TestLongDoubleAdd(t *testing.T) {
	ld := func(s string) LongDouble {
		x, ok := ParseLongDouble([]byte(s))
		if !ok {
			t.Fatalf("bad test input %q", s)
		}
		return x
	}
	max := "1.18973149535723176502e4932"
	cases := []struct{ a, b, want string }{
		{"0.1", "0.2", "5534023222112865485*2^-64"}, // == 0.3L, prints "0.3"
		{"1", "-1", "0"},
		{"-0", "-0", "-0"},
		{"-0", "0", "0"},
		{"0", "-0", "0"},
		{"-0", "-2.5", "-5*2^-1"},
		{"inf", "1", "inf"},
		{"1", "-inf", "-inf"},
		{"inf", "inf", "inf"},
		{"inf", "-inf", "nan"},
		{max, max, "inf"},
		{"-" + max, "-" + max, "-inf"},
		{max, "1", "18446744073709551615*2^16320"},
		{"0x1p-16445", "0x1p-16445", "1*2^-16444"},
		{"0x1p-16445", "-0x1p-16445", "0"},
		{"18446744073709551615", "1", "1*2^64"},
		{"18446744073709551615", "0.5", "1*2^64"}, // tie rounds to even
		{"18446744073709551614", "0.5", "9223372036854775807*2^1"},
		{"1e400", "-1e400", "0"},
	}
	for _, c := range cases {
		if got := ldString(ld(c.a).Add(ld(c.b))); got != c.want {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

// TestLongDoubleAddMatchesBigFloat cross-checks Add with math/big's
// correctly rounded 64-bit addition on random normal-range operands.
func TestLongDoubleAddMatchesBigFloat(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 20000; i++ {
		x := LongDouble{mant: rng.Uint64() | 1<<63, exp: rng.Intn(400) - 200, neg: rng.Intn(2) == 0}
		y := LongDouble{mant: rng.Uint64() >> uint(rng.Intn(64)), exp: x.exp - rng.Intn(140) + 70, neg: rng.Intn(2) == 0}
		toBig := func(v LongDouble) *big.Float {
			f := new(big.Float).SetPrec(64).SetUint64(v.mant)
			f.SetMantExp(f, v.exp)
			if v.neg {
				f.Neg(f)
			}
			return f
		}
		want := new(big.Float).SetPrec(64).SetMode(big.ToNearestEven).Add(toBig(x), toBig(y))
		got := toBig(x.Add(y))
		if got.Cmp(want) != 0 {
			t.Fatalf("%s + %s = %s, big.Float says %s", ldString(x), ldString(y), got.Text('p', 0), want.Text('p', 0))
		}
	}
}

func TestLongDoubleFromInt64(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	vals := []int64{0, 1, -1, 10, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for i := 0; i < 2000; i++ {
		vals = append(vals, rng.Int63()>>uint(rng.Intn(63))*int64(1-2*rng.Intn(2)))
	}
	for _, v := range vals {
		s := strconv.FormatInt(v, 10)
		x := LongDoubleFromInt64(v)
		p, ok := ParseLongDouble([]byte(s))
		if !ok || ldString(p) != ldString(x) {
			t.Fatalf("LongDoubleFromInt64(%d) = %s, parse gives %s", v, ldString(x), ldString(p))
		}
		if got := string(x.AppendHuman(nil)); got != s {
			t.Fatalf("AppendHuman(%d) = %q", v, got)
		}
	}
}

func TestLongDoubleFloat64(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{"0.1", 0.1},
		{"0.3", 0.3},
		{"-2.5", -2.5},
		{"1e400", math.Inf(1)},
		{"-1e400", math.Inf(-1)},
		{"1e-4000", 0},
		{"4.9406564584124654e-324", 5e-324},
		{"1.7976931348623157e308", math.MaxFloat64},
		{"-inf", math.Inf(-1)},
		{"9007199254740993", 9007199254740992}, // tie to even
	}
	for _, c := range cases {
		x, ok := ParseLongDouble([]byte(c.in))
		if !ok {
			t.Fatalf("bad input %q", c.in)
		}
		if got := x.Float64(); got != c.want {
			t.Errorf("Float64(%s) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN((LongDouble{cls: classNaN}).Float64()) {
		t.Error("NaN.Float64() is not NaN")
	}
}

func TestFormatFloatHuman(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{10.6, "10.6"},
		{sum(10.5, 0.1), "10.6"},
		{sum(0.1, 0.2), "0.30000000000000004"},
		{3.0e3, "3000"},
		{5.0e3, "5000"},
		{1.5e10, "15000000000"},
		{0.3, "0.3"},
		{0.30000000000000004, "0.30000000000000004"}, // INCRBYFLOAT 0.1 by 0.2 gives "0.3"
		{1e-17, "0.00000000000000001"},
		{4e-18, "0"},
		{-4e-18, "0"},
		{-6e-18, "-0.00000000000000001"},
		{math.Copysign(0, -1), "0"},
		{0, "0"},
		{-1.25, "-1.25"},
		{123456789.123456789, "123456789.12345679000281962"}, // redis: SET k 123456789.12345679; INCRBYFLOAT k 0
		{1e19, "10000000000000000000"},
		{1e100, "9999999999999999999669353532207342619498699019828496079271391541752018669482644324418977840117055488"},
		{5e-324, "0"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, c := range cases {
		if got := string(FormatFloatHuman([]byte("="), c.v)); got != "="+c.want {
			t.Errorf("FormatFloatHuman(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// sum defeats constant folding, so the float64 rounding really happens.
func sum(a, b float64) float64 { return a + b }

func BenchmarkIncrByFloat(b *testing.B) {
	cur, incr := []byte("10.50"), []byte("0.1")
	for i := 0; i < b.N; i++ {
		if _, err := IncrByFloat(cur, true, incr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFloat(b *testing.B) {
	in := []byte("1234.5678")
	for i := 0; i < b.N; i++ {
		if _, ok := ParseFloat(in); !ok {
			b.Fatal("rejected")
		}
	}
}
