package kv

import "errors"

// Errors returned by the store. The RESP server translates each of them to
// the Redis error string given in its comment, in one place.
var (
	// ErrWrongType: "WRONGTYPE Operation against a key holding the wrong kind of value".
	ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
	// ErrNotInteger: "ERR value is not an integer or out of range".
	ErrNotInteger = errors.New("ERR value is not an integer or out of range")
	// ErrNotFloat: "ERR value is not a valid float".
	ErrNotFloat = errors.New("ERR value is not a valid float")
	// ErrOverflow: "ERR increment or decrement would overflow".
	ErrOverflow = errors.New("ERR increment or decrement would overflow")
	// ErrNaN: "ERR increment would produce NaN or Infinity".
	ErrNaN = errors.New("ERR increment would produce NaN or Infinity")
	// ErrNoSuchKey: "ERR no such key".
	ErrNoSuchKey = errors.New("ERR no such key")
	// ErrSameObject: "ERR source and destination objects are the same".
	ErrSameObject = errors.New("ERR source and destination objects are the same")
	// ErrDBIndex: "ERR DB index is out of range".
	ErrDBIndex = errors.New("ERR DB index is out of range")
	// ErrStringTooLong: "ERR string exceeds maximum allowed size (proto-max-bulk-len)".
	ErrStringTooLong = errors.New("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	// ErrOffsetRange: "ERR offset is out of range".
	ErrOffsetRange = errors.New("ERR offset is out of range")
	// ErrInvalidExpire: "ERR invalid expire time in '<cmd>' command"; the
	// server adds the command name.
	ErrInvalidExpire = errors.New("ERR invalid expire time")
	// ErrClosed is returned by operations on a closed store.
	ErrClosed = errors.New("kv: store is closed")
	// ErrReadOnly is returned by writes on a store opened read-only.
	ErrReadOnly = errors.New("kv: store is opened read-only")
	// ErrLocked is returned by Open when another process holds the data
	// directory; the error text names the holder's pid.
	ErrLocked = errors.New("data directory is in use by a running server")
	// ErrFormatVersion is returned by Open for data written by a newer,
	// unknown format version.
	ErrFormatVersion = errors.New("kv: unsupported on-disk format version")
	// ErrNotExist is returned by a read-only Open of a directory that holds
	// no store.
	ErrNotExist = errors.New("kv: no store in the data directory")
	// ErrWriteFailed: the disk refused a write or an fsync. Like Redis's
	// MISCONF, writes are refused until the store is reopened.
	ErrWriteFailed = errors.New("MISCONF Errors writing to the data directory; writes are refused until the server is restarted")
)

// ErrDecrOverflow: "ERR decrement would overflow" (DECRBY of the smallest
// 64-bit integer).
var ErrDecrOverflow = errors.New("ERR decrement would overflow")

// MaxStringLen is the largest string value (Redis's proto-max-bulk-len
// default, 512 MB).
const MaxStringLen = 512 << 20
