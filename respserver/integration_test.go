package respserver_test

// Integration tests through go-redis v9, in RESP2 and RESP3, for every
// command of the string, key-space, connection and transaction families.
// The table cases are named by the literal command they test; when a real
// redis-server is installed the same table also runs against it, which
// proves that every expectation is Redis's own behaviour.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Expected values of the table. A plain string is a simple or bulk string,
// int64 an integer, nil a null reply; the types below cover the rest.
type (
	// rerr is an error reply, compared exactly.
	rerr string
	// between is an integer in [lo, hi] (TTLs).
	between struct{ lo, hi int64 }
	// unordered is an array compared as a set of strings.
	unordered []string
	// anyValue accepts any non-error reply.
	anyValue struct{}
	// checkFn checks the reply itself.
	checkFn func(v any, err error) error
)

// step is a command with its expected reply.
type step struct {
	cmd  string
	want any
}

// icase is one table case: setup (replies must not be errors), the
// command under test, and further steps that check its effect.
type icase struct {
	setup []string
	cmd   string
	want  any
	then  []step
}

// splitCmd splits a literal command at spaces; "" is an empty argument and
// {now+N} / {nowms+N} are Unix times N seconds from now.
func splitCmd(s string) []any {
	var out []any
	for _, f := range strings.Fields(s) {
		switch {
		case f == `""`:
			f = ""
		case strings.HasPrefix(f, "{now+") || strings.HasPrefix(f, "{now-"):
			n, _ := strconv.ParseInt(strings.Trim(f[4:], "{}+"), 10, 64)
			f = strconv.FormatInt(time.Now().Unix()+n, 10)
		case strings.HasPrefix(f, "{nowms+"):
			n, _ := strconv.ParseInt(strings.Trim(f[6:], "{}+"), 10, 64)
			f = strconv.FormatInt(time.Now().UnixMilli()+n*1000, 10)
		}
		out = append(out, f)
	}
	return out
}

