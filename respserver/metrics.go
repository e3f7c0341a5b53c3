package respserver

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// Prometheus exposition. Every figure is computed when the registry is
// scraped, from the counters the server and the store keep anyway (the
// ones INFO reports): serving Prometheus adds nothing to the command path.

// MetricsRegistry returns a new Prometheus registry holding the server's
// collector (MetricsCollector) and the Go runtime and process collectors.
// Each call returns a new registry.
func (s *Server) MetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		s.MetricsCollector(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// MetricsHandler returns an http.Handler serving MetricsRegistry in the
// Prometheus exposition format (the /metrics endpoint).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.MetricsRegistry(), promhttp.HandlerOpts{})
}

// ListenMetrics starts an HTTP server on addr (host:port; port 0 picks a
// free one) that serves MetricsHandler at /metrics, and returns it with
// the address it listens on. The caller stops it with its Shutdown method,
// before closing the store. Errors while serving are logged.
func (s *Server) ListenMetrics(addr string) (*http.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.MetricsHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return hs, ln.Addr(), nil
}

// MetricsCollector returns a prometheus.Collector of the server's and its
// store's figures, all named rustypotato_*:
//
//   - per command (label cmd, the INFO commandstats name such as "get" or
//     "client|list"; commands never called are left out):
//     commands_total, command_errors_total{kind="failed"|"rejected"}, and
//     command_duration_seconds, a histogram with power-of-two buckets
//     from 1µs to 2^24µs (about 17s): the LATENCY HISTOGRAM buckets;
//   - server: unknown_commands_total, net_input_bytes_total,
//     net_output_bytes_total, connected_clients,
//     connections_received_total, rejected_connections_total,
//     keyspace_hits_total, keyspace_misses_total, uptime_seconds,
//     build_info{version,redis_version};
//   - store: keys{db}, expired_keys_total, evicted_keys_total (hot-tier
//     evictions; the keys stay on disk), hot_tier_hits_total,
//     hot_tier_misses_total, hot_tier_hit_ratio, write_batches_total,
//     store_write_failed (1 while the store refuses writes),
//     wal_last_fsync_timestamp_seconds (the last background WAL fsync of
//     appendfsync everysec; 0 in the other modes);
//   - Pebble: pebble_wal_fsync_duration_seconds (Pebble's own WAL sync
//     latency histogram; under everysec the WAL sync Pebble sees returns at
//     once and the real fsync is the background one), pebble_wal_bytes,
//     pebble_wal_bytes_written_total, pebble_compactions_total,
//     pebble_flushes_total, pebble_compaction_debt_bytes,
//     pebble_l0_files, pebble_l0_sublevels, pebble_read_amplification,
//     pebble_memtables (writes stall when these reach their stop
//     thresholds), pebble_disk_usage_bytes, and pebble_write_stalls_total
//     if the store counts write stalls (a WriteStalls() int64 method).
//
// Counters that CONFIG RESETSTAT clears (the per-command figures, net
// bytes, connections, keyspace hits and misses) start again from zero,
// which Prometheus treats as a counter reset.
func (s *Server) MetricsCollector() prometheus.Collector { return &collector{s: s} }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("rustypotato_"+name, help, labels, nil)
}

