package kv

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// ksSession runs Redis-like command lines against a store, so that table
// tests read like redis-cli sessions. It implements only what the key-space
// tests need; "xtype key type value" stores a value of a reserved type and
// "advance ms" moves the test clock.
type ksSession struct {
	t     *testing.T
	s     *Store
	clock *testClock
	db    int
}

func newKSSession(t *testing.T, o *Options) *ksSession {
	clock := newTestClock()
	return &ksSession{t: t, s: openTestStore(t, o, clock), clock: clock}
}

// ksPut stores a value of type typ with deadline exp (0: none) directly.
func ksPut(tx *Tx, db int, key []byte, typ byte, val []byte, exp int64) error {
	phys, err := tx.physOf(db)
	if err != nil {
		return err
	}
	return tx.put(phys, key, &entry{typ: typ, expireAt: exp, val: bytes.Clone(val)})
}

func ksArg(s string) []byte {
	if s == `""` {
		return []byte{}
	}
	return []byte(s)
}

func ksInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad integer %q", s)
	}
	return n
}

// run executes one command line and returns its reply as text: integers in
// decimal, "OK", "(nil)", errors as their message, arrays as [a b c] (KEYS
// sorted).
func (ss *ksSession) run(line string) string {
	t := ss.t
	t.Helper()
	f := strings.Fields(line)
	cmd, a := strings.ToLower(f[0]), f[1:]
	keys := func(from int) [][]byte {
		var ks [][]byte
		for _, k := range a[from:] {
			ks = append(ks, ksArg(k))
		}
		return ks
	}
	var reply string
	intReply := func(n int64, err error) {
		if err != nil {
			reply = err.Error()
		} else {
			reply = strconv.FormatInt(n, 10)
		}
	}
	boolReply := func(b bool, err error) {
		n := int64(0)
		if b {
			n = 1
		}
		intReply(n, err)
	}
	okReply := func(err error) {
		if err != nil {
			reply = err.Error()
		} else {
			reply = "OK"
		}
	}
	write := func(fn func(tx *Tx) error) {
		if err := ss.s.Update(fn); err != nil && reply == "" {
			reply = err.Error()
		}
	}
	read := func(fn func(tx *Tx) error) {
		if err := ss.s.View(fn); err != nil && reply == "" {
			reply = err.Error()
		}
	}
	switch cmd {
	case "advance":
		ss.clock.Advance(time.Duration(ksInt(t, a[0])) * time.Millisecond)
		return "OK"
	case "select":
		ss.db = int(ksInt(t, a[0]))
		return "OK"
	case "set": // set k v [px ms]
		write(func(tx *Tx) error {
			exp := int64(0)
			if len(a) == 4 {
				exp = tx.Now() + ksInt(t, a[3])
			}
			okReply(ksPut(tx, ss.db, ksArg(a[0]), format.TypeString, ksArg(a[1]), exp))
			return nil
		})
	case "xtype": // xtype k hash v
		typ, ok := format.TypeByName(a[1])
		if !ok {
			t.Fatalf("unknown type %q", a[1])
		}
		write(func(tx *Tx) error {
			okReply(ksPut(tx, ss.db, ksArg(a[0]), typ, ksArg(a[2]), 0))
			return nil
		})
	case "get":
		read(func(tx *Tx) error {
			_, e, err := tx.liveDB(ss.db, ksArg(a[0]))
			switch {
			case err != nil:
				reply = err.Error()
			case e == nil:
				reply = "(nil)"
			default:
				reply = string(e.val)
			}
			return nil
		})
	case "del":
		write(func(tx *Tx) error { n, err := tx.Del(ss.db, keys(0)...); intReply(int64(n), err); return nil })
	case "exists":
		read(func(tx *Tx) error { n, err := tx.Exists(ss.db, keys(0)...); intReply(int64(n), err); return nil })
	case "touch":
		read(func(tx *Tx) error { n, err := tx.Touch(ss.db, keys(0)...); intReply(int64(n), err); return nil })
	case "type":
		read(func(tx *Tx) error {
			typ, err := tx.Type(ss.db, ksArg(a[0]))
			reply = typ
			if err != nil {
				reply = err.Error()
			}
			return nil
		})
	case "expire", "pexpire", "expireat", "pexpireat":
		var cond ExpireCond
		for _, o := range a[2:] {
			switch strings.ToLower(o) {
			case "nx":
				cond |= ExpireNX
			case "xx":
				cond |= ExpireXX
			case "gt":
				cond |= ExpireGT
			case "lt":
				cond |= ExpireLT
			default:
				t.Fatalf("bad option %q", o)
			}
		}
		write(func(tx *Tx) error {
			d, err := ExpireDeadline(tx.Now(), ksInt(t, a[1]), !strings.HasPrefix(cmd, "p"), strings.HasSuffix(cmd, "at"))
			if err != nil {
				reply = err.Error()
				return nil
			}
			boolReply(tx.Expire(ss.db, ksArg(a[0]), d, cond))
			return nil
		})
	case "persist":
		write(func(tx *Tx) error { boolReply(tx.Persist(ss.db, ksArg(a[0]))); return nil })
	case "ttl":
		read(func(tx *Tx) error { intReply(tx.TTL(ss.db, ksArg(a[0]))); return nil })
	case "pttl":
		read(func(tx *Tx) error { intReply(tx.PTTL(ss.db, ksArg(a[0]))); return nil })
	case "pexpiretime":
		read(func(tx *Tx) error { intReply(tx.ExpireTime(ss.db, ksArg(a[0]))); return nil })
	case "expiretime":
		read(func(tx *Tx) error {
			ms, err := tx.ExpireTime(ss.db, ksArg(a[0]))
			if ms > 0 {
				ms = (ms + 500) / 1000
			}
			intReply(ms, err)
			return nil
		})
	case "rename":
		write(func(tx *Tx) error { okReply(tx.Rename(ss.db, ksArg(a[0]), ksArg(a[1]))); return nil })
	case "renamenx":
		write(func(tx *Tx) error { boolReply(tx.RenameNX(ss.db, ksArg(a[0]), ksArg(a[1]))); return nil })
	case "copy": // copy src dst [db n] [replace]
		dst, replace := ss.db, false
		for i := 2; i < len(a); i++ {
			switch strings.ToLower(a[i]) {
			case "db":
				i++
				dst = int(ksInt(t, a[i]))
			case "replace":
				replace = true
			}
		}
		write(func(tx *Tx) error {
			boolReply(tx.Copy(ss.db, ksArg(a[0]), dst, ksArg(a[1]), replace))
			return nil
		})
	case "move":
		write(func(tx *Tx) error { boolReply(tx.Move(ss.db, ksArg(a[0]), int(ksInt(t, a[1])))); return nil })
	case "swapdb":
		write(func(tx *Tx) error { okReply(tx.SwapDB(int(ksInt(t, a[0])), int(ksInt(t, a[1])))); return nil })
	case "flushdb":
		write(func(tx *Tx) error { okReply(tx.FlushDB(ss.db)); return nil })
	case "flushall":
		write(func(tx *Tx) error { okReply(tx.FlushAll()); return nil })
	case "dbsize":
		read(func(tx *Tx) error { intReply(tx.DBSize(ss.db)); return nil })
	case "randomkey":
		read(func(tx *Tx) error {
			k, ok, err := tx.RandomKey(ss.db)
			switch {
			case err != nil:
				reply = err.Error()
			case !ok:
				reply = "(nil)"
			default:
				reply = string(k)
			}
			return nil
		})
	case "keys":
		read(func(tx *Tx) error {
			ks, err := tx.Keys(ss.db, ksArg(a[0]))
			if err != nil {
				reply = err.Error()
				return nil
			}
			reply = ksList(ks)
			return nil
		})
	default:
		t.Fatalf("unknown test command %q", line)
	}
	return reply
}