// normalize turns go-redis's reply values into the table's vocabulary.
func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int:
		return int64(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// match compares a reply (v, err) with want.
func match(want any, v any, err error) error {
	if err != nil && !errors.Is(err, redis.Nil) {
		var re redis.Error
		if !errors.As(err, &re) {
			return fmt.Errorf("transport error %v", err)
		}
	}
	switch w := want.(type) {
	case checkFn:
		return w(v, err)
	case rerr:
		if err == nil || errors.Is(err, redis.Nil) || err.Error() != string(w) {
			return fmt.Errorf("got (%#v, %v), want error %q", v, err, string(w))
		}
		return nil
	case nil:
		if !errors.Is(err, redis.Nil) && !(err == nil && v == nil) {
			return fmt.Errorf("got (%#v, %v), want null", v, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("got error %v, want %#v", err, want)
	}
	v = normalize(v)
	switch w := want.(type) {
	case anyValue:
		return nil
	case between:
		n, ok := v.(int64)
		if !ok || n < w.lo || n > w.hi {
			return fmt.Errorf("got %#v, want integer in [%d, %d]", v, w.lo, w.hi)
		}
		return nil
	case unordered:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("got %#v, want array", v)
		}
		var got []string
		for _, e := range arr {
			s, _ := e.(string)
			got = append(got, s)
		}
		want := slices.Clone([]string(w))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("got %q, want (any order) %q", got, want)
		}
		return nil
	case int:
		want = int64(w)
	case []any:
		want = normalize(w)
	}
	if !reflect.DeepEqual(v, want) {
		return fmt.Errorf("got %#v, want %#v", v, want)
	}
	return nil
}

const (
	maxInt = "9223372036854775807"
	minInt = "-9223372036854775808"
)

// stringCases: GET/SET and the other string and integer commands.
var stringCases = []icase{
	{cmd: "GET nosuch", want: nil},
	{setup: []string{"SET k v"}, cmd: "GET k", want: "v"},
	{cmd: "GET", want: rerr("ERR wrong number of arguments for 'get' command")},
	{cmd: "GET a b", want: rerr("ERR wrong number of arguments for 'get' command")},
	{cmd: "SET k v", want: "OK", then: []step{{"GET k", "v"}, {"TTL k", int64(-1)}}},
	{cmd: `SET k ""`, want: "OK", then: []step{{"GET k", ""}, {"STRLEN k", int64(0)}}},
	{setup: []string{"SET k old"}, cmd: "SET k v NX", want: nil, then: []step{{"GET k", "old"}}},
	{cmd: "SET k v NX", want: "OK"},
	{cmd: "SET k v XX", want: nil, then: []step{{"EXISTS k", int64(0)}}},
	{setup: []string{"SET k old"}, cmd: "SET k v XX", want: "OK", then: []step{{"GET k", "v"}}},
	{setup: []string{"SET k old"}, cmd: "SET k v GET", want: "old", then: []step{{"GET k", "v"}}},
	{cmd: "SET k v GET", want: nil, then: []step{{"GET k", "v"}}},
	{setup: []string{"SET k old"}, cmd: "SET k v NX GET", want: "old", then: []step{{"GET k", "old"}}},
	{cmd: "SET k v EX 100", want: "OK", then: []step{{"TTL k", between{99, 100}}, {"PTTL k", between{98000, 100000}}}},
	{cmd: "SET k v PX 100000", want: "OK", then: []step{{"TTL k", between{99, 100}}}},
	{cmd: "SET k v EXAT {now+100}", want: "OK", then: []step{{"TTL k", between{98, 100}}}},
	{cmd: "SET k v PXAT {nowms+100}", want: "OK", then: []step{{"TTL k", between{98, 100}}}},
	{cmd: "SET k v ex 100 nx", want: "OK", then: []step{{"TTL k", between{99, 100}}}},
	{setup: []string{"SET k old EX 100"}, cmd: "SET k v KEEPTTL", want: "OK", then: []step{{"TTL k", between{99, 100}}, {"GET k", "v"}}},
	{setup: []string{"SET k old EX 100"}, cmd: "SET k v", want: "OK", then: []step{{"TTL k", int64(-1)}}},
	{cmd: "SET k v EX 0", want: rerr("ERR invalid expire time in 'set' command")},
	{cmd: "SET k v EX -5", want: rerr("ERR invalid expire time in 'set' command")},
	{cmd: "SET k v PX 0", want: rerr("ERR invalid expire time in 'set' command")},
	{cmd: "SET k v EX abc", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "SET k v EX " + maxInt, want: rerr("ERR invalid expire time in 'set' command")},
	{cmd: "SET k v NX XX", want: rerr("ERR syntax error")},
	{cmd: "SET k v EX 10 PX 10", want: rerr("ERR syntax error")},
	{cmd: "SET k v EX 10 KEEPTTL", want: rerr("ERR syntax error")},
	{cmd: "SET k v EX", want: rerr("ERR syntax error")},
	{cmd: "SET k v FOO", want: rerr("ERR syntax error")},
	{cmd: "SET k", want: rerr("ERR wrong number of arguments for 'set' command")},
	{cmd: "SETNX k v", want: int64(1), then: []step{{"GET k", "v"}}},
	{setup: []string{"SET k old"}, cmd: "SETNX k v", want: int64(0), then: []step{{"GET k", "old"}}},
	{cmd: "SETEX k 100 v", want: "OK", then: []step{{"TTL k", between{99, 100}}, {"GET k", "v"}}},
	{cmd: "SETEX k 0 v", want: rerr("ERR invalid expire time in 'setex' command")},
	{cmd: "SETEX k x v", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "PSETEX k 100000 v", want: "OK", then: []step{{"PTTL k", between{98000, 100000}}}},
	{cmd: "PSETEX k -1 v", want: rerr("ERR invalid expire time in 'psetex' command")},
	{setup: []string{"SET k old EX 100"}, cmd: "GETSET k v", want: "old", then: []step{{"GET k", "v"}, {"TTL k", int64(-1)}}},
	{cmd: "GETSET k v", want: nil, then: []step{{"GET k", "v"}}},
	{setup: []string{"SET k v"}, cmd: "GETDEL k", want: "v", then: []step{{"EXISTS k", int64(0)}}},
	{cmd: "GETDEL k", want: nil},
	{setup: []string{"SET k v"}, cmd: "GETEX k", want: "v", then: []step{{"TTL k", int64(-1)}}},
	{setup: []string{"SET k v"}, cmd: "GETEX k EX 100", want: "v", then: []step{{"TTL k", between{99, 100}}}},
	{setup: []string{"SET k v"}, cmd: "GETEX k PX 100000", want: "v", then: []step{{"TTL k", between{99, 100}}}},
	{setup: []string{"SET k v"}, cmd: "GETEX k EXAT {now+100}", want: "v", then: []step{{"TTL k", between{98, 100}}}},
	{setup: []string{"SET k v EX 100"}, cmd: "GETEX k PERSIST", want: "v", then: []step{{"TTL k", int64(-1)}}},
	{setup: []string{"SET k v"}, cmd: "GETEX k EX 0", want: rerr("ERR invalid expire time in 'getex' command")},
	{setup: []string{"SET k v"}, cmd: "GETEX k EX 10 PERSIST", want: rerr("ERR syntax error")},
	{setup: []string{"SET k v"}, cmd: "GETEX k FOO", want: rerr("ERR syntax error")},
	{cmd: "GETEX k EX 100", want: nil},
	{setup: []string{"SET a 1", "SET c 3"}, cmd: "MGET a b c", want: []any{"1", nil, "3"}},
	{cmd: "MGET", want: rerr("ERR wrong number of arguments for 'mget' command")},
	{cmd: "MSET a 1 b 2", want: "OK", then: []step{{"MGET a b", []any{"1", "2"}}}},
	{cmd: "MSET a 1 b", want: rerr("ERR wrong number of arguments for 'mset' command")},
	{cmd: "MSET a", want: rerr("ERR wrong number of arguments for 'mset' command")},
	{cmd: "MSET a 1 a 2", want: "OK", then: []step{{"GET a", "2"}}},
	{cmd: "MSETNX a 1 b 2", want: int64(1), then: []step{{"MGET a b", []any{"1", "2"}}}},
	{setup: []string{"SET b old"}, cmd: "MSETNX a 1 b 2", want: int64(0), then: []step{{"MGET a b", []any{nil, "old"}}}},
	{cmd: "MSETNX a 1 b", want: rerr("ERR wrong number of arguments for 'msetnx' command")},
	{cmd: "APPEND k abc", want: int64(3), then: []step{{"APPEND k def", int64(6)}, {"GET k", "abcdef"}}},
	{setup: []string{"SET k v EX 100"}, cmd: "APPEND k w", want: int64(2), then: []step{{"TTL k", between{99, 100}}}},
	{setup: []string{"SET k hello"}, cmd: "STRLEN k", want: int64(5)},
	{cmd: "STRLEN k", want: int64(0)},
	{setup: []string{"SET k 12345"}, cmd: "STRLEN k", want: int64(5)},
	{setup: []string{"SET k Hello"}, cmd: "GETRANGE k 0 -1", want: "Hello"},
	{setup: []string{"SET k Hello"}, cmd: "GETRANGE k -3 -1", want: "llo"},
	{setup: []string{"SET k Hello"}, cmd: "GETRANGE k 3 1", want: ""},
	{setup: []string{"SET k Hello"}, cmd: "GETRANGE k 1 100", want: "ello"},
	{setup: []string{"SET k Hello"}, cmd: "GETRANGE k -100 1", want: "He"},
	{cmd: "GETRANGE k 0 -1", want: ""},
	{cmd: "GETRANGE k a 1", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET k Hello"}, cmd: "SUBSTR k 1 2", want: "el"},
	{setup: []string{"SET k Hello"}, cmd: "SETRANGE k 6 World", want: int64(11), then: []step{{"GET k", "Hello\x00World"}}},
	{setup: []string{"SET k Hello"}, cmd: "SETRANGE k 1 a", want: int64(5), then: []step{{"GET k", "Hallo"}}},
	{cmd: `SETRANGE k 5 ""`, want: int64(0), then: []step{{"EXISTS k", int64(0)}}},
	{cmd: "SETRANGE k -1 x", want: rerr("ERR offset is out of range")},
	{cmd: "SETRANGE k 536870911 xx", want: rerr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
	{cmd: "SETRANGE k x x", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "INCR n", want: int64(1), then: []step{{"INCR n", int64(2)}, {"GET n", "2"}}},
	{setup: []string{"SET n 10 EX 100"}, cmd: "INCR n", want: int64(11), then: []step{{"TTL n", between{99, 100}}}},
	{setup: []string{"SET n abc"}, cmd: "INCR n", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET n 1.5"}, cmd: "INCR n", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET n 01"}, cmd: "INCR n", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET n ' 1'"}, cmd: "INCR n", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET n " + maxInt}, cmd: "INCR n", want: rerr("ERR increment or decrement would overflow")},
	{setup: []string{"SET n " + minInt}, cmd: "DECR n", want: rerr("ERR increment or decrement would overflow")},
	{setup: []string{"SET n 9223372036854775808"}, cmd: "INCR n", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "DECR n", want: int64(-1)},
	{cmd: "INCRBY n 10", want: int64(10)},
	{cmd: "INCRBY n -10", want: int64(-10)},
	{cmd: "INCRBY n " + maxInt, want: int64(9223372036854775807)},
	{setup: []string{"SET n 1"}, cmd: "INCRBY n " + maxInt, want: rerr("ERR increment or decrement would overflow")},
	{cmd: "INCRBY n abc", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "INCRBY n 1.0", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "DECRBY n 5", want: int64(-5)},
	{cmd: "DECRBY n " + minInt, want: rerr("ERR decrement would overflow")},
	{setup: []string{"SET n -2"}, cmd: "DECRBY n " + maxInt, want: rerr("ERR increment or decrement would overflow")},
	{cmd: "INCRBYFLOAT f 10.5", want: "10.5", then: []step{{"INCRBYFLOAT f 0.1", "10.6"}}},
	{setup: []string{"SET f 5.0e3"}, cmd: "INCRBYFLOAT f 2.0e2", want: "5200"},
	{setup: []string{"SET f 10"}, cmd: "INCRBYFLOAT f -5", want: "5"},
	{setup: []string{"SET f 3"}, cmd: "INCRBYFLOAT f 1.5e-3", want: "3.0015"},
	{cmd: "INCRBYFLOAT f abc", want: rerr("ERR value is not a valid float")},
	{setup: []string{"SET f abc"}, cmd: "INCRBYFLOAT f 1", want: rerr("ERR value is not a valid float")},
	{cmd: "INCRBYFLOAT f inf", want: rerr("ERR increment would produce NaN or Infinity")},
	{cmd: "INCRBYFLOAT f nan", want: rerr("ERR value is not a valid float")},
	{setup: []string{"SET f 1e308"}, cmd: "INCRBYFLOAT f -1e308", want: "0"},
}

// keyCases: the key-space commands.
var keyCases = []icase{
	{setup: []string{"MSET a 1 b 2"}, cmd: "DEL a b c", want: int64(2), then: []step{{"EXISTS a b", int64(0)}}},
	{setup: []string{"SET a 1"}, cmd: "DEL a a", want: int64(1)},
	{cmd: "DEL", want: rerr("ERR wrong number of arguments for 'del' command")},
	{setup: []string{"MSET a 1 b 2"}, cmd: "UNLINK a b c", want: int64(2)},
	{setup: []string{"SET a 1"}, cmd: "EXISTS a a b", want: int64(2)},
	{setup: []string{"SET a 1"}, cmd: "TOUCH a b", want: int64(1)},
	{setup: []string{"SET a 1"}, cmd: "TYPE a", want: "string"},
	{cmd: "TYPE a", want: "none"},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100", want: int64(1), then: []step{{"TTL k", between{99, 100}}}},
	{cmd: "EXPIRE k 100", want: int64(0)},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 NX", want: int64(1)},
	{setup: []string{"SET k v EX 50"}, cmd: "EXPIRE k 100 NX", want: int64(0), then: []step{{"TTL k", between{49, 50}}}},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 XX", want: int64(0), then: []step{{"TTL k", int64(-1)}}},
	{setup: []string{"SET k v EX 50"}, cmd: "EXPIRE k 100 XX", want: int64(1)},
	{setup: []string{"SET k v EX 50"}, cmd: "EXPIRE k 100 GT", want: int64(1), then: []step{{"TTL k", between{99, 100}}}},
	{setup: []string{"SET k v EX 500"}, cmd: "EXPIRE k 100 GT", want: int64(0)},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 GT", want: int64(0)},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 LT", want: int64(1)},
	{setup: []string{"SET k v EX 500"}, cmd: "EXPIRE k 100 LT", want: int64(1)},
	{setup: []string{"SET k v EX 50"}, cmd: "EXPIRE k 100 LT", want: int64(0)},
	{setup: []string{"SET k v EX 50"}, cmd: "EXPIRE k 100 XX GT", want: int64(1)},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 NX XX", want: rerr("ERR NX and XX, GT or LT options at the same time are not compatible")},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 GT LT", want: rerr("ERR GT and LT options at the same time are not compatible")},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 100 FOO", want: rerr("ERR Unsupported option FOO")},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k abc", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k " + maxInt, want: rerr("ERR invalid expire time in 'expire' command")},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k -1", want: int64(1), then: []step{{"EXISTS k", int64(0)}}},
	{setup: []string{"SET k v"}, cmd: "EXPIRE k 0", want: int64(1), then: []step{{"GET k", nil}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIRE k 100000", want: int64(1), then: []step{{"PTTL k", between{98000, 100000}}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIRE k " + maxInt, want: rerr("ERR invalid expire time in 'pexpire' command")},
	{setup: []string{"SET k v"}, cmd: "EXPIREAT k {now+100}", want: int64(1), then: []step{{"TTL k", between{98, 100}}}},
	{setup: []string{"SET k v"}, cmd: "EXPIREAT k 1", want: int64(1), then: []step{{"EXISTS k", int64(0)}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIREAT k {nowms+100}", want: int64(1), then: []step{{"TTL k", between{98, 100}}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIREAT k 2000000000000", want: int64(1), then: []step{{"PEXPIRETIME k", int64(2000000000000)}, {"EXPIRETIME k", int64(2000000000)}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIREAT k 1999999999500", want: int64(1), then: []step{{"EXPIRETIME k", int64(2000000000)}}},
	{setup: []string{"SET k v"}, cmd: "PEXPIREAT k 1999999999499", want: int64(1), then: []step{{"EXPIRETIME k", int64(1999999999)}}},
	{cmd: "TTL k", want: int64(-2)},
	{setup: []string{"SET k v"}, cmd: "TTL k", want: int64(-1)},
	{cmd: "PTTL k", want: int64(-2)},
	{setup: []string{"SET k v"}, cmd: "PTTL k", want: int64(-1)},
	{cmd: "EXPIRETIME k", want: int64(-2)},
	{setup: []string{"SET k v"}, cmd: "EXPIRETIME k", want: int64(-1)},
	{setup: []string{"SET k v"}, cmd: "PEXPIRETIME k", want: int64(-1)},
	{setup: []string{"SET k v EX 100"}, cmd: "PERSIST k", want: int64(1), then: []step{{"TTL k", int64(-1)}}},
	{setup: []string{"SET k v"}, cmd: "PERSIST k", want: int64(0)},
	{cmd: "PERSIST k", want: int64(0)},
	{setup: []string{"SET a 1 EX 100"}, cmd: "RENAME a b", want: "OK", then: []step{{"GET b", "1"}, {"EXISTS a", int64(0)}, {"TTL b", between{99, 100}}}},
	{setup: []string{"SET a 1"}, cmd: "RENAME a a", want: "OK", then: []step{{"GET a", "1"}}},
	{cmd: "RENAME a b", want: rerr("ERR no such key")},
	{setup: []string{"MSET a 1 b 2"}, cmd: "RENAMENX a b", want: int64(0), then: []step{{"MGET a b", []any{"1", "2"}}}},
	{setup: []string{"SET a 1"}, cmd: "RENAMENX a b", want: int64(1), then: []step{{"MGET a b", []any{nil, "1"}}}},
	{cmd: "RENAMENX a b", want: rerr("ERR no such key")},
	{setup: []string{"SET a 1 EX 100"}, cmd: "COPY a b", want: int64(1), then: []step{{"MGET a b", []any{"1", "1"}}, {"TTL b", between{99, 100}}}},
	{setup: []string{"MSET a 1 b 2"}, cmd: "COPY a b", want: int64(0), then: []step{{"GET b", "2"}}},
	{setup: []string{"MSET a 1 b 2"}, cmd: "COPY a b REPLACE", want: int64(1), then: []step{{"GET b", "1"}}},
	{setup: []string{"SET a 1"}, cmd: "COPY a b DB 1", want: int64(1), then: []step{{"EXISTS b", int64(0)}, {"SELECT 1", "OK"}, {"GET b", "1"}}},
	{setup: []string{"SET a 1"}, cmd: "COPY a a", want: rerr("ERR source and destination objects are the same")},
	{setup: []string{"SET a 1"}, cmd: "COPY a a DB 1", want: int64(1)},
	{cmd: "COPY a b", want: int64(0)},
	{setup: []string{"SET a 1"}, cmd: "COPY a b DB 16", want: rerr("ERR DB index is out of range")},
	{setup: []string{"SET a 1"}, cmd: "COPY a b DB x", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"SET a 1"}, cmd: "COPY a b FOO", want: rerr("ERR syntax error")},
	{setup: []string{"SET a 1"}, cmd: "COPY a b DB", want: rerr("ERR syntax error")},
	{setup: []string{"SET a 1"}, cmd: "MOVE a 1", want: int64(1), then: []step{{"EXISTS a", int64(0)}, {"SELECT 1", "OK"}, {"GET a", "1"}}},
	{setup: []string{"SET a 1", "SELECT 1", "SET a 2", "SELECT 0"}, cmd: "MOVE a 1", want: int64(0), then: []step{{"GET a", "1"}}},
	{cmd: "MOVE a 1", want: int64(0)},
	{setup: []string{"SET a 1"}, cmd: "MOVE a 0", want: rerr("ERR source and destination objects are the same")},
	{setup: []string{"SET a 1"}, cmd: "MOVE a 16", want: rerr("ERR DB index is out of range")},
	{setup: []string{"SET a 1"}, cmd: "MOVE a x", want: rerr("ERR value is not an integer or out of range")},
	{setup: []string{"MSET one 1 two 2 three 3 four 4"}, cmd: "KEYS *o*", want: unordered{"one", "two", "four"}},
	{setup: []string{"MSET one 1 two 2 three 3 four 4"}, cmd: "KEYS t??", want: unordered{"two"}},
	{setup: []string{"MSET one 1 two 2 three 3 four 4"}, cmd: "KEYS *", want: unordered{"one", "two", "three", "four"}},
	{setup: []string{"MSET h1 1 ha 2 hb 3"}, cmd: "KEYS h[a-b]", want: unordered{"ha", "hb"}},
	{cmd: "KEYS *", want: unordered{}},
	{setup: []string{"MSET a 1 b 2 c 3"}, cmd: "SCAN 0 COUNT 100", want: checkFn(func(v any, err error) error {
		arr, _ := v.([]any)
		if len(arr) != 2 || arr[0] != "0" {
			return fmt.Errorf("got %#v, want [0 [keys]]", v)
		}
		return match(unordered{"a", "b", "c"}, arr[1], nil)
	})},
	{setup: []string{"MSET a1 1 a2 2 b 3"}, cmd: "SCAN 0 MATCH a* COUNT 1000", want: checkFn(func(v any, err error) error {
		arr, _ := v.([]any)
		if len(arr) != 2 || arr[0] != "0" {
			return fmt.Errorf("got %#v", v)
		}
		return match(unordered{"a1", "a2"}, arr[1], nil)
	})},
	{setup: []string{"MSET a1 1 a2 2 b 3"}, cmd: "SCAN 0 TYPE list COUNT 1000", want: []any{"0", []any{}}},
	{setup: []string{"MSET a1 1 a2 2 b 3"}, cmd: "SCAN 0 TYPE string COUNT 1000", want: checkFn(func(v any, err error) error {
		arr, _ := v.([]any)
		if len(arr) != 2 || arr[0] != "0" {
			return fmt.Errorf("got %#v", v)
		}
		return match(unordered{"a1", "a2", "b"}, arr[1], nil)
	})},
	{cmd: "SCAN 0", want: []any{"0", []any{}}},
	{cmd: "SCAN abc", want: rerr("ERR invalid cursor")},
	{cmd: "SCAN -1", want: []any{"0", []any{}}},
	{cmd: "SCAN +0", want: []any{"0", []any{}}},
	{cmd: `SCAN ""`, want: []any{"0", []any{}}},
	{cmd: "SCAN 18446744073709551616", want: rerr("ERR invalid cursor")},
	{cmd: "SCAN 1.5", want: rerr("ERR invalid cursor")},
	{cmd: "SCAN 0 COUNT 0", want: rerr("ERR syntax error")},
	{cmd: "SCAN 0 COUNT x", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "SCAN 0 MATCH", want: rerr("ERR syntax error")},
	{cmd: "SCAN 0 FOO bar", want: rerr("ERR syntax error")},
	{cmd: "RANDOMKEY", want: nil},
	{setup: []string{"SET only 1"}, cmd: "RANDOMKEY", want: "only"},
	{setup: []string{"MSET a 1 b 2 c 3"}, cmd: "RANDOMKEY", want: checkFn(func(v any, err error) error {
		if err != nil || (v != "a" && v != "b" && v != "c") {
			return fmt.Errorf("got (%#v, %v), want one of a, b, c", v, err)
		}
		return nil
	})},
	{setup: []string{"MSET a 1 b 2 c 3"}, cmd: "DBSIZE", want: int64(3)},
	{cmd: "DBSIZE", want: int64(0)},
	{cmd: "DBSIZE x", want: rerr("ERR wrong number of arguments for 'dbsize' command")},
	{setup: []string{"MSET a 1 b 2", "SELECT 1", "SET c 3", "SELECT 0"}, cmd: "FLUSHDB", want: "OK", then: []step{{"DBSIZE", int64(0)}, {"SELECT 1", "OK"}, {"DBSIZE", int64(1)}}},
	{setup: []string{"MSET a 1 b 2"}, cmd: "FLUSHDB ASYNC", want: "OK", then: []step{{"DBSIZE", int64(0)}}},
	{setup: []string{"MSET a 1 b 2"}, cmd: "FLUSHDB SYNC", want: "OK", then: []step{{"DBSIZE", int64(0)}}},
	{cmd: "FLUSHDB FOO", want: rerr("ERR syntax error")},
	{setup: []string{"MSET a 1 b 2", "SELECT 1", "SET c 3", "SELECT 0"}, cmd: "FLUSHALL", want: "OK", then: []step{{"DBSIZE", int64(0)}, {"SELECT 1", "OK"}, {"DBSIZE", int64(0)}}},
	{cmd: "FLUSHALL FOO", want: rerr("ERR syntax error")},
	{setup: []string{"SET a 0", "SELECT 1", "SET a 1", "SELECT 0"}, cmd: "SWAPDB 0 1", want: "OK", then: []step{{"GET a", "1"}, {"SELECT 1", "OK"}, {"GET a", "0"}}},
	{cmd: "SWAPDB 0 16", want: rerr("ERR DB index is out of range")},
	{cmd: "SWAPDB x 1", want: rerr("ERR invalid first DB index")},
	{cmd: "SWAPDB 1 x", want: rerr("ERR invalid second DB index")},
	{cmd: "SWAPDB 3 3", want: "OK"},
	{cmd: "SELECT 1", want: "OK", then: []step{{"SET a 1", "OK"}, {"SELECT 0", "OK"}, {"GET a", nil}}},
	{cmd: "SELECT 15", want: "OK"},
	{cmd: "SELECT 16", want: rerr("ERR DB index is out of range")},
	{cmd: "SELECT -1", want: rerr("ERR DB index is out of range")},
	{cmd: "SELECT abc", want: rerr("ERR value is not an integer or out of range")},
	{cmd: "SELECT", want: rerr("ERR wrong number of arguments for 'select' command")},
}

// connCases: the connection commands (QUIT and AUTH have their own tests).
var connCases = []icase{
	{cmd: "PING", want: "PONG"},
	{cmd: "PING hello", want: "hello"},
	{cmd: "PING a b", want: rerr("ERR wrong number of arguments for 'ping' command")},
	{cmd: "ECHO hi", want: "hi"},
	{cmd: "ECHO", want: rerr("ERR wrong number of arguments for 'echo' command")},
	{cmd: "AUTH pass", want: rerr("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")},
	{cmd: "AUTH default anything", want: "OK"},
	{cmd: "AUTH someone pass", want: rerr("WRONGPASS invalid username-password pair or user is disabled.")},
	{cmd: "AUTH a b c", want: rerr("ERR syntax error")},
	{cmd: "HELLO 4", want: rerr("NOPROTO unsupported protocol version")},
	{cmd: "HELLO x", want: rerr("ERR Protocol version is not an integer or out of range")},
	{cmd: "HELLO 3 FOO", want: rerr("ERR Syntax error in HELLO option 'FOO'")},
	{cmd: "HELLO 3 AUTH default", want: rerr("ERR Syntax error in HELLO option 'AUTH'")},
	{setup: []string{"SELECT 2", "MULTI"}, cmd: "RESET", want: "RESET", then: []step{{"SET a 1", "OK"}, {"SELECT 2", "OK"}, {"EXISTS a", int64(0)}}},
	{cmd: "FOO", want: rerr("ERR unknown command 'FOO', with args beginning with: ")},
	{cmd: "FOO bar baz", want: rerr("ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ")},
	{cmd: "foo bar", want: rerr("ERR unknown command 'foo', with args beginning with: 'bar' ")},
	{cmd: "MULTI", want: "OK", then: []step{{"SET a 1", "QUEUED"}, {"INCR a", "QUEUED"}, {"GET a", "QUEUED"}, {"EXEC", []any{"OK", int64(2), "2"}}}},
	{cmd: "MULTI", want: "OK", then: []step{{"SET a 1", "QUEUED"}, {"DISCARD", "OK"}, {"EXISTS a", int64(0)}}},
	{cmd: "MULTI", want: "OK", then: []step{{"MULTI", rerr("ERR MULTI calls can not be nested")}, {"EXEC", []any{}}}},
	{cmd: "MULTI", want: "OK", then: []step{{"SET a", rerr("ERR wrong number of arguments for 'set' command")}, {"SET b 1", "QUEUED"},
		{"EXEC", rerr("EXECABORT Transaction discarded because of previous errors.")}, {"EXISTS b", int64(0)}}},
	{cmd: "MULTI", want: "OK", then: []step{{"NOSUCH x", rerr("ERR unknown command 'NOSUCH', with args beginning with: 'x' ")},
		{"EXEC", rerr("EXECABORT Transaction discarded because of previous errors.")}}},
	{cmd: "MULTI", want: "OK", then: []step{{"SET a abc", "QUEUED"}, {"INCR a", "QUEUED"}, {"SET b 1", "QUEUED"},
		{"EXEC", []any{"OK", rerrValue("ERR value is not an integer or out of range"), "OK"}}, {"GET b", "1"}}},
	{cmd: "MULTI", want: "OK", then: []step{{"SELECT 1", "QUEUED"}, {"SET a 1", "QUEUED"}, {"EXEC", []any{"OK", "OK"}},
		{"GET a", "1"}, {"SELECT 0", "OK"}, {"GET a", nil}}},
	{cmd: "EXEC", want: rerr("ERR EXEC without MULTI")},
	{cmd: "DISCARD", want: rerr("ERR DISCARD without MULTI")},
}

// rerrValue is an error inside an array, as go-redis returns it.
func rerrValue(s string) any { return redisErrValue(s) }

type redisErrValue string

// runCases runs a table on one connection of rdb.
func runCases(t *testing.T, rdb *redis.Client, proto int, cases []icase) {
	ctx := context.Background()
	conn := rdb.Conn()
	defer conn.Close()
	do := func(cmd string) (any, error) { return conn.Do(ctx, splitCmd(cmd)...).Result() }
	for _, tc := range cases {
		t.Run(tc.cmd, func(t *testing.T) {
			for _, s := range []string{"RESET", "HELLO " + strconv.Itoa(proto), "FLUSHALL"} {
				if _, err := do(s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			for _, s := range tc.setup {
				if strings.Contains(s, "' 1'") {
					// A value with a space, which splitCmd cannot write.
					if err := conn.Set(ctx, strings.Fields(s)[1], " 1", 0).Err(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if _, err := do(s); err != nil && !errors.Is(err, redis.Nil) {
					t.Fatalf("setup %q: %v", s, err)
				}
			}
			v, err := do(tc.cmd)
			if e := matchTx(tc.want, v, err); e != nil {
				t.Fatalf("%s: %v", tc.cmd, e)
			}
			for _, s := range tc.then {
				v, err := do(s.cmd)
				if e := matchTx(s.want, v, err); e != nil {
					t.Fatalf("then %s: %v", s.cmd, e)
				}
			}
		})
	}
	if _, err := do("RESET"); err != nil {
		t.Fatal(err)
	}
}

// matchTx is match, with errors inside arrays (EXEC) compared by text.
func matchTx(want, v any, err error) error {
	if w, ok := want.([]any); ok && err == nil {
		arr, ok := v.([]any)
		if !ok || len(arr) != len(w) {
			return fmt.Errorf("got %#v, want %#v", v, want)
		}
		for i := range w {
			if we, ok := w[i].(redisErrValue); ok {
				ge, ok := arr[i].(error)
				if !ok || ge.Error() != string(we) {
					return fmt.Errorf("element %d: got %#v, want error %q", i, arr[i], string(we))
				}
				continue
			}
			if e := match(w[i], arr[i], nil); e != nil {
				if arr[i] == nil && w[i] == nil {
					continue
				}
				return fmt.Errorf("element %d: %v", i, e)
			}
		}
		return nil
	}
	return match(want, v, err)
}

// allCases is every table.
func allCases() map[string][]icase {
	return map[string][]icase{"strings": stringCases, "keys": keyCases, "conn": connCases}
}

func TestCommands(t *testing.T) {
	ts := newTestServer(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			for name, cases := range allCases() {
				t.Run(name, func(t *testing.T) { runCases(t, rdb, proto, cases) })
			}
		})
	}
}

// TestCommandsAgainstRedis runs the same tables against a real
// redis-server, which checks the expectations themselves.
func TestCommandsAgainstRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("reference check of the tables; skipped with -short")
	}
	addr := startRedisServer(t)
	ts := &testServer{Addr: addr}
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			for name, cases := range allCases() {
				t.Run(name, func(t *testing.T) { runCases(t, rdb, proto, cases) })
			}
		})
	}
}

