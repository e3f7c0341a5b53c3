package rnum

import (
	"math/big"
	"math/bits"
)

// binFormat describes an IEEE-style binary floating point format.
type binFormat struct {
	mantBits int // significand bits, including the leading one
	minLSB   int // exponent of the least significant bit of subnormals
	maxExp   int // every finite value is < 2^maxExp
}

var (
	// float64Format is IEEE 754 binary64 (C double).
	float64Format = binFormat{mantBits: 53, minLSB: -1074, maxExp: 1024}
	// extFormat is the x87 80-bit extended format (C long double on x86-64).
	extFormat = binFormat{mantBits: 64, minLSB: -16445, maxExp: 16384}
)

// rounded is a correctly rounded (round-half-even) finite result:
// value = mant * 2^exp.
type rounded struct {
	mant      uint64
	exp       int
	overflow  bool // |value| rounded to infinity
	underflow bool // a non-zero value rounded to zero
}

// roundRat rounds num/den * 2^e2 (num, den > 0) to format f, exactly. num
// and den are not modified.
func roundRat(num, den *big.Int, e2 int, f binFormat) rounded {
	// Scale so that the integer quotient has at least mantBits+2 bits.
	s := f.mantBits + 2 - (num.BitLen() - den.BitLen()) + 1
	n := new(big.Int).Set(num)
	d := den
	if s >= 0 {
		n.Lsh(n, uint(s))
	} else {
		d = new(big.Int).Lsh(den, uint(-s))
	}
	q, rem := new(big.Int), new(big.Int)
	q.QuoRem(n, d, rem)
	sticky := rem.Sign() != 0
	return roundInt(q, sticky, e2-s, f)
}

// roundInt rounds (q + δ) * 2^e to format f, where q > 0 is an integer and
// 0 < δ < 1 exactly when sticky is set. q is not modified.
func roundInt(q *big.Int, sticky bool, e int, f binFormat) rounded {
	top := q.BitLen() - 1 + e // exponent of the most significant bit
	lsb := max(top-(f.mantBits-1), f.minLSB)
	shift := lsb - e
	var mant uint64
	if shift <= 0 {
		// Exact: q has no more bits than the format keeps.
		mant = new(big.Int).Lsh(q, uint(-shift)).Uint64()
	} else {
		cmp := -1 // the dropped part compared with half an ulp
		if shift <= q.BitLen() {
			if q.Bit(shift-1) == 1 {
				cmp = 0
				if sticky || lowBitsNonZero(q, shift-1) {
					cmp = 1
				}
			}
			mant = new(big.Int).Rsh(q, uint(shift)).Uint64()
		}
		// else: q+δ < 2^(shift-1), so everything rounds away to zero.
		if cmp > 0 || (cmp == 0 && mant&1 == 1) {
			mant++
			switch {
			case mant == 0: // carried out of a 64-bit significand
				mant = 1 << 63
				lsb++
			case f.mantBits < 64 && mant>>uint(f.mantBits) != 0:
				mant >>= 1
				lsb++
			}
		}
	}
	if mant == 0 {
		return rounded{underflow: true}
	}
	if bits.Len64(mant)-1+lsb >= f.maxExp {
		return rounded{overflow: true}
	}
	return rounded{mant: mant, exp: lsb}
}

// lowBitsNonZero reports whether any of the n lowest bits of q is set.
func lowBitsNonZero(q *big.Int, n int) bool {
	if n <= 0 {
		return false
	}
	t := q.TrailingZeroBits()
	return q.Sign() != 0 && int(t) < n
}

// pow10Big returns 10^n for n >= 0.
func pow10Big(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// convert turns a scanned finite token into format f, exactly as glibc
// strtod/strtold does in round-to-nearest mode. zero reports an exact zero
// significand (no range error).
func (r *number) convert(f binFormat) (res rounded, zero bool) {
	// Strip leading zeros (they do not change the value).
	d := r.digits
	for len(d) > 0 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) == 0 {
		return rounded{}, true
	}
	base := 10
	if r.hex {
		base = 16
	}
	m, ok := new(big.Int).SetString(string(d), base)
	if !ok {
		panic("rnum: bad digits")
	}
	if r.hex {
		// value = m * 2^(exp - 4*frac)
		e := r.exp - 4*int64(r.frac)
		top := int64(m.BitLen()) + e // value < 2^top
		if top > int64(f.maxExp)+1 {
			return rounded{overflow: true}, false
		}
		if top < int64(f.minLSB)-1 {
			return rounded{underflow: true}, false
		}
		return roundInt(m, false, int(e), f), false
	}
	// value = m * 10^e10, with len(d) significant digits.
	e10 := r.exp - int64(r.frac)
	mag := int64(len(d)) + e10 // value < 10^mag, value >= 10^(mag-1)
	// 10^(mag-1) >= 2^maxExp  <=> overflow for sure.
	if float64(mag-1) > float64(f.maxExp)*0.30103+1 {
		return rounded{overflow: true}, false
	}
	// 10^mag <= 2^(minLSB-1) <=> below half the smallest subnormal.
	if float64(mag) < float64(f.minLSB-1)*0.30103-1 {
		return rounded{underflow: true}, false
	}
	if e10 >= 0 {
		m.Mul(m, pow10Big(int(e10)))
		return roundInt(m, false, 0, f), false
	}
	return roundRat(m, pow10Big(int(-e10)), 0, f), false
}
