package rnum

import (
	"math"
	"strconv"
)

// maxIntLen is LONG_STR_SIZE-1: string2ll rejects inputs of 21 bytes or
// more.
const maxIntLen = 20

// ParseInt parses b exactly like Redis 7.0's string2ll: an optional '-'
// followed by decimal digits, no leading '+', no spaces, no leading zeros
// (except the string "0"), "-0" rejected, at most 20 bytes, and the value
// must fit in an int64.
func ParseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n > maxIntLen {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i++
		if i == n {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-d {
			return 0, false
		}
		v += d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to MinInt64 as intended
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// FormatInt appends the decimal form of v to dst, as Redis's ll2string.
func FormatInt(dst []byte, v int64) []byte {
	return strconv.AppendInt(dst, v, 10)
}

// AddInt returns a+b, or ErrOverflow when the sum does not fit in an int64,
// with the check of Redis's incrDecrCommand (INCR, INCRBY, DECR, DECRBY).
// DECRBY must first reject a decrement of math.MinInt64 with
// ErrDecrOverflow, then call AddInt(value, -decrement).
func AddInt(a, b int64) (int64, error) {
	if (b < 0 && a < 0 && b < math.MinInt64-a) ||
		(b > 0 && a > 0 && b > math.MaxInt64-a) {
		return 0, ErrOverflow
	}
	return a + b, nil
}
