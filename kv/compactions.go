package kv

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
)

// enableCompactions turns Pebble's automatic compactions on in an open
// database that was opened with Options.DisableAutomaticCompactions, and
// lets the compaction picker look at the LSM at once.
//
// Pebble v2.1.7 has no API for this: its Options are copied at Open and
// read under the database mutex each time a compaction is picked. So this
// sets the copied option's field under that mutex (found by reflection),
// then starts a flush (AsyncFlush, which does not wait), whose completion
// schedules compactions. It
// is the workaround for cockroachdb/pebble#5420 (Open blocking on
// compactions), to be removed once a tagged Pebble release carries the
// fix. If Pebble's internals change shape, it leaves compactions off and
// reports false, and the tests in compactions_test.go fail.
func enableCompactions(db *pebble.DB) bool {
	if !setAutomaticCompactions(db, true) {
		return false
	}
	// A flush completing schedules compactions (an empty memtable still
	// rotates); an error here only delays compactions to the next flush.
	_, _ = db.AsyncFlush()
	return true
}

// setAutomaticCompactions sets the negation of the open database's copy of
// Options.DisableAutomaticCompactions under its mutex; false if Pebble's
// internals do not have the expected shape.
func setAutomaticCompactions(db *pebble.DB, on bool) bool {
	v := reflect.ValueOf(db).Elem()
	mu := v.FieldByName("mu")
	opts := v.FieldByName("opts")
	if !mu.IsValid() || mu.Kind() != reflect.Struct || mu.NumField() == 0 ||
		mu.Type().Field(0).Type != reflect.TypeOf(sync.Mutex{}) ||
		!opts.IsValid() || opts.Kind() != reflect.Pointer || opts.Type().Elem() != reflect.TypeOf(pebble.Options{}) {
		return false
	}
	lock := (*sync.Mutex)(unsafe.Pointer(mu.Field(0).UnsafeAddr()))
	o := (*pebble.Options)(unsafe.Pointer(opts.Pointer()))
	lock.Lock()
	o.DisableAutomaticCompactions = !on
	lock.Unlock()
	return true
}

// compactionsEnabled reports whether automatic compactions are on (tests).
func compactionsEnabled(db *pebble.DB) bool {
	v := reflect.ValueOf(db).Elem()
	opts := v.FieldByName("opts")
	o := (*pebble.Options)(unsafe.Pointer(opts.Pointer()))
	lock := (*sync.Mutex)(unsafe.Pointer(v.FieldByName("mu").Field(0).UnsafeAddr()))
	lock.Lock()
	defer lock.Unlock()
	return !o.DisableAutomaticCompactions
}