// TestTypedAPI drives the commands through go-redis's typed methods, which
// parse each reply as a real application would.
func TestTypedAPI(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(rdb.FlushAll(ctx).Err())
			must(rdb.Set(ctx, "s", "hello", 0).Err())
			if v, err := rdb.Get(ctx, "s").Result(); err != nil || v != "hello" {
				t.Fatalf("GET s = %q, %v", v, err)
			}
			if _, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: err = %v, want redis.Nil", err)
			}
			must(rdb.Set(ctx, "e", "v", 100*time.Second).Err())
			if d, err := rdb.TTL(ctx, "e").Result(); err != nil || d < 99*time.Second || d > 100*time.Second {
				t.Fatalf("TTL e = %v, %v", d, err)
			}
			if d, err := rdb.PTTL(ctx, "e").Result(); err != nil || d < 98*time.Second || d > 100*time.Second {
				t.Fatalf("PTTL e = %v, %v", d, err)
			}
			if d, err := rdb.TTL(ctx, "s").Result(); err != nil || d != -1 {
				t.Fatalf("TTL s = %v, %v", d, err)
			}
			if d, err := rdb.TTL(ctx, "missing").Result(); err != nil || d != -2 {
				t.Fatalf("TTL missing = %v, %v", d, err)
			}
			if ok, err := rdb.SetNX(ctx, "s", "x", 0).Result(); err != nil || ok {
				t.Fatalf("SETNX s = %v, %v", ok, err)
			}
			if ok, err := rdb.SetXX(ctx, "s", "x", 0).Result(); err != nil || !ok {
				t.Fatalf("SET s x XX = %v, %v", ok, err)
			}
			if v, err := rdb.SetArgs(ctx, "s", "y", redis.SetArgs{Get: true, KeepTTL: true}).Result(); err != nil || v != "x" {
				t.Fatalf("SET s y GET KEEPTTL = %q, %v", v, err)
			}
			if v, err := rdb.GetEx(ctx, "s", 50*time.Second).Result(); err != nil || v != "y" {
				t.Fatalf("GETEX s EX 50 = %q, %v", v, err)
			}
			if v, err := rdb.GetDel(ctx, "s").Result(); err != nil || v != "y" {
				t.Fatalf("GETDEL s = %q, %v", v, err)
			}
			must(rdb.MSet(ctx, "a", "1", "b", "2").Err())
			if vs, err := rdb.MGet(ctx, "a", "nope", "b").Result(); err != nil || !reflect.DeepEqual(vs, []any{"1", nil, "2"}) {
				t.Fatalf("MGET = %#v, %v", vs, err)
			}
			if ok, err := rdb.MSetNX(ctx, "a", "9", "c", "3").Result(); err != nil || ok {
				t.Fatalf("MSETNX = %v, %v", ok, err)
			}
			if n, err := rdb.Incr(ctx, "a").Result(); err != nil || n != 2 {
				t.Fatalf("INCR a = %d, %v", n, err)
			}
			if n, err := rdb.DecrBy(ctx, "a", 5).Result(); err != nil || n != -3 {
				t.Fatalf("DECRBY a 5 = %d, %v", n, err)
			}
			if f, err := rdb.IncrByFloat(ctx, "a", 0.5).Result(); err != nil || f != -2.5 {
				t.Fatalf("INCRBYFLOAT a 0.5 = %v, %v", f, err)
			}
			if _, err := rdb.Incr(ctx, "a").Result(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("INCR of -2.5: err = %v", err)
			}
			if n, err := rdb.Append(ctx, "ap", "abc").Result(); err != nil || n != 3 {
				t.Fatalf("APPEND = %d, %v", n, err)
			}
			if n, err := rdb.SetRange(ctx, "ap", 1, "XY").Result(); err != nil || n != 3 {
				t.Fatalf("SETRANGE = %d, %v", n, err)
			}
			if v, err := rdb.GetRange(ctx, "ap", 0, -1).Result(); err != nil || v != "aXY" {
				t.Fatalf("GETRANGE = %q, %v", v, err)
			}
			if n, err := rdb.StrLen(ctx, "ap").Result(); err != nil || n != 3 {
				t.Fatalf("STRLEN = %d, %v", n, err)
			}
			if ok, err := rdb.ExpireNX(ctx, "ap", 100*time.Second).Result(); err != nil || !ok {
				t.Fatalf("EXPIRE NX = %v, %v", ok, err)
			}
			if ok, err := rdb.ExpireGT(ctx, "ap", 50*time.Second).Result(); err != nil || ok {
				t.Fatalf("EXPIRE GT = %v, %v", ok, err)
			}
			if ok, err := rdb.ExpireLT(ctx, "ap", 50*time.Second).Result(); err != nil || !ok {
				t.Fatalf("EXPIRE LT = %v, %v", ok, err)
			}
			if ok, err := rdb.ExpireXX(ctx, "nope", 50*time.Second).Result(); err != nil || ok {
				t.Fatalf("EXPIRE XX = %v, %v", ok, err)
			}
			if tm, err := rdb.ExpireTime(ctx, "ap").Result(); err != nil || tm < time.Duration(time.Now().Unix()+48)*time.Second {
				t.Fatalf("EXPIRETIME = %v, %v", tm, err)
			}
			if ok, err := rdb.Persist(ctx, "ap").Result(); err != nil || !ok {
				t.Fatalf("PERSIST = %v, %v", ok, err)
			}
			if typ, err := rdb.Type(ctx, "ap").Result(); err != nil || typ != "string" {
				t.Fatalf("TYPE = %q, %v", typ, err)
			}
			if n, err := rdb.Exists(ctx, "a", "b", "zz").Result(); err != nil || n != 2 {
				t.Fatalf("EXISTS = %d, %v", n, err)
			}
			must(rdb.Rename(ctx, "b", "b2").Err())
			if ok, err := rdb.RenameNX(ctx, "b2", "a").Result(); err != nil || ok {
				t.Fatalf("RENAMENX = %v, %v", ok, err)
			}
			if err := rdb.Rename(ctx, "zz", "yy").Err(); err == nil || err.Error() != "ERR no such key" {
				t.Fatalf("RENAME missing: %v", err)
			}
			if n, err := rdb.Copy(ctx, "b2", "b3", 1, false).Result(); err != nil || n != 1 {
				t.Fatalf("COPY DB 1 = %d, %v", n, err)
			}
			if ok, err := rdb.Move(ctx, "b2", 2).Result(); err != nil || !ok {
				t.Fatalf("MOVE = %v, %v", ok, err)
			}
			keys, err := rdb.Keys(ctx, "*").Result()
			must(err)
			slices.Sort(keys)
			if want := []string{"a", "ap", "e"}; !slices.Equal(keys, want) {
				t.Fatalf("KEYS * = %q, want %q", keys, want)
			}
			var scanned []string
			iter := rdb.Scan(ctx, 0, "*", 1).Iterator()
			for iter.Next(ctx) {
				scanned = append(scanned, iter.Val())
			}
			must(iter.Err())
			slices.Sort(scanned)
			if !slices.Equal(scanned, keys) {
				t.Fatalf("SCAN iteration = %q, want %q", scanned, keys)
			}
			if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 3 {
				t.Fatalf("DBSIZE = %d, %v", n, err)
			}
			if k, err := rdb.RandomKey(ctx).Result(); err != nil || !slices.Contains(keys, k) {
				t.Fatalf("RANDOMKEY = %q, %v", k, err)
			}
			if n, err := rdb.Del(ctx, "a", "e", "zz").Result(); err != nil || n != 2 {
				t.Fatalf("DEL = %d, %v", n, err)
			}
			if n, err := rdb.Unlink(ctx, "ap").Result(); err != nil || n != 1 {
				t.Fatalf("UNLINK = %d, %v", n, err)
			}
			if v, err := rdb.Echo(ctx, "hey").Result(); err != nil || v != "hey" {
				t.Fatalf("ECHO = %v, %v", v, err)
			}
			if v, err := rdb.Ping(ctx).Result(); err != nil || v != "PONG" {
				t.Fatalf("PING = %v, %v", v, err)
			}
			// Transactions through go-redis's MULTI/EXEC pipeline.
			var incr *redis.IntCmd
			cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "t", "1", 0)
				incr = p.Incr(ctx, "t")
				p.Get(ctx, "t")
				return nil
			})
			must(err)
			if len(cmds) != 3 || incr.Val() != 2 || cmds[2].(*redis.StringCmd).Val() != "2" {
				t.Fatalf("TxPipelined: %v", cmds)
			}
			_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "t", "x", 0)
				p.Incr(ctx, "t")
				return nil
			})
			if err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("TxPipelined with a failing INCR: err = %v", err)
			}
			// SELECT and SWAPDB on one connection.
			conn := rdb.Conn()
			defer conn.Close()
			must(conn.Select(ctx, 3).Err())
			must(conn.Set(ctx, "db3", "x", 0).Err())
			must(conn.SwapDB(ctx, 3, 4).Err())
			if n, err := conn.Exists(ctx, "db3").Result(); err != nil || n != 0 {
				t.Fatalf("EXISTS after SWAPDB = %d, %v", n, err)
			}
			must(conn.Select(ctx, 4).Err())
			if v, err := conn.Get(ctx, "db3").Result(); err != nil || v != "x" {
				t.Fatalf("GET in swapped db = %q, %v", v, err)
			}
			must(conn.FlushDB(ctx).Err())
			must(rdb.FlushAll(ctx).Err())
		})
	}
}

