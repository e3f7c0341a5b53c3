package rnum

import (
	"math"
	"math/big"
	"strings"
)

// maxLongDoubleChars is MAX_LONG_DOUBLE_CHARS: string2ld rejects inputs of
// this many bytes or more.
const maxLongDoubleChars = 5 * 1024

// LongDouble is an exact emulation of the C long double that Redis 7.0 uses
// for INCRBYFLOAT and HINCRBYFLOAT on x86-64 Linux: the x87 80-bit extended
// format, with a 64-bit significand, exponents down to subnormals of
// 2^-16445 and up to about 1.19e4932. The zero value is +0.
type LongDouble struct {
	mant uint64 // |value| = mant * 2^exp for finite values; 0 means zero
	exp  int
	neg  bool
	cls  uint8 // classFinite, classInf or classNaN
}

// LongDoubleFromInt64 converts v exactly, like Redis's (long double)ll
// cast for integer-encoded values.
func LongDoubleFromInt64(v int64) LongDouble {
	if v == 0 {
		return LongDouble{}
	}
	x := LongDouble{neg: v < 0}
	if v < 0 {
		x.mant = uint64(-v) // MinInt64 wraps to 1<<63, which is right
	} else {
		x.mant = uint64(v)
	}
	return x
}

// ParseLongDouble parses b like Redis 7.0's string2ld (used by
// getLongDoubleFromObject for INCRBYFLOAT, and by HINCRBYFLOAT): input of
// 1 to 5119 bytes, no leading white space, entirely consumed by glibc
// strtold (so no trailing bytes and no embedded NUL), not NaN, and no range
// error that overflows ("1e5000") or underflows to zero ("1e-5000").
// Infinities ("inf", "-Infinity", ...) and hexadecimal floats are accepted.
// Values beyond the float64 range, such as "1e400" or "1e-4940", are valid
// long doubles and are accepted.
func ParseLongDouble(b []byte) (LongDouble, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars || isCSpace(b[0]) {
		return LongDouble{}, false
	}
	r := scanNumber(b)
	if r.n != len(b) {
		return LongDouble{}, false
	}
	x := LongDouble{neg: r.neg}
	switch r.class {
	case classNaN:
		return LongDouble{}, false
	case classInf:
		x.cls = classInf
		return x, true
	}
	res, zero := r.convert(extFormat)
	switch {
	case zero:
		return x, true // ±0, no range error
	case res.overflow, res.underflow:
		return LongDouble{}, false
	}
	x.mant, x.exp = res.mant, res.exp
	return x, true
}

// IsInf reports whether x is an infinity.
func (x LongDouble) IsInf() bool { return x.cls == classInf }

// IsNaN reports whether x is a NaN (only Add of opposite infinities makes
// one).
func (x LongDouble) IsNaN() bool { return x.cls == classNaN }

// Float64 returns x rounded to the nearest float64 (round-half-even), ±Inf
// when out of range.
func (x LongDouble) Float64() float64 {
	var v float64
	switch {
	case x.cls == classNaN:
		return math.NaN()
	case x.cls == classInf:
		v = math.Inf(1)
	case x.mant == 0:
		v = 0
	default:
		res := roundInt(new(big.Int).SetUint64(x.mant), false, x.exp, float64Format)
		switch {
		case res.overflow:
			v = math.Inf(1)
		case res.underflow:
			v = 0
		default:
			v = math.Ldexp(float64(res.mant), res.exp)
		}
	}
	if x.neg {
		v = -v
	}
	return v
}

// Add returns x+y correctly rounded to the extended format in
// round-to-nearest-even mode, as the x87 FPU computes it: overflow gives an
// infinity, opposite infinities give NaN, and an exact zero sum is +0
// unless both operands are -0.
func (x LongDouble) Add(y LongDouble) LongDouble {
	switch {
	case x.cls == classNaN || y.cls == classNaN:
		return LongDouble{cls: classNaN}
	case x.cls == classInf && y.cls == classInf:
		if x.neg != y.neg {
			return LongDouble{cls: classNaN}
		}
		return x
	case x.cls == classInf:
		return x
	case y.cls == classInf:
		return y
	case x.mant == 0 && y.mant == 0:
		return LongDouble{neg: x.neg && y.neg}
	case x.mant == 0:
		return y
	case y.mant == 0:
		return x
	}
	// Exact sum as a signed integer times 2^e, then one rounding.
	e := min(x.exp, y.exp)
	a := new(big.Int).SetUint64(x.mant)
	a.Lsh(a, uint(x.exp-e))
	if x.neg {
		a.Neg(a)
	}
	b := new(big.Int).SetUint64(y.mant)
	b.Lsh(b, uint(y.exp-e))
	if y.neg {
		b.Neg(b)
	}
	a.Add(a, b)
	if a.Sign() == 0 {
		return LongDouble{}
	}
	neg := a.Sign() < 0
	a.Abs(a)
	res := roundInt(a, false, e, extFormat)
	if res.overflow {
		return LongDouble{cls: classInf, neg: neg}
	}
	// Subnormal sums of extended values are exact, so underflow to zero
	// cannot happen here.
	return LongDouble{mant: res.mant, exp: res.exp, neg: neg}
}

// AppendHuman appends x as Redis 7.0's ld2string(..., LD_STR_HUMAN) does
// (the INCRBYFLOAT/HINCRBYFLOAT reply and stored value): "%.17Lf" (exact
// decimal expansion rounded half-even to 17 fractional digits), then
// trailing zeros and a trailing '.' removed, "-0" replaced by "0", and
// "inf"/"-inf" for infinities. NaN is printed "nan"/"-nan" as glibc would.
func (x LongDouble) AppendHuman(dst []byte) []byte {
	switch x.cls {
	case classInf:
		if x.neg {
			return append(dst, "-inf"...)
		}
		return append(dst, "inf"...)
	case classNaN:
		if x.neg {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	const fracDigits = 17
	// q = round(|x| * 10^17), half to even.
	var q *big.Int
	if x.exp >= 0 || x.mant == 0 {
		q = new(big.Int).SetUint64(x.mant)
		if x.mant != 0 {
			q.Lsh(q, uint(x.exp))
		}
		q.Mul(q, pow10Big(fracDigits))
	} else {
		n := new(big.Int).SetUint64(x.mant)
		n.Mul(n, pow10Big(fracDigits))
		sh := uint(-x.exp)
		q = new(big.Int).Rsh(n, sh)
		// Remainder n mod 2^sh compared with 2^(sh-1).
		if n.Bit(int(sh-1)) == 1 {
			if lowBitsNonZero(n, int(sh-1)) || q.Bit(0) == 1 {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	digits := q.Text(10)
	if len(digits) <= fracDigits {
		digits = strings.Repeat("0", fracDigits+1-len(digits)) + digits
	}
	intPart := digits[:len(digits)-fracDigits]
	frac := digits[len(digits)-fracDigits:]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if x.neg && !(intPart == "0" && frac == "") {
		dst = append(dst, '-')
	}
	dst = append(dst, intPart...)
	if frac != "" {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst
}
