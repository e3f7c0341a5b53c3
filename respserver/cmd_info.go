package respserver

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// INFO [section ...]: Redis 7.0's sections and fields, with RustyPotato's
// own figures (hot tier, Pebble) added where they belong. The reply is a
// bulk string, a verbatim string in RESP3.
//
// Figures that differ from Redis in meaning: used_memory is the Go
// runtime's memory in use (MemStats.Sys - HeapIdle; Pebble's block cache
// and memtables may live outside it, see pebble_*_bytes); evicted_keys is
// always 0 (keys leaving the hot tier stay on disk: hot_tier_evictions);
// the keyspace section's expires and avg_ttl are 0 (not tracked); the
// Errorstats section is not produced.

func init() {
	register("info", 0, func(c *client, args [][]byte) (fn, error) {
		sel := selectInfoSections(args[1:])
		return func(c *client, tx *kv.Tx) error {
			c.w.Verbatim("txt", c.srv.genInfo(tx, sel))
			return nil
		}, nil
	})
}

// infoSections are INFO's sections in output order; the default ones are
// all but commandstats and latencystats.
var infoSections = []struct {
	name, title string
	dflt        bool
	gen         func(s *Server, b *infoBuilder, tx *kv.Tx)
}{
	{"server", "Server", true, (*Server).infoServer},
	{"clients", "Clients", true, (*Server).infoClients},
	{"memory", "Memory", true, (*Server).infoMemory},
	{"persistence", "Persistence", true, (*Server).infoPersistence},
	{"stats", "Stats", true, (*Server).infoStats},
	{"replication", "Replication", true, (*Server).infoReplication},
	{"cpu", "CPU", true, (*Server).infoCPU},
	{"modules", "Modules", true, func(*Server, *infoBuilder, *kv.Tx) {}},
	{"commandstats", "Commandstats", false, (*Server).infoCommandstats},
	{"latencystats", "Latencystats", false, (*Server).infoLatencystats},
	{"cluster", "Cluster", true, func(_ *Server, b *infoBuilder, _ *kv.Tx) { b.int("cluster_enabled", 0) }},
	{"keyspace", "Keyspace", true, (*Server).infoKeyspace},
}

// selectInfoSections returns the sections INFO's arguments select, as a
// set of names. No argument means "default"; unknown names select nothing.
func selectInfoSections(args [][]byte) map[string]bool {
	sel := map[string]bool{}
	if len(args) == 0 {
		args = [][]byte{[]byte("default")}
	}
	for _, a := range args {
		name := strings.ToLower(string(a))
		switch name {
		case "default":
			for _, sec := range infoSections {
				if sec.dflt {
					sel[sec.name] = true
				}
			}
		case "all", "everything":
			for _, sec := range infoSections {
				sel[sec.name] = true
			}
		default:
			sel[name] = true
		}
	}
	return sel
}

// infoBuilder accumulates "name:value\r\n" lines.
type infoBuilder struct{ buf []byte }

func (b *infoBuilder) str(name, v string) {
	b.buf = append(b.buf, name...)
	b.buf = append(b.buf, ':')
	b.buf = append(b.buf, v...)
	b.buf = append(b.buf, '\r', '\n')
}

func (b *infoBuilder) int(name string, v int64) { b.str(name, strconv.FormatInt(v, 10)) }

func (b *infoBuilder) uint(name string, v uint64) { b.str(name, strconv.FormatUint(v, 10)) }

func (b *infoBuilder) float(name string, prec int, v float64) {
	b.str(name, strconv.FormatFloat(v, 'f', prec, 64))
}

func (s *Server) genInfo(tx *kv.Tx, sel map[string]bool) []byte {
	s.startSampler()
	b := &infoBuilder{}
	n := 0
	for _, sec := range infoSections {
		if !sel[sec.name] {
			continue
		}
		if n > 0 {
			b.buf = append(b.buf, '\r', '\n')
		}
		n++
		b.buf = append(b.buf, "# "+sec.title+"\r\n"...)
		sec.gen(s, b, tx)
	}
	return b.buf
}

// startSampler starts the instantaneous_* sampler on first use; it stops
// when the server closes.
func (s *Server) startSampler() {
	s.stats.rates.start(s.closing.Load, func() [3]int64 {
		return [3]int64{s.stats.commands.Load(), s.stats.netIn.Load(), s.stats.netOut.Load()}
	})
}