var (
	descCommands      = desc("commands_total", "Commands processed, by command.", "cmd")
	descCommandErrors = desc("command_errors_total", "Commands that failed while running (kind=failed) or were refused before running (kind=rejected), by command.", "cmd", "kind")
	descCommandDur    = desc("command_duration_seconds", "Time to run a command, by command.", "cmd")
	descUnknown       = desc("unknown_commands_total", "Requests for commands that do not exist.")
	descNetIn         = desc("net_input_bytes_total", "Bytes read from clients.")
	descNetOut        = desc("net_output_bytes_total", "Bytes written to clients.")
	descClients       = desc("connected_clients", "Open client connections.")
	descConnsRecv     = desc("connections_received_total", "Client connections accepted.")
	descConnsRejected = desc("rejected_connections_total", "Client connections refused because of maxclients.")
	descHits          = desc("keyspace_hits_total", "Key lookups that found their key.")
	descMisses        = desc("keyspace_misses_total", "Key lookups that did not find their key.")
	descUptime        = desc("uptime_seconds", "Seconds since the server started.")
	descBuildInfo     = desc("build_info", "Always 1; the labels name the version and the Redis version followed.", "version", "redis_version")

	descKeys         = desc("keys", "Keys in each non-empty database (db 0 always).", "db")
	descExpired      = desc("expired_keys_total", "Keys removed because they expired.")
	descEvicted      = desc("evicted_keys_total", "Keys evicted from the in-memory hot tier (they stay on disk).")
	descHotHits      = desc("hot_tier_hits_total", "Reads served by the in-memory hot tier.")
	descHotMisses    = desc("hot_tier_misses_total", "Reads that went to Pebble.")
	descHotRatio     = desc("hot_tier_hit_ratio", "hot_tier_hits_total / (hot_tier_hits_total + hot_tier_misses_total); 0 before any read.")
	descHotBytes     = desc("hot_tier_used_bytes", "Bytes used by the hot tier.")
	descWriteBatches = desc("write_batches_total", "Write transactions committed to the store.")
	descWriteFailed  = desc("store_write_failed", "1 while the store refuses writes after a write or fsync failure, else 0.")
	descLastFsync    = desc("wal_last_fsync_timestamp_seconds", "Unix time of the last background WAL fsync (appendfsync everysec); 0 if none or in another mode.")

	descFsync       = desc("pebble_wal_fsync_duration_seconds", "Latency of Pebble's WAL syncs.")
	descWALBytes    = desc("pebble_wal_bytes", "Live bytes in the write-ahead log files.")
	descWALWritten  = desc("pebble_wal_bytes_written_total", "Bytes written to the write-ahead log.")
	descCompactions = desc("pebble_compactions_total", "Pebble compactions since the store was opened.")
	descFlushes     = desc("pebble_flushes_total", "Pebble memtable flushes since the store was opened.")
	descDebt        = desc("pebble_compaction_debt_bytes", "Estimated bytes left to compact for the LSM to be stable.")
	descL0Files     = desc("pebble_l0_files", "Sstables in level 0.")
	descL0Sublevels = desc("pebble_l0_sublevels", "Level-0 sublevels (writes stall when they pile up).")
	descReadAmp     = desc("pebble_read_amplification", "Pebble read amplification (L0 sublevels plus non-empty levels).")
	descMemtables   = desc("pebble_memtables", "Pebble memtables, the mutable one included (writes stall at the stop-writes threshold).")
	descDiskUsage   = desc("pebble_disk_usage_bytes", "Disk space used by the store's Pebble files.")
	descWriteStalls = desc("pebble_write_stalls_total", "Pebble write stalls (only if the store counts them).")
)

// collectorDescs are the descriptors of every metric the collector may send.
var collectorDescs = []*prometheus.Desc{
	descCommands, descCommandErrors, descCommandDur, descUnknown, descNetIn, descNetOut,
	descClients, descConnsRecv, descConnsRejected, descHits, descMisses, descUptime,
	descBuildInfo, descKeys, descExpired, descEvicted, descHotHits, descHotMisses,
	descHotRatio, descHotBytes, descWriteBatches, descWriteFailed, descLastFsync,
	descFsync, descWALBytes, descWALWritten, descCompactions, descFlushes, descDebt,
	descL0Files, descL0Sublevels, descReadAmp, descMemtables, descDiskUsage, descWriteStalls,
}

// commandHistMaxBucket is the largest finite bucket of
// command_duration_seconds: 2^24µs, about 17s.
const commandHistMaxBucket = 24

type collector struct{ s *Server }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	for _, cmd := range allCommands() {
		cs := s.statsOf(cmd)
		calls, failed, rejected := cs.calls.Load(), cs.failed.Load(), cs.rejected.Load()
		if calls == 0 && failed == 0 && rejected == 0 {
			continue
		}
		counter(descCommands, calls, cmd.name)
		counter(descCommandErrors, failed, cmd.name, "failed")
		counter(descCommandErrors, rejected, cmd.name, "rejected")
		count, buckets := commandBuckets(cs.hist.snapshot())
		ch <- prometheus.MustNewConstHistogram(descCommandDur, count,
			float64(cs.usec.Load())/1e6, buckets, cmd.name)
	}

	st := &s.stats
	counter(descUnknown, st.unknownCmds.Load())
	counter(descNetIn, st.netIn.Load())
	counter(descNetOut, st.netOut.Load())
	s.mu.Lock()
	clients := len(s.clients)
	s.mu.Unlock()
	gauge(descClients, float64(clients))
	counter(descConnsRecv, st.connectionsReceived.Load())
	counter(descConnsRejected, st.rejectedConns.Load())
	counter(descHits, st.keyspaceHits.Load())
	counter(descMisses, st.keyspaceMisses.Load())
	gauge(descUptime, time.Since(s.started).Seconds())
	gauge(descBuildInfo, 1, Version, RedisVersion)

	c.collectStore(ch, counter, gauge)
}

