package rnum

import (
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"testing"

	"github.com/rustypotato/rustypotato/internal/redisref"
)

// The tests in this file compare with a real redis-server 7.0 and are
// skipped unless RUSTYPOTATO_REDIS_REF is set (see redisref.Env). The values they
// check are frozen in the table tests.

func refNumberInputs(rng *rand.Rand, n int) []string {
	fixed := []string{
		"0", "-0", "1", "-1", "+1", "01", "00", "-01", " 1", "1 ", "1\x00", "\x00", "", "-", "+",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "123456789012345678901",
		"00000000000000000001", "0.1", "0.2", "10.50", "3.0e3", "5.0e3", "1.5e10", "1e400", "1e-400",
		"1e-4940", "1e-5000", "1e5000", "inf", "-inf", "+inf", "Infinity", "nan", "NaN", "0x10", "0x1p-3",
		"0x1.8", "0x", "1e", ".5", "5.", ".", "1.7976931348623157e308", "1.8e308", "4.9e-324", "2e-324",
		"1e-320", "1e308", "-1e308", "123.456", "-123.456", "1.23456789012345678", "0.000001",
		"1e-17", "5e-18", "4e-18", "1e-18", "-5e-18", "-6e-18", "99999999999999999999", "1e19", "1e20",
		"\t1", "1\n", "1e+5", "1E5", "0.30000000000000004", "3.14159265358979323846264338327950288",
	}
	out := append([]string(nil), fixed...)
	for len(out) < n {
		switch rng.Intn(4) {
		case 0:
			out = append(out, strconv.FormatFloat(float64(rng.Intn(2000001)-1000000)/math.Pow10(rng.Intn(7)), 'f', -1, 64))
		case 1:
			out = append(out, strconv.FormatFloat(math.Float64frombits(rng.Uint64()&^(1<<62)), 'g', -1, 64))
		case 2:
			out = append(out, strconv.FormatInt(rng.Int63()>>uint(rng.Intn(63)), 10))
		case 3:
			out = append(out, fmt.Sprintf("%de%d", rng.Intn(1000), rng.Intn(60)-30))
		}
	}
	return out
}

func TestIncrByFloatAgainstRedis(t *testing.T) {
	rc := redisref.Dial(t)
	rc.Do(t, []byte("SELECT"), []byte("10"))
	defer rc.Do(t, []byte("FLUSHDB"))
	rng := rand.New(rand.NewSource(11))
	ins := refNumberInputs(rng, 600)
	for i := 0; i < 3000; i++ {
		cur, incr := ins[rng.Intn(len(ins))], ins[rng.Intn(len(ins))]
		exists := i%10 != 0
		rc.Do(t, []byte("DEL"), []byte("k"))
		if exists {
			rc.Do(t, []byte("SET"), []byte("k"), []byte(cur))
		}
		want := rc.Do(t, []byte("INCRBYFLOAT"), []byte("k"), []byte(incr))
		got, err := IncrByFloat([]byte(cur), exists, []byte(incr))
		var g any = string(got)
		if err != nil {
			g = err.Error()
		}
		if e, ok := want.(error); ok {
			want = e.Error()
		}
		if g != want {
			t.Errorf("INCRBYFLOAT cur=%q (exists=%v) incr=%q: redis %q, IncrByFloat %q", cur, exists, incr, want, g)
		}
	}
}

func TestZScoreAgainstRedis(t *testing.T) {
	rc := redisref.Dial(t)
	rc.Do(t, []byte("SELECT"), []byte("10"))
	defer rc.Do(t, []byte("FLUSHDB"))
	rng := rand.New(rand.NewSource(12))
	for _, in := range refNumberInputs(rng, 1500) {
		rc.Do(t, []byte("DEL"), []byte("z"))
		want := rc.Do(t, []byte("ZADD"), []byte("z"), []byte(in), []byte("m"))
		v, ok := ParseFloat([]byte(in))
		if _, isErr := want.(error); isErr == ok {
			t.Errorf("ZADD %q: redis %v, ParseFloat ok=%v", in, want, ok)
			continue
		}
		if !ok {
			continue
		}
		score := rc.Do(t, []byte("ZSCORE"), []byte("z"), []byte("m"))
		got := string(FormatFloatResp(nil, v))
		if got == "-0" {
			// A listpack-encoded zset stores -0 as 0 (a skiplist one keeps
			// -0); that is the storage layer's business, not formatting.
			got = "0"
		}
		if got != score {
			t.Errorf("ZSCORE after ZADD %q: redis %q, FormatFloatResp %q", in, score, got)
		}
	}
}

func TestIntAgainstRedis(t *testing.T) {
	rc := redisref.Dial(t)
	rc.Do(t, []byte("SELECT"), []byte("10"))
	defer rc.Do(t, []byte("FLUSHDB"))
	rng := rand.New(rand.NewSource(13))
	for _, in := range refNumberInputs(rng, 1500) {
		rc.Do(t, []byte("SET"), []byte("n"), []byte("0"))
		want := rc.Do(t, []byte("INCRBY"), []byte("n"), []byte(in))
		v, ok := ParseInt([]byte(in))
		switch w := want.(type) {
		case error:
			if ok || w.Error() != MsgNotInteger {
				t.Errorf("INCRBY 0 %q: redis %v, ParseInt %d %v", in, w, v, ok)
			}
		case int64:
			if !ok || v != w {
				t.Errorf("INCRBY 0 %q: redis %d, ParseInt %d %v", in, w, v, ok)
			}
		}
		// The stored value is parsed by the same rules.
		rc.Do(t, []byte("SET"), []byte("n"), []byte(in))
		want = rc.Do(t, []byte("INCRBY"), []byte("n"), []byte("1"))
		sum, err := AddInt(v, 1)
		switch w := want.(type) {
		case error:
			exp := MsgNotInteger
			if ok {
				exp = err.Error()
			}
			if w.Error() != exp {
				t.Errorf("SET %q; INCRBY 1: redis %v, want %s", in, w, exp)
			}
		case int64:
			if !ok || err != nil || sum != w {
				t.Errorf("SET %q; INCRBY 1: redis %d, got %d %v %v", in, w, sum, ok, err)
			}
		}
	}
}