// ksList formats keys sorted, the empty key as "".
func ksList(ks [][]byte) string {
	ss := make([]string, len(ks))
	for i, k := range ks {
		ss[i] = string(k)
		if len(k) == 0 {
			ss[i] = `""`
		}
	}
	slices.Sort(ss)
	return "[" + strings.Join(ss, " ") + "]"
}

// ksScript runs steps written as "command -> reply" lines.
func ksScript(t *testing.T, ss *ksSession, script string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, want, ok := strings.Cut(line, "->")
		if !ok {
			t.Fatalf("bad script line %q", line)
		}
		cmd, want = strings.TrimSpace(cmd), strings.TrimSpace(want)
		if got := ss.run(cmd); got != want {
			t.Fatalf("%s: got %q, want %q", cmd, got, want)
		}
	}
}

// The scripts were checked against redis-server 7.0.15 (xtype as HSET,
// RPUSH or ZADD), except where they depend on the test clock: from the
// first "advance" on, TTL readings, and the scripts marked "clock".
var ksTests = []struct{ name, script string }{
	{"del k1 k2 k3", `
		set k1 a -> OK
		set k2 b -> OK
		del k1 k2 k3 -> 2
		exists k1 k2 -> 0
		del k1 -> 0
		dbsize -> 0`},
	{"del k k", `
		set k a -> OK
		del k k -> 1
		exists k -> 0`},
	{"del expired", `
		set k a px 100 -> OK
		advance 100 -> OK
		dbsize -> 1
		del k -> 0
		dbsize -> 0`},
	{"exists a a b", `
		set a 1 -> OK
		exists a a b -> 2
		exists a a a -> 3
		exists nokey -> 0`},
	{"touch a a b", `
		set a 1 -> OK
		touch a a b -> 2
		touch b -> 0`},
	{"type k", `
		type k -> none
		set k v -> OK
		type k -> string
		xtype h hash v -> OK
		type h -> hash
		xtype l list v -> OK
		type l -> list
		xtype z zset v -> OK
		type z -> zset`},
	{"type expired", `
		set k v px 10 -> OK
		type k -> string
		advance 10 -> OK
		type k -> none`},
	{"expire k 10", `
		expire k 10 -> 0
		set k v -> OK
		expire k 10 -> 1
		ttl k -> 10
		pttl k -> 10000
		expire k 20 -> 1
		ttl k -> 20`},
	{"expire k 10 nx", `
		set k v -> OK
		expire k 10 nx -> 1
		expire k 20 nx -> 0
		ttl k -> 10`},
	{"expire k 10 xx", `
		set k v -> OK
		expire k 10 xx -> 0
		ttl k -> -1
		expire k 10 -> 1
		expire k 20 xx -> 1
		ttl k -> 20`},
	{"expire k 10 gt", `
		set k v -> OK
		expire k 10 gt -> 0
		ttl k -> -1
		expire k 10 -> 1
		expire k 10 gt -> 0
		expire k 5 gt -> 0
		expire k 11 gt -> 1
		ttl k -> 11`},
	{"expire k 10 lt", `
		set k v -> OK
		expire k 100 lt -> 1
		ttl k -> 100
		expire k 100 lt -> 0
		expire k 200 lt -> 0
		expire k 50 lt -> 1
		ttl k -> 50`},
	{"expire k 10 xx lt", `
		set k v -> OK
		expire k 10 xx lt -> 0
		ttl k -> -1
		expire k 10 lt -> 1
		expire k 5 xx lt -> 1
		ttl k -> 5
		expire k 20 xx gt -> 1
		ttl k -> 20`},
	{"expire k -1", `
		set k v -> OK
		expire k -1 -> 1
		exists k -> 0
		dbsize -> 0`},
	{"expire k 0 nx", `
		set k v -> OK
		expire k 0 nx -> 1
		exists k -> 0`},
	{"expire k -1 gt", `
		set k v -> OK
		expire k -1 gt -> 0
		exists k -> 1
		expire k -1 lt -> 1
		exists k -> 0`},
	{"expire k -1 gt with ttl", `
		set k v -> OK
		expire k 100 -> 1
		expire k -1 gt -> 0
		expire k -1 xx -> 1
		exists k -> 0`},
	{"expire k 9223372036854775807", `
		set k v -> OK
		expire k 9223372036854775807 -> ERR invalid expire time
		pexpire k 9223372036854775807 -> ERR invalid expire time
		pexpireat k 9223372036854775807 -> 1
		pttl k -> 9223370269531730807`}, // clock: MaxInt64 - test clock
	{"pexpire k 1500", `
		set k v -> OK
		pexpire k 1500 -> 1
		pttl k -> 1500
		ttl k -> 2
		advance 1000 -> OK
		pttl k -> 500
		ttl k -> 1
		advance 1 -> OK
		ttl k -> 0
		advance 499 -> OK
		pttl k -> -2
		ttl k -> -2
		exists k -> 0`}, // clock
	{"expireat k 1767323045", `
		set k v -> OK
		expireat k 1767323045 -> 1
		exists k -> 0
		pexpiretime k -> -2
		expireat k 1767323046 -> 0
		set k v -> OK
		pexpireat k 1767323045501 -> 1
		pexpiretime k -> 1767323045501
		expiretime k -> 1767323046
		pttl k -> 501
		expireat k 1767323100 -> 1
		expiretime k -> 1767323100
		pexpiretime k -> 1767323100000
		ttl k -> 55`}, // clock: now is 1767323045000
	{"expiretime k", `
		expiretime k -> -2
		pexpiretime k -> -2
		set k v -> OK
		expiretime k -> -1
		pexpiretime k -> -1`},
	{"persist k", `
		persist k -> 0
		set k v -> OK
		persist k -> 0
		expire k 100 -> 1
		persist k -> 1
		ttl k -> -1
		persist k -> 0
		get k -> v`},
	{"ttl k", `
		ttl k -> -2
		pttl k -> -2
		set k v -> OK
		ttl k -> -1
		pttl k -> -1`},
	{"rename a b", `
		rename a b -> ERR no such key
		set a 1 -> OK
		set b 2 -> OK
		expire a 100 -> 1
		expire b 50 -> 1
		rename a b -> OK
		exists a -> 0
		get b -> 1
		ttl b -> 100
		dbsize -> 1`},
	{"rename a b without ttl", `
		set a 1 -> OK
		set b 2 -> OK
		expire b 50 -> 1
		rename a b -> OK
		ttl b -> -1`},
	{"rename a a", `
		rename a a -> ERR no such key
		set a 1 -> OK
		expire a 100 -> 1
		rename a a -> OK
		get a -> 1
		ttl a -> 100`},
	{"rename expired", `
		set a 1 px 10 -> OK
		advance 10 -> OK
		rename a b -> ERR no such key
		exists b -> 0`},
	{"renamenx a b", `
		renamenx a b -> ERR no such key
		set a 1 -> OK
		set b 2 -> OK
		renamenx a b -> 0
		get b -> 2
		get a -> 1
		expire a 100 -> 1
		renamenx a c -> 1
		exists a -> 0
		get c -> 1
		ttl c -> 100`},
	{"renamenx a a", `
		renamenx a a -> ERR no such key
		set a 1 -> OK
		renamenx a a -> 0
		get a -> 1`},
	{"renamenx over expired", `
		set a 1 -> OK
		set b 2 px 10 -> OK
		advance 10 -> OK
		renamenx a b -> 1
		get b -> 1
		ttl b -> -1
		dbsize -> 1`},
	{"copy a b", `
		copy a b -> 0
		set a 1 -> OK
		expire a 100 -> 1
		copy a b -> 1
		get b -> 1
		ttl b -> 100
		get a -> 1
		set c 3 -> OK
		copy a c -> 0
		get c -> 3
		copy a c replace -> 1
		get c -> 1
		ttl c -> 100
		persist a -> 1
		expire c 5 -> 1
		copy a c replace -> 1
		ttl c -> -1
		dbsize -> 3`},
	{"copy a a", `
		set a 1 -> OK
		copy a a -> ERR source and destination objects are the same
		copy a a replace -> ERR source and destination objects are the same
		copy a a db 1 -> 1
		copy a b db 16 -> ERR DB index is out of range
		copy a b db -1 -> ERR DB index is out of range
		select 1 -> OK
		get a -> 1`},
	{"copy a b db 1", `
		set a 1 -> OK
		pexpire a 5000 -> 1
		copy a b db 1 -> 1
		select 1 -> OK
		get b -> 1
		pttl b -> 5000
		dbsize -> 1`},
	{"move k 1", `
		move k 1 -> 0
		set k v -> OK
		expire k 100 -> 1
		move k 1 -> 1
		exists k -> 0
		dbsize -> 0
		select 1 -> OK
		get k -> v
		ttl k -> 100
		dbsize -> 1
		move k 1 -> ERR source and destination objects are the same
		move k 16 -> ERR DB index is out of range
		move k -1 -> ERR DB index is out of range`},
	{"move k 1 existing", `
		set k a -> OK
		select 1 -> OK
		set k b -> OK
		select 0 -> OK
		move k 1 -> 0
		get k -> a
		select 1 -> OK
		get k -> b`},
	{"move missing k 0", `
		move nokey 0 -> ERR source and destination objects are the same
		move nokey 16 -> ERR DB index is out of range`},
	{"swapdb 0 1", `
		set a 0 -> OK
		select 1 -> OK
		set b 1 -> OK
		set c 1 -> OK
		swapdb 0 1 -> OK
		dbsize -> 1
		get a -> 0
		exists b c -> 0
		select 0 -> OK
		dbsize -> 2
		get b -> 1
		swapdb 0 0 -> OK
		dbsize -> 2
		swapdb 0 16 -> ERR DB index is out of range
		swapdb -1 0 -> ERR DB index is out of range`},
	{"flushdb", `
		set a 1 -> OK
		set b 1 px 100 -> OK
		select 1 -> OK
		set c 1 -> OK
		select 0 -> OK
		flushdb -> OK
		dbsize -> 0
		exists a b -> 0
		select 1 -> OK
		dbsize -> 1
		flushall -> OK
		dbsize -> 0
		exists c -> 0`},
	{"dbsize", `
		dbsize -> 0
		set a 1 -> OK
		set a 2 -> OK
		set b 1 px 10 -> OK
		dbsize -> 2
		advance 10 -> OK
		dbsize -> 2
		del b -> 0
		dbsize -> 1`},
	{"randomkey", `
		randomkey -> (nil)
		set k v -> OK
		randomkey -> k
		set e v px 10 -> OK
		advance 10 -> OK
		randomkey -> k
		del k -> 1
		randomkey -> (nil)`},
	{"keys", `
		keys * -> []
		set hello 1 -> OK
		set hallo 1 -> OK
		set hxllo 1 -> OK
		set hllo 1 -> OK
		set heeeello 1 -> OK
		set h*llo 1 -> OK
		keys h?llo -> [h*llo hallo hello hxllo]
		keys h*llo -> [h*llo hallo heeeello hello hllo hxllo]
		keys h[ae]llo -> [hallo hello]
		keys h[^e]llo -> [h*llo hallo hxllo]
		keys h[a-b]llo -> [hallo]
		keys h\*llo -> [h*llo]
		keys hello -> [hello]
		keys nothing -> []
		keys * -> [h*llo hallo heeeello hello hllo hxllo]
		keys "" -> []
		set "" empty -> OK
		keys "" -> [""]
		keys * -> ["" h*llo hallo heeeello hello hllo hxllo]
		keys ? -> []`},
	{"keys expired", `
		set a 1 px 10 -> OK
		set b 1 -> OK
		keys * -> [a b]
		keys a -> [a]
		advance 10 -> OK
		keys * -> [b]
		keys a -> []
		keys ? -> [b]`},
}

