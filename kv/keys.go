package kv

import (
	"math/rand/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// Key-space operations (Redis's generic and server key commands): DEL,
// EXISTS, TOUCH, TYPE, the EXPIRE family, TTL queries, RENAME, COPY, MOVE,
// SWAPDB, FLUSHDB, FLUSHALL, DBSIZE and RANDOMKEY. KEYS and SCAN are in
// scan.go.
//
// A key whose deadline has passed does not exist for any of them, even if
// the expirer has not removed its record yet.

// ksCopy returns a copy of key that never aliases it (and is never nil).
func ksCopy(key []byte) []byte {
	return append(make([]byte, 0, len(key)), key...)
}

// Del removes the given keys (DEL) and returns how many existed. A key
// named twice counts once.
func (tx *Tx) Del(db int, keys ...[]byte) (int, error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		e, err := tx.load(phys, k)
		if err != nil {
			return 0, err
		}
		if e == nil {
			continue
		}
		// An expired record is removed too (Redis expires it lazily
		// first), but it does not count as deleted.
		if _, err := tx.del(phys, k); err != nil {
			return 0, err
		}
		if e.expireAt == 0 || e.expireAt > tx.now {
			n++
		}
	}
	return n, nil
}

// Exists returns how many of the given keys exist (EXISTS); a key named
// more than once is counted each time.
func (tx *Tx) Exists(db int, keys ...[]byte) (int, error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		e, err := tx.live(phys, k)
		if err != nil {
			return 0, err
		}
		if e != nil {
			n++
		}
	}
	return n, nil
}

// Touch returns how many of the given keys exist (TOUCH), counting
// repeats like Exists. The store keeps no access times, so touching has no
// other effect.
func (tx *Tx) Touch(db int, keys ...[]byte) (int, error) {
	return tx.Exists(db, keys...)
}

// Type returns the name of key's type as Redis's TYPE reports it: "string",
// "list", "set", "zset", "hash", "stream", or "none" if the key does not
// exist.
func (tx *Tx) Type(db int, key []byte) (string, error) {
	_, e, err := tx.liveDB(db, key)
	if err != nil || e == nil {
		return "none", err
	}
	return format.TypeName(e.typ), nil
}

// ExpireCond is the condition of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT
// (their NX, XX, GT and LT options). The values are flags: Redis accepts XX
// together with GT or LT, so ExpireXX|ExpireLT is valid. The server rejects
// the combinations Redis rejects (NX with any other, GT with LT) before
// calling Expire.
type ExpireCond int

// Expire conditions.
const (
	// ExpireAlways sets the deadline unconditionally (no option).
	ExpireAlways ExpireCond = 0
	// ExpireNX sets it only if the key has no TTL.
	ExpireNX ExpireCond = 1 << (iota - 1)
	// ExpireXX sets it only if the key has a TTL.
	ExpireXX
	// ExpireGT sets it only if the new deadline is later than the current
	// one; a key without TTL counts as expiring never, so GT never applies
	// to it.
	ExpireGT
	// ExpireLT sets it only if the new deadline is earlier than the current
	// one; a key without TTL counts as expiring never, so LT always applies
	// to it.
	ExpireLT
)

// Expire sets key's deadline to the absolute Unix-millisecond time deadline
// (EXPIRE and friends; ExpireDeadline converts their arguments) if cond
// allows it, and reports whether it did. A deadline at or before the
// transaction's clock deletes the key, which also reports true. A missing
// key reports false.
func (tx *Tx) Expire(db int, key []byte, deadline int64, cond ExpireCond) (bool, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil || e == nil {
		return false, err
	}
	cur := e.expireAt // 0: no TTL
	if cond&ExpireNX != 0 && cur != 0 {
		return false, nil
	}
	if cond&ExpireXX != 0 && cur == 0 {
		return false, nil
	}
	if cond&ExpireGT != 0 && (cur == 0 || deadline <= cur) {
		return false, nil
	}
	if cond&ExpireLT != 0 && cur != 0 && deadline >= cur {
		return false, nil
	}
	if deadline <= tx.now {
		if _, err := tx.del(phys, key); err != nil {
			return false, err
		}
		return true, nil
	}
	if err := tx.put(phys, key, &entry{typ: e.typ, expireAt: deadline, val: e.val}); err != nil {
		return false, err
	}
	return true, nil
}

