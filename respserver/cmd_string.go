package respserver

import (
	"math"

	"github.com/rustypotato/rustypotato/kv"
)

// String and integer commands.

func init() {
	register("get", 0, parseGet)
	register("set", fWrite, parseSet)
	register("setnx", fWrite, parseSetNX)
	register("setex", fWrite, parseSetEx("setex", true))
	register("psetex", fWrite, parseSetEx("psetex", false))
	register("getset", fWrite, parseGetSet)
	register("getdel", fWrite, parseGetDel)
	register("getex", fWrite, parseGetEx)
	register("mget", 0, parseMGet)
	register("mset", fWrite, parseMSet)
	register("msetnx", fWrite, parseMSetNX)
	register("append", fWrite, parseAppend)
	register("strlen", 0, parseStrLen)
	register("getrange", 0, parseGetRange)
	register("substr", 0, parseGetRange)
	register("setrange", fWrite, parseSetRange)
	register("incr", fWrite, parseIncrBy(false, false))
	register("decr", fWrite, parseIncrBy(false, true))
	register("incrby", fWrite, parseIncrBy(true, false))
	register("decrby", fWrite, parseIncrBy(true, true))
	register("incrbyfloat", fWrite, parseIncrByFloat)
}

// hit records a keyspace hit or miss for INFO.
func (c *client) hit(found bool) {
	if found {
		c.srv.stats.keyspaceHits.Add(1)
	} else {
		c.srv.stats.keyspaceMisses.Add(1)
	}
}

// bulkOrNull writes v, or a null when ok is false.
func (c *client) bulkOrNull(v []byte, ok bool) {
	if ok {
		c.w.Bulk(v)
	} else {
		c.w.Null()
	}
}

// GET key
type getCmd struct{ key []byte }

func parseGet(c *client, args [][]byte) (getCmd, error) { return getCmd{args[1]}, nil }

func (g getCmd) run(c *client, tx *kv.Tx) error {
	v, ok, err := tx.Get(c.db, g.key)
	if err != nil {
		return err
	}
	c.hit(ok)
	c.bulkOrNull(v, ok)
	return nil
}

// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts | KEEPTTL]
type setCmd struct {
	key, val []byte
	opt      kv.SetOptions
	exp      expireArg
}

func parseSet(c *client, args [][]byte) (setCmd, error) {
	s := setCmd{key: args[1], val: args[2]}
	for i := 3; i < len(args); {
		a := args[i]
		switch {
		case eq(a, "nx") && !s.opt.XX:
			s.opt.NX = true
		case eq(a, "xx") && !s.opt.NX:
			s.opt.XX = true
		case eq(a, "get"):
			s.opt.Get = true
		case eq(a, "keepttl") && !s.exp.set:
			s.opt.KeepTTL = true
		default:
			ok, next, err := parseExpireOpt(args, i, &s.exp)
			if !ok || err != nil || s.opt.KeepTTL {
				return s, errSyntax
			}
			i = next
			continue
		}
		i++
	}
	return s, s.exp.parseAmount()
}

func (s setCmd) run(c *client, tx *kv.Tx) error {
	var err error
	if s.opt.Expire, err = s.exp.deadline(tx.Now()); err != nil {
		return err
	}
	r, err := tx.Set(c.db, s.key, s.val, s.opt)
	if err != nil {
		return err
	}
	switch {
	case s.opt.Get:
		c.bulkOrNull(r.Old, r.HadOld)
	case r.Written:
		c.w.SimpleString("OK")
	default:
		c.w.Null()
	}
	return nil
}

// SETNX key value
type setNXCmd struct{ key, val []byte }

func parseSetNX(c *client, args [][]byte) (setNXCmd, error) { return setNXCmd{args[1], args[2]}, nil }

