package kv

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/rnum"
)

// The string-command tests below are written as Redis command lines. Each
// line is executed by strExec, a small interpreter that does what the RESP
// server does for the command (argument parsing, SET/GETEX option handling,
// kv.SetDeadline conversions) and then calls the Tx method under test. The
// expected replies were checked against redis-server 7.0.15.
//
// Replies are written as redis-cli prints them: OK, (nil), (integer) 5,
// "bulk" (Go-quoted), [a, b] for arrays, and the error's text for errors.
// ERR invalid expire time is kv.ErrInvalidExpire's text: the server adds
// " in 'set' command".
//
// Pseudo-commands, for setup and checks only:
//
//	wrongtype k      store a list-typed record at k (as LPUSH would)
//	advance 1500ms   move the test clock forward
//	pttl k           -2 missing, -1 no deadline, else ms left (as PTTL)
//	exists k         (integer) 0 or 1
//	type k           string, list or none
//	expirecycle      run Store.ExpireCycle; replies with how many it removed

// strT0 is the test clock's start, in Unix ms.
var strT0 = newTestClock().ms.Load()

var (
	errWrongType = ErrWrongType.Error()
	errNotInt    = ErrNotInteger.Error()
	errNotFloat  = ErrNotFloat.Error()
	errOverflow  = ErrOverflow.Error()
	errNaN       = ErrNaN.Error()
	errExpire    = ErrInvalidExpire.Error()
	errOffset    = ErrOffsetRange.Error()
	errTooLong   = ErrStringTooLong.Error()
)

// Redis 7.0.15's INCRBYFLOAT replies that need long double range.
// strBig1e400 is also INCRBYFLOAT k 1e400 on a missing key.
const (
	// SET k 1e308; INCRBYFLOAT k 1e308
	strBig2e308 = "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096"
	// SET k 1e400; INCRBYFLOAT k 0
	strBig1e400 = "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"
)

type strCase struct {
	cmd  string   // the command under test; also the subtest's name
	pre  []string // setup; each line must succeed
	want string   // cmd's reply
	then []string // checks afterwards, "command -> reply"
}

