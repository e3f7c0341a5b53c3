// Package kv is RustyPotato's durable key-value store, usable as an embedded
// Go library. An in-memory hot tier (bounded by a byte budget) fronts Pebble,
// which holds every key durably: Pebble's write-ahead log is the store's log
// and its sstables are the snapshot. Keys evicted from the hot tier stay on
// disk and are served from Pebble on the next read.
//
// All operations run inside transactions: Store.Update runs a function
// atomically with exclusive access and commits its writes as one Pebble
// batch; Store.View runs a read-only function. Operations follow Redis 7.0's
// semantics (see the method docs); errors are the sentinels in errors.go.
//
// Durability follows Redis's appendfsync modes (see Durability). The on-disk
// encoding is documented in docs/format.md.
package kv
