package glob

import (
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/rustypotato/rustypotato/internal/redisref"
)

// TestAgainstRedisKEYS compares Match with a real redis-server's KEYS on
// random keys and patterns. It is skipped unless RUSTYPOTATO_REDIS_REF is
// set (see redisref.Env); the cases it found interesting are frozen in
// TestMatchTable.
func TestAgainstRedisKEYS(t *testing.T) {
	rc := redisref.Dial(t)
	rng := rand.New(rand.NewSource(7))
	const alphabet = "aAbBz*?[]^-\\\x00\x80\xff"
	randStr := func(max int, specials bool) string {
		n := rng.Intn(max + 1)
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if specials {
				sb.WriteByte(alphabet[rng.Intn(len(alphabet))])
			} else {
				sb.WriteByte("aAbBz-^]\\\x00\x80\xff"[rng.Intn(12)])
			}
		}
		return sb.String()
	}
	if r, ok := rc.Do(t, []byte("SELECT"), []byte("9")).(string); !ok || r != "OK" {
		t.Fatalf("SELECT: %v", r)
	}
	rc.Do(t, []byte("FLUSHDB"))
	defer rc.Do(t, []byte("FLUSHDB"))
	keys := map[string]bool{"": true}
	for len(keys) < 300 {
		keys[randStr(6, rng.Intn(4) == 0)] = true
	}
	for k := range keys {
		rc.Do(t, []byte("SET"), []byte(k), []byte("1"))
	}
	mismatches := 0
	for i := 0; i < 3000 && mismatches < 20; i++ {
		pat := randStr(7, true)
		if pat == "*" {
			continue // KEYS short-circuits "*"; Match("*", "") is false.
		}
		reply, ok := rc.Do(t, []byte("KEYS"), []byte(pat)).([]any)
		if !ok {
			t.Fatalf("KEYS %q: unexpected reply", pat)
		}
		var want, got []string
		for _, r := range reply {
			want = append(want, r.(string))
		}
		for k := range keys {
			if String(pat, k, false) {
				got = append(got, k)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, "\x01|") != strings.Join(got, "\x01|") {
			mismatches++
			t.Errorf("pattern %q: redis %q, Match %q", pat, want, got)
		}
	}
}

// TestTableAgainstRedis checks the case-sensitive rows of matchCases with
// KEYS on a real server (skipped unless RUSTYPOTATO_REDIS_REF is set).
func TestTableAgainstRedis(t *testing.T) {
	rc := redisref.Dial(t)
	rc.Do(t, []byte("SELECT"), []byte("9"))
	for _, c := range matchCases {
		if c.nocase || c.pat == "*" {
			continue
		}
		rc.Do(t, []byte("FLUSHDB"))
		rc.Do(t, []byte("SET"), []byte(c.str), []byte("1"))
		reply := rc.Do(t, []byte("KEYS"), []byte(c.pat)).([]any)
		if got := len(reply) == 1; got != c.want {
			t.Errorf("redis KEYS %q on key %q: match=%v, table says %v", c.pat, c.str, got, c.want)
		}
	}
	rc.Do(t, []byte("FLUSHDB"))
}
