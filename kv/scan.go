package kv

import (
	"math"

	"github.com/rustypotato/rustypotato/internal/ascii"
	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/glob"
)

// DefaultScanCount is SCAN's COUNT when the caller gives none (or one < 1).
const DefaultScanCount = 10

// Keys returns every existing key of database db that matches the glob
// pattern (KEYS), in the store's hash order. The pattern "*" matches every
// key; an empty pattern matches only the empty key, as in Redis. The
// returned keys are copies.
func (tx *Tx) Keys(db int, pattern []byte) ([][]byte, error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return nil, err
	}
	all := len(pattern) == 1 && pattern[0] == '*'
	if !all {
		if lit, exact := glob.LiteralPrefix(pattern); exact {
			// A pattern without wildcards names at most one key.
			e, err := tx.live(phys, lit)
			if err != nil || e == nil || !glob.Match(pattern, lit, false) {
				return nil, err
			}
			return [][]byte{lit}, nil
		}
	}
	var out [][]byte
	err = tx.scanPhys(phys, 0, func(_ uint64, k []byte, e *entry) bool {
		if e.expireAt != 0 && e.expireAt <= tx.now {
			return true
		}
		if all || glob.Match(pattern, k, false) {
			out = append(out, ksCopy(k))
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scan returns a page of database db's keys (SCAN) and the cursor to pass
// to the next call; a next cursor of 0 ends the iteration, which starts
// with cursor 0.
//
// The cursor is a position in the store's key order (format.Hash of the
// key). Each call visits about count keys (DefaultScanCount if count < 1)
// starting at the cursor, extended so that every key sharing the last
// visited hash is in the same page. Hence, as Redis guarantees, a key that
// exists for the whole iteration is returned at least once (here: exactly
// once), however many keys are added or removed meanwhile, and a key that
// does not exist for the whole iteration may or may not be returned.
//
// match, if not nil, filters the visited keys with a glob pattern ("*"
// matches every key, an empty pattern only the empty key); typ, if not
// empty, keeps only keys of that type (a TYPE name, compared ignoring ASCII
// case; an unknown name keeps nothing, as in Redis 7.0). The filters apply
// after visiting, so a page may be empty while the cursor is not 0. Keys
// past their deadline are never returned. The returned keys are copies.
func (tx *Tx) Scan(db int, cursor uint64, match []byte, count int, typ string) (next uint64, keys [][]byte, err error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return 0, nil, err
	}
	if count < 1 {
		count = DefaultScanCount
	}
	usePattern := match != nil && !(len(match) == 1 && match[0] == '*')
	wantType, filterType := byte(0), typ != ""
	if filterType {
		for t := format.TypeString; t <= format.TypeStream; t++ {
			if asciiEqualFold(typ, format.TypeName(t)) {
				wantType = t
			}
		}
	}
	visited := 0
	var last uint64
	more := false
	err = tx.scanPhys(phys, cursor, func(h uint64, k []byte, e *entry) bool {
		if visited >= count && h != last {
			more = true
			return false
		}
		visited++
		last = h
		switch {
		case e.expireAt != 0 && e.expireAt <= tx.now:
		case filterType && e.typ != wantType:
		case usePattern && !glob.Match(match, k, false):
		default:
			keys = append(keys, ksCopy(k))
		}
		return true
	})
	if err != nil {
		return 0, nil, err
	}
	if more && last != math.MaxUint64 {
		next = last + 1
	}
	return next, keys, nil
}

// asciiEqualFold is C's strcasecmp(a, b) == 0 (ASCII case folding only).
func asciiEqualFold(a, b string) bool { return ascii.EqualFold(a, b) }
