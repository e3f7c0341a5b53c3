package wire

// splitArgs splits an inline request line into arguments exactly as Redis's
// sdssplitargs does, appending each argument's bytes to r.arena and its end
// offset to r.ends. It returns false where sdssplitargs returns NULL
// (unbalanced quotes, or a closing quote not followed by a space).
//
// sdssplitargs works on a C string, so the end of line behaves like a NUL
// byte (and so would a NUL inside it, though scanLine never yields one).
//
//   - Arguments are separated by runs of isspace bytes (space, \t, \n, \v, \f,
//     \r); outside quotes only space, \n, \r, \t and NUL end an argument.
//   - "double quotes" support \xHH (two hex digits), \n \r \t \b \a, and
//     backslash before any other byte yields that byte.
//   - 'single quotes' support only \' .
//   - A quote may open in the middle of an argument (a"b c" is "ab c"), but a
//     closing quote must be followed by a space or the end of the line.
func (r *Reader) splitArgs(line []byte) bool {
	out := r.arena
	defer func() { r.arena = out }()
	n := len(line)
	at := func(i int) byte {
		if i < n {
			return line[i]
		}
		return 0
	}
	p := 0
	for {
		for p < n && isSpace(line[p]) {
			p++
		}
		if at(p) == 0 {
			return true
		}
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					out = append(out, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						out = append(out, '\n')
					case 'r':
						out = append(out, '\r')
					case 't':
						out = append(out, '\t')
					case 'b':
						out = append(out, '\b')
					case 'a':
						out = append(out, '\a')
					default:
						out = append(out, e)
					}
				case c == '"':
					if next := at(p + 1); next != 0 && !isSpace(next) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					// Fast path: copy the run of unescaped bytes.
					q := p + 1
					for q < n && line[q] != '\\' && line[q] != '"' && line[q] != 0 {
						q++
					}
					out = append(out, line[p:q]...)
					p = q - 1
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					out = append(out, '\'')
				case c == '\'':
					if next := at(p + 1); next != 0 && !isSpace(next) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					out = append(out, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					// Fast path: copy the run of ordinary bytes.
					q := p + 1
					for q < n && plain(line[q]) {
						q++
					}
					out = append(out, line[p:q]...)
					p = q - 1
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		r.ends = append(r.ends, len(out))
	}
}

// plain reports whether c continues an unquoted argument unchanged.
func plain(c byte) bool {
	return c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != 0 && c != '"' && c != '\''
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
