// Package rnum implements Redis 7.0's number parsing and formatting rules.
//
// Integers follow string2ll/ll2string. Doubles follow string2d (glibc
// strtod) for parsing and addReplyDouble ("%.17g") for replies. INCRBYFLOAT
// and HINCRBYFLOAT compute in C "long double", which on x86-64 is the x87
// 80-bit extended format (64-bit significand, 15-bit exponent); LongDouble
// emulates that format exactly (parsing as glibc strtold, correctly rounded
// addition, "%.17Lf" formatting), so results such as 0.1+0.2 = "0.3" or
// INCRBYFLOAT by 1e400 come out byte-for-byte as Redis prints them.
package rnum

import "errors"

// Exact Redis 7.0 error strings (with the "ERR " prefix) for numeric
// argument and arithmetic errors.
const (
	// MsgNotInteger is replied when an argument or stored value is not a
	// valid 64-bit integer (INCR, INCRBY, DECRBY, SETRANGE offsets, ...).
	MsgNotInteger = "ERR value is not an integer or out of range"
	// MsgNotFloat is replied when an argument or stored value is not a
	// valid float (INCRBYFLOAT, ZADD scores, ...).
	MsgNotFloat = "ERR value is not a valid float"
	// MsgOverflow is replied by INCR/INCRBY/DECR/DECRBY on int64 overflow.
	MsgOverflow = "ERR increment or decrement would overflow"
	// MsgDecrOverflow is replied by DECRBY when the decrement is
	// -9223372036854775808 (it cannot be negated).
	MsgDecrOverflow = "ERR decrement would overflow"
	// MsgNaNOrInfinity is replied by INCRBYFLOAT and HINCRBYFLOAT when the
	// sum is NaN or infinite.
	MsgNaNOrInfinity = "ERR increment would produce NaN or Infinity"
	// MsgValueNaNOrInfinity is replied by HINCRBYFLOAT when the increment
	// itself is NaN or infinite (checked before the hash is looked up).
	MsgValueNaNOrInfinity = "ERR value is NaN or Infinity"
	// MsgHashNotFloat is replied by HINCRBYFLOAT when the stored field is
	// not a valid float.
	MsgHashNotFloat = "ERR hash value is not a float"
	// MsgHashNotInteger is replied by HINCRBY when the stored field is not
	// a valid integer.
	MsgHashNotInteger = "ERR hash value is not an integer"
)

// Sentinel errors whose Error() text is the matching Msg constant, for
// callers that need to tell the failures apart with errors.Is.
var (
	ErrNotInteger         = errors.New(MsgNotInteger)
	ErrNotFloat           = errors.New(MsgNotFloat)
	ErrOverflow           = errors.New(MsgOverflow)
	ErrDecrOverflow       = errors.New(MsgDecrOverflow)
	ErrNaNOrInfinity      = errors.New(MsgNaNOrInfinity)
	ErrValueNaNOrInfinity = errors.New(MsgValueNaNOrInfinity)
	ErrHashNotFloat       = errors.New(MsgHashNotFloat)
	ErrHashNotInteger     = errors.New(MsgHashNotInteger)
)
