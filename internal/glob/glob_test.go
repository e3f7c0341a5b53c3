package glob

import (
	"bufio"
	"bytes"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type matchCase struct {
	pat, str string
	nocase   bool
	want     bool
}

// Cases marked "redis" were checked against redis-server 7.0.15 with KEYS.
var matchCases = []matchCase{
	// Literals and empty inputs.
	{"", "", false, true},
	{"", "a", false, false},
	{"a", "", false, false},
	{"abc", "abc", false, true},
	{"abc", "abd", false, false},
	{"abc", "ab", false, false},
	{"ab", "abc", false, false},
	{"a\x00b", "a\x00b", false, true},
	{"a\x00b", "a\x00c", false, false},

	// '*'.
	{"*", "", false, false}, // redis: stringmatchlen never matches "" with "*"
	{"**", "", false, false},
	{"?*", "", false, false},
	{"*", "anything", false, true},
	{"*", "\x00", false, true},
	{"a*", "a", false, true},
	{"a*", "abc", false, true},
	{"a*", "ba", false, false},
	{"*a", "ba", false, true},
	{"*a", "ab", false, false},
	{"a*b", "ab", false, true},
	{"a*b", "axxxb", false, true},
	{"a*b", "axxxbc", false, false},
	{"a*b*c", "abc", false, true},
	{"a*b*c", "aXbYc", false, true},
	{"a*b*c", "aXcYb", false, false},
	{"a***", "a", false, true},
	{"a**b", "ab", false, true},
	{"*a*", "bab", false, true},
	{"*a*", "bbb", false, false},
	{"h*llo", "hllo", false, true},
	{"h*llo", "heeeello", false, true},
	{"*.txt", "a.txt.bak", false, false},
	{"*.txt", "a.bak.txt", false, true},

	// '?'.
	{"?", "", false, false},
	{"?", "a", false, true},
	{"?", "ab", false, false},
	{"h?llo", "hello", false, true},
	{"h?llo", "hllo", false, false},
	{"??", "\x00\xff", false, true},
	{"a?*", "a", false, false},
	{"a*?", "a", false, false},
	{"a*?", "ab", false, true},

	// Brackets.
	{"h[ae]llo", "hello", false, true},
	{"h[ae]llo", "hallo", false, true},
	{"h[ae]llo", "hillo", false, false},
	{"h[^e]llo", "hallo", false, true},
	{"h[^e]llo", "hello", false, false},
	{"h[a-b]llo", "hallo", false, true},
	{"h[a-b]llo", "hbllo", false, true},
	{"h[a-b]llo", "hcllo", false, false},
	{"[z-a]", "m", false, true}, // reversed range is swapped
	{"[z-a]", "A", false, false},
	{"[^z-a]", "m", false, false},
	{"[a-]", "-", false, false}, // redis: "a-]" is the range ']'..'a' and
	{"[a-]", "^", false, true},  // the class is left unterminated
	{"[a-]]", "]", false, true}, // range ]..a, then "]" closes
	{"[a-]]", "]]", false, false},
	{"[b-]", "a", false, true},
	{"[-a]", "-", false, true},
	{"[]", "]", false, false}, // "[]" is an empty set followed by nothing
	{"[]]", "]", false, false},
	{"[]a]", "]", false, false},
	{"[]a]", "a", false, false},
	{"[\\]]", "]", false, true}, // escaped ']' inside brackets
	{"[\\]a]", "a", false, true},
	{"[\\-]", "-", false, true},
	{"[\\^a]", "^", false, true},
	{"[^\\]]", "]", false, false},
	{"[^]", "x", false, true}, // "[^]": empty negated set
	{"[^]a", "xa", false, true},
	{"[abc", "b", false, true}, // unterminated: the class ends the pattern
	{"[abc", "bx", false, false},
	{"[a-c", "b", false, true},
	{"[a-", "-", false, true},
	{"[a-", "a", false, true},
	{"[", "", false, false},
	{"[", "x", false, false},
	{"[\\", "\\", false, true}, // lone backslash at the end of a class
	{"[\\", "x", false, false},
	{"a[", "a", false, false},
	{"[*]", "*", false, true},
	{"[*]", "a", false, false},
	{"[?]", "?", false, true},
	{"[[]", "[", false, true},
	{"x[a-c-e]", "xd", false, false}, // "a-c" then '-' then 'e'
	{"x[a-c-e]", "x-", false, true},
	{"x[a-c-e]", "xe", false, true},
	{"[\x00-\x02]", "\x01", false, true},
	{"[a-\xff]", "0", false, true},     // redis: signed char range [-1, 97] ...
	{"[a-\xff]", "\x00", false, true},  // ... contains NUL ...
	{"[a-\xff]", "\x80", false, false}, // ... but not -128
	{"[a-\xff]", "\xff", false, true},
	{"[\x80-\xff]", "\x90", false, true},
	{"[\x80-\xff]", "a", false, false},
	{"[\x00-\xff]", "\x80", false, false}, // [-1, 0]... swapped: [-1,0]
	{"[\x00-\xff]", "\x00", false, true},

	// Escapes.
	{"\\*", "*", false, true},
	{"\\*", "a", false, false},
	{"\\?", "?", false, true},
	{"\\?", "a", false, false},
	{"\\[a]", "[a]", false, true},
	{"\\[a]", "a", false, false},
	{"\\a", "a", false, true},
	{"\\\\", "\\", false, true},
	{"\\", "\\", false, true}, // lone trailing backslash is literal
	{"a\\", "a\\", false, true},
	{"a\\", "a", false, false},
	{"*\\*", "abc*", false, true},
	{"*\\*", "abc", false, false},

	// Case folding.
	{"HELLO", "hello", false, false},
	{"HELLO", "hello", true, true},
	{"h*O", "HellO", true, true},
	{"[A-C]", "b", true, true},
	{"[a-c]", "B", true, true},
	{"[a-c]", "B", false, false},
	{"[^A]", "a", true, false},
	{"[A-z]", "_", false, true}, // '_' (95) lies between 'Z' and 'a'
	{"[A-z]", "_", true, false}, // nocase lowers the bounds to [a-z]
	{"\\A", "a", true, true},
	{"[\\A]", "a", true, false}, // escaped class member compares exactly
	{"\xc0", "\xe0", true, false},
	// nocase ranges with high bytes follow glibc's tolower on signed chars
	// (-128..-2 become 128..254, -1 stays -1); checked against Redis's C code.
	{"[\xc0-^]", "\xe0", false, true},
	{"[\xc0-^]", "\xe0", true, false},
	{"[\x80-\xff]", "\x90", true, false},
	{"[\xff-\x80]", "\xff", false, true},
	{"[\xff-\x80]", "\xff", true, false},
	{"[a-\xff]", "A", true, true},
}

func TestMatchTable(t *testing.T) {
	for _, c := range matchCases {
		if got := Match([]byte(c.pat), []byte(c.str), c.nocase); got != c.want {
			t.Errorf("Match(%q, %q, nocase=%v) = %v, want %v", c.pat, c.str, c.nocase, got, c.want)
		}
		if got := String(c.pat, c.str, c.nocase); got != c.want {
			t.Errorf("String(%q, %q, nocase=%v) = %v, want %v", c.pat, c.str, c.nocase, got, c.want)
		}
	}
}

// TestMatchRedisGolden replays KEYS results recorded from redis-server
// 7.0.15 (testdata/redis70_keys.txt): random and key-derived patterns over
// 120 keys made of letters, specials, NUL and high bytes.
func TestMatchRedisGolden(t *testing.T) {
	f, err := os.Open("testdata/redis70_keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	patterns, nonEmpty := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line[2:])
		q, err := strconv.Unquote(fields[0])
		if err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		switch line[0] {
		case 'K':
			keys = append(keys, q)
		case 'P':
			patterns++
			want := make([]bool, len(keys))
			for _, f := range fields[1:] {
				i, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("bad line %q", line)
				}
				want[i] = true
			}
			if len(fields) > 1 {
				nonEmpty++
			}
			for i, k := range keys {
				if got := String(q, k, false); got != want[i] {
					t.Errorf("String(%q, %q) = %v, redis says %v", q, k, got, want[i])
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 120 || patterns != 2999 || nonEmpty < 1000 {
		t.Fatalf("golden file incomplete: %d keys, %d patterns, %d matching", len(keys), patterns, nonEmpty)
	}
}

// TestNestingLimit checks Redis's "nesting > 1000" guard; the results were
// observed on redis-server 7.0.15 against a key of 1200 'a's.
func TestNestingLimit(t *testing.T) {
	key := strings.Repeat("a", 1200)
	cases := []struct {
		unit string
		n    int
		tail string
		want bool
	}{
		{"*a", 1000, "", true},
		{"*a", 1001, "", false},
		{"*a", 1000, "*", true},
		{"*a", 1001, "*", false},
		{"a*", 1001, "", true}, // the last '*' returns before recursing
		{"a*", 1002, "", false},
		{"?*", 1001, "", true},
		{"?*", 1002, "", false},
	}
	for _, c := range cases {
		pat := strings.Repeat(c.unit, c.n) + c.tail
		if got := String(pat, key, false); got != c.want {
			t.Errorf("%q x %d + %q: got %v, want %v", c.unit, c.n, c.tail, got, c.want)
		}
	}
}

// TestPathological makes sure the skipLongerMatches pruning is in place:
// without it these take exponential time.
func TestPathological(t *testing.T) {
	cases := []struct{ pat, str string }{
		{strings.Repeat("a*", 40) + "b", strings.Repeat("a", 5000)},
		{strings.Repeat("*a", 40) + "b", strings.Repeat("a", 5000)},
		{strings.Repeat("*?", 30) + "x", strings.Repeat("y", 3000)},
		{"*" + strings.Repeat("[a-z]*", 30) + "!", strings.Repeat("abc", 1000)},
	}
	for _, c := range cases {
		start := time.Now()
		if String(c.pat, c.str, false) {
			t.Errorf("%q unexpectedly matched", c.pat[:12])
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q took %v", c.pat[:12], d)
		}
	}
	// The same shapes still match when they should.
	if !String(strings.Repeat("a*", 40)+"b", strings.Repeat("a", 5000)+"b", false) {
		t.Error("a*...b should match a...ab")
	}
}

func TestLiteralPrefix(t *testing.T) {
	cases := []struct {
		pat, prefix string
		exact       bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc*", "abc", false},
		{"user:?:name", "user:", false},
		{"a[bc]", "a", false},
		{"*abc", "", false},
		{"?", "", false},
		{"[", "", false},
		{"a\\*b", "a*b", true},
		{"a\\*b*", "a*b", false},
		{"a\\\\b", "a\\b", true},
		{"a\\", "a\\", true},
		{"\\", "\\", true},
		{"a]^-b", "a]^-b", true},
		{"\\[x\\]", "[x]", true},
		{"k\\?*", "k?", false},
	}
	for _, c := range cases {
		p, exact := LiteralPrefix([]byte(c.pat))
		if string(p) != c.prefix || exact != c.exact {
			t.Errorf("LiteralPrefix(%q) = %q, %v; want %q, %v", c.pat, p, exact, c.prefix, c.exact)
		}
	}
	pat := []byte("abc*")
	p, _ := LiteralPrefix(pat)
	p[0] = 'X'
	if pat[0] != 'a' {
		t.Error("LiteralPrefix result aliases the pattern")
	}
}

// TestLiteralPrefixConsistent checks, on random inputs, that every string
// Match accepts starts with the literal prefix, and that an exact prefix is
// the one and only match.
func TestLiteralPrefixConsistent(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const alpha = "ab*?[]^-\\"
	gen := func(n int, abc string) []byte {
		b := make([]byte, rng.Intn(n+1))
		for i := range b {
			b[i] = abc[rng.Intn(len(abc))]
		}
		return b
	}
	for i := 0; i < 20000; i++ {
		pat := gen(6, alpha)
		str := gen(5, "ab*?[]\\")
		prefix, exact := LiteralPrefix(pat)
		m := Match(pat, str, false)
		if m && !bytes.HasPrefix(str, prefix) {
			t.Fatalf("Match(%q, %q) but prefix is %q", pat, str, prefix)
		}
		if exact {
			if !Match(pat, prefix, false) {
				t.Fatalf("exact pattern %q does not match its prefix %q", pat, prefix)
			}
			if m && !bytes.Equal(str, prefix) {
				t.Fatalf("exact pattern %q matched %q != %q", pat, str, prefix)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	pat := []byte("user:*:session:[0-9]*")
	str := []byte("user:12345:session:987654321")
	for i := 0; i < b.N; i++ {
		if !Match(pat, str, false) {
			b.Fatal("no match")
		}
	}
}
