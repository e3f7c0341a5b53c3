package kv

import (
	"errors"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/rnum"
)

// String operations (Redis's string and integer commands).

// stringOf returns e's value if e holds a string, ErrWrongType otherwise.
func stringOf(e *entry) ([]byte, error) {
	if e.typ != format.TypeString {
		return nil, ErrWrongType
	}
	return e.val, nil
}

// Get returns key's value (GET); ok is false if the key does not exist.
func (tx *Tx) Get(db int, key []byte) (val []byte, ok bool, err error) {
	_, e, err := tx.liveDB(db, key)
	if err != nil || e == nil {
		return nil, false, err
	}
	v, err := stringOf(e)
	return v, err == nil, err
}

// SetOptions are SET's options. At most one of NX and XX may be set.
type SetOptions struct {
	NX, XX  bool  // only set if the key does not / does exist
	KeepTTL bool  // keep the existing TTL (KEEPTTL)
	Get     bool  // return the old value; fail on a non-string old value
	Expire  int64 // absolute deadline in Unix ms (from SetDeadline); 0: none
}

// SetResult is what SET reports.
type SetResult struct {
	Old     []byte // the previous value, with SetOptions.Get
	HadOld  bool   // the key existed before (with Get: held a string)
	Written bool   // the value was stored (false when NX/XX prevented it)
}

// Set stores val at key (SET). With Get, a non-string old value fails
// with ErrWrongType and nothing is written.
func (tx *Tx) Set(db int, key, val []byte, o SetOptions) (SetResult, error) {
	var r SetResult
	phys, old, err := tx.liveDB(db, key)
	if err != nil {
		return r, err
	}
	if old != nil {
		r.HadOld = true
		if o.Get {
			if r.Old, err = stringOf(old); err != nil {
				return SetResult{}, err
			}
		}
	}
	if (o.NX && old != nil) || (o.XX && old == nil) {
		return r, nil
	}
	exp := o.Expire
	if o.KeepTTL && old != nil {
		exp = old.expireAt
	}
	if err := tx.put(phys, key, &entry{typ: format.TypeString, expireAt: exp, val: clone(val)}); err != nil {
		return SetResult{}, err
	}
	r.Written = true
	return r, nil
}

func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// SetNX sets key only if it does not exist (SETNX).
func (tx *Tx) SetNX(db int, key, val []byte) (bool, error) {
	r, err := tx.Set(db, key, val, SetOptions{NX: true})
	return r.Written, err
}

// GetSet sets key and returns its old value (GETSET).
func (tx *Tx) GetSet(db int, key, val []byte) ([]byte, bool, error) {
	r, err := tx.Set(db, key, val, SetOptions{Get: true})
	return r.Old, r.HadOld, err
}

