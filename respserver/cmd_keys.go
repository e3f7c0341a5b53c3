package respserver

import (
	"errors"
	"strconv"

	"github.com/rustypotato/rustypotato/kv"
)

// Key-space commands.

func init() {
	register("del", fWrite, parseKeys(func(tx *kv.Tx, db int, keys [][]byte) (int, error) { return tx.Del(db, keys...) }))
	register("unlink", fWrite, parseKeys(func(tx *kv.Tx, db int, keys [][]byte) (int, error) { return tx.Del(db, keys...) }))
	register("exists", 0, parseKeys(func(tx *kv.Tx, db int, keys [][]byte) (int, error) { return tx.Exists(db, keys...) }))
	register("touch", 0, parseKeys(func(tx *kv.Tx, db int, keys [][]byte) (int, error) { return tx.Touch(db, keys...) }))
	register("type", 0, parseType)
	register("expire", fWrite, parseExpire(true, false))
	register("pexpire", fWrite, parseExpire(false, false))
	register("expireat", fWrite, parseExpire(true, true))
	register("pexpireat", fWrite, parseExpire(false, true))
	register("ttl", 0, parseTTL(ttlSeconds))
	register("pttl", 0, parseTTL(ttlMillis))
	register("expiretime", 0, parseTTL(expireTimeSeconds))
	register("pexpiretime", 0, parseTTL(expireTimeMillis))
	register("persist", fWrite, parsePersist)
	register("rename", fWrite, parseRename(false))
	register("renamenx", fWrite, parseRename(true))
	register("copy", fWrite, parseCopy)
	register("move", fWrite, parseMove)
	register("keys", 0, parseKeysCmd)
	register("scan", 0, parseScan)
	register("randomkey", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, tx *kv.Tx) error {
			k, ok, err := tx.RandomKey(c.db)
			if err != nil {
				return err
			}
			c.bulkOrNull(k, ok)
			return nil
		}, nil
	})
	register("dbsize", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, tx *kv.Tx) error {
			n, err := tx.DBSize(c.db)
			if err != nil {
				return err
			}
			c.w.Int(n)
			return nil
		}, nil
	})
	register("flushdb", fWrite, parseFlush(false))
	register("flushall", fWrite, parseFlush(true))
	register("swapdb", fWrite, parseSwapDB)
}

// DEL, UNLINK, EXISTS, TOUCH: key [key ...] -> integer
type keysIntCmd struct {
	keys [][]byte
	op   func(tx *kv.Tx, db int, keys [][]byte) (int, error)
}

func parseKeys(op func(tx *kv.Tx, db int, keys [][]byte) (int, error)) func(c *client, args [][]byte) (keysIntCmd, error) {
	return func(c *client, args [][]byte) (keysIntCmd, error) { return keysIntCmd{keys: args[1:], op: op}, nil }
}

func (k keysIntCmd) run(c *client, tx *kv.Tx) error {
	n, err := k.op(tx, c.db, k.keys)
	if err != nil {
		return err
	}
	c.w.Int(int64(n))
	return nil
}

// TYPE key
type typeCmd struct{ key []byte }

func parseType(c *client, args [][]byte) (typeCmd, error) { return typeCmd{args[1]}, nil }

func (t typeCmd) run(c *client, tx *kv.Tx) error {
	s, err := tx.Type(c.db, t.key)
	if err != nil {
		return err
	}
	c.w.SimpleString(s)
	return nil
}

// EXPIRE key seconds [NX | XX | GT | LT] and PEXPIRE, EXPIREAT, PEXPIREAT
type expireCmd struct {
	name              string
	key               []byte
	amount            int64
	seconds, absolute bool
	cond              kv.ExpireCond
}