// runID derives a stable 40-hex-digit identifier for this server instance
// (Redis's run_id; master_replid with another salt).
func (s *Server) runID(salt string) string {
	h := sha1.Sum(fmt.Appendf(nil, "%s/%d/%d/%p", salt, os.Getpid(), s.started.UnixNano(), s))
	return hex.EncodeToString(h[:])
}

func (s *Server) infoServer(b *infoBuilder, _ *kv.Tx) {
	now := time.Now()
	up := now.Sub(s.started)
	version := s.cfg.Version
	if version == "" {
		version = Version
	}
	b.str("redis_version", RedisVersion)
	b.str("redis_git_sha1", "00000000")
	b.str("redis_git_dirty", "0")
	b.str("redis_build_id", "0")
	b.str("redis_mode", "standalone")
	b.str("rustypotato_version", version)
	b.str("os", osName())
	b.int("arch_bits", 32<<(^uint(0)>>63))
	b.str("monotonic_clock", "POSIX clock_gettime")
	b.str("multiplexing_api", "epoll")
	b.str("go_version", runtime.Version())
	b.int("process_id", int64(os.Getpid()))
	b.str("process_supervised", "no")
	b.str("run_id", s.runID("run"))
	b.int("tcp_port", int64(s.port()))
	b.int("server_time_usec", now.UnixMicro())
	b.int("uptime_in_seconds", int64(up/time.Second))
	b.int("uptime_in_days", int64(up/(24*time.Hour)))
	b.int("hz", 10)
	b.int("configured_hz", 10)
	b.int("lru_clock", now.Unix()&(1<<24-1))
	exe, _ := os.Executable()
	b.str("executable", exe)
	cf := s.cfg.ConfigFile
	if cf != "" {
		if abs, err := filepath.Abs(cf); err == nil {
			cf = abs
		}
	}
	b.str("config_file", cf)
	b.int("io_threads_active", 0)
}

// port is the TCP port the server listens on.
func (s *Server) port() int {
	addr := s.cfg.Addr
	if a := s.Addr(); a != nil {
		addr = a.String()
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

func osName() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return runtime.GOOS
	}
	str := func(f [65]int8) string {
		var out []byte
		for _, ch := range f {
			if ch == 0 {
				break
			}
			out = append(out, byte(ch))
		}
		return string(out)
	}
	return str(u.Sysname) + " " + str(u.Release) + " " + str(u.Machine)
}

func (s *Server) infoClients(b *infoBuilder, _ *kv.Tx) {
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	b.int("connected_clients", int64(n))
	b.int("cluster_connections", 0)
	b.int("maxclients", int64(s.settings.maxClients()))
	b.int("client_recent_max_input_buffer", 0)
	b.int("client_recent_max_output_buffer", 0)
	b.int("blocked_clients", 0)
	b.int("tracking_clients", 0)
	b.int("clients_in_timeout_table", 0)
}

// hotTierUsage reports the hot tier's bytes and keys.
func (s *Server) hotTierUsage() (int64, int64) {
	bytes, keys, _ := s.store.HotTierUsage()
	return bytes, int64(keys)
}