func (s setNXCmd) run(c *client, tx *kv.Tx) error {
	ok, err := tx.SetNX(c.db, s.key, s.val)
	if err != nil {
		return err
	}
	c.w.Int(b2i(ok))
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// SETEX key seconds value, PSETEX key milliseconds value
type setExCmd struct {
	key, val []byte
	exp      expireArg
}

func parseSetEx(name string, seconds bool) func(c *client, args [][]byte) (setExCmd, error) {
	return func(c *client, args [][]byte) (setExCmd, error) {
		s := setExCmd{key: args[1], val: args[3], exp: expireArg{set: true, raw: args[2], seconds: seconds}}
		return s, s.exp.parseAmount()
	}
}

func (s setExCmd) run(c *client, tx *kv.Tx) error {
	at, err := s.exp.deadline(tx.Now())
	if err != nil {
		return err
	}
	if _, err := tx.Set(c.db, s.key, s.val, kv.SetOptions{Expire: at}); err != nil {
		return err
	}
	c.w.SimpleString("OK")
	return nil
}

// GETSET key value
type getSetCmd struct{ key, val []byte }

func parseGetSet(c *client, args [][]byte) (getSetCmd, error) {
	return getSetCmd{args[1], args[2]}, nil
}

func (g getSetCmd) run(c *client, tx *kv.Tx) error {
	old, ok, err := tx.GetSet(c.db, g.key, g.val)
	if err != nil {
		return err
	}
	c.bulkOrNull(old, ok)
	return nil
}

// GETDEL key
type getDelCmd struct{ key []byte }

func parseGetDel(c *client, args [][]byte) (getDelCmd, error) { return getDelCmd{args[1]}, nil }

func (g getDelCmd) run(c *client, tx *kv.Tx) error {
	v, ok, err := tx.GetDel(c.db, g.key)
	if err != nil {
		return err
	}
	c.hit(ok)
	c.bulkOrNull(v, ok)
	return nil
}

// GETEX key [EX s | PX ms | EXAT ts | PXAT ts | PERSIST]
type getExCmd struct {
	key     []byte
	exp     expireArg
	persist bool
}

func parseGetEx(c *client, args [][]byte) (getExCmd, error) {
	g := getExCmd{key: args[1]}
	for i := 2; i < len(args); {
		if eq(args[i], "persist") && !g.exp.set {
			g.persist = true
			i++
			continue
		}
		ok, next, err := parseExpireOpt(args, i, &g.exp)
		if !ok || err != nil || g.persist {
			return g, errSyntax
		}
		i = next
	}
	return g, nil
}

func (g getExCmd) run(c *client, tx *kv.Tx) error {
	// Redis looks the key up (and checks its type) before it validates
	// the expire time: GETEX missing EX 0 replies nil.
	if _, ok, err := tx.Get(c.db, g.key); err != nil || !ok {
		if err != nil {
			return err
		}
		c.hit(false)
		c.w.Null()
		return nil
	}
	if err := g.exp.parseAmount(); err != nil {
		return err
	}
	at, err := g.exp.deadline(tx.Now())
	if err != nil {
		return err
	}
	v, ok, err := tx.GetEx(c.db, g.key, kv.GetExOptions{Expire: at, Persist: g.persist})
	if err != nil {
		return err
	}
	c.hit(ok)
	c.bulkOrNull(v, ok)
	return nil
}

// MGET key [key ...]
type mgetCmd struct{ keys [][]byte }

func parseMGet(c *client, args [][]byte) (mgetCmd, error) { return mgetCmd{args[1:]}, nil }

func (m mgetCmd) run(c *client, tx *kv.Tx) error {
	c.w.ArrayLen(len(m.keys))
	for _, k := range m.keys {
		v, ok, err := tx.Get(c.db, k)
		if err == kv.ErrWrongType {
			ok, err = false, nil
		}
		if err != nil {
			return err
		}
		c.hit(ok)
		c.bulkOrNull(v, ok)
	}
	return nil
}

// MSET key value [key value ...], MSETNX key value [key value ...]
type msetCmd struct {
	kvs [][]byte
	nx  bool
}

func parseMSet(c *client, args [][]byte) (msetCmd, error) {
	if len(args)%2 == 0 {
		return msetCmd{}, errArity("mset")
	}
	return msetCmd{kvs: args[1:]}, nil
}

func parseMSetNX(c *client, args [][]byte) (msetCmd, error) {
	if len(args)%2 == 0 {
		return msetCmd{}, errArity("msetnx")
	}
	return msetCmd{kvs: args[1:], nx: true}, nil
}

func (m msetCmd) run(c *client, tx *kv.Tx) error {
	if m.nx {
		ok, err := tx.MSetNX(c.db, m.kvs...)
		if err != nil {
			return err
		}
		c.w.Int(b2i(ok))
		return nil
	}
	if err := tx.MSet(c.db, m.kvs...); err != nil {
		return err
	}
	c.w.SimpleString("OK")
	return nil
}

// APPEND key value
type appendCmd struct{ key, val []byte }

func parseAppend(c *client, args [][]byte) (appendCmd, error) {
	return appendCmd{args[1], args[2]}, nil
}

func (a appendCmd) run(c *client, tx *kv.Tx) error {
	n, err := tx.Append(c.db, a.key, a.val)
	if err != nil {
		return err
	}
	c.w.Int(n)
	return nil
}

// STRLEN key
type strlenCmd struct{ key []byte }

func parseStrLen(c *client, args [][]byte) (strlenCmd, error) { return strlenCmd{args[1]}, nil }

func (s strlenCmd) run(c *client, tx *kv.Tx) error {
	n, err := tx.StrLen(c.db, s.key)
	if err != nil {
		return err
	}
	c.w.Int(n)
	return nil
}

// GETRANGE key start end (and SUBSTR)
type getRangeCmd struct {
	key        []byte
	start, end int64
}

func parseGetRange(c *client, args [][]byte) (getRangeCmd, error) {
	g := getRangeCmd{key: args[1]}
	var err error
	if g.start, err = parseInt(args[2]); err != nil {
		return g, err
	}
	g.end, err = parseInt(args[3])
	return g, err
}

func (g getRangeCmd) run(c *client, tx *kv.Tx) error {
	v, err := tx.GetRange(c.db, g.key, g.start, g.end)
	if err != nil {
		return err
	}
	c.w.Bulk(v)
	return nil
}

// SETRANGE key offset value
type setRangeCmd struct {
	key, val []byte
	offset   int64
}

func parseSetRange(c *client, args [][]byte) (setRangeCmd, error) {
	s := setRangeCmd{key: args[1], val: args[3]}
	var err error
	s.offset, err = parseInt(args[2])
	return s, err
}

func (s setRangeCmd) run(c *client, tx *kv.Tx) error {
	n, err := tx.SetRange(c.db, s.key, s.offset, s.val)
	if err != nil {
		return err
	}
	c.w.Int(n)
	return nil
}

// INCR, DECR, INCRBY, DECRBY
type incrCmd struct {
	key   []byte
	delta int64
}

func parseIncrBy(hasArg, negate bool) func(c *client, args [][]byte) (incrCmd, error) {
	return func(c *client, args [][]byte) (incrCmd, error) {
		in := incrCmd{key: args[1], delta: 1}
		if hasArg {
			var err error
			if in.delta, err = parseInt(args[2]); err != nil {
				return in, err
			}
		}
		if negate {
			if in.delta == math.MinInt64 {
				return in, kv.ErrDecrOverflow
			}
			in.delta = -in.delta
		}
		return in, nil
	}
}

func (in incrCmd) run(c *client, tx *kv.Tx) error {
	n, err := tx.IncrBy(c.db, in.key, in.delta)
	if err != nil {
		return err
	}
	c.w.Int(n)
	return nil
}

// INCRBYFLOAT key increment
// The increment is parsed in the run step: Redis reports WRONGTYPE before
// an invalid increment.
type incrFloatCmd struct{ key, incr []byte }

func parseIncrByFloat(c *client, args [][]byte) (incrFloatCmd, error) {
	return incrFloatCmd{key: args[1], incr: args[2]}, nil
}

func (in incrFloatCmd) run(c *client, tx *kv.Tx) error {
	v, err := tx.IncrByFloat(c.db, in.key, in.incr)
	if err != nil {
		return err
	}
	c.w.Bulk(v)
	return nil
}
