package ascii

import "testing"

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"GET", "get", true}, {"gEt", "GeT", true}, {"get", "gets", false},
		{"", "", true}, {"Ä", "ä", false}, {"a1_", "A1_", true}, {"[", "{", false},
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
		if got := EqualFold([]byte(c.a), c.b); got != c.want {
			t.Errorf("EqualFold([]byte(%q), %q) = %v", c.a, c.b, got)
		}
	}
}
