package rnum

import (
	"math"
	"strconv"
)

// Strtod emulates glibc strtod(3) in the C locale on b (as if b were
// NUL-terminated at its end): it returns the converted value, the number of
// bytes consumed (0 when nothing could be converted, in which case C's
// endptr would point at the start of the input, before any white space) and
// whether errno would be ERANGE (overflow to ±Inf, or a non-zero input that
// underflows to zero). Leading white space is skipped; hexadecimal floats,
// "inf", "infinity" and "nan[(chars)]" are accepted in any case. Subnormal
// results are returned without ERANGE (glibc sets it but Redis never looks
// at errno alone).
//
// Redis parses some arguments with raw strtod (e.g. ZRANGEBYSCORE bounds
// in zslParseRange); ParseFloat is the stricter string2d.
func Strtod(b []byte) (v float64, n int, erange bool) {
	r := scanNumber(b)
	if r.n == 0 {
		return 0, 0, false
	}
	switch r.class {
	case classInf:
		v = math.Inf(1)
	case classNaN:
		v = math.NaN()
	default:
		if r.hex {
			res, zero := r.convert(float64Format)
			switch {
			case zero:
				v = 0
			case res.overflow:
				v, erange = math.Inf(1), true
			case res.underflow:
				v, erange = 0, true
			default:
				v = math.Ldexp(float64(res.mant), res.exp)
			}
		} else {
			// strconv.ParseFloat is correctly rounded, like glibc, and
			// accepts every decimal form scanNumber does.
			tok := b[r.start:r.n]
			f, err := strconv.ParseFloat(string(tok), 64)
			switch {
			case err != nil && math.IsInf(f, 0):
				v, erange = math.Inf(1), true
			case err != nil:
				panic("rnum: unexpected strconv error: " + err.Error())
			case f == 0 && hasNonZeroDigit(r.digits):
				v, erange = 0, true
			default:
				v = math.Abs(f)
			}
		}
	}
	if r.neg {
		v = -v
	}
	return v, r.n, erange
}

func hasNonZeroDigit(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return true
		}
	}
	return false
}

// ParseFloat parses b like Redis 7.0's string2d, used by
// getDoubleFromObject for ZADD/ZINCRBY scores and other double arguments:
// the whole input must be a strtod number, without leading white space;
// "inf", "+inf", "-inf", "infinity" (any case) and hexadecimal floats such as
// "0x1p-3" are accepted; NaN, empty input, trailing bytes (including an
// embedded NUL), overflow ("1e309") and underflow to zero ("1e-400") are
// rejected. Subnormals such as "1e-320" are accepted.
//
// INCRBYFLOAT and HINCRBYFLOAT parse with string2ld instead; use
// ParseLongDouble or IncrByFloat for those.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	v, n, erange := Strtod(b)
	if n != len(b) || math.IsNaN(v) ||
		(erange && (math.IsInf(v, 0) || v == 0)) {
		return 0, false
	}
	return v, true
}

// FormatFloatResp appends v the way Redis 7.0's addReplyDouble formats a
// double (ZSCORE, ZINCRBY, ZRANGE ... WITHSCORES, ...): C "%.17g", e.g.
// 0.1 -> "0.10000000000000001", 1 -> "1", 1e20 -> "1e+20", -0.0 -> "-0",
// and "inf"/"-inf" for infinities (NaN gives "nan"/"-nan" as glibc
// prints it; Redis never replies with a NaN score). In RESP2 this text is
// sent as a bulk string; in RESP3 the same text follows ','.
func FormatFloatResp(dst []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(v):
		if math.Signbit(v) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	// Go's 'g' with an explicit precision follows C's %g rules: the
	// exponent form is used when exp < -4 or exp >= 17, trailing zeros are
	// removed, and the exponent has at least two digits.
	return strconv.AppendFloat(dst, v, 'g', 17, 64)
}

// FormatFloatHuman appends a human friendly form of v, in the style of
// Redis's ld2string(LD_STR_HUMAN) used by INCRBYFLOAT replies: fixed point
// (never an exponent), at most 17 fractional digits, trailing zeros and a
// trailing '.' removed, "-0" printed as "0", "inf"/"-inf" for infinities.
//
// Redis formats a long double, not a double, so this cannot be exact for a
// float64 computed by arithmetic. The definition used here is: take the
// shortest decimal that round-trips to v (so 10.6 stays "10.6" rather than
// 10.5999999999999996447...), read it as Redis would read that text into a
// long double, and format that as Redis does. This is exactly what
// INCRBYFLOAT k 0 replies after SET k <shortest form of v>. For INCRBYFLOAT
// itself use IncrByFloat, which computes in emulated long double:
// 0.1+0.2 is "0.3" in Redis but "0.30000000000000004" here.
func FormatFloatHuman(dst []byte, v float64) []byte {
	if math.IsNaN(v) {
		if math.Signbit(v) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], v, 'g', -1, 64)
	x, ok := ParseLongDouble(s)
	if !ok {
		// Only infinities are not valid long double text here.
		if v > 0 {
			return append(dst, "inf"...)
		}
		return append(dst, "-inf"...)
	}
	return x.AppendHuman(dst)
}