// TestPipeline100 sends 100 commands in one go-redis pipeline, in both
// protocols, and checks every reply in order.
func TestPipeline100(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			p := rdb.Pipeline()
			var cmds []redis.Cmder
			for i := 0; i < 25; i++ {
				k := "p" + strconv.Itoa(i)
				cmds = append(cmds,
					p.Set(ctx, k, strconv.Itoa(i), 0),
					p.IncrBy(ctx, k, 10),
					p.Get(ctx, k),
					p.Do(ctx, "NOSUCHCMD", k)) // errors in a pipeline do not stop it
			}
			if len(cmds) != 100 {
				t.Fatalf("%d commands", len(cmds))
			}
			_, err := p.Exec(ctx)
			if err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'NOSUCHCMD'") {
				t.Fatalf("Exec: err = %v, want the first command error", err)
			}
			for i := 0; i < 25; i++ {
				k := "p" + strconv.Itoa(i)
				if v, err := cmds[4*i].(*redis.StatusCmd).Result(); err != nil || v != "OK" {
					t.Fatalf("SET %s = %q, %v", k, v, err)
				}
				if v, err := cmds[4*i+1].(*redis.IntCmd).Result(); err != nil || v != int64(i+10) {
					t.Fatalf("INCRBY %s = %d, %v", k, v, err)
				}
				if v, err := cmds[4*i+2].(*redis.StringCmd).Result(); err != nil || v != strconv.Itoa(i+10) {
					t.Fatalf("GET %s = %q, %v", k, v, err)
				}
				want := "ERR unknown command 'NOSUCHCMD', with args beginning with: '" + k + "' "
				if err := cmds[4*i+3].Err(); err == nil || err.Error() != want {
					t.Fatalf("NOSUCHCMD %s: err = %v, want %q", k, err, want)
				}
			}
			// A pipeline of 100 reads after the writes.
			p = rdb.Pipeline()
			gets := make([]*redis.StringCmd, 100)
			for i := range gets {
				gets[i] = p.Get(ctx, "p"+strconv.Itoa(i%25))
			}
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i, g := range gets {
				if g.Val() != strconv.Itoa(i%25+10) {
					t.Fatalf("GET %d = %q", i, g.Val())
				}
			}
		})
	}
}

