// Package respserver is RustyPotato's RESP listener: a Redis 7-compatible
// server on top of the kv store. It reads every request a client has
// pipelined, runs consecutive commands as one kv transaction (so the writes
// of one read batch commit as one Pebble batch and share one fsync), and
// flushes all their replies with one write.
//
// Commands follow one pattern: a small type per command with a parse step
// (argument validation, which never touches the store) separate from its run
// step (which executes against a kv.Tx and writes the reply), registered in
// one registry (registry.go). kv errors become Redis error strings in one
// place (errors.go).
package respserver