func (s *Server) infoMemory(b *infoBuilder, _ *kv.Tx) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := ms.Sys - ms.HeapIdle
	peak := s.stats.peakMemory.Load()
	for used > peak && !s.stats.peakMemory.CompareAndSwap(peak, used) {
		peak = s.stats.peakMemory.Load()
	}
	peak = max(peak, used)
	rss := rssBytes()
	b.uint("used_memory", used)
	b.str("used_memory_human", humanBytes(used))
	b.uint("used_memory_rss", rss)
	b.str("used_memory_rss_human", humanBytes(rss))
	b.uint("used_memory_peak", peak)
	b.str("used_memory_peak_human", humanBytes(peak))
	b.str("used_memory_peak_perc", fmt.Sprintf("%.2f%%", float64(used)*100/float64(max(peak, 1))))
	b.uint("used_memory_heap", ms.HeapAlloc)
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		total := uint64(si.Totalram) * uint64(si.Unit)
		b.uint("total_system_memory", total)
		b.str("total_system_memory_human", humanBytes(total))
	}
	b.int("maxmemory", 0)
	b.str("maxmemory_human", "0B")
	b.str("maxmemory_policy", "noeviction")
	if used > 0 {
		b.float("mem_fragmentation_ratio", 2, float64(rss)/float64(used))
	}
	b.str("mem_allocator", "go-"+runtime.Version())
	hotBytes, hotKeys := s.hotTierUsage()
	opts := s.store.Options()
	b.int("hot_tier_used_bytes", hotBytes)
	b.str("hot_tier_used_bytes_human", humanBytes(uint64(hotBytes)))
	b.int("hot_tier_keys", hotKeys)
	b.int("hot_tier_max_bytes", opts.HotTierBytes)
	b.str("hot_tier_max_bytes_human", humanBytes(uint64(opts.HotTierBytes)))
	m := s.store.Pebble().Metrics()
	b.int("pebble_block_cache_bytes", m.BlockCache.Size)
	b.int("pebble_block_cache_max_bytes", opts.BlockCacheBytes)
	b.uint("pebble_memtable_bytes", m.MemTable.Size)
	b.int("pebble_memtable_count", m.MemTable.Count)
}

// rssBytes reads the resident set size from /proc/self/statm (0 where it
// does not exist).
func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func okErr(failed bool) string {
	if failed {
		return "err"
	}
	return "ok"
}

func (s *Server) infoPersistence(b *infoBuilder, _ *kv.Tx) {
	st := &s.stats
	running := st.bgsaveRunning.Load()
	b.int("loading", 0)
	b.int("async_loading", 0)
	b.int("rdb_changes_since_last_save", 0)
	b.int("rdb_bgsave_in_progress", b2i(running))
	b.int("rdb_last_save_time", s.lastSave.Load())
	b.str("rdb_last_bgsave_status", okErr(st.bgsaveFailed.Load()))
	b.int("rdb_last_bgsave_time_sec", st.bgsaveLastSecs.Load()-1)
	cur := int64(-1)
	if running {
		cur = time.Now().Unix() - st.bgsaveStarted.Load()
	}
	b.int("rdb_current_bgsave_time_sec", cur)
	b.int("rdb_saves", st.saves.Load())
	b.int("aof_enabled", 1)
	b.int("aof_rewrite_in_progress", 0)
	b.int("aof_rewrite_scheduled", 0)
	b.int("aof_last_rewrite_time_sec", -1)
	b.int("aof_current_rewrite_time_sec", -1)
	b.str("aof_last_bgrewrite_status", "ok")
	b.int("aof_rewrites", 0)
	b.str("aof_last_write_status", okErr(s.store.Err() != nil))
	b.str("appendfsync", s.store.Options().Durability.String())
	var lastSync int64
	if t := s.store.LastSync(); !t.IsZero() {
		lastSync = t.Unix()
	}
	b.int("aof_last_fsync_time", lastSync)
	m := s.store.Pebble().Metrics()
	total := m.Total()
	b.int("pebble_wal_files", m.WAL.Files)
	b.uint("pebble_wal_bytes", m.WAL.Size)
	b.uint("pebble_wal_physical_bytes", m.WAL.PhysicalSize)
	b.uint("pebble_wal_bytes_written", m.WAL.BytesWritten)
	b.uint("pebble_disk_usage_bytes", m.DiskSpaceUsage())
	b.int("pebble_sstables", total.TablesCount)
	b.int("pebble_sstable_bytes", total.TablesSize)
	b.int("pebble_flushes", m.Flush.Count)
	b.int("pebble_compactions", m.Compact.Count)
	b.uint("pebble_compaction_debt_bytes", m.Compact.EstimatedDebt)
	b.int("pebble_read_amplification", int64(m.ReadAmp()))
}

