// Package glob implements Redis-compatible glob-style pattern matching.
//
// Match is a faithful port of stringmatchlen from Redis 7.0 (src/util.c),
// the matcher behind KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and friends.
// It supports:
//
//	'*'      any sequence of bytes (including none)
//	'?'      exactly one byte
//	[abc]    one byte out of the set
//	[^abc]   one byte not in the set
//	[a-z]    a byte range; reversed ranges such as [z-a] are swapped
//	\x       the byte x taken literally (also inside brackets)
//
// Redis quirks that are reproduced on purpose:
//
//   - Matching works on bytes. Inside ranges, bytes are compared as C
//     "signed char" values (as on x86-64), so a range such as [a-\xff] is the
//     range [\xff-a] = [-1, 97] and does not contain \x80..\xfe.
//   - Case folding (nocase) is ASCII only (glibc C-locale tolower). In a
//     nocase range the bounds and the byte go through tolower after the
//     swap, and glibc maps the negative chars -128..-2 to 128..254 but
//     leaves 0xff at -1; this oddity is reproduced too.
//   - An unterminated bracket such as "[abc" matches like "[abc]" and ends
//     the pattern; a lone trailing backslash matches a literal backslash.
//   - A pattern never matches the empty string unless it is itself empty:
//     Match("*", "") is false, exactly as in Redis (KEYS and SCAN special-case
//     the pattern "*" before calling the matcher; callers must do the same).
//   - Redis's skipLongerMatches optimisation: once the tail after some '*'
//     fails to match at every position of the remaining string, every
//     enclosing '*' gives up too. This makes patterns like "a*a*a*a*b"
//     polynomial instead of exponential.
//   - Recursion ("nesting") deeper than 1000 stars gives no match (the
//     CVE-2022-36021 guard in Redis 7.0.9+).
package glob

// maxNesting mirrors the "nesting > 1000" guard of Redis's
// stringmatchlen_impl.
const maxNesting = 1000

// Match reports whether str matches the glob pattern, with Redis 7.0
// stringmatchlen semantics. If nocase is true, ASCII letters are compared
// case-insensitively.
func Match(pattern, str []byte, nocase bool) bool {
	m := matcher{pat: pattern, str: str, nocase: nocase}
	return m.match(0, 0, 0)
}

// String is Match for string arguments.
func String(pattern, s string, nocase bool) bool {
	return Match([]byte(pattern), []byte(s), nocase)
}

type matcher struct {
	pat, str          []byte
	nocase            bool
	skipLongerMatches bool
}

// p returns the pattern byte at i, or 0 past the end: Redis patterns are
// sds strings, which always carry a terminating NUL that the C code reads.
func (m *matcher) p(i int) byte {
	if i < len(m.pat) {
		return m.pat[i]
	}
	return 0
}

// lower is glibc's C-locale tolower applied to an int holding a (signed)
// char value: ASCII letters are folded, and the negative values -128..-2
// (bytes 0x80..0xfe) are mapped to 128..254, because glibc's table treats
// them as their unsigned char counterparts. -1 (0xff) is EOF and stays -1.
func lower(c int) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + ('a' - 'A')
	case c >= -128 && c <= -2:
		return c + 256
	}
	return c
}

// match ports stringmatchlen_impl. pi/si are the offsets of the C pointers
// pattern/string; patternLen is len(pat)-pi and stringLen is len(str)-si.
func (m *matcher) match(pi, si, nesting int) bool {
	// Protection against abusive patterns.
	if nesting > maxNesting {
		return false
	}
	pat, str := m.pat, m.str
	plen := len(pat) - pi
	slen := len(str) - si

	for plen > 0 && slen > 0 {
		switch pat[pi] {
		case '*':
			for plen > 0 && m.p(pi+1) == '*' {
				pi++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if m.match(pi+1, si, nesting+1) {
					return true
				}
				if m.skipLongerMatches {
					return false
				}
				si++
				slen--
			}
			// The rest of the pattern matched nowhere in the rest of the
			// string, so no enclosing '*' can do better by consuming more.
			m.skipLongerMatches = true
			return false
		case '?':
			si++
			slen--
		case '[':
			pi++
			plen--
			not := m.p(pi) == '^'
			if not {
				pi++
				plen--
			}
			matched := false
			c0 := str[si]
			for {
				if m.p(pi) == '\\' && plen >= 2 {
					pi++
					plen--
					if m.p(pi) == c0 {
						matched = true
					}
				} else if m.p(pi) == ']' {
					break
				} else if plen == 0 {
					pi--
					plen++
					break
				} else if plen >= 3 && m.p(pi+1) == '-' {
					// C: int start = pattern[0] with signed char.
					start := int(int8(m.p(pi)))
					end := int(int8(m.p(pi + 2)))
					c := int(int8(c0))
					if start > end {
						start, end = end, start
					}
					if m.nocase {
						start = lower(start)
						end = lower(end)
						c = lower(c)
					}
					pi += 2
					plen -= 2
					if c >= start && c <= end {
						matched = true
					}
				} else {
					if !m.nocase {
						if m.p(pi) == c0 {
							matched = true
						}
					} else if lower(int(int8(m.p(pi)))) == lower(int(int8(c0))) {
						matched = true
					}
				}
				pi++
				plen--
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			si++
			slen--
		default:
			if pat[pi] == '\\' && plen >= 2 {
				pi++
				plen--
			}
			if !m.nocase {
				if pat[pi] != str[si] {
					return false
				}
			} else if lower(int(int8(pat[pi]))) != lower(int(int8(str[si]))) {
				return false
			}
			si++
			slen--
		}
		pi++
		plen--
		if slen == 0 {
			for m.p(pi) == '*' {
				pi++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}

// LiteralPrefix returns the bytes that every string matching pattern must
// start with: the pattern up to its first special character ('*', '?' or
// '['), with backslash escapes resolved. exact is true when the pattern has
// no special character at all, in which case the pattern matches exactly one
// string, prefix.
//
// The prefix is only valid for case-sensitive matching (nocase == false);
// with nocase it merely identifies the strings up to ASCII case. It is meant
// for narrowing an ordered key scan before calling Match on each candidate.
// The returned slice never aliases pattern.
func LiteralPrefix(pattern []byte) (prefix []byte, exact bool) {
	prefix = make([]byte, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?', '[':
			return prefix, false
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			// A lone trailing backslash is a literal backslash.
			prefix = append(prefix, pattern[i])
		default:
			prefix = append(prefix, c)
		}
	}
	return prefix, true
}