// GetDel returns key's value and deletes the key (GETDEL).
func (tx *Tx) GetDel(db int, key []byte) ([]byte, bool, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil || e == nil {
		return nil, false, err
	}
	v, err := stringOf(e)
	if err != nil {
		return nil, false, err
	}
	if _, err := tx.del(phys, key); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// GetExOptions are GETEX's options: at most one of Expire and Persist.
type GetExOptions struct {
	Expire  int64 // absolute deadline in Unix ms; 0: leave the TTL alone
	Persist bool  // remove the TTL
}

// GetEx returns key's value and optionally changes its TTL (GETEX). A
// deadline already in the past deletes the key.
func (tx *Tx) GetEx(db int, key []byte, o GetExOptions) ([]byte, bool, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil || e == nil {
		return nil, false, err
	}
	v, err := stringOf(e)
	if err != nil {
		return nil, false, err
	}
	switch {
	case o.Expire != 0 && o.Expire <= tx.now:
		_, err = tx.del(phys, key)
	case o.Expire != 0:
		err = tx.put(phys, key, &entry{typ: e.typ, expireAt: o.Expire, val: e.val})
	case o.Persist && e.expireAt != 0:
		err = tx.put(phys, key, &entry{typ: e.typ, val: e.val})
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// MGet returns the values of keys (MGET); a missing key or one holding a
// non-string gives nil.
func (tx *Tx) MGet(db int, keys ...[]byte) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		_, e, err := tx.liveDB(db, k)
		if err != nil {
			return nil, err
		}
		if e != nil && e.typ == format.TypeString {
			out[i] = e.val
		}
	}
	return out, nil
}

// MSet sets each pair (key, value) in kvs, clearing their TTLs (MSET).
func (tx *Tx) MSet(db int, kvs ...[]byte) error {
	phys, err := tx.physOf(db)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(kvs); i += 2 {
		if err := tx.put(phys, kvs[i], &entry{typ: format.TypeString, val: clone(kvs[i+1])}); err != nil {
			return err
		}
	}
	return nil
}

// MSetNX sets the pairs only if none of the keys exists (MSETNX).
func (tx *Tx) MSetNX(db int, kvs ...[]byte) (bool, error) {
	for i := 0; i+1 < len(kvs); i += 2 {
		_, e, err := tx.liveDB(db, kvs[i])
		if err != nil {
			return false, err
		}
		if e != nil {
			return false, nil
		}
	}
	return true, tx.MSet(db, kvs...)
}

// Append appends val to key's string, creating it if needed, and returns
// the new length (APPEND). The TTL is kept.
func (tx *Tx) Append(db int, key, val []byte) (int64, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil {
		return 0, err
	}
	if e == nil {
		if err := tx.put(phys, key, &entry{typ: format.TypeString, val: clone(val)}); err != nil {
			return 0, err
		}
		return int64(len(val)), nil
	}
	old, err := stringOf(e)
	if err != nil {
		return 0, err
	}
	if int64(len(old))+int64(len(val)) > MaxStringLen {
		return 0, ErrStringTooLong
	}
	// append never changes the bytes of old that readers may still hold.
	nv := append(old[:len(old):len(old)], val...)
	if err := tx.put(phys, key, &entry{typ: e.typ, expireAt: e.expireAt, val: nv}); err != nil {
		return 0, err
	}
	return int64(len(nv)), nil
}

// StrLen returns the length of key's string, 0 if missing (STRLEN).
func (tx *Tx) StrLen(db int, key []byte) (int64, error) {
	v, _, err := tx.Get(db, key)
	return int64(len(v)), err
}

// GetRange returns the substring [start, end] of key's value with Redis's
// index rules (GETRANGE).
func (tx *Tx) GetRange(db int, key []byte, start, end int64) ([]byte, error) {
	v, _, err := tx.Get(db, key)
	if err != nil {
		return nil, err
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return []byte{}, nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return []byte{}, nil
	}
	return v[start : end+1], nil
}

// SetRange overwrites key's value from offset with val, padding with zero
// bytes, and returns the new length (SETRANGE).
func (tx *Tx) SetRange(db int, key []byte, offset int64, val []byte) (int64, error) {
	if offset < 0 {
		return 0, ErrOffsetRange
	}
	phys, e, err := tx.liveDB(db, key)
	if err != nil {
		return 0, err
	}
	var old []byte
	if e != nil {
		if old, err = stringOf(e); err != nil {
			return 0, err
		}
	}
	if len(val) == 0 {
		return int64(len(old)), nil
	}
	if offset > MaxStringLen-int64(len(val)) { // offset+len, without overflow
		return 0, ErrStringTooLong
	}
	n := max(int64(len(old)), offset+int64(len(val)))
	nv := make([]byte, n)
	copy(nv, old)
	copy(nv[offset:], val)
	var exp int64
	if e != nil {
		exp = e.expireAt
	}
	if err := tx.put(phys, key, &entry{typ: format.TypeString, expireAt: exp, val: nv}); err != nil {
		return 0, err
	}
	return n, nil
}

// IncrBy adds delta to the integer in key, creating it at 0, and returns
// the new value (INCR, INCRBY, DECR, DECRBY). The TTL is kept.
func (tx *Tx) IncrBy(db int, key []byte, delta int64) (int64, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil {
		return 0, err
	}
	var cur, exp int64
	if e != nil {
		v, err := stringOf(e)
		if err != nil {
			return 0, err
		}
		var ok bool
		if cur, ok = rnum.ParseInt(v); !ok {
			return 0, ErrNotInteger
		}
		exp = e.expireAt
	}
	if cur, err = rnum.AddInt(cur, delta); err != nil {
		return 0, ErrOverflow
	}
	nv := rnum.FormatInt(make([]byte, 0, 20), cur)
	if err := tx.put(phys, key, &entry{typ: format.TypeString, expireAt: exp, val: nv}); err != nil {
		return 0, err
	}
	return cur, nil
}

// IncrByFloat adds incr (the increment as given, parsed like Redis's
// long double) to the number in key and returns the new value's text as
// Redis formats it (INCRBYFLOAT). A non-string key fails with ErrWrongType
// before either number is parsed, as in Redis. The TTL is kept.
func (tx *Tx) IncrByFloat(db int, key []byte, incr []byte) ([]byte, error) {
	phys, e, err := tx.liveDB(db, key)
	if err != nil {
		return nil, err
	}
	var cur []byte
	var exp int64
	if e != nil {
		if cur, err = stringOf(e); err != nil {
			return nil, err
		}
		exp = e.expireAt
	}
	nv, err := rnum.IncrByFloat(cur, e != nil, incr)
	switch {
	case errors.Is(err, rnum.ErrNotFloat):
		return nil, ErrNotFloat
	case errors.Is(err, rnum.ErrNaNOrInfinity):
		return nil, ErrNaN
	case err != nil:
		return nil, err
	}
	if err := tx.put(phys, key, &entry{typ: format.TypeString, expireAt: exp, val: nv}); err != nil {
		return nil, err
	}
	return nv, nil
}