// commandBuckets converts a latency histogram snapshot (bucket i: [2^(i-1),
// 2^i) µs) into Prometheus cumulative buckets: the upper bound of bucket i
// is 2^i µs, exclusive, so every latency of buckets 0..i is <= it. Buckets
// beyond commandHistMaxBucket are only in the count (+Inf).
func commandBuckets(snap [40]int64) (uint64, map[float64]uint64) {
	buckets := make(map[float64]uint64, commandHistMaxBucket+1)
	var cum uint64
	for i, n := range snap {
		cum += uint64(n)
		if i <= commandHistMaxBucket {
			buckets[float64(uint64(1)<<i)/1e6] = cum
		}
	}
	return cum, buckets
}

func (c *collector) collectStore(ch chan<- prometheus.Metric,
	counter func(*prometheus.Desc, int64, ...string), gauge func(*prometheus.Desc, float64, ...string)) {
	store := c.s.store

	// Key counts: one read transaction, which reads counters only.
	viewErr := store.View(func(tx *kv.Tx) error {
		for db := 0; db < format.NumDBs; db++ {
			n, err := tx.DBSize(db)
			if err != nil {
				return err
			}
			if n > 0 || db == 0 {
				gauge(descKeys, float64(n), strconv.Itoa(db))
			}
		}
		return nil
	})

	ks := store.Stats()
	counter(descExpired, ks.ExpiredKeys.Load())
	counter(descEvicted, ks.EvictedKeys.Load())
	hits, misses := ks.HotHits.Load(), ks.HotMisses.Load()
	counter(descHotHits, hits)
	counter(descHotMisses, misses)
	ratio := 0.0
	if hits+misses > 0 {
		ratio = float64(hits) / float64(hits+misses)
	}
	gauge(descHotRatio, ratio)
	if h, ok := any(store).(interface{ HotTierUsage() (int64, int) }); ok {
		b, _ := h.HotTierUsage()
		gauge(descHotBytes, float64(b))
	}
	counter(descWriteBatches, ks.WriteBatches.Load())
	failed := 0.0
	if store.Err() != nil {
		failed = 1
	}
	gauge(descWriteFailed, failed)
	last := 0.0
	if t := store.LastSync(); !t.IsZero() {
		last = float64(t.UnixNano()) / 1e9
	}
	gauge(descLastFsync, last)
	if w, ok := any(store).(interface{ WriteStalls() int64 }); ok {
		counter(descWriteStalls, w.WriteStalls())
	}

	db := store.Pebble()
	if db == nil || errors.Is(viewErr, kv.ErrClosed) {
		return // Pebble's metrics are not to be read once it is closed
	}
	m := db.Metrics()
	if h := m.LogWriter.FsyncLatency; h != nil {
		if hm := fsyncHistogram(h); hm != nil {
			ch <- hm
		}
	}
	gauge(descWALBytes, float64(m.WAL.Size))
	ch <- prometheus.MustNewConstMetric(descWALWritten, prometheus.CounterValue, float64(m.WAL.BytesWritten))
	counter(descCompactions, m.Compact.Count)
	counter(descFlushes, m.Flush.Count)
	gauge(descDebt, float64(m.Compact.EstimatedDebt))
	gauge(descL0Files, float64(m.Levels[0].TablesCount))
	gauge(descL0Sublevels, float64(m.Levels[0].Sublevels))
	gauge(descReadAmp, float64(m.ReadAmp()))
	gauge(descMemtables, float64(m.MemTable.Count))
	gauge(descDiskUsage, float64(m.DiskSpaceUsage()))
}

// fsyncHistogram converts Pebble's WAL fsync histogram (nanoseconds, 100
// buckets) into seconds, keeping a subset of its bounds about a factor of
// two apart: every kept bound is one of Pebble's, so the cumulative counts
// stay exact.
func fsyncHistogram(h prometheus.Histogram) prometheus.Metric {
	var m dto.Metric
	if err := h.Write(&m); err != nil || m.Histogram == nil {
		return nil
	}
	ph := m.Histogram
	buckets := map[float64]uint64{}
	last := 0.0
	for _, b := range ph.Bucket {
		ub := b.GetUpperBound()
		if ub <= 0 || (last > 0 && ub < 1.9*last) {
			continue
		}
		buckets[ub/1e9] = b.GetCumulativeCount()
		last = ub
	}
	return prometheus.MustNewConstHistogram(descFsync, ph.GetSampleCount(), ph.GetSampleSum()/1e9, buckets)
}
