package rnum

// number is the result of scanning a glibc strtod/strtold token.
type number struct {
	n      int  // bytes consumed; 0 means no conversion
	neg    bool // leading '-'
	class  uint8
	hex    bool
	digits []byte // significand digits (decimal or hex), '.' removed
	frac   int    // how many of digits follow the radix point
	exp    int64  // explicit exponent (decimal for e, binary for p), saturated
	start  int    // offset of the token after leading white space
}

const (
	classFinite uint8 = iota
	classInf
	classNaN
)

// expLimit saturates explicit exponents; any larger magnitude already
// overflows or underflows every format handled here.
const expLimit = 1 << 40

// isCSpace reports whether c is a C-locale isspace character.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// hasPrefixFold reports whether b[i:] starts with the lower-case ASCII word
// w, ignoring ASCII case.
func hasPrefixFold(b []byte, i int, w string) bool {
	if len(b)-i < len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := b[i+j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[j] {
			return false
		}
	}
	return true
}

// scanNumber recognises the longest prefix of b that glibc's strtod (and
// strtold) would convert in the C locale: leading white space, an optional
// sign, then "inf"/"infinity", "nan"/"nan(chars)", a hexadecimal float
// ("0x" digits [. digits] [p exponent]) or a decimal float (digits [. digits]
// [e exponent]). The embedded NUL that terminates C strings is treated like
// any other non-number byte.
func scanNumber(b []byte) number {
	var r number
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	r.start = i
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		r.neg = b[i] == '-'
		i++
	}
	switch {
	case hasPrefixFold(b, i, "inf"):
		r.class = classInf
		if hasPrefixFold(b, i, "infinity") {
			r.n = i + 8
		} else {
			r.n = i + 3
		}
		return r
	case hasPrefixFold(b, i, "nan"):
		r.class = classNaN
		i += 3
		r.n = i
		if i < len(b) && b[i] == '(' {
			j := i + 1
			for j < len(b) && (isDigit(b[j]) || b[j] == '_' ||
				(b[j] >= 'a' && b[j] <= 'z') || (b[j] >= 'A' && b[j] <= 'Z')) {
				j++
			}
			if j < len(b) && b[j] == ')' {
				r.n = j + 1
			}
		}
		return r
	}
	if i+2 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') &&
		(hexVal(b[i+2]) >= 0 || (b[i+2] == '.' && i+3 < len(b) && hexVal(b[i+3]) >= 0)) {
		r.hex = true
		i += 2
		i = r.scanDigits(b, i, true)
		r.n = i
		if i < len(b) && (b[i] == 'p' || b[i] == 'P') {
			if j, e, ok := scanExp(b, i+1); ok {
				r.exp = e
				r.n = j
			}
		}
		return r
	}
	j := r.scanDigits(b, i, false)
	if len(r.digits) == 0 {
		r.n = 0 // no conversion: strtod sets endptr to the input itself
		return r
	}
	r.n = j
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		if k, e, ok := scanExp(b, j+1); ok {
			r.exp = e
			r.n = k
		}
	}
	return r
}

// scanDigits collects digits with an optional single radix point.
func (r *number) scanDigits(b []byte, i int, hex bool) int {
	isD := isDigit
	if hex {
		isD = func(c byte) bool { return hexVal(c) >= 0 }
	}
	for i < len(b) && isD(b[i]) {
		r.digits = append(r.digits, b[i])
		i++
	}
	if i < len(b) && b[i] == '.' {
		j := i + 1
		for j < len(b) && isD(b[j]) {
			r.digits = append(r.digits, b[j])
			r.frac++
			j++
		}
		// A lone "." with no digits on either side converts nothing; the
		// caller notices the empty digit list.
		if len(r.digits) > 0 {
			i = j
		}
	}
	return i
}

// scanExp parses "[+-]digits" at b[i:], saturating at ±expLimit.
func scanExp(b []byte, i int) (int, int64, bool) {
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return 0, 0, false
	}
	var e int64
	for i < len(b) && isDigit(b[i]) {
		if e < expLimit {
			e = e*10 + int64(b[i]-'0')
		}
		i++
	}
	if e > expLimit {
		e = expLimit
	}
	if neg {
		e = -e
	}
	return i, e, true
}