func strCases() []strCase {
	at := func(f string, ms int64) string { return fmt.Sprintf(f, ms) }
	return []strCase{
		// GET
		{`get k`, nil, `(nil)`, nil},
		{`get k`, []string{`set k v`}, `"v"`, nil},
		{`get k`, []string{`set k ""`}, `""`, []string{`exists k -> (integer) 1`}},
		{`get k`, []string{`set k "a\x00b\xff"`}, `"a\x00b\xff"`, nil},
		{`get l`, []string{`wrongtype l`}, errWrongType, nil},
		{`get k`, []string{`set k v px 100`, `advance 99ms`}, `"v"`, []string{`pttl k -> (integer) 1`}},
		{`get k`, []string{`set k v px 100`, `advance 100ms`}, `(nil)`, []string{`exists k -> (integer) 0`, `pttl k -> (integer) -2`}},

		// SET and its options
		{`set k v`, nil, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set k v`, []string{`set k old ex 100`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set l v`, []string{`wrongtype l`}, `OK`, []string{`type l -> string`, `get l -> "v"`}},
		{`set k v nx`, nil, `OK`, []string{`get k -> "v"`}},
		{`set k v nx`, []string{`set k old`}, `(nil)`, []string{`get k -> "old"`}},
		{`set k v nx`, []string{`set k old px 10`, `advance 10ms`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set l v nx`, []string{`wrongtype l`}, `(nil)`, []string{`type l -> list`}},
		{`set k v xx`, nil, `(nil)`, []string{`exists k -> (integer) 0`}},
		{`set k v xx`, []string{`set k old ex 100`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set k v xx`, []string{`set k old px 10`, `advance 10ms`}, `(nil)`, []string{`exists k -> (integer) 0`}},
		{`set l v xx`, []string{`wrongtype l`}, `OK`, []string{`type l -> string`}},
		{`set k v get`, nil, `(nil)`, []string{`get k -> "v"`}},
		{`set k v get`, []string{`set k old ex 100`}, `"old"`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set l v get`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
		{`set l v nx get`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
		{`set l v xx get`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
		{`set l v get ex 100`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`, `pttl l -> (integer) -1`}},
		{`set k v nx get`, nil, `(nil)`, []string{`get k -> "v"`}},
		{`set k v nx get`, []string{`set k old`}, `"old"`, []string{`get k -> "old"`}},
		{`set k v xx get`, nil, `(nil)`, []string{`exists k -> (integer) 0`}},
		{`set k v xx get`, []string{`set k old`}, `"old"`, []string{`get k -> "v"`}},
		{`set k v get`, []string{`set k old px 10`, `advance 10ms`}, `(nil)`, []string{`get k -> "v"`}},
		{`set k v keepttl`, []string{`set k old ex 100`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) 100000`}},
		{`set k v keepttl`, []string{`set k old`}, `OK`, []string{`pttl k -> (integer) -1`}},
		{`set k v keepttl`, nil, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set k v keepttl`, []string{`set k old ex 100`, `advance 100s`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`set k v xx keepttl get`, []string{`set k old px 5000`, `advance 1s`}, `"old"`, []string{`get k -> "v"`, `pttl k -> (integer) 4000`}},
		{`set k v ex 100`, nil, `OK`, []string{`pttl k -> (integer) 100000`}},
		{`set k v ex 100`, []string{`set k old px 5`}, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) 100000`}},
		{`set k v px 1500`, nil, `OK`, []string{`pttl k -> (integer) 1500`, `advance 1499ms`, `get k -> "v"`, `advance 1ms`, `get k -> (nil)`}},
		{`set k v px 1`, nil, `OK`, []string{`pttl k -> (integer) 1`}},
		{`set k v ex 1`, nil, `OK`, []string{`pttl k -> (integer) 1000`}},
		{at(`set k v exat %d`, strT0/1000+10), nil, `OK`, []string{`pttl k -> (integer) 10000`}},
		{at(`set k v pxat %d`, strT0+1234), nil, `OK`, []string{`pttl k -> (integer) 1234`}},
		{`set k v ex 100 get`, []string{`set k old`}, `"old"`, []string{`get k -> "v"`, `pttl k -> (integer) 100000`}},
		{`set k v nx ex 100`, []string{`set k old`}, `(nil)`, []string{`get k -> "old"`, `pttl k -> (integer) -1`}},
		// A deadline in the past stores the key already expired (Redis
		// 7.0 writes it and lazily expires it): it is invisible at once.
		{`set k v exat 1`, nil, `OK`, []string{`exists k -> (integer) 0`, `get k -> (nil)`}},
		{`set k v pxat 1`, []string{`set k old`}, `OK`, []string{`get k -> (nil)`}},
		{at(`set k v pxat %d`, strT0), nil, `OK`, []string{`get k -> (nil)`}},
		{at(`set k v pxat %d`, strT0+1), nil, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) 1`}},
		// Overflow rules of getExpireMillisecondsOrReply.
		{`set k v pxat 9223372036854775807`, nil, `OK`, []string{at(`pttl k -> (integer) %d`, math.MaxInt64-strT0)}},
		{`set k v exat 9223372036854775`, nil, `OK`, []string{at(`pttl k -> (integer) %d`, 9223372036854775000-strT0)}},
		{`set k v exat 9223372036854776`, []string{`set k old`}, errExpire, []string{`get k -> "old"`}},
		{at(`set k v px %d`, math.MaxInt64-strT0), nil, `OK`, []string{at(`pttl k -> (integer) %d`, math.MaxInt64-strT0)}},
		{at(`set k v px %d`, math.MaxInt64-strT0+1), nil, errExpire, []string{`exists k -> (integer) 0`}},
		{`set k v px 9223372036854775807`, nil, errExpire, []string{`exists k -> (integer) 0`}},
		{`set k v ex 9223372036854775`, nil, errExpire, []string{`exists k -> (integer) 0`}},
		{`set k v ex 9223372036854774`, nil, errExpire, nil},
		{`set k v ex 9223372036854776`, nil, errExpire, nil},
		{`set k v ex -9223372036854775808`, nil, errExpire, nil},
		{`set k v ex 0`, []string{`set k old`}, errExpire, []string{`get k -> "old"`}},
		{`set k v ex -1`, nil, errExpire, []string{`exists k -> (integer) 0`}},
		{`set k v px 0`, nil, errExpire, nil},
		{`set k v exat 0`, nil, errExpire, nil},
		{`set k v pxat -5`, nil, errExpire, nil},
		{`set l v ex 0 get`, []string{`wrongtype l`}, errExpire, []string{`type l -> list`}},
		{`set k v ex abc`, nil, errNotInt, nil},

		// SETEX / PSETEX (SET with EX / PX)
		{`setex k 10 v`, nil, `OK`, []string{`get k -> "v"`, `pttl k -> (integer) 10000`}},
		{`setex k 0 v`, nil, errExpire, []string{`exists k -> (integer) 0`}},
		{`psetex k 10 v`, nil, `OK`, []string{`pttl k -> (integer) 10`}},
		{`psetex k -10 v`, []string{`set k old`}, errExpire, []string{`get k -> "old"`}},

		// SETNX
		{`setnx k v`, nil, `(integer) 1`, []string{`get k -> "v"`}},
		{`setnx k v`, []string{`set k old ex 100`}, `(integer) 0`, []string{`get k -> "old"`, `pttl k -> (integer) 100000`}},
		{`setnx k v`, []string{`set k old px 5`, `advance 5ms`}, `(integer) 1`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`setnx l v`, []string{`wrongtype l`}, `(integer) 0`, []string{`type l -> list`}},

		// GETSET
		{`getset k v`, nil, `(nil)`, []string{`get k -> "v"`}},
		{`getset k v`, []string{`set k old ex 100`}, `"old"`, []string{`get k -> "v"`, `pttl k -> (integer) -1`}},
		{`getset k v`, []string{`set k old px 5`, `advance 5ms`}, `(nil)`, []string{`get k -> "v"`}},
		{`getset l v`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},

		// GETDEL
		{`getdel k`, nil, `(nil)`, []string{`exists k -> (integer) 0`}},
		{`getdel k`, []string{`set k v ex 100`}, `"v"`, []string{`exists k -> (integer) 0`, `getdel k -> (nil)`}},
		{`getdel k`, []string{`set k v px 5`, `advance 5ms`}, `(nil)`, nil},
		{`getdel l`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},

		// GETEX
		{`getex k`, nil, `(nil)`, nil},
		{`getex k`, []string{`set k v ex 100`}, `"v"`, []string{`pttl k -> (integer) 100000`}},
		{`getex k ex 50`, []string{`set k v`}, `"v"`, []string{`pttl k -> (integer) 50000`}},
		{`getex k px 1500`, []string{`set k v ex 100`}, `"v"`, []string{`pttl k -> (integer) 1500`, `advance 1500ms`, `get k -> (nil)`}},
		{at(`getex k exat %d`, strT0/1000+20), []string{`set k v`}, `"v"`, []string{`pttl k -> (integer) 20000`}},
		{at(`getex k pxat %d`, strT0+1), []string{`set k v`}, `"v"`, []string{`pttl k -> (integer) 1`}},
		{`getex k persist`, []string{`set k v ex 100`}, `"v"`, []string{`pttl k -> (integer) -1`, `get k -> "v"`}},
		{`getex k persist`, []string{`set k v`}, `"v"`, []string{`pttl k -> (integer) -1`}},
		{`getex k persist`, nil, `(nil)`, []string{`exists k -> (integer) 0`}},
		// An absolute deadline already past deletes the key (after replying).
		{`getex k pxat 1`, []string{`set k v`}, `"v"`, []string{`exists k -> (integer) 0`, `expirecycle -> (integer) 0`}},
		{at(`getex k pxat %d`, strT0), []string{`set k v ex 100`}, `"v"`, []string{`exists k -> (integer) 0`}},
		{`getex k exat 1`, []string{`set k v`}, `"v"`, []string{`getex k -> (nil)`}},
		{`getex k exat 9223372036854775`, []string{`set k v`}, `"v"`, []string{at(`pttl k -> (integer) %d`, 9223372036854775000-strT0)}},
		{`getex k ex 100`, []string{`set k v px 10`, `advance 10ms`}, `(nil)`, []string{`exists k -> (integer) 0`}},
		// getexCommand checks the key and its type before the expire time.
		{`getex k ex 0`, []string{`set k v ex 100`}, errExpire, []string{`get k -> "v"`, `pttl k -> (integer) 100000`}},
		{`getex k ex 0`, nil, `(nil)`, nil},
		{`getex k ex 9223372036854775`, []string{`set k v`}, errExpire, []string{`pttl k -> (integer) -1`}},
		{`getex l ex 0`, []string{`wrongtype l`}, errWrongType, nil},
		{`getex l persist`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},

		// MGET
		{`mget a l b c`, []string{`set a 1`, `wrongtype l`, `set c 3`}, `["1", (nil), (nil), "3"]`, nil},
		{`mget a a`, []string{`set a 1`}, `["1", "1"]`, nil},
		{`mget a b`, []string{`set a x px 10`, `set b y`, `advance 10ms`}, `[(nil), "y"]`, nil},
		{`mget k`, nil, `[(nil)]`, nil},

		// MSET
		{`mset a 1 b 2`, nil, `OK`, []string{`mget a b -> ["1", "2"]`}},
		{`mset a 1 b 2`, []string{`set a old ex 100`, `set b old px 100`}, `OK`, []string{`pttl a -> (integer) -1`, `pttl b -> (integer) -1`, `mget a b -> ["1", "2"]`}},
		{`mset l x`, []string{`wrongtype l`}, `OK`, []string{`type l -> string`, `get l -> "x"`}},
		{`mset a 1 a 2`, nil, `OK`, []string{`get a -> "2"`}},

		// MSETNX: all or nothing
		{`msetnx a 1 b 2`, nil, `(integer) 1`, []string{`mget a b -> ["1", "2"]`}},
		{`msetnx a 1 b 2`, []string{`set b old ex 100`}, `(integer) 0`, []string{`exists a -> (integer) 0`, `get b -> "old"`, `pttl b -> (integer) 100000`}},
		{`msetnx a 1 l 2`, []string{`wrongtype l`}, `(integer) 0`, []string{`exists a -> (integer) 0`, `type l -> list`}},
		{`msetnx a 1 b 2`, []string{`set b old px 10`, `advance 10ms`}, `(integer) 1`, []string{`mget a b -> ["1", "2"]`, `pttl b -> (integer) -1`}},
		{`msetnx a 1 a 2`, nil, `(integer) 1`, []string{`get a -> "2"`}},

		// APPEND
		{`append k abc`, nil, `(integer) 3`, []string{`get k -> "abc"`, `pttl k -> (integer) -1`}},
		{`append k def`, []string{`set k abc ex 100`}, `(integer) 6`, []string{`get k -> "abcdef"`, `pttl k -> (integer) 100000`}},
		{`append k ""`, nil, `(integer) 0`, []string{`exists k -> (integer) 1`, `get k -> ""`, `strlen k -> (integer) 0`}},
		{`append k ""`, []string{`set k abc`}, `(integer) 3`, []string{`get k -> "abc"`}},
		{`append k x`, []string{`set k old px 10`, `advance 10ms`}, `(integer) 1`, []string{`get k -> "x"`, `pttl k -> (integer) -1`}},
		{`append k 1`, []string{`incrby k 41`}, `(integer) 3`, []string{`get k -> "411"`, `incr k -> (integer) 412`}},
		{`append k "\x00"`, []string{`set k "\xff"`}, `(integer) 2`, []string{`get k -> "\xff\x00"`}},
		{`append l x`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},

		// STRLEN
		{`strlen k`, nil, `(integer) 0`, nil},
		{`strlen k`, []string{`set k hello`}, `(integer) 5`, nil},
		{`strlen k`, []string{`set k ""`}, `(integer) 0`, nil},
		{`strlen k`, []string{`set k "\x00é"`}, `(integer) 3`, nil},
		{`strlen k`, []string{`set k hello px 5`, `advance 5ms`}, `(integer) 0`, nil},
		{`strlen k`, []string{`incrby k -123`}, `(integer) 4`, nil},
		{`strlen l`, []string{`wrongtype l`}, errWrongType, nil},

		// GETRANGE (s is "This is a string", 16 bytes)
		{`getrange s 0 3`, []string{`set s "This is a string"`}, `"This"`, nil},
		{`getrange s -3 -1`, []string{`set s "This is a string"`}, `"ing"`, nil},
		{`getrange s 0 -1`, []string{`set s "This is a string"`}, `"This is a string"`, nil},
		{`getrange s 10 100`, []string{`set s "This is a string"`}, `"string"`, nil},
		{`getrange s -1 -5`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s 5 3`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -100 -50`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s -100 2`, []string{`set s "This is a string"`}, `"Thi"`, nil},
		{`getrange s 100 200`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s 3 -100`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -1 -1`, []string{`set s "This is a string"`}, `"g"`, nil},
		{`getrange s 0 0`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s 15 15`, []string{`set s "This is a string"`}, `"g"`, nil},
		{`getrange s 16 16`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -16 -16`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s -17 -17`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s -17 0`, []string{`set s "This is a string"`}, `"T"`, nil},
		// Both negative and start > end: empty, even where clamping both to
		// 0 would give "T".
		{`getrange s -17 -20`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -100 -200`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -20 -17`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s -9223372036854775808 9223372036854775807`, []string{`set s "This is a string"`}, `"This is a string"`, nil},
		{`getrange s 9223372036854775807 -9223372036854775808`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange s -9223372036854775808 -9223372036854775808`, []string{`set s "This is a string"`}, `"T"`, nil},
		{`getrange s 9223372036854775807 9223372036854775807`, []string{`set s "This is a string"`}, `""`, nil},
		{`getrange k 0 -1`, nil, `""`, []string{`exists k -> (integer) 0`}},
		{`getrange k 0 -1`, []string{`set k ""`}, `""`, nil},
		{`getrange k -1 -1`, []string{`set k ""`}, `""`, nil},
		{`getrange k 0 0`, []string{`set k ""`}, `""`, nil},
		{`getrange k 0 -1`, []string{`set k v px 5`, `advance 5ms`}, `""`, nil},
		{`getrange l 0 1`, []string{`wrongtype l`}, errWrongType, nil},
		{`getrange s x 1`, []string{`set s abc`}, errNotInt, nil},

		// SETRANGE
		{`setrange k 5 ab`, nil, `(integer) 7`, []string{`get k -> "\x00\x00\x00\x00\x00ab"`, `pttl k -> (integer) -1`}},
		{`setrange k 0 XY`, []string{`setrange k 5 ab`}, `(integer) 7`, []string{`get k -> "XY\x00\x00\x00ab"`}},
		{`setrange k 1 XY`, []string{`set k hello ex 100`}, `(integer) 5`, []string{`get k -> "hXYlo"`, `pttl k -> (integer) 100000`}},
		{`setrange k 3 XYZ`, []string{`set k hello`}, `(integer) 6`, []string{`get k -> "helXYZ"`}},
		{`setrange k 5 !`, []string{`set k hello`}, `(integer) 6`, []string{`get k -> "hello!"`}},
		{`setrange k 7 !`, []string{`set k hello`}, `(integer) 8`, []string{`get k -> "hello\x00\x00!"`}},
		{`setrange k 0 ""`, nil, `(integer) 0`, []string{`exists k -> (integer) 0`}},
		{`setrange k 3 ""`, nil, `(integer) 0`, []string{`exists k -> (integer) 0`}},
		{`setrange k 10 ""`, []string{`set k hello`}, `(integer) 5`, []string{`get k -> "hello"`}},
		{`setrange k 0 ""`, []string{`set k ""`}, `(integer) 0`, []string{`exists k -> (integer) 1`}},
		{`setrange k 2 x`, []string{`set k v px 10`, `advance 10ms`}, `(integer) 3`, []string{`get k -> "\x00\x00x"`, `pttl k -> (integer) -1`}},
		{`setrange k -1 x`, nil, errOffset, []string{`exists k -> (integer) 0`}},
		{`setrange l -1 x`, []string{`wrongtype l`}, errOffset, nil},
		{`setrange l -1 ""`, []string{`wrongtype l`}, errOffset, nil},
		{`setrange l 0 ""`, []string{`wrongtype l`}, errWrongType, nil},
		{`setrange l 0 x`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
		// offset+len > MaxStringLen (512 MB), without allocating it.
		{`setrange k 536870911 ab`, nil, errTooLong, []string{`exists k -> (integer) 0`}},
		{`setrange k 536870911 ab`, []string{`set k hello`}, errTooLong, []string{`get k -> "hello"`}},
		{`setrange k 536870912 x`, nil, errTooLong, nil},
		{`setrange k 9223372036854775807 ab`, nil, errTooLong, []string{`exists k -> (integer) 0`}},
		{`setrange k 9223372036854775807 ab`, []string{`set k hello`}, errTooLong, []string{`get k -> "hello"`}},
		{`setrange k 9223372036854775807 x`, []string{`set k hello`}, errTooLong, nil},
		{`setrange k 536870912 ""`, nil, `(integer) 0`, []string{`exists k -> (integer) 0`}},
		{`setrange k 9223372036854775807 ""`, nil, `(integer) 0`, nil},
		{`setrange k 9223372036854775807 ""`, []string{`set k hello`}, `(integer) 5`, nil},

		// INCR, DECR, INCRBY, DECRBY
		{`incr k`, nil, `(integer) 1`, []string{`get k -> "1"`, `pttl k -> (integer) -1`}},
		{`incr k`, []string{`set k 41 ex 100`}, `(integer) 42`, []string{`get k -> "42"`, `pttl k -> (integer) 100000`}},
		{`incr k`, []string{`set k 5 px 10`, `advance 10ms`}, `(integer) 1`, []string{`pttl k -> (integer) -1`}},
		{`decr k`, nil, `(integer) -1`, []string{`get k -> "-1"`}},
		{`decr k`, []string{`set k 0`}, `(integer) -1`, nil},
		{`incrby k 5`, []string{`set k 10`}, `(integer) 15`, nil},
		{`incrby k -15`, []string{`set k 10`}, `(integer) -5`, []string{`get k -> "-5"`}},
		{`incrby k 0`, []string{`set k 10`}, `(integer) 10`, nil},
		{`decrby k 5`, []string{`set k 10`}, `(integer) 5`, nil},
		{`decrby k -5`, []string{`set k 10`}, `(integer) 15`, nil},
		{`decrby k 5`, nil, `(integer) -5`, nil},
		{`incrby k -9223372036854775808`, nil, `(integer) -9223372036854775808`, []string{`get k -> "-9223372036854775808"`}},
		{`incrby k 9223372036854775807`, nil, `(integer) 9223372036854775807`, nil},
		{`incrby k 9223372036854775807`, []string{`set k -1`}, `(integer) 9223372036854775806`, nil},
		{`incrby k 9223372036854775807`, []string{`set k -9223372036854775808`}, `(integer) -1`, nil},
		{`incrby k 1`, []string{`set k -9223372036854775808`}, `(integer) -9223372036854775807`, nil},
		{`incrby k -1`, []string{`set k 9223372036854775807`}, `(integer) 9223372036854775806`, nil},
		{`incrby k 0`, []string{`set k 9223372036854775807`}, `(integer) 9223372036854775807`, nil},
		{`incrby k 0`, []string{`set k -9223372036854775808`}, `(integer) -9223372036854775808`, nil},
		{`incrby k 0`, []string{`set k 0`}, `(integer) 0`, nil},
		{`decrby k -9223372036854775807`, []string{`set k -9223372036854775808`}, `(integer) -1`, nil},
		// Overflow: the stored value is left alone.
		{`incr k`, []string{`set k 9223372036854775807`}, errOverflow, []string{`get k -> "9223372036854775807"`}},
		{`incrby k 1`, []string{`set k 9223372036854775807`}, errOverflow, nil},
		{`incrby k 9223372036854775807`, []string{`set k 1`}, errOverflow, []string{`get k -> "1"`}},
		{`incrby k -9223372036854775808`, []string{`set k -1`}, errOverflow, []string{`get k -> "-1"`}},
		{`decr k`, []string{`set k -9223372036854775808`}, errOverflow, []string{`get k -> "-9223372036854775808"`}},
		{`decrby k 1`, []string{`set k -9223372036854775808`}, errOverflow, nil},
		{`decrby k -9223372036854775807`, []string{`set k 10`}, errOverflow, []string{`get k -> "10"`}},
		// decrbyCommand refuses to negate LLONG_MIN before reading the key.
		{`decrby k -9223372036854775808`, []string{`set k 0`}, ErrDecrOverflow.Error(), []string{`get k -> "0"`}},
		// Stored values string2ll rejects.
		{`incr k`, []string{`set k abc`}, errNotInt, []string{`get k -> "abc"`}},
		{`incr k`, []string{`set k " 1"`}, errNotInt, []string{`get k -> " 1"`}},
		{`incr k`, []string{`set k "1 "`}, errNotInt, nil},
		{`incr k`, []string{`set k +1`}, errNotInt, nil},
		{`incr k`, []string{`set k 01`}, errNotInt, nil},
		{`incr k`, []string{`set k 00`}, errNotInt, nil},
		{`incr k`, []string{`set k -0`}, errNotInt, nil},
		{`incr k`, []string{`set k -01`}, errNotInt, nil},
		{`incr k`, []string{`set k ""`}, errNotInt, []string{`get k -> ""`}},
		{`incr k`, []string{`set k 1.0`}, errNotInt, nil},
		{`incr k`, []string{`set k 1e3`}, errNotInt, nil},
		{`incr k`, []string{`set k 0x1`}, errNotInt, nil},
		{`incr k`, []string{`set k -`}, errNotInt, nil},
		{`incr k`, []string{`set k "1\x00"`}, errNotInt, nil},
		{`incr k`, []string{`set k 9223372036854775808`}, errNotInt, nil},
		{`incr k`, []string{`set k -9223372036854775809`}, errNotInt, nil},
		{`incr k`, []string{`set k 12345678901234567890`}, errNotInt, nil},
		{`incr k`, []string{`set k 00000000000000000001`}, errNotInt, nil},
		{`incr k`, []string{`set k 123456789012345678901`}, errNotInt, nil},
		{`incr k`, []string{`set k -123456789012345678901`}, errNotInt, nil},
		{`decrby k 1`, []string{`set k abc ex 100`}, errNotInt, []string{`get k -> "abc"`, `pttl k -> (integer) 100000`}},
		{`incr l`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
		{`decrby l 1`, []string{`wrongtype l`}, errWrongType, nil},

		// INCRBYFLOAT (computed in long double, as Redis on x86-64)
		{`incrbyfloat k 0.1`, nil, `"0.1"`, []string{`get k -> "0.1"`, `pttl k -> (integer) -1`}},
		{`incrbyfloat k 0.1`, []string{`set k 10.5`}, `"10.6"`, []string{`get k -> "10.6"`}},
		{`incrbyfloat k 2.0e2`, []string{`set k 5.0e3`}, `"5200"`, []string{`get k -> "5200"`}},
		{`incrbyfloat k 0`, []string{`set k 3.0e3`}, `"3000"`, []string{`get k -> "3000"`}},
		{`incrbyfloat k 0.2`, []string{`set k 0.1`}, `"0.3"`, nil},
		{`incrbyfloat k 0.1`, []string{`set k 0.1`}, `"0.2"`, nil},
		{`incrbyfloat k 0.1`, []string{`set k 1`}, `"1.1"`, nil},
		{`incrbyfloat k 0.00000000000000001`, []string{`set k 1.1`}, `"1.10000000000000001"`, nil},
		{`incrbyfloat k 1.1`, []string{`set k 3`}, `"4.1"`, nil},
		{`incrbyfloat k -0.1`, []string{`set k 3`}, `"2.9"`, nil},
		{`incrbyfloat k -5`, []string{`set k 5`}, `"0"`, nil},
		{`incrbyfloat k -0.0001`, []string{`set k 0`}, `"-0.0001"`, nil},
		{`incrbyfloat k 1e-5`, []string{`set k 7`}, `"7.00001"`, nil},
		{`incrbyfloat k -1.5`, nil, `"-1.5"`, []string{`incrbyfloat k 1.5 -> "0"`}},
		{`incrbyfloat k 0`, []string{`set k -0`}, `"0"`, nil},
		{`incrbyfloat k 0`, []string{`set k 1.23456789012345678`}, `"1.23456789012345678"`, nil},
		{`incrbyfloat k 1`, []string{`set k 0x10`}, `"17"`, nil},
		{`incrbyfloat k 0`, []string{`set k 1e-300`}, `"0"`, nil},
		{`incrbyfloat k 0.5`, []string{`set k 1e17`}, `"100000000000000000.5"`, nil},
		{`incrbyfloat k 1e20`, []string{`set k 100`}, `"100000000000000000096"`, nil},
		{`incrbyfloat k 1`, []string{`set k 9223372036854775807`}, `"9223372036854775808"`, nil},
		{`incrbyfloat k 1e308`, []string{`set k 1e308`}, strconv.Quote(strBig2e308), nil},
		{`incrbyfloat k 0`, []string{`set k 1e400`}, strconv.Quote(strBig1e400), nil},
		{`incrbyfloat k 1`, []string{`set k 5 ex 100`}, `"6"`, []string{`pttl k -> (integer) 100000`}},
		{`incrbyfloat k 1`, []string{`set k 5 px 10`, `advance 10ms`}, `"1"`, []string{`pttl k -> (integer) -1`}},
		{`incrbyfloat k 1`, []string{`set k inf`}, errNaN, []string{`get k -> "inf"`}},
		{`incrbyfloat k inf`, nil, errNaN, []string{`exists k -> (integer) 0`}},
		{`incrbyfloat k -Infinity`, []string{`set k 2`}, errNaN, []string{`get k -> "2"`}},
		{`incrbyfloat k nan`, nil, errNotFloat, []string{`exists k -> (integer) 0`}},
		{`incrbyfloat k nan`, []string{`set k abc`}, errNotFloat, nil},
		{`incrbyfloat k abc`, []string{`set k 1`}, errNotFloat, []string{`get k -> "1"`}},
		{`incrbyfloat k " 1"`, nil, errNotFloat, nil},
		{`incrbyfloat k "1 "`, nil, errNotFloat, nil},
		{`incrbyfloat k ""`, nil, errNotFloat, nil},
		{`incrbyfloat k 1e5000`, nil, errNotFloat, nil},
		{`incrbyfloat k 0x1p-2`, nil, `"0.25"`, nil},
		{`incrbyfloat k +1.5`, []string{`set k 2`}, `"3.5"`, nil},
		{`incrbyfloat k -1e-4950`, []string{`set k 3.5`}, `"3.5"`, nil},
		{`incrbyfloat k 0.10000000000000000001`, []string{`set k 0.25`}, `"0.35"`, nil},
		{`incrbyfloat k 1e400`, nil, strconv.Quote(strBig1e400), nil},
		{`incrbyfloat k 1`, []string{`set k abc`}, errNotFloat, []string{`get k -> "abc"`}},
		{`incrbyfloat k 1`, []string{`set k " 1"`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{`set k "1 "`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{`set k ""`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{`set k nan`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{`set k "1\x00"`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{`set k 1e5000`}, errNotFloat, nil},
		{`incrbyfloat k 1`, []string{"set k 1." + strings.Repeat("0", 5117)}, `"2"`, nil},
		{`incrbyfloat k 1`, []string{"set k 1." + strings.Repeat("0", 5118)}, errNotFloat, nil},
		{`incrbyfloat l 1`, []string{`wrongtype l`}, errWrongType, []string{`type l -> list`}},
	}
}

// TestStringCommands runs the table twice: with the default hot tier, and
// with a hot tier too small to hold any value, so every read goes to Pebble.
func TestStringCommands(t *testing.T) {
	for _, tier := range []struct {
		name  string
		bytes int64
	}{{"hot", 0}, {"cold", 1}} {
		t.Run(tier.name, func(t *testing.T) {
			env := newStrEnv(t, &Options{HotTierBytes: tier.bytes})
			for _, c := range strCases() {
				name := c.cmd
				if len(name) > 60 {
					name = name[:60]
				}
				t.Run(name, func(t *testing.T) {
					env.reset(t)
					for _, p := range c.pre {
						if r, err := env.run(p); err != nil {
							t.Fatalf("setup %q: %s", p, r)
						}
					}
					if got, _ := env.run(c.cmd); got != c.want {
						t.Errorf("%s\n got: %s\nwant: %s", c.cmd, got, c.want)
					}
					for _, chk := range c.then {
						cmd, want, ok := strings.Cut(chk, " -> ")
						if !ok {
							if r, err := env.run(chk); err != nil {
								t.Fatalf("%q: %s", chk, r)
							}
							continue
						}
						if got, _ := env.run(cmd); got != want {
							t.Errorf("after %s: %s\n got: %s\nwant: %s", c.cmd, cmd, got, want)
						}
					}
				})
			}
			if tier.bytes != 0 && env.s.Stats().HotMisses.Load() == 0 {
				t.Error("no read went to Pebble")
			}
		})
	}
}

type strEnv struct {
	t       *testing.T
	s       *Store
	clock   *testClock
	touched map[string]bool // keys the current case used
}

func newStrEnv(t *testing.T, o *Options) *strEnv {
	clock := newTestClock()
	return &strEnv{t: t, s: openTestStore(t, o, clock), clock: clock, touched: map[string]bool{}}
}

// reset deletes the keys the previous case touched, checks that database 0
// is then empty (so its key count is right), and rewinds the clock to
// strT0. Point deletes keep reads fast: a range deletion per case would
// pile up range tombstones that every Pebble read has to fragment.
func (env *strEnv) reset(t *testing.T) {
	env.t = t
	update(t, env.s, func(tx *Tx) error {
		phys := tx.dbmap[0]
		for k := range env.touched {
			if _, err := tx.del(phys, []byte(k)); err != nil {
				return err
			}
		}
		if tx.counts[phys] != 0 {
			t.Fatalf("database 0 holds %d keys after deleting every key used", tx.counts[phys])
		}
		return nil
	})
	clear(env.touched)
	env.clock.ms.Store(strT0)
}

var strReadOnly = map[string]bool{
	"get": true, "mget": true, "strlen": true, "getrange": true,
	"exists": true, "pttl": true, "type": true,
}

// run executes one command line and returns its reply; err is the
// command's error (its text is the reply).
func (env *strEnv) run(line string) (string, error) {
	env.t.Helper()
	args := strSplit(env.t, line)
	name := strings.ToLower(string(args[0]))
	switch name {
	case "advance":
		d, err := time.ParseDuration(string(args[1]))
		if err != nil {
			env.t.Fatalf("%q: %v", line, err)
		}
		env.clock.Advance(d)
		return "OK", nil
	case "expirecycle":
		n, err := env.s.ExpireCycle()
		if err != nil {
			return err.Error(), err
		}
		return fmt.Sprintf("(integer) %d", n), nil
	}
	switch {
	case name == "mget":
		for _, k := range args[1:] {
			env.touched[string(k)] = true
		}
	case name == "mset" || name == "msetnx":
		for i := 1; i < len(args); i += 2 {
			env.touched[string(args[i])] = true
		}
	case len(args) > 1:
		env.touched[string(args[1])] = true
	}
	var reply string
	var cmdErr error
	fn := func(tx *Tx) error {
		reply, cmdErr = strExec(tx, name, args[1:])
		if cmdErr != nil {
			reply = cmdErr.Error()
		}
		// The command's error is not returned: a failing command must
		// leave no partial writes behind by itself, as in Redis (and as
		// inside MULTI/EXEC, where the server commits the other commands).
		return nil
	}
	var err error
	if strReadOnly[name] {
		err = env.s.View(fn)
	} else {
		err = env.s.Update(fn)
	}
	if err != nil {
		env.t.Fatalf("%q: transaction failed: %v", line, err)
	}
	return reply, cmdErr
}

// strSplit splits a command line at spaces; an argument in double quotes
// is a Go string literal.
func strSplit(t testing.TB, line string) [][]byte {
	var out [][]byte
	s := strings.TrimLeft(line, " ")
	for s != "" {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				t.Fatalf("bad quoting in %q: %v", line, err)
			}
			u, _ := strconv.Unquote(q)
			out = append(out, []byte(u))
			s = s[len(q):]
		} else {
			i := strings.IndexByte(s, ' ')
			if i < 0 {
				i = len(s)
			}
			out = append(out, []byte(s[:i]))
			s = s[i:]
		}
		s = strings.TrimLeft(s, " ")
	}
	if len(out) == 0 {
		t.Fatalf("empty command line")
	}
	return out
}

func strBulk(v []byte, ok bool) string {
	if !ok {
		return "(nil)"
	}
	return strconv.Quote(string(v))
}

func strInt(n int64) string { return fmt.Sprintf("(integer) %d", n) }

func strArgInt(b []byte) (int64, error) {
	n, ok := rnum.ParseInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return n, nil
}

// strExpireArg converts an EX/PX/EXAT/PXAT argument with kv.SetDeadline.
func strExpireArg(tx *Tx, opt string, arg []byte) (int64, error) {
	n, err := strArgInt(arg)
	if err != nil {
		return 0, err
	}
	return SetDeadline(tx.Now(), n, opt == "ex" || opt == "exat", opt == "exat" || opt == "pxat")
}

// strExec does what the RESP server does for one string command.
func strExec(tx *Tx, name string, args [][]byte) (string, error) {
	const db = 0
	switch name {
	// Pseudo-commands that inspect records directly.
	case "wrongtype":
		return "OK", tx.put(tx.dbmap[db], args[0], &entry{typ: format.TypeList, val: []byte{}})
	case "exists", "pttl", "type":
		_, e, err := tx.liveDB(db, args[0])
		if err != nil {
			return "", err
		}
		switch {
		case name == "exists" && e == nil:
			return strInt(0), nil
		case name == "exists":
			return strInt(1), nil
		case name == "type" && e == nil:
			return "none", nil
		case name == "type":
			return format.TypeName(e.typ), nil
		case e == nil:
			return strInt(-2), nil
		case e.expireAt == 0:
			return strInt(-1), nil
		}
		return strInt(e.expireAt - tx.Now()), nil

	case "get":
		v, ok, err := tx.Get(db, args[0])
		return strBulk(v, ok), err
	case "set", "setex", "psetex":
		key, val := args[0], args[1]
		var o SetOptions
		opts := args[2:]
		switch name {
		case "setex":
			val, opts = args[2], [][]byte{[]byte("ex"), args[1]}
		case "psetex":
			val, opts = args[2], [][]byte{[]byte("px"), args[1]}
		}
		var expArg []byte
		var expOpt string
		for i := 0; i < len(opts); i++ {
			switch opt := strings.ToLower(string(opts[i])); opt {
			case "nx":
				o.NX = true
			case "xx":
				o.XX = true
			case "get":
				o.Get = true
			case "keepttl":
				o.KeepTTL = true
			case "ex", "px", "exat", "pxat":
				i++
				expOpt, expArg = opt, opts[i]
			default:
				return "", fmt.Errorf("test: unknown SET option %q", opt)
			}
		}
		// setGenericCommand validates the expire time first.
		if expArg != nil {
			d, err := strExpireArg(tx, expOpt, expArg)
			if err != nil {
				return "", err
			}
			o.Expire = d
		}
		r, err := tx.Set(db, key, val, o)
		if err != nil {
			return "", err
		}
		if o.Get {
			return strBulk(r.Old, r.HadOld), nil
		}
		if !r.Written {
			return "(nil)", nil
		}
		return "OK", nil
	case "setnx":
		ok, err := tx.SetNX(db, args[0], args[1])
		if ok {
			return strInt(1), err
		}
		return strInt(0), err
	case "getset":
		v, ok, err := tx.GetSet(db, args[0], args[1])
		return strBulk(v, ok), err
	case "getdel":
		v, ok, err := tx.GetDel(db, args[0])
		return strBulk(v, ok), err
	case "getex":
		var o GetExOptions
		var expArg []byte
		var expOpt string
		for i := 1; i < len(args); i++ {
			switch opt := strings.ToLower(string(args[i])); opt {
			case "persist":
				o.Persist = true
			case "ex", "px", "exat", "pxat":
				i++
				expOpt, expArg = opt, args[i]
			default:
				return "", fmt.Errorf("test: unknown GETEX option %q", opt)
			}
		}
		// getexCommand looks the key up and checks its type before it
		// validates the expire time; the server does the same in one Tx.
		if expArg != nil {
			if _, ok, err := tx.Get(db, args[0]); err != nil || !ok {
				return "(nil)", err
			}
			d, err := strExpireArg(tx, expOpt, expArg)
			if err != nil {
				return "", err
			}
			o.Expire = d
		}
		v, ok, err := tx.GetEx(db, args[0], o)
		return strBulk(v, ok), err
	case "mget":
		vals, err := tx.MGet(db, args...)
		if err != nil {
			return "", err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = strBulk(v, v != nil)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case "mset":
		return "OK", tx.MSet(db, args...)
	case "msetnx":
		ok, err := tx.MSetNX(db, args...)
		if ok {
			return strInt(1), err
		}
		return strInt(0), err
	case "append":
		n, err := tx.Append(db, args[0], args[1])
		return strInt(n), err
	case "strlen":
		n, err := tx.StrLen(db, args[0])
		return strInt(n), err
	case "getrange":
		start, err := strArgInt(args[1])
		if err != nil {
			return "", err
		}
		end, err := strArgInt(args[2])
		if err != nil {
			return "", err
		}
		v, err := tx.GetRange(db, args[0], start, end)
		return strBulk(v, true), err
	case "setrange":
		off, err := strArgInt(args[1])
		if err != nil {
			return "", err
		}
		n, err := tx.SetRange(db, args[0], off, args[2])
		return strInt(n), err
	case "incr", "decr", "incrby", "decrby":
		var delta int64 = 1
		if name == "incrby" || name == "decrby" {
			var err error
			if delta, err = strArgInt(args[1]); err != nil {
				return "", err
			}
		}
		if name == "decr" || name == "decrby" {
			if delta == math.MinInt64 {
				return "", ErrDecrOverflow
			}
			delta = -delta
		}
		n, err := tx.IncrBy(db, args[0], delta)
		return strInt(n), err
	case "incrbyfloat":
		v, err := tx.IncrByFloat(db, args[0], args[1])
		return strBulk(v, true), err
	}
	return "", fmt.Errorf("test: unknown command %q", name)
}

// TestStringsExpiredInvisibleBeforeExpirer checks that a key past its
// deadline is hidden from every string read while its record is still on
// disk, and that the expirer then removes it.
func TestStringsExpiredInvisibleBeforeExpirer(t *testing.T) {
	clock := newTestClock()
	s := openTestStore(t, nil, clock)
	update(t, s, func(tx *Tx) error {
		d, err := SetDeadline(tx.Now(), 100, false, false)
		if err != nil {
			return err
		}
		_, err = tx.Set(0, []byte("k"), []byte("v"), SetOptions{Expire: d})
		return err
	})
	clock.Advance(100 * time.Millisecond)
	err := s.View(func(tx *Tx) error {
		if e, _ := tx.load(tx.dbmap[0], []byte("k")); e == nil {
			t.Fatal("the record is already gone; the test needs it on disk")
		}
		if v, ok, err := tx.Get(0, []byte("k")); ok || err != nil || v != nil {
			t.Errorf("GET = %q, %v, %v; want nil", v, ok, err)
		}
		if n, err := tx.StrLen(0, []byte("k")); n != 0 || err != nil {
			t.Errorf("STRLEN = %d, %v", n, err)
		}
		if vs, err := tx.MGet(0, []byte("k")); err != nil || vs[0] != nil {
			t.Errorf("MGET = %q, %v", vs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.ExpireCycle()
	if err != nil || n != 1 {
		t.Fatalf("ExpireCycle = %d, %v; want 1", n, err)
	}
	_ = s.View(func(tx *Tx) error {
		if e, _ := tx.load(tx.dbmap[0], []byte("k")); e != nil {
			t.Errorf("record still present after ExpireCycle: %+v", e)
		}
		return nil
	})
}

// TestStringsAppendTooLong checks APPEND's proto-max-bulk-len limit with a
// pending (uncommitted) 512 MB value whose memory is never touched.
func TestStringsAppendTooLong(t *testing.T) {
	s := openTestStore(t, nil, nil)
	errRollback := errors.New("rollback")
	key := []byte("big")
	err := s.Update(func(tx *Tx) error {
		huge := make([]byte, MaxStringLen-1)
		tx.setPending(tx.dbmap[0], key, &entry{typ: format.TypeString, val: huge})
		if _, err := tx.Append(0, key, []byte("ab")); !errors.Is(err, ErrStringTooLong) {
			t.Errorf("APPEND past MaxStringLen: err = %v, want ErrStringTooLong", err)
		}
		if _, err := tx.SetRange(0, key, MaxStringLen-1, []byte("ab")); !errors.Is(err, ErrStringTooLong) {
			t.Errorf("SETRANGE past MaxStringLen: err = %v, want ErrStringTooLong", err)
		}
		if e, _ := tx.load(tx.dbmap[0], key); e == nil || len(e.val) != MaxStringLen-1 {
			t.Error("the failed APPEND changed the value")
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v", err)
	}
}

// TestStringsReturnedSlicesStable checks the Tx contract on byte slices:
// arguments are copied, and returned values stay unchanged after later
// writes to the same key.
func TestStringsReturnedSlicesStable(t *testing.T) {
	s := openTestStore(t, nil, nil)
	k := []byte("k")
	arg := []byte("hello")
	update(t, s, func(tx *Tx) error {
		_, err := tx.Set(0, k, arg, SetOptions{})
		return err
	})
	copy(arg, "XXXXX")
	var got, rng []byte
	_ = s.View(func(tx *Tx) error {
		got, _, _ = tx.Get(0, k)
		rng, _ = tx.GetRange(0, k, 1, 3)
		return nil
	})
	if string(got) != "hello" {
		t.Fatalf("GET after the caller changed SET's argument = %q", got)
	}
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Append(0, k, []byte(" world")); err != nil {
			return err
		}
		if _, err := tx.SetRange(0, k, 0, []byte("J")); err != nil {
			return err
		}
		if err := tx.MSet(0, []byte("m"), arg); err != nil {
			return err
		}
		if _, err := tx.MSetNX(0, []byte("n"), arg); err != nil {
			return err
		}
		_, err := tx.IncrBy(0, []byte("c"), 1)
		return err
	})
	copy(arg, "YYYYY")
	if string(got) != "hello" || string(rng) != "ell" {
		t.Errorf("returned slices changed by later writes: %q, %q", got, rng)
	}
	_ = s.View(func(tx *Tx) error {
		v, _, _ := tx.Get(0, k)
		if string(v) != "Jello world" {
			t.Errorf("GET = %q, want %q", v, "Jello world")
		}
		vs, _ := tx.MGet(0, []byte("m"), []byte("n"))
		if !bytes.Equal(vs[0], []byte("XXXXX")) || !bytes.Equal(vs[1], []byte("XXXXX")) {
			t.Errorf("MSET/MSETNX kept a reference to their arguments: %q", vs)
		}
		return nil
	})
}

// TestStringsReadOnlyView checks that string writes fail inside View and
// write nothing.
func TestStringsReadOnlyView(t *testing.T) {
	s := openTestStore(t, nil, nil)
	k := []byte("k")
	writes := map[string]func(tx *Tx) error{
		"set":         func(tx *Tx) error { _, err := tx.Set(0, k, k, SetOptions{}); return err },
		"mset":        func(tx *Tx) error { return tx.MSet(0, k, k) },
		"append":      func(tx *Tx) error { _, err := tx.Append(0, k, k); return err },
		"setrange":    func(tx *Tx) error { _, err := tx.SetRange(0, k, 1, k); return err },
		"incrby":      func(tx *Tx) error { _, err := tx.IncrBy(0, k, 1); return err },
		"incrbyfloat": func(tx *Tx) error { _, err := tx.IncrByFloat(0, k, []byte("1")); return err },
	}
	for name, w := range writes {
		if err := s.View(w); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s in View: err = %v, want ErrReadOnly", name, err)
		}
	}
	_ = s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Get(0, k); ok {
			t.Error("a write inside View is visible")
		}
		return nil
	})
}

// TestStringsBadDB checks that an out-of-range database index is refused.
func TestStringsBadDB(t *testing.T) {
	s := openTestStore(t, nil, nil)
	err := s.Update(func(tx *Tx) error {
		for _, db := range []int{-1, format.NumDBs} {
			if _, _, err := tx.Get(db, []byte("k")); !errors.Is(err, ErrDBIndex) {
				t.Errorf("Get(db %d): %v", db, err)
			}
			if _, err := tx.Set(db, []byte("k"), nil, SetOptions{}); !errors.Is(err, ErrDBIndex) {
				t.Errorf("Set(db %d): %v", db, err)
			}
			if err := tx.MSet(db, []byte("k"), nil); !errors.Is(err, ErrDBIndex) {
				t.Errorf("MSet(db %d): %v", db, err)
			}
			if _, err := tx.IncrBy(db, []byte("k"), 1); !errors.Is(err, ErrDBIndex) {
				t.Errorf("IncrBy(db %d): %v", db, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStringsDatabasesSeparate checks that the same key in two databases
// holds two values.
func TestStringsDatabasesSeparate(t *testing.T) {
	s := openTestStore(t, nil, nil)
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Set(0, []byte("k"), []byte("zero"), SetOptions{}); err != nil {
			return err
		}
		_, err := tx.IncrBy(15, []byte("k"), 15)
		return err
	})
	_ = s.View(func(tx *Tx) error {
		v0, _, _ := tx.Get(0, []byte("k"))
		v15, _, _ := tx.Get(15, []byte("k"))
		_, ok3, _ := tx.Get(3, []byte("k"))
		if string(v0) != "zero" || string(v15) != "15" || ok3 {
			t.Errorf("db0 %q, db15 %q, db3 present %v", v0, v15, ok3)
		}
		return nil
	})
}

func TestStringsSetDeadline(t *testing.T) {
	const now = 1767323045000
	const max = math.MaxInt64
	tests := []struct {
		amount           int64
		seconds, absolut bool
		want             int64 // 0: ErrInvalidExpire
	}{
		{100, true, false, now + 100000}, // EX 100
		{100, false, false, now + 100},   // PX 100
		{100, true, true, 100000},        // EXAT 100
		{100, false, true, 100},          // PXAT 100
		{1, false, true, 1},              // PXAT 1 (in the past: allowed)
		{0, true, false, 0},              // EX 0
		{0, false, true, 0},              // PXAT 0
		{-1, true, false, 0},             // EX -1
		{math.MinInt64, false, false, 0}, // PX -9223372036854775808
		{max / 1000, true, false, 0},     // EX 9223372036854775: *1000 + now overflows
		{max / 1000, true, true, max / 1000 * 1000},
		{max/1000 + 1, true, true, 0},    // EXAT 9223372036854776: *1000 overflows
		{max, false, true, max},          // PXAT 9223372036854775807
		{max, false, false, 0},           // PX 9223372036854775807
		{max - now, false, false, max},   // PX up to the last millisecond
		{max - now + 1, false, false, 0}, // PX one past it
		{(max - now) / 1000, true, false, (max-now)/1000*1000 + now},
		{(max-now)/1000 + 1, true, false, 0},
	}
	for _, tt := range tests {
		got, err := SetDeadline(now, tt.amount, tt.seconds, tt.absolut)
		if tt.want == 0 {
			if !errors.Is(err, ErrInvalidExpire) {
				t.Errorf("SetDeadline(now, %d, %v, %v) = %d, %v; want ErrInvalidExpire", tt.amount, tt.seconds, tt.absolut, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SetDeadline(now, %d, %v, %v) = %d, %v; want %d", tt.amount, tt.seconds, tt.absolut, got, err, tt.want)
		}
	}
}

func TestStringsExpireDeadline(t *testing.T) {
	const now = 1767323045000
	const max, min = math.MaxInt64, math.MinInt64
	tests := []struct {
		amount           int64
		seconds, absolut bool
		want             int64
		invalid          bool
	}{
		{100, true, false, now + 100000, false}, // EXPIRE k 100
		{100, false, false, now + 100, false},   // PEXPIRE k 100
		{0, true, false, now, false},            // EXPIRE k 0: deletes
		{-1, true, false, now - 1000, false},    // EXPIRE k -1: deletes
		{100, true, true, 100000, false},        // EXPIREAT k 100
		{-5, false, true, -5, false},            // PEXPIREAT k -5
		{max / 1000, true, true, max / 1000 * 1000, false},
		{max/1000 + 1, true, true, 0, true}, // EXPIREAT overflow by *1000
		{min / 1000, true, true, min / 1000 * 1000, false},
		{min/1000 - 1, true, true, 0, true},   // underflow by *1000
		{max, false, true, max, false},        // PEXPIREAT 9223372036854775807
		{max, false, false, 0, true},          // PEXPIRE overflow by +now
		{max - now, false, false, max, false}, // the last millisecond
		{max - now + 1, false, false, 0, true},
		{min, false, false, min + now, false}, // no underflow check for +now
		{min, false, true, min, false},
		{max / 1000, true, false, 0, true}, // EXPIRE 9223372036854775
	}
	for _, tt := range tests {
		got, err := ExpireDeadline(now, tt.amount, tt.seconds, tt.absolut)
		if tt.invalid {
			if !errors.Is(err, ErrInvalidExpire) {
				t.Errorf("ExpireDeadline(now, %d, %v, %v) = %d, %v; want ErrInvalidExpire", tt.amount, tt.seconds, tt.absolut, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ExpireDeadline(now, %d, %v, %v) = %d, %v; want %d", tt.amount, tt.seconds, tt.absolut, got, err, tt.want)
		}
	}
}

// TestStringsDurable checks that string writes, with their deadlines,
// survive closing and reopening the store.
func TestStringsDurable(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	o := &Options{Now: clock.Now, ExpireInterval: time.Hour}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Set(0, []byte("a"), []byte("1"), SetOptions{Expire: tx.Now() + 5000}); err != nil {
			return err
		}
		if _, err := tx.IncrBy(0, []byte("a"), 41); err != nil {
			return err
		}
		if _, err := tx.Append(1, []byte("b"), []byte("xy")); err != nil {
			return err
		}
		if _, err := tx.IncrByFloat(0, []byte("f"), []byte("0.5")); err != nil {
			return err
		}
		_, err := tx.SetRange(0, []byte("r"), 2, []byte("z"))
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.View(func(tx *Tx) error {
		vs, _ := tx.MGet(0, []byte("a"), []byte("f"), []byte("r"))
		b, _, _ := tx.Get(1, []byte("b"))
		if string(vs[0]) != "42" || string(vs[1]) != "0.5" || string(vs[2]) != "\x00\x00z" || string(b) != "xy" {
			t.Errorf("after reopen: %q, db1 b = %q", vs, b)
		}
		if e, _ := tx.live(tx.dbmap[0], []byte("a")); e == nil || e.expireAt != tx.Now()+5000 {
			t.Errorf("deadline after reopen: %+v", e)
		}
		return nil
	})
	clock.Advance(5 * time.Second)
	_ = s.View(func(tx *Tx) error {
		if _, ok, _ := tx.Get(0, []byte("a")); ok {
			t.Error("key visible past its deadline after reopen")
		}
		return nil
	})
}
