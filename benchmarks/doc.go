// Package benchmarks holds RustyPotato's performance benchmarks. They are
// the project's speed measurements: tests assert behaviour, these measure
// how fast it is. Every benchmark reports allocations, and is grouped by
// name so that a group can be selected on its own:
//
//	go test -run='^$' -bench=memory_store ./benchmarks
//	go test -run='^$' -bench=. -benchtime=1x ./benchmarks   # the CI smoke run
//
// kv_bench_test.go holds the store's groups: memory_store (string reads
// and writes through the kv store), integer_operations (INCR/DECR),
// ttl_operations (EXPIRE/TTL), scalability (reads against 1K to 100K keys)
// and persistence (the time from Open to the first read served, after a
// clean close and after a SIGKILL, at 100K and 1M keys; reported as the
// open_ms metric). Every store lives in a temporary directory and uses the
// default durability (everysec) unless a benchmark says otherwise. The
// 1M-key persistence benchmarks are skipped with -short. helpers_test.go
// has the shared setup (key and value generators, preloading, the SIGKILL
// fill process); the other files add groups for the server, the network,
// metrics and memory use.
package benchmarks
