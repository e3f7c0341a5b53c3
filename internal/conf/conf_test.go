package conf

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# comment
port 7000
bind 127.0.0.1 ::1
requirepass "se cret"
appendfsync always

dir '/var/lib/rp'
PORT 7001
`
	m, err := Parse(strings.NewReader(in), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"port": "7001", "bind": "127.0.0.1 ::1", "requirepass": "se cret", "appendfsync": "always", "dir": "/var/lib/rp"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("got %d settings, want %d: %v", len(m), len(want), m)
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "1k": 1000, "1kb": 1024, "256mb": 256 << 20, "1gb": 1 << 30, "2G": 2e9, "10b": 10} {
		got, err := ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "-1mb", "1tb"} {
		if _, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) accepted", in)
		}
	}
}