func parseExpire(seconds, absolute bool) func(c *client, args [][]byte) (expireCmd, error) {
	return func(c *client, args [][]byte) (expireCmd, error) {
		e := expireCmd{name: lowerName(args[0]), key: args[1], seconds: seconds, absolute: absolute}
		var nx, xx, gt, lt bool
		for _, a := range args[3:] {
			switch {
			case eq(a, "nx"):
				nx = true
			case eq(a, "xx"):
				xx = true
			case eq(a, "gt"):
				gt = true
			case eq(a, "lt"):
				lt = true
			default:
				return e, errors.New("ERR Unsupported option " + string(a))
			}
		}
		switch {
		case nx && (xx || gt || lt):
			return e, errors.New("ERR NX and XX, GT or LT options at the same time are not compatible")
		case gt && lt:
			return e, errors.New("ERR GT and LT options at the same time are not compatible")
		case nx:
			e.cond = kv.ExpireNX
		case xx && gt:
			e.cond = kv.ExpireXX | kv.ExpireGT
		case xx && lt:
			e.cond = kv.ExpireXX | kv.ExpireLT
		case xx:
			e.cond = kv.ExpireXX
		case gt:
			e.cond = kv.ExpireGT
		case lt:
			e.cond = kv.ExpireLT
		}
		var err error
		e.amount, err = parseInt(args[2])
		return e, err
	}
}

func lowerName(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

func (e expireCmd) run(c *client, tx *kv.Tx) error {
	at, err := kv.ExpireDeadline(tx.Now(), e.amount, e.seconds, e.absolute)
	if err != nil {
		return errInvalidExpire(e.name)
	}
	ok, err := tx.Expire(c.db, e.key, at, e.cond)
	if err != nil {
		return err
	}
	c.w.Int(b2i(ok))
	return nil
}

// TTL, PTTL, EXPIRETIME, PEXPIRETIME key
type ttlKind int

const (
	ttlSeconds ttlKind = iota
	ttlMillis
	expireTimeSeconds
	expireTimeMillis
)

type ttlCmd struct {
	key  []byte
	kind ttlKind
}

func parseTTL(kind ttlKind) func(c *client, args [][]byte) (ttlCmd, error) {
	return func(c *client, args [][]byte) (ttlCmd, error) { return ttlCmd{args[1], kind}, nil }
}

func (t ttlCmd) run(c *client, tx *kv.Tx) error {
	var n int64
	var err error
	switch t.kind {
	case ttlSeconds:
		n, err = tx.TTL(c.db, t.key)
	case ttlMillis:
		n, err = tx.PTTL(c.db, t.key)
	default:
		n, err = tx.ExpireTime(c.db, t.key)
		if err == nil && n >= 0 && t.kind == expireTimeSeconds {
			// Unsigned, as Redis's compiled (ttl+500)/1000 behaves for
			// deadlines within 500 ms of the largest one.
			n = int64((uint64(n) + 500) / 1000)
		}
	}
	if err != nil {
		return err
	}
	c.w.Int(n)
	return nil
}

// PERSIST key
type persistCmd struct{ key []byte }

func parsePersist(c *client, args [][]byte) (persistCmd, error) { return persistCmd{args[1]}, nil }

func (p persistCmd) run(c *client, tx *kv.Tx) error {
	ok, err := tx.Persist(c.db, p.key)
	if err != nil {
		return err
	}
	c.w.Int(b2i(ok))
	return nil
}

// RENAME key newkey, RENAMENX key newkey
type renameCmd struct {
	src, dst []byte
	nx       bool
}

func parseRename(nx bool) func(c *client, args [][]byte) (renameCmd, error) {
	return func(c *client, args [][]byte) (renameCmd, error) { return renameCmd{args[1], args[2], nx}, nil }
}

func (r renameCmd) run(c *client, tx *kv.Tx) error {
	if r.nx {
		ok, err := tx.RenameNX(c.db, r.src, r.dst)
		if err != nil {
			return err
		}
		c.w.Int(b2i(ok))
		return nil
	}
	if err := tx.Rename(c.db, r.src, r.dst); err != nil {
		return err
	}
	c.w.SimpleString("OK")
	return nil
}

// COPY source destination [DB destination-db] [REPLACE]
type copyCmd struct {
	src, dst []byte
	db       int
	hasDB    bool
	replace  bool
}

func parseCopy(c *client, args [][]byte) (copyCmd, error) {
	cp := copyCmd{src: args[1], dst: args[2]}
	for i := 3; i < len(args); i++ {
		switch {
		case eq(args[i], "replace"):
			cp.replace = true
		case eq(args[i], "db") && i+1 < len(args):
			db, err := parseDB(args[i+1])
			if err != nil {
				return cp, err
			}
			cp.db, cp.hasDB = db, true
			i++
		default:
			return cp, errSyntax
		}
	}
	return cp, nil
}

func (cp copyCmd) run(c *client, tx *kv.Tx) error {
	db := c.db
	if cp.hasDB {
		db = cp.db
	}
	ok, err := tx.Copy(c.db, cp.src, db, cp.dst, cp.replace)
	if err != nil {
		return err
	}
	c.w.Int(b2i(ok))
	return nil
}

// MOVE key db
type moveCmd struct {
	key []byte
	db  int
}

func parseMove(c *client, args [][]byte) (moveCmd, error) {
	db, err := parseDB(args[2])
	if err != nil {
		return moveCmd{}, err
	}
	return moveCmd{key: args[1], db: db}, nil
}

func (m moveCmd) run(c *client, tx *kv.Tx) error {
	ok, err := tx.Move(c.db, m.key, m.db)
	if err != nil {
		return err
	}
	c.w.Int(b2i(ok))
	return nil
}

// KEYS pattern
type keysCmd struct{ pattern []byte }

func parseKeysCmd(c *client, args [][]byte) (keysCmd, error) { return keysCmd{args[1]}, nil }

func (k keysCmd) run(c *client, tx *kv.Tx) error {
	keys, err := tx.Keys(c.db, k.pattern)
	if err != nil {
		return err
	}
	c.w.ArrayLen(len(keys))
	for _, key := range keys {
		c.w.Bulk(key)
	}
	return nil
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
type scanCmd struct {
	cursor uint64
	match  []byte
	count  int
	typ    string
}

var errInvalidCursor = errors.New("ERR invalid cursor")

func parseScan(c *client, args [][]byte) (scanCmd, error) {
	s := scanCmd{count: 10}
	cur, ok := parseCursor(args[1])
	if !ok {
		return s, errInvalidCursor
	}
	s.cursor = cur
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return s, errSyntax
		}
		switch {
		case eq(args[i], "count"):
			n, err := parseInt(args[i+1])
			if err != nil {
				return s, err
			}
			if n < 1 {
				return s, errSyntax
			}
			s.count = int(min(n, 1<<30))
		case eq(args[i], "match"):
			s.match = args[i+1]
		case eq(args[i], "type"):
			s.typ = lowerName(args[i+1])
		default:
			return s, errSyntax
		}
	}
	return s, nil
}

