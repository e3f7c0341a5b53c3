// Package ascii holds the ASCII helpers that Redis's C code gets from
// strcasecmp and friends: case-insensitive comparison of command names,
// options and type names, with no Unicode folding.
package ascii

// EqualFold reports whether a and b are equal under ASCII case folding
// (C's strcasecmp(a, b) == 0 for strings without NUL bytes).
func EqualFold[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
