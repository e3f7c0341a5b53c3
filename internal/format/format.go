// Package format defines RustyPotato's on-disk key and value encoding
// (format version 1). It is shared by the kv store, the recovery tools and
// the offline CLI so that every reader agrees on the layout. The layout is
// documented in docs/format.md; any change to it must bump Version.
package format

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Version is the format version written by this release.
const Version = 1

// NumDBs is the number of logical databases (Redis SELECT 0..15).
const NumDBs = 16

// Key prefixes (the first byte of every Pebble key).
const (
	PrefixMeta   byte = 0x00 // store metadata: format version, db map, key counts
	PrefixData   byte = 0x01 // one record per user key: header + payload
	PrefixExpire byte = 0x02 // expiry index: one empty record per expiring key
	PrefixSub    byte = 0x03 // reserved: sub-keys of hashes, lists, sets, sorted sets
	PrefixEnd    byte = 0x04 // first byte past every user-data prefix
)

// Metadata keys.
var (
	KeyVersion = []byte{PrefixMeta, 'V'} // value: decimal ASCII format version
	KeyDBMap   = []byte{PrefixMeta, 'M'} // value: NumDBs bytes, logical db -> physical db
)

// CountKey returns the metadata key that holds the number of data records in
// physical database phys (value: 8-byte big-endian uint64).
func CountKey(phys uint8) []byte { return []byte{PrefixMeta, 'C', phys} }

// Value types stored in the header's first byte.
const (
	TypeString byte = 1
	TypeList   byte = 2 // reserved
	TypeSet    byte = 3 // reserved
	TypeZSet   byte = 4 // reserved
	TypeHash   byte = 5 // reserved
	TypeStream byte = 6 // reserved
)

// TypeName returns the name Redis's TYPE command uses for t.
func TypeName(t byte) string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// TypeByName is the inverse of TypeName; ok is false for unknown names.
func TypeByName(name string) (t byte, ok bool) {
	for t := TypeString; t <= TypeStream; t++ {
		if TypeName(t) == name {
			return t, true
		}
	}
	return 0, false
}

// HeaderLen is the length of a data record's value header:
// type (1 byte), flags (1 byte, 0 in version 1), expire-at in Unix
// milliseconds (8 bytes big-endian, 0 = no expiry).
const HeaderLen = 10

// DataKeyLen is the length of a data key of a user key of n bytes.
func DataKeyLen(n int) int { return 2 + 8 + n }

// Hash is the stable 64-bit hash that orders keys inside a database
// (xxhash64 of the user key). SCAN cursors are positions in this order.
func Hash(key []byte) uint64 { return xxhash.Sum64(key) }

// AppendDataKey appends the data key of (phys, key) to dst:
// 0x01 | phys | hash64(key) big-endian | key.
func AppendDataKey(dst []byte, phys uint8, key []byte) []byte {
	dst = append(dst, PrefixData, phys)
	dst = binary.BigEndian.AppendUint64(dst, Hash(key))
	return append(dst, key...)
}

// AppendExpireKey appends the expiry-index key of (phys, key) expiring at
// expireAt ms: 0x02 | phys | expireAt big-endian | hash64(key) | key.
func AppendExpireKey(dst []byte, phys uint8, expireAt int64, key []byte) []byte {
	dst = append(dst, PrefixExpire, phys)
	dst = binary.BigEndian.AppendUint64(dst, uint64(expireAt))
	dst = binary.BigEndian.AppendUint64(dst, Hash(key))
	return append(dst, key...)
}

// DataPrefix returns the smallest key of physical database phys's data
// records; DataPrefix(phys+1) bounds it above.
func DataPrefix(phys uint8) []byte { return []byte{PrefixData, phys} }

// DataSeek returns the first data key of phys whose hash is >= h.
func DataSeek(phys uint8, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{PrefixData, phys}, h)
}

// DataUpper returns the exclusive upper bound of phys's data records.
func DataUpper(phys uint8) []byte {
	if phys == 0xff {
		return []byte{PrefixData + 1}
	}
	return []byte{PrefixData, phys + 1}
}

// ExpirePrefix returns the smallest expiry-index key of phys.
func ExpirePrefix(phys uint8) []byte { return []byte{PrefixExpire, phys} }

// ExpireUpper returns the exclusive upper bound of phys's expiry-index keys
// whose deadline is <= at.
func ExpireUpper(phys uint8, at int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{PrefixExpire, phys}, uint64(at)+1)
}