// Persist removes key's TTL (PERSIST) and reports whether it had one.
func (tx *Tx) Persist(db int, key []byte) (bool, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil || e == nil || e.expireAt == 0 {
		return false, err
	}
	if err := tx.put(phys, key, &entry{typ: e.typ, val: e.val}); err != nil {
		return false, err
	}
	return true, nil
}

// PTTL returns key's remaining time to live in milliseconds (PTTL): -1 if
// the key has no TTL, -2 if it does not exist.
func (tx *Tx) PTTL(db int, key []byte) (int64, error) {
	_, e, err := tx.liveDB(db, key)
	switch {
	case err != nil:
		return 0, err
	case e == nil:
		return -2, nil
	case e.expireAt == 0:
		return -1, nil
	}
	ttl := e.expireAt - tx.now
	if ttl < 0 {
		ttl = 0
	}
	return ttl, nil
}

// TTL returns key's remaining time to live in seconds (TTL), rounded to the
// nearest second as Redis does ((ms+500)/1000): -1 if the key has no TTL,
// -2 if it does not exist.
func (tx *Tx) TTL(db int, key []byte) (int64, error) {
	ms, err := tx.PTTL(db, key)
	if err != nil || ms < 0 {
		return ms, err
	}
	return (ms + 500) / 1000, nil
}

// ExpireTime returns key's absolute deadline in Unix milliseconds
// (PEXPIRETIME): -1 if the key has no TTL, -2 if it does not exist. For
// EXPIRETIME Redis rounds: (ms+500)/1000.
func (tx *Tx) ExpireTime(db int, key []byte) (int64, error) {
	_, e, err := tx.liveDB(db, key)
	switch {
	case err != nil:
		return 0, err
	case e == nil:
		return -2, nil
	case e.expireAt == 0:
		return -1, nil
	}
	return e.expireAt, nil
}

// Rename renames src to dst (RENAME), replacing dst if it exists and
// keeping src's TTL. A missing src gives ErrNoSuchKey; renaming an existing
// key to itself changes nothing.
func (tx *Tx) Rename(db int, src, dst []byte) error {
	_, err := tx.rename(db, src, dst, false)
	return err
}

// RenameNX renames src to dst only if dst does not exist (RENAMENX) and
// reports whether it did. A missing src gives ErrNoSuchKey; renaming an
// existing key to itself reports false, as Redis 7.0 does.
func (tx *Tx) RenameNX(db int, src, dst []byte) (bool, error) {
	return tx.rename(db, src, dst, true)
}

func (tx *Tx) rename(db int, src, dst []byte, nx bool) (bool, error) {
	phys, e, err := tx.liveDB(db, src)
	if err != nil {
		return false, err
	}
	if e == nil {
		return false, ErrNoSuchKey
	}
	if string(src) == string(dst) {
		return !nx, nil
	}
	if nx {
		d, err := tx.live(phys, dst)
		if err != nil {
			return false, err
		}
		if d != nil {
			return false, nil
		}
	}
	if err := tx.put(phys, dst, &entry{typ: e.typ, expireAt: e.expireAt, val: e.val}); err != nil {
		return false, err
	}
	if _, err := tx.del(phys, src); err != nil {
		return false, err
	}
	return true, nil
}