// parseCursor parses a SCAN cursor as Redis's parseScanCursorOrReply does
// with strtoul: no leading space, an optional sign ("-1" is 2^64-1), digits
// that fit 64 bits, nothing after them; "" is cursor 0.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func (s scanCmd) run(c *client, tx *kv.Tx) error {
	next, keys, err := tx.Scan(c.db, s.cursor, s.match, s.count, s.typ)
	if err != nil {
		return err
	}
	c.w.ArrayLen(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.ArrayLen(len(keys))
	for _, k := range keys {
		c.w.Bulk(k)
	}
	return nil
}

// FLUSHDB [ASYNC | SYNC], FLUSHALL [ASYNC | SYNC]
type flushCmd struct{ all bool }

func parseFlush(all bool) func(c *client, args [][]byte) (flushCmd, error) {
	return func(c *client, args [][]byte) (flushCmd, error) {
		if len(args) > 2 || (len(args) == 2 && !eq(args[1], "sync") && !eq(args[1], "async")) {
			return flushCmd{}, errSyntax
		}
		return flushCmd{all}, nil
	}
}

func (f flushCmd) run(c *client, tx *kv.Tx) error {
	var err error
	if f.all {
		err = tx.FlushAll()
	} else {
		err = tx.FlushDB(c.db)
	}
	if err != nil {
		return err
	}
	c.w.SimpleString("OK")
	return nil
}

// SWAPDB index1 index2
type swapDBCmd struct{ a, b int }

func parseSwapDB(c *client, args [][]byte) (swapDBCmd, error) {
	a, err := parseInt(args[1])
	if err != nil {
		return swapDBCmd{}, errors.New("ERR invalid first DB index")
	}
	b, err := parseInt(args[2])
	if err != nil {
		return swapDBCmd{}, errors.New("ERR invalid second DB index")
	}
	if !validDB(a) || !validDB(b) {
		return swapDBCmd{}, errDBIndex
	}
	return swapDBCmd{int(a), int(b)}, nil
}

func (s swapDBCmd) run(c *client, tx *kv.Tx) error {
	if err := tx.SwapDB(s.a, s.b); err != nil {
		return err
	}
	c.w.SimpleString("OK")
	return nil
}