// TestHello checks HELLO's reply in both protocols and the protocol switch.
func TestHello(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			conn := rdb.Conn()
			defer conn.Close()
			v, err := conn.Do(ctx, "HELLO", proto).Result()
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]any{}
			switch m := v.(type) {
			case []any: // RESP2: a flat array
				if len(m) != 14 {
					t.Fatalf("HELLO 2 = %#v", v)
				}
				for i := 0; i < len(m); i += 2 {
					fields[m[i].(string)] = normalize(m[i+1])
				}
			case map[any]any: // RESP3: a map
				for k, x := range m {
					fields[k.(string)] = normalize(x)
				}
			default:
				t.Fatalf("HELLO reply %T %#v", v, v)
			}
			if proto == 3 {
				if _, ok := v.(map[any]any); !ok {
					t.Fatalf("HELLO 3 did not reply with a map: %T", v)
				}
			}
			want := map[string]any{"server": "redis", "proto": int64(proto), "mode": "standalone", "role": "master", "modules": []any{}}
			for k, w := range want {
				if !reflect.DeepEqual(fields[k], w) {
					t.Errorf("HELLO %s = %#v, want %#v", k, fields[k], w)
				}
			}
			if fields["version"] != "7.0.15" {
				t.Errorf("HELLO version = %#v", fields["version"])
			}
			if id, ok := fields["id"].(int64); !ok || id <= 0 {
				t.Errorf("HELLO id = %#v", fields["id"])
			}
		})
	}
	// The raw bytes of the protocol switch.
	rc := dialRaw(t, ts.Addr)
	r := rc.Do(t, "HELLO", "3")
	if !strings.HasPrefix(r, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n") || !strings.Contains(r, "$5\r\nproto\r\n:3\r\n") {
		t.Fatalf("HELLO 3 raw = %q", r)
	}
	if got := rc.Do(t, "GET", "nosuch"); got != "_\r\n" {
		t.Fatalf("RESP3 null = %q, want _", got)
	}
	rc.Do(t, "HELLO", "2")
	if got := rc.Do(t, "GET", "nosuch"); got != "$-1\r\n" {
		t.Fatalf("RESP2 null = %q, want $-1", got)
	}
	rc.Do(t, "HELLO", "3")
	if got := rc.Do(t, "RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET = %q", got)
	}
	if got := rc.Do(t, "GET", "nosuch"); got != "$-1\r\n" {
		t.Fatalf("RESET did not restore RESP2: %q", got)
	}
}