// Copy copies src in srcDB to dst in dstDB (COPY), with its TTL, and
// reports whether it did: false if src does not exist, or if dst exists and
// replace is false. The same key in the same database gives ErrSameObject.
func (tx *Tx) Copy(srcDB int, src []byte, dstDB int, dst []byte, replace bool) (bool, error) {
	sphys, err := tx.physOf(srcDB)
	if err != nil {
		return false, err
	}
	dphys, err := tx.physOf(dstDB)
	if err != nil {
		return false, err
	}
	if srcDB == dstDB && string(src) == string(dst) {
		return false, ErrSameObject
	}
	e, err := tx.live(sphys, src)
	if err != nil || e == nil {
		return false, err
	}
	if !replace {
		d, err := tx.live(dphys, dst)
		if err != nil {
			return false, err
		}
		if d != nil {
			return false, nil
		}
	}
	if err := tx.put(dphys, dst, &entry{typ: e.typ, expireAt: e.expireAt, val: e.val}); err != nil {
		return false, err
	}
	return true, nil
}

// Move moves key from db to dstDB (MOVE), with its TTL, and reports whether
// it did: false if key does not exist in db or already exists in dstDB.
// dstDB equal to db gives ErrSameObject.
func (tx *Tx) Move(db int, key []byte, dstDB int) (bool, error) {
	sphys, err := tx.physOf(db)
	if err != nil {
		return false, err
	}
	dphys, err := tx.physOf(dstDB)
	if err != nil {
		return false, err
	}
	if db == dstDB {
		return false, ErrSameObject
	}
	e, err := tx.live(sphys, key)
	if err != nil || e == nil {
		return false, err
	}
	d, err := tx.live(dphys, key)
	if err != nil || d != nil {
		return false, err
	}
	if err := tx.put(dphys, key, &entry{typ: e.typ, expireAt: e.expireAt, val: e.val}); err != nil {
		return false, err
	}
	if _, err := tx.del(sphys, key); err != nil {
		return false, err
	}
	return true, nil
}

// SwapDB swaps the contents of databases a and b (SWAPDB). It costs O(1):
// only the logical-to-physical database map changes.
func (tx *Tx) SwapDB(a, b int) error {
	if _, err := tx.physOf(a); err != nil {
		return err
	}
	if _, err := tx.physOf(b); err != nil {
		return err
	}
	if !tx.write {
		return ErrReadOnly
	}
	if a == b {
		return nil
	}
	// The commit writes the map only if there is a batch.
	if _, err := tx.batchFor(); err != nil {
		return err
	}
	tx.dbmap[a], tx.dbmap[b] = tx.dbmap[b], tx.dbmap[a]
	tx.dbmapDirty = true
	return nil
}

// FlushDB removes every key of database db (FLUSHDB).
func (tx *Tx) FlushDB(db int) error {
	phys, err := tx.physOf(db)
	if err != nil {
		return err
	}
	return tx.flush(phys)
}

// FlushAll removes every key of every database (FLUSHALL).
func (tx *Tx) FlushAll() error {
	for phys := uint8(0); phys < format.NumDBs; phys++ {
		if err := tx.flush(phys); err != nil {
			return err
		}
	}
	return nil
}

// DBSize returns the number of keys in database db (DBSIZE). Like Redis's,
// the count includes keys past their deadline that the expirer has not
// removed yet.
func (tx *Tx) DBSize(db int) (int64, error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return 0, err
	}
	return tx.counts[phys], nil
}

// RandomKey returns a random existing key of database db (RANDOMKEY); ok is
// false if the database has none. The returned key is a copy.
func (tx *Tx) RandomKey(db int) (key []byte, ok bool, err error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return nil, false, err
	}
	if tx.counts[phys] == 0 {
		return nil, false, nil
	}
	start := rand.Uint64()
	pick := func(h uint64, k []byte, e *entry) bool {
		if e.expireAt != 0 && e.expireAt <= tx.now {
			return true
		}
		key, ok = ksCopy(k), true
		return false
	}
	if err := tx.scanPhys(phys, start, pick); err != nil || ok {
		return key, ok, err
	}
	// Wrap around: the keys hashed below start.
	err = tx.scanPhys(phys, 0, func(h uint64, k []byte, e *entry) bool {
		if h >= start {
			return false
		}
		return pick(h, k, e)
	})
	return key, ok, err
}