// TestKeyspaceCommands runs every script on one store (opening a store per
// script is slow), emptied and with the clock reset between scripts; the
// second pass uses a tiny hot tier, so that records are read back from
// Pebble rather than from memory.
func TestKeyspaceCommands(t *testing.T) {
	for _, pass := range []struct {
		name string
		o    *Options
	}{{"hot", &Options{Durability: No}}, {"disk", &Options{Durability: No, HotTierBytes: 1}}} {
		t.Run(pass.name, func(t *testing.T) {
			ss := newKSSession(t, pass.o)
			start := ss.clock.ms.Load()
			for _, tc := range ksTests {
				t.Run(tc.name, func(t *testing.T) {
					update(t, ss.s, func(tx *Tx) error { return tx.FlushAll() })
					ss.t, ss.db = t, 0
					ss.clock.ms.Store(start)
					ksScript(t, ss, tc.script)
				})
			}
		})
	}
}

func TestKeyspaceDBIndex(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	k := []byte("k")
	for _, db := range []int{-1, 16, math.MaxInt} {
		errs := map[string]error{}
		_ = s.Update(func(tx *Tx) error {
			_, errs["del"] = tx.Del(db, k)
			_, errs["exists"] = tx.Exists(db, k)
			_, errs["touch"] = tx.Touch(db, k)
			_, errs["type"] = tx.Type(db, k)
			_, errs["expire"] = tx.Expire(db, k, tx.Now()+1000, ExpireAlways)
			_, errs["persist"] = tx.Persist(db, k)
			_, errs["pttl"] = tx.PTTL(db, k)
			_, errs["ttl"] = tx.TTL(db, k)
			_, errs["expiretime"] = tx.ExpireTime(db, k)
			errs["rename"] = tx.Rename(db, k, []byte("x"))
			_, errs["renamenx"] = tx.RenameNX(db, k, []byte("x"))
			_, errs["copy src"] = tx.Copy(db, k, 0, []byte("x"), false)
			_, errs["copy dst"] = tx.Copy(0, k, db, []byte("x"), false)
			_, errs["move src"] = tx.Move(db, k, 0)
			_, errs["move dst"] = tx.Move(0, k, db)
			errs["swapdb a"] = tx.SwapDB(db, 0)
			errs["swapdb b"] = tx.SwapDB(0, db)
			errs["flushdb"] = tx.FlushDB(db)
			_, errs["dbsize"] = tx.DBSize(db)
			_, _, errs["randomkey"] = tx.RandomKey(db)
			_, errs["keys"] = tx.Keys(db, []byte("*"))
			_, _, errs["scan"] = tx.Scan(db, 0, nil, 10, "")
			return nil
		})
		for op, err := range errs {
			if !errors.Is(err, ErrDBIndex) {
				t.Errorf("%s in db %d: got %v, want ErrDBIndex", op, db, err)
			}
		}
	}
}