// ExpireEnd returns the exclusive upper bound of all of phys's expiry keys.
func ExpireEnd(phys uint8) []byte {
	if phys == 0xff {
		return []byte{PrefixExpire + 1}
	}
	return []byte{PrefixExpire, phys + 1}
}

// ErrCorrupt reports a record that does not decode.
var ErrCorrupt = errors.New("format: corrupt record")

// DecodeDataKey splits a data key into its parts.
func DecodeDataKey(k []byte) (phys uint8, hash uint64, key []byte, err error) {
	if len(k) < 10 || k[0] != PrefixData {
		return 0, 0, nil, fmt.Errorf("%w: bad data key %q", ErrCorrupt, k)
	}
	phys = k[1]
	hash = binary.BigEndian.Uint64(k[2:10])
	key = k[10:]
	if int(phys) >= NumDBs {
		return 0, 0, nil, fmt.Errorf("%w: data key in database %d", ErrCorrupt, phys)
	}
	if Hash(key) != hash {
		return 0, 0, nil, fmt.Errorf("%w: data key hash mismatch for %q", ErrCorrupt, key)
	}
	return phys, hash, key, nil
}

// DecodeExpireKey splits an expiry-index key into its parts.
func DecodeExpireKey(k []byte) (phys uint8, expireAt int64, key []byte, err error) {
	if len(k) < 18 || k[0] != PrefixExpire {
		return 0, 0, nil, fmt.Errorf("%w: bad expiry key %q", ErrCorrupt, k)
	}
	phys = k[1]
	expireAt = int64(binary.BigEndian.Uint64(k[2:10]))
	hash := binary.BigEndian.Uint64(k[10:18])
	key = k[18:]
	if int(phys) >= NumDBs {
		return 0, 0, nil, fmt.Errorf("%w: expiry key in database %d", ErrCorrupt, phys)
	}
	if Hash(key) != hash {
		return 0, 0, nil, fmt.Errorf("%w: expiry key hash mismatch for %q", ErrCorrupt, key)
	}
	return phys, expireAt, key, nil
}

// AppendValue appends an encoded data record value to dst.
func AppendValue(dst []byte, typ byte, expireAt int64, payload []byte) []byte {
	dst = append(dst, typ, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(expireAt))
	return append(dst, payload...)
}

// DecodeValue splits a data record value. payload aliases v.
func DecodeValue(v []byte) (typ byte, expireAt int64, payload []byte, err error) {
	if len(v) < HeaderLen {
		return 0, 0, nil, fmt.Errorf("%w: value of %d bytes is shorter than its header", ErrCorrupt, len(v))
	}
	typ = v[0]
	if typ < TypeString || typ > TypeStream {
		return 0, 0, nil, fmt.Errorf("%w: unknown value type %d", ErrCorrupt, typ)
	}
	if v[1] != 0 {
		return 0, 0, nil, fmt.Errorf("%w: unknown value flags %#x", ErrCorrupt, v[1])
	}
	expireAt = int64(binary.BigEndian.Uint64(v[2:10]))
	if expireAt < 0 {
		return 0, 0, nil, fmt.Errorf("%w: negative expiry %d", ErrCorrupt, expireAt)
	}
	return typ, expireAt, v[HeaderLen:], nil
}

// EncodeCount encodes a key count.
func EncodeCount(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// DecodeCount decodes a key count.
func DecodeCount(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: key count of %d bytes", ErrCorrupt, len(v))
	}
	n := int64(binary.BigEndian.Uint64(v))
	if n < 0 {
		return 0, fmt.Errorf("%w: negative key count", ErrCorrupt)
	}
	return n, nil
}

// IdentityDBMap returns the initial logical-to-physical database map.
func IdentityDBMap() [NumDBs]uint8 {
	var m [NumDBs]uint8
	for i := range m {
		m[i] = uint8(i)
	}
	return m
}

// DecodeDBMap decodes and validates the database map (a permutation).
func DecodeDBMap(v []byte) ([NumDBs]uint8, error) {
	var m [NumDBs]uint8
	if len(v) != NumDBs {
		return m, fmt.Errorf("%w: database map of %d bytes", ErrCorrupt, len(v))
	}
	var seen [NumDBs]bool
	for i, p := range v {
		if int(p) >= NumDBs || seen[p] {
			return m, fmt.Errorf("%w: database map is not a permutation", ErrCorrupt)
		}
		seen[p] = true
		m[i] = p
	}
	return m, nil
}
