package respserver

import (
	"strconv"
	"time"
)

// feedMonitors sends a command to every MONITOR client, in Redis's format:
// +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
func (s *Server) feedMonitors(c *client, args [][]byte) {
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := strconv.FormatInt(int64(now.Nanosecond()/1000), 10)
	for i := len(us); i < 6; i++ {
		line = append(line, '0')
	}
	line = append(line, us...)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(c.db), 10)
	line = append(line, ' ')
	line = append(line, c.addr...)
	line = append(line, ']')
	for _, a := range args {
		line = append(line, ' ')
		line = appendRepr(line, a)
	}
	line = append(line, '\r', '\n')
	s.mu.Lock()
	mons := make([]*client, 0, len(s.monitors))
	for _, m := range s.monitors {
		if m != c {
			mons = append(mons, m)
		}
	}
	s.mu.Unlock()
	// Lines go straight to each monitor's socket, not through its reply
	// buffer, which only its own goroutine touches; wmu keeps them from
	// interleaving with that goroutine's flushes.
	for _, m := range mons {
		m.wmu.Lock()
		_ = m.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		n, err := m.conn.Write(line)
		_ = m.conn.SetWriteDeadline(time.Time{})
		m.wmu.Unlock()
		m.netOut.Add(int64(n))
		s.stats.netOut.Add(int64(n))
		if err != nil {
			m.conn.Close()
		}
	}
}

// appendRepr appends a quoted, escaped representation of b, like Redis's
// sdscatrepr.
func appendRepr(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				dst = append(dst, ch)
			} else {
				dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(dst, '"')
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