func TestKeyspaceWritesInViewFail(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	update(t, s, func(tx *Tx) error { return ksPut(tx, 0, []byte("k"), format.TypeString, []byte("v"), 0) })
	k := []byte("k")
	err := s.View(func(tx *Tx) error {
		errs := map[string]error{}
		_, errs["del"] = tx.Del(0, k)
		_, errs["expire"] = tx.Expire(0, k, tx.Now()+1000, ExpireAlways)
		errs["rename"] = tx.Rename(0, k, []byte("x"))
		_, errs["copy"] = tx.Copy(0, k, 1, k, false)
		_, errs["move"] = tx.Move(0, k, 1)
		errs["swapdb"] = tx.SwapDB(0, 1)
		errs["swapdb same"] = tx.SwapDB(0, 0)
		errs["flushdb"] = tx.FlushDB(0)
		errs["flushall"] = tx.FlushAll()
		for op, err := range errs {
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s in View: got %v, want ErrReadOnly", op, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ksOnDisk reports whether key's data record of logical db is in Pebble,
// and whether any expiry-index entry for it is.
func ksOnDisk(t *testing.T, s *Store, db int, key []byte) (data, index bool) {
	t.Helper()
	phys, err := s.phys(db)
	if err != nil {
		t.Fatal(err)
	}
	_, closer, err := s.db.Get(format.AppendDataKey(nil, phys, key))
	switch {
	case err == nil:
		data = true
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		t.Fatal(err)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: format.ExpirePrefix(phys), UpperBound: format.ExpireEnd(phys)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		_, _, k, err := format.DecodeExpireKey(it.Key())
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(k, key) {
			index = true
		}
	}
	return data, index
}

func TestKeyspaceExpireCycleRemovesRecords(t *testing.T) {
	ss := newKSSession(t, &Options{Durability: No})
	s := ss.s
	ksScript(t, ss, `
		set a 1 -> OK
		set b 1 -> OK
		set c 1 -> OK
		pexpire a 100 -> 1
		pexpire b 300 -> 1
		copy b b2 db 1 -> 1
		set m 1 -> OK
		pexpire m 100 -> 1
		move m 2 -> 1
		set r 1 -> OK
		pexpire r 100 -> 1
		rename r r2 -> OK
		pexpire c 100 -> 1
		persist c -> 1`)
	if d, i := ksOnDisk(t, s, 0, []byte("a")); !d || !i {
		t.Fatalf("a before expiry: data %v index %v", d, i)
	}
	if d, i := ksOnDisk(t, s, 0, []byte("r")); d || i {
		t.Fatalf("renamed r: data %v index %v, want none", d, i)
	}
	if d, i := ksOnDisk(t, s, 0, []byte("c")); !d || i {
		t.Fatalf("persisted c: data %v index %v, want data only", d, i)
	}
	ss.clock.Advance(100 * time.Millisecond)
	n, err := s.ExpireCycle()
	if err != nil || n != 3 { // a, m (db 2), r2
		t.Fatalf("ExpireCycle = %d, %v; want 3", n, err)
	}
	for _, c := range []struct {
		db        int
		key       string
		wantThere bool
	}{{0, "a", false}, {2, "m", false}, {0, "r2", false}, {0, "b", true}, {1, "b2", true}, {0, "c", true}} {
		d, i := ksOnDisk(t, s, c.db, []byte(c.key))
		if d != c.wantThere {
			t.Errorf("db %d key %s: data record present %v, want %v", c.db, c.key, d, c.wantThere)
		}
		if !c.wantThere && i {
			t.Errorf("db %d key %s: expiry index entry left behind", c.db, c.key)
		}
	}
	ksScript(t, ss, `
		dbsize -> 2
		advance 200 -> OK
		dbsize -> 2`)
	if n, err := s.ExpireCycle(); err != nil || n != 2 {
		t.Fatalf("second ExpireCycle = %d, %v; want 2", n, err)
	}
	ksScript(t, ss, `
		dbsize -> 1
		select 1 -> OK
		dbsize -> 0`)
	for _, db := range []int{0, 1} {
		for _, k := range []string{"b", "b2"} {
			if d, i := ksOnDisk(t, s, db, []byte(k)); d || i {
				t.Errorf("db %d key %s after expiry: data %v index %v", db, k, d, i)
			}
		}
	}
}

func TestKeyspaceExpireInPastRemovesRecord(t *testing.T) {
	ss := newKSSession(t, &Options{Durability: No})
	ksScript(t, ss, `
		set k v -> OK
		expire k 100 -> 1
		pexpireat k 1 -> 1`)
	if d, i := ksOnDisk(t, ss.s, 0, []byte("k")); d || i {
		t.Fatalf("after expire in the past: data %v index %v", d, i)
	}
}

func ksReopen(t *testing.T, s *Store, dir string, o *Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func ksDBSizes(t *testing.T, s *Store) [format.NumDBs]int64 {
	t.Helper()
	var sz [format.NumDBs]int64
	err := s.View(func(tx *Tx) error {
		for db := range sz {
			n, err := tx.DBSize(db)
			if err != nil {
				return err
			}
			sz[db] = n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sz
}

func TestKeyspacePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	o := &Options{Durability: No, Now: clock.Now, ExpireInterval: time.Hour}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// db 0: 500 keys, 100 deleted, 50 expiring later; db 1: 30 keys with TTL
	// in the past (still counted); db 2: 10 keys, then flushed; db 3: 7
	// keys, then swapped with db 4 (empty); db 5 gets keys moved and copied
	// from db 0.
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 500; i++ {
			exp := int64(0)
			if i%10 == 0 {
				exp = tx.Now() + 60_000
			}
			if err := ksPut(tx, 0, fmt.Appendf(nil, "k%d", i), format.TypeString, []byte("v"), exp); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			if n, err := tx.Del(0, fmt.Appendf(nil, "k%d", i*5+1)); err != nil || n != 1 {
				return fmt.Errorf("del: %d %v", n, err)
			}
		}
		for i := 0; i < 30; i++ {
			if err := ksPut(tx, 1, fmt.Appendf(nil, "e%d", i), format.TypeString, []byte("v"), tx.Now()+5); err != nil {
				return err
			}
		}
		for i := 0; i < 10; i++ {
			if err := ksPut(tx, 2, fmt.Appendf(nil, "f%d", i), format.TypeString, []byte("v"), 0); err != nil {
				return err
			}
		}
		for i := 0; i < 7; i++ {
			if err := ksPut(tx, 3, fmt.Appendf(nil, "s%d", i), format.TypeString, []byte("v"), 0); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx *Tx) error {
		if err := tx.FlushDB(2); err != nil {
			return err
		}
		if err := tx.SwapDB(3, 4); err != nil {
			return err
		}
		if ok, err := tx.Move(0, []byte("k10"), 5); err != nil || !ok { // has a TTL
			return fmt.Errorf("move: %v %v", ok, err)
		}
		if ok, err := tx.Copy(0, []byte("k20"), 5, []byte("c20"), false); err != nil || !ok {
			return fmt.Errorf("copy: %v %v", ok, err)
		}
		return nil
	})
	clock.Advance(10 * time.Millisecond) // db 1's keys are now past their deadline
	want := [format.NumDBs]int64{0: 399, 1: 30, 4: 7, 5: 2}
	if got := ksDBSizes(t, s); got != want {
		t.Fatalf("before reopen: dbsizes %v, want %v", got, want)
	}
	s = ksReopen(t, s, dir, o)
	if got := ksDBSizes(t, s); got != want {
		t.Fatalf("after reopen: dbsizes %v, want %v", got, want)
	}
	err = s.View(func(tx *Tx) error {
		if n, _ := tx.Exists(4, []byte("s3")); n != 1 {
			t.Errorf("swapped db 4 lacks s3")
		}
		if n, _ := tx.Exists(3, []byte("s3")); n != 0 {
			t.Errorf("swapped db 3 still has s3")
		}
		if n, _ := tx.Exists(2, []byte("f1")); n != 0 {
			t.Errorf("flushed db 2 still has f1")
		}
		if n, _ := tx.Exists(1, []byte("e1")); n != 0 {
			t.Errorf("expired e1 exists")
		}
		if ms, _ := tx.PTTL(5, []byte("k10")); ms != 60_000-10 {
			t.Errorf("moved k10 pttl %d, want %d", ms, 60_000-10)
		}
		if ms, _ := tx.PTTL(5, []byte("c20")); ms != 60_000-10 {
			t.Errorf("copied c20 pttl %d, want %d", ms, 60_000-10)
		}
		if ms, _ := tx.PTTL(0, []byte("k20")); ms != 60_000-10 {
			t.Errorf("copy source k20 pttl %d, want %d", ms, 60_000-10)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The expirer removes db 1's records, and the count follows.
	if n, err := s.ExpireCycle(); err != nil || n != 30 {
		t.Fatalf("ExpireCycle = %d, %v; want 30", n, err)
	}
	want[1] = 0
	// Swap back and flush everything, then reopen again.
	update(t, s, func(tx *Tx) error { return tx.SwapDB(4, 3) })
	want[3], want[4] = want[4], want[3]
	if got := ksDBSizes(t, s); got != want {
		t.Fatalf("after swap back: dbsizes %v, want %v", got, want)
	}
	s = ksReopen(t, s, dir, o)
	if got := ksDBSizes(t, s); got != want {
		t.Fatalf("after second reopen: dbsizes %v, want %v", got, want)
	}
	update(t, s, func(tx *Tx) error { return tx.FlushAll() })
	s = ksReopen(t, s, dir, o)
	if got := ksDBSizes(t, s); got != ([format.NumDBs]int64{}) {
		t.Fatalf("after flushall and reopen: dbsizes %v", got)
	}
	err = s.View(func(tx *Tx) error {
		for db := 0; db < format.NumDBs; db++ {
			ks, err := tx.Keys(db, []byte("*"))
			if err != nil {
				return err
			}
			if len(ks) != 0 {
				t.Errorf("db %d has %d keys after flushall", db, len(ks))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKeyspaceSwapDBInTx checks that a transaction sees its own SWAPDB and
// that a failed transaction's swap is discarded.
func TestKeyspaceSwapDBInTx(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	update(t, s, func(tx *Tx) error { return ksPut(tx, 0, []byte("a"), format.TypeString, []byte("v"), 0) })
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.SwapDB(0, 7); err != nil {
			return err
		}
		if n, _ := tx.Exists(7, []byte("a")); n != 1 {
			t.Errorf("swap not visible inside the transaction")
		}
		if err := ksPut(tx, 0, []byte("b"), format.TypeString, []byte("v"), 0); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update = %v", err)
	}
	err = s.View(func(tx *Tx) error {
		if n, _ := tx.Exists(0, []byte("a"), []byte("b")); n != 1 {
			t.Errorf("failed swap transaction left traces: exists a b = %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKeyspaceRenameAtomic checks that concurrent readers always see
// exactly one of the two names while a writer renames back and forth, and
// that a failed transaction's rename is discarded.
func TestKeyspaceRenameAtomic(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	a, b := []byte("a"), []byte("b")
	update(t, s, func(tx *Tx) error { return ksPut(tx, 0, a, format.TypeString, []byte("v"), 0) })
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_ = s.View(func(tx *Tx) error {
					n, err := tx.Exists(0, a, b)
					if err != nil || n != 1 {
						bad.Add(1)
					}
					if sz, _ := tx.DBSize(0); sz != 1 {
						bad.Add(1)
					}
					return nil
				})
			}
		}()
	}
	from, to := a, b
	for i := 0; i < 300; i++ {
		update(t, s, func(tx *Tx) error { return tx.Rename(0, from, to) })
		from, to = to, from
	}
	stop.Store(true)
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d reads saw a half-done rename", n)
	}
	boom := errors.New("boom")
	if err := s.Update(func(tx *Tx) error {
		if err := tx.Rename(0, from, []byte("c")); err != nil {
			return err
		}
		return boom
	}); err != boom {
		t.Fatalf("Update = %v", err)
	}
	err := s.View(func(tx *Tx) error {
		n, _ := tx.Exists(0, from)
		m, _ := tx.Exists(0, []byte("c"))
		if n != 1 || m != 0 {
			t.Errorf("failed rename left traces: exists %s=%d c=%d", from, n, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKeyspaceOpsSeePendingWrites runs several operations in one
// transaction, each depending on the previous one's writes.
func TestKeyspaceOpsSeePendingWrites(t *testing.T) {
	clock := newTestClock()
	s := openTestStore(t, &Options{Durability: No}, clock)
	update(t, s, func(tx *Tx) error {
		steps := []struct {
			name string
			fn   func() (any, error)
			want any
		}{
			{"put a", func() (any, error) {
				return nil, ksPut(tx, 0, []byte("a"), format.TypeString, []byte("1"), 0)
			}, nil},
			{"expire a 10", func() (any, error) { return tx.Expire(0, []byte("a"), tx.Now()+10_000, ExpireAlways) }, true},
			{"rename a b", func() (any, error) { return nil, tx.Rename(0, []byte("a"), []byte("b")) }, nil},
			{"pttl b", func() (any, error) { return tx.PTTL(0, []byte("b")) }, int64(10_000)},
			{"move b 1", func() (any, error) { return tx.Move(0, []byte("b"), 1) }, true},
			{"copy b c (db 1)", func() (any, error) { return tx.Copy(1, []byte("b"), 1, []byte("c"), false) }, true},
			{"dbsize 1", func() (any, error) { return tx.DBSize(1) }, int64(2)},
			{"dbsize 0", func() (any, error) { return tx.DBSize(0) }, int64(0)},
			{"keys * (db 1)", func() (any, error) {
				ks, err := tx.Keys(1, []byte("*"))
				return ksList(ks), err
			}, "[b c]"},
			{"swapdb 0 1", func() (any, error) { return nil, tx.SwapDB(0, 1) }, nil},
			{"exists b c", func() (any, error) { return tx.Exists(0, []byte("b"), []byte("c")) }, 2},
			{"flushdb", func() (any, error) { return nil, tx.FlushDB(0) }, nil},
			{"randomkey", func() (any, error) { _, ok, err := tx.RandomKey(0); return ok, err }, false},
			{"dbsize 0 after flush", func() (any, error) { return tx.DBSize(0) }, int64(0)},
		}
		for _, st := range steps {
			got, err := st.fn()
			if err != nil || got != st.want {
				t.Fatalf("%s: got %v, %v; want %v", st.name, got, err, st.want)
			}
		}
		return nil
	})
	if got := ksDBSizes(t, s); got != ([format.NumDBs]int64{}) {
		t.Fatalf("dbsizes after commit: %v", got)
	}
}

func TestKeyspaceRandomKeySpread(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No}, nil)
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 50; i++ {
			if err := ksPut(tx, 0, fmt.Appendf(nil, "k%d", i), format.TypeString, nil, 0); err != nil {
				return err
			}
		}
		return nil
	})
	seen := map[string]bool{}
	err := s.View(func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			k, ok, err := tx.RandomKey(0)
			if err != nil || !ok {
				return fmt.Errorf("randomkey: %v %v", ok, err)
			}
			seen[string(k)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 25 {
		t.Fatalf("1000 RANDOMKEY calls saw only %d of 50 keys", len(seen))
	}
}

func TestKeyspaceReturnedKeysAreCopies(t *testing.T) {
	s := openTestStore(t, &Options{Durability: No, HotTierBytes: 1}, nil)
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			if err := ksPut(tx, 0, fmt.Appendf(nil, "key-%03d", i), format.TypeString, nil, 0); err != nil {
				return err
			}
		}
		return nil
	})
	var keys, scanned [][]byte
	var rk []byte
	err := s.View(func(tx *Tx) error {
		var err error
		if keys, err = tx.Keys(0, []byte("key-*")); err != nil {
			return err
		}
		if _, scanned, err = tx.Scan(0, 0, nil, 1000, ""); err != nil {
			return err
		}
		rk, _, err = tx.RandomKey(0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Churn the store so that any reused buffer would be overwritten.
	update(t, s, func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			if err := ksPut(tx, 0, fmt.Appendf(nil, "zzz-%03d", i), format.TypeString, nil, 0); err != nil {
				return err
			}
		}
		return nil
	})
	_ = s.View(func(tx *Tx) error { _, _ = tx.Keys(0, []byte("*")); return nil })
	for _, set := range [][][]byte{keys, scanned, {rk}} {
		if len(set) == 0 {
			t.Fatal("no keys returned")
		}
		for _, k := range set {
			if !bytes.HasPrefix(k, []byte("key-")) || len(k) != 7 {
				t.Fatalf("returned key changed to %q", k)
			}
		}
	}
	if len(keys) != 100 || len(scanned) != 100 {
		t.Fatalf("keys %d scanned %d, want 100", len(keys), len(scanned))
	}
}
