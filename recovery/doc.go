// Package recovery brings a RustyPotato data directory up after a restart
// and checks, repairs and moves data in and out of it offline. The offline
// CLI (cmd/rustypotato: inspect, get, scan, check, repair, backup, export,
// import, compact) is a thin layer over this package.
//
// # Startup
//
// Startup is how the server opens its data directory. Each step is timed
// and logged: opening Pebble (which replays the write-ahead log), checking
// the format version, a bounded check that the expiry index is usable
// (IndexSample entries per database, never a walk of the whole index),
// a full reconcile of the expiry index and key counts only when the last
// shutdown was unclean and the store holds at most FullReconcileMaxKeys
// keys, and warming the hot tier with at most the given number of bytes.
// Restart cost therefore does not grow with the number of keys, except for
// the full reconcile, which is bounded by FullReconcileMaxKeys.
//
// An unclean shutdown is detected with a marker file (DirtyMarker) that
// Startup creates and MarkClean, called after the store closed cleanly,
// removes. The store writes a record, its expiry-index entry and its key
// count in one atomic Pebble batch, so a crash cannot make them disagree;
// the reconcile guards against bugs and damage, and it only rebuilds
// derived data (expiry index, counts). It never moves user records: a
// record that does not decode is reported, for 'rustypotato repair'.
//
// # Check and Repair
//
// Check walks a whole store read-only and reports every finding (Finding):
// records whose key or value does not decode, expiry-index entries without
// a matching record, expiring keys without an index entry, key counts that
// disagree with the records, a database map that is not a permutation, a
// missing or unsupported format version, and records under unknown
// prefixes. Pebble-level damage (an sstable block whose checksum does not
// match) is reported as KindUnreadable with the file's path; the walk then
// skips ahead past the unreadable block and goes on checking the rest, and
// the key counts of a database it could not read completely are not
// verified.
//
// Repair fixes what Check finds: it rebuilds expiry-index entries,
// recomputes key counts, restores the database map and version record,
// and moves every record it removes because it does not decode into
// DIR/quarantine-<time>.jsonl (one JSON object per line with the raw
// Pebble key and value in base64 and the reason) before deleting it, so
// nothing is dropped silently. It is idempotent; with apply false it
// changes nothing and only reports the plan. Repair cannot fix an
// unreadable sstable: the records in the damaged block are lost to Pebble
// and only a backup has them; it says so and fixes everything else, and a
// later Check still reports the unreadable file.
//
// Every offline operation takes the data directory's lock, so it fails at
// once with kv.ErrLocked while a server runs on the directory, and the
// read-only ones (Check, Inspect, Export, Repair without apply) open
// Pebble read-only.
package recovery