// TestQuit: QUIT replies +OK and the server closes the connection.
func TestQuit(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := ts.goRedis(t, proto)
			conn := rdb.Conn()
			if v, err := conn.Do(ctx, "QUIT").Result(); err != nil || v != "OK" {
				t.Fatalf("QUIT = %#v, %v", v, err)
			}
			conn.Close()
			// A new client is served. (Not rdb: go-redis may hand the
			// connection the server closed back out of its pool.)
			if err := ts.goRedis(t, proto).Ping(ctx).Err(); err != nil {
				t.Fatalf("PING after QUIT on another connection: %v", err)
			}
		})
	}
}

// TestAuth: requirepass, NOAUTH, WRONGPASS, AUTH [default] pass and
// HELLO 3 AUTH default pass, in both protocols.
func TestAuth(t *testing.T) {
	const pass = "s3cret"
	ts := newTestServer(t, withPass(pass))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			// Without a password every command but AUTH/HELLO/QUIT/RESET
			// is refused.
			rdb := ts.goRedis(t, proto)
			conn := rdb.Conn()
			defer conn.Close()
			steps := []step{
				{"PING", rerr("NOAUTH Authentication required.")},
				{"GET k", rerr("NOAUTH Authentication required.")},
				// Redis checks the arity before authentication, and a
				// refused EXEC is an EXECABORT.
				{"GET", rerr("ERR wrong number of arguments for 'get' command")},
				{"EXEC", rerr("EXECABORT Transaction discarded because of: NOAUTH Authentication required.")},
				{"NOSUCH x", rerr("ERR unknown command 'NOSUCH', with args beginning with: 'x' ")},
				{"HELLO 3", rerr("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")},
				{"AUTH wrong", rerr("WRONGPASS invalid username-password pair or user is disabled.")},
				{"AUTH default wrong", rerr("WRONGPASS invalid username-password pair or user is disabled.")},
				{"AUTH other " + pass, rerr("WRONGPASS invalid username-password pair or user is disabled.")},
				{"HELLO 3 AUTH default wrong", rerr("WRONGPASS invalid username-password pair or user is disabled.")},
				{"PING", rerr("NOAUTH Authentication required.")},
				{"AUTH " + pass, "OK"},
				{"PING", "PONG"},
				{"SET k v", "OK"},
				{"RESET", "RESET"},
				{"GET k", rerr("NOAUTH Authentication required.")},
				{"AUTH default " + pass, "OK"},
				{"GET k", "v"},
				{"RESET", "RESET"},
				{"HELLO 3 AUTH default " + pass, checkFn(func(v any, err error) error {
					m, ok := v.(map[any]any)
					if err != nil || !ok && proto == 3 {
						return fmt.Errorf("got (%#v, %v), want a map", v, err)
					}
					_ = m
					return nil
				})},
				{"GET k", "v"},
				{"QUIT", "OK"},
			}
			for _, s := range steps {
				v, err := conn.Do(ctx, splitCmd(s.cmd)...).Result()
				if e := match(s.want, v, err); e != nil {
					t.Fatalf("%s: %v", s.cmd, e)
				}
			}
			// Clients configured with the password authenticate with
			// HELLO <proto> AUTH default <pass>.
			for _, user := range []string{"", "default"} {
				good := ts.goRedis(t, proto, func(o *redis.Options) { o.Password, o.Username = pass, user })
				if err := good.Set(ctx, "k2", "v2", 0).Err(); err != nil {
					t.Fatalf("user %q: %v", user, err)
				}
				if v, err := good.Get(ctx, "k2").Result(); err != nil || v != "v2" {
					t.Fatalf("user %q: GET = %q, %v", user, v, err)
				}
			}
			bad := ts.goRedis(t, proto, func(o *redis.Options) { o.Password = "nope" })
			if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
				t.Fatalf("wrong password: err = %v", err)
			}
		})
	}
	// Before AUTH, the reader refuses big requests, as Redis does.
	rc := dialRaw(t, ts.Addr)
	if got := rc.Do(t, "PING"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("raw PING = %q", got)
	}
	args := make([]string, 12)
	for i := range args {
		args[i] = "x"
	}
	if got := rc.Do(t, args...); got != "-ERR Protocol error: unauthenticated multibulk length\r\n" {
		t.Fatalf("12 arguments before AUTH = %q", got)
	}
	expectClosed(t, rc, 2*time.Second)
}