func (s *Server) infoStats(b *infoBuilder, _ *kv.Tx) {
	st := &s.stats
	ks := s.store.Stats()
	rates := st.rates.rates()
	b.int("total_connections_received", st.connectionsReceived.Load())
	b.int("total_commands_processed", st.commands.Load())
	b.int("instantaneous_ops_per_sec", int64(rates[0]))
	b.int("total_net_input_bytes", st.netIn.Load())
	b.int("total_net_output_bytes", st.netOut.Load())
	b.int("total_net_repl_input_bytes", 0)
	b.int("total_net_repl_output_bytes", 0)
	b.float("instantaneous_input_kbps", 2, rates[1]/1024)
	b.float("instantaneous_output_kbps", 2, rates[2]/1024)
	b.float("instantaneous_input_repl_kbps", 2, 0)
	b.float("instantaneous_output_repl_kbps", 2, 0)
	b.int("rejected_connections", st.rejectedConns.Load())
	b.int("sync_full", 0)
	b.int("sync_partial_ok", 0)
	b.int("sync_partial_err", 0)
	b.int("expired_keys", ks.ExpiredKeys.Load()-st.baseExpired.Load())
	b.str("expired_stale_perc", "0.00")
	b.int("expired_time_cap_reached_count", 0)
	b.int("evicted_keys", 0)
	b.int("evicted_clients", 0)
	b.int("keyspace_hits", st.keyspaceHits.Load())
	b.int("keyspace_misses", st.keyspaceMisses.Load())
	b.int("pubsub_channels", 0)
	b.int("pubsub_patterns", 0)
	b.int("pubsubshard_channels", 0)
	b.int("latest_fork_usec", 0)
	b.int("total_forks", 0)
	b.int("tracking_total_keys", 0)
	b.int("tracking_total_items", 0)
	b.int("tracking_total_prefixes", 0)
	b.int("hot_tier_hits", ks.HotHits.Load()-st.baseHotHits.Load())
	b.int("hot_tier_misses", ks.HotMisses.Load()-st.baseHotMisses.Load())
	b.int("hot_tier_evictions", ks.EvictedKeys.Load()-st.baseEvicted.Load())
	b.int("write_batches", ks.WriteBatches.Load())
}

func (s *Server) infoReplication(b *infoBuilder, _ *kv.Tx) {
	b.str("role", "master")
	b.int("connected_slaves", 0)
	b.str("master_failover_state", "no-failover")
	b.str("master_replid", s.runID("replid"))
	b.str("master_replid2", strings.Repeat("0", 40))
	b.int("master_repl_offset", 0)
	b.int("second_repl_offset", -1)
	b.int("repl_backlog_active", 0)
	b.int("repl_backlog_size", 1048576)
	b.int("repl_backlog_first_byte_offset", 0)
	b.int("repl_backlog_histlen", 0)
}

func (s *Server) infoCPU(b *infoBuilder, _ *kv.Tx) {
	secs := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	b.float("used_cpu_sys", 6, secs(self.Stime))
	b.float("used_cpu_user", 6, secs(self.Utime))
	b.float("used_cpu_sys_children", 6, secs(children.Stime))
	b.float("used_cpu_user_children", 6, secs(children.Utime))
}

func (s *Server) infoCommandstats(b *infoBuilder, _ *kv.Tx) {
	for _, cmd := range allCommands() {
		st := s.statsOf(cmd)
		calls, usec := st.calls.Load(), st.usec.Load()
		rejected, failed := st.rejected.Load(), st.failed.Load()
		if calls == 0 && rejected == 0 && failed == 0 {
			continue
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(usec) / float64(calls)
		}
		b.str("cmdstat_"+cmd.name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			calls, usec, perCall, rejected, failed))
	}
}

func (s *Server) infoLatencystats(b *infoBuilder, _ *kv.Tx) {
	for _, cmd := range allCommands() {
		st := s.statsOf(cmd)
		if st.calls.Load() == 0 {
			continue
		}
		h := &st.hist
		b.str("latency_percentiles_usec_"+cmd.name, fmt.Sprintf("p50=%.3f,p99=%.3f,p99.9=%.3f",
			h.percentile(50), h.percentile(99), h.percentile(99.9)))
	}
}

func (s *Server) infoKeyspace(b *infoBuilder, tx *kv.Tx) {
	if tx == nil {
		return
	}
	for db := 0; db < format.NumDBs; db++ {
		n, err := tx.DBSize(db)
		if err != nil || n == 0 {
			continue
		}
		b.str("db"+strconv.Itoa(db), "keys="+strconv.FormatInt(n, 10)+",expires=0,avg_ttl=0")
	}
}
