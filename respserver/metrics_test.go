package respserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/rustypotato/rustypotato/internal/metrics"
	"github.com/rustypotato/rustypotato/kv"
)

// metricsEnv is a server on a free loopback port with its /metrics
// endpoint served by an httptest server.
type metricsEnv struct {
	srv     *Server
	store   *kv.Store
	addr    string
	metrics string // URL of /metrics
	stop    func() // shuts the server down (idempotent)
}

func startMetricsEnv(t *testing.T) *metricsEnv {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := kv.Open(t.TempDir(), &kv.Options{
		Durability:   kv.EverySec,
		SyncInterval: 10 * time.Millisecond,
		Logger:       quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", Store: store, Logger: quiet})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	ln, err := srv.Listen()
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	hs := httptest.NewServer(srv.MetricsHandler())
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(func() {
		hs.Close()
		stop()
		if err := store.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return &metricsEnv{srv: srv, store: store, addr: ln.Addr().String(), metrics: hs.URL + "/metrics", stop: stop}
}

func (e *metricsEnv) client(t *testing.T) *redis.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr:                     e.addr,
		Protocol:                 2,
		DisableIdentity:          true,
		PoolSize:                 1,
		MaxRetries:               -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// scrape is one /metrics scrape, by family name.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, url string) scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels include every
// name=value pair of labels, or nil.
func (s scrape) find(name string, labels ...string) *dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns a counter's or gauge's value, 0 if the series is absent.
func (s scrape) value(name string, labels ...string) float64 {
	m := s.find(name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return math.NaN()
}

func TestMetricsEndpoint(t *testing.T) {
	env := startMetricsEnv(t)
	ctx := context.Background()
	rdb := env.client(t)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	before := scrapeMetrics(t, env.metrics)

	const sets, hits, misses = 25, 10, 4
	for i := 0; i < sets; i++ {
		if err := rdb.Set(ctx, "k"+strconv.Itoa(i), strings.Repeat("v", 100), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < hits; i++ {
		if err := rdb.Get(ctx, "k"+strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < misses; i++ {
		if err := rdb.Get(ctx, "missing"+strconv.Itoa(i)).Err(); err != redis.Nil {
			t.Fatalf("GET missing: %v", err)
		}
	}
	if err := rdb.Do(ctx, "set", "only-key").Err(); err == nil || !strings.Contains(err.Error(), "wrong number of arguments") {
		t.Fatalf("SET with one argument: %v", err)
	}
	if err := rdb.Do(ctx, "nosuchcommand").Err(); err == nil {
		t.Fatal("unknown command succeeded")
	}
	if err := rdb.Do(ctx, "set", "k0", "v", "nx", "xx").Err(); err == nil {
		t.Fatal("SET NX XX succeeded")
	}

	after := scrapeMetrics(t, env.metrics)
	delta := func(name string, labels ...string) float64 {
		return after.value(name, labels...) - before.value(name, labels...)
	}
	// Compare before and after (the server counts from its start). One
	// more SET ran:
	// SET NX XX fails at parse time.
	if got := delta("rustypotato_commands_total", "cmd", "set"); got != sets+1 {
		t.Errorf("commands_total{cmd=set} grew by %v, want %d", got, sets+1)
	}
	if got := delta("rustypotato_commands_total", "cmd", "get"); got != hits+misses {
		t.Errorf("commands_total{cmd=get} grew by %v, want %d", got, hits+misses)
	}
	if got := delta("rustypotato_command_errors_total", "cmd", "set", "kind", "rejected"); got < 1 {
		t.Errorf("command_errors_total{set,rejected} grew by %v, want >= 1 (arity error)", got)
	}
	if got := delta("rustypotato_command_errors_total", "cmd", "set", "kind", "failed"); got < 1 {
		t.Errorf("command_errors_total{set,failed} grew by %v, want >= 1 (syntax error)", got)
	}
	if got := delta("rustypotato_unknown_commands_total"); got != 1 {
		t.Errorf("unknown_commands_total grew by %v, want 1", got)
	}
	if got := delta("rustypotato_keyspace_hits_total"); got != hits {
		t.Errorf("keyspace_hits_total grew by %v, want %d", got, hits)
	}
	if got := delta("rustypotato_keyspace_misses_total"); got != misses {
		t.Errorf("keyspace_misses_total grew by %v, want %d", got, misses)
	}
	// Each SET request carries a 100-byte value, each reply is at least
	// "+OK\r\n".
	if got := delta("rustypotato_net_input_bytes_total"); got < sets*100 {
		t.Errorf("net_input_bytes_total grew by %v, want >= %d", got, sets*100)
	}
	if got := delta("rustypotato_net_output_bytes_total"); got < sets*5+hits*100 {
		t.Errorf("net_output_bytes_total grew by %v, want >= %d", got, sets*5+hits*100)
	}
	if got := after.value("rustypotato_connected_clients"); got != 1 {
		t.Errorf("connected_clients = %v, want 1", got)
	}
	if got := after.value("rustypotato_connections_received_total"); got < 1 {
		t.Errorf("connections_received_total = %v", got)
	}
	if got := after.value("rustypotato_keys", "db", "0"); got != sets {
		t.Errorf("keys{db=0} = %v, want %d", got, sets)
	}
	if r := after.value("rustypotato_hot_tier_hit_ratio"); r <= 0 || r > 1 {
		t.Errorf("hot_tier_hit_ratio = %v, want in (0, 1]", r)
	}
	if got := after.value("rustypotato_write_batches_total"); got < sets {
		t.Errorf("write_batches_total = %v, want >= %d", got, sets)
	}
	if got := after.value("rustypotato_build_info", "version", Version, "redis_version", RedisVersion); got != 1 {
		t.Errorf("build_info = %v", got)
	}

	// The duration histogram counts every SET that ran, in cumulative
	// power-of-two buckets ending with +Inf.
	h := after.find("rustypotato_command_duration_seconds", "cmd", "set").GetHistogram()
	if h == nil {
		t.Fatal("no command_duration_seconds{cmd=set}")
	}
	if got := h.GetSampleCount() - before.find("rustypotato_command_duration_seconds", "cmd", "set").GetHistogram().GetSampleCount(); got != sets+1 {
		t.Errorf("duration sample count grew by %d, want %d", got, sets+1)
	}
	var prev uint64
	for i, b := range h.Bucket {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket %d not cumulative", i)
		}
		prev = b.GetCumulativeCount()
		if want := float64(uint64(1)<<i) / 1e6; b.GetUpperBound() != want && !math.IsInf(b.GetUpperBound(), 1) {
			t.Errorf("bucket %d le=%v, want %v", i, b.GetUpperBound(), want)
		}
	}
	if prev != h.GetSampleCount() {
		t.Errorf("last bucket %d != count %d", prev, h.GetSampleCount())
	}

	// Pebble, the WAL and the Go runtime are there too.
	for _, name := range []string{
		"rustypotato_pebble_compactions_total", "rustypotato_pebble_flushes_total",
		"rustypotato_pebble_l0_files", "rustypotato_pebble_memtables",
		"rustypotato_pebble_disk_usage_bytes", "rustypotato_pebble_wal_fsync_duration_seconds",
		"rustypotato_expired_keys_total", "rustypotato_evicted_keys_total",
		"go_goroutines", "go_memstats_alloc_bytes", "process_start_time_seconds",
	} {
		if after[name] == nil {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if after.value("rustypotato_pebble_disk_usage_bytes") <= 0 {
		t.Error("pebble_disk_usage_bytes is 0")
	}
	if after.value("rustypotato_pebble_wal_bytes_written_total") <= before.value("rustypotato_pebble_wal_bytes_written_total") {
		t.Error("pebble_wal_bytes_written_total did not grow")
	}
	// everysec with a 10ms interval: the background fsync has run.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts := scrapeMetrics(t, env.metrics).value("rustypotato_wal_last_fsync_timestamp_seconds")
		if ts > 0 {
			if d := time.Since(time.Unix(0, int64(ts*1e9))); d < -time.Second || d > time.Minute {
				t.Errorf("wal_last_fsync_timestamp_seconds %v is %v away from now", ts, d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("wal_last_fsync_timestamp_seconds stayed 0")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Scraping a stopped server whose store is closed still works (no
	// Pebble figures then).
	rdb.Close()
	env.stop()
	if err := env.store.Close(); err != nil {
		t.Fatal(err)
	}
	closed := scrapeMetrics(t, env.metrics)
	if closed["rustypotato_commands_total"] == nil || closed["rustypotato_pebble_l0_files"] != nil {
		t.Errorf("scrape after close: commands %v, pebble %v",
			closed["rustypotato_commands_total"] != nil, closed["rustypotato_pebble_l0_files"] != nil)
	}
}

// TestMetricsINFOCommandstats checks that INFO commandstats, which reads
// the same counters, counts the commands sent.
func TestMetricsINFOCommandstats(t *testing.T) {
	env := startMetricsEnv(t)
	ctx := context.Background()
	rdb := env.client(t)
	// The command statistics belong to the command table, which every
	// server in the process shares: compare before and after.
	statsBefore := commandstats(t, rdb)
	scrapeBefore := scrapeMetrics(t, env.metrics)
	const sets, gets, incrs = 7, 5, 3
	for i := 0; i < sets; i++ {
		if err := rdb.Set(ctx, "k", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < gets; i++ {
		if err := rdb.Get(ctx, "k").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < incrs; i++ {
		if err := rdb.Incr(ctx, "n").Err(); err != nil {
			t.Fatal(err)
		}
	}
	statsAfter := commandstats(t, rdb)
	scrapeAfter := scrapeMetrics(t, env.metrics)
	for cmd, want := range map[string]int{"set": sets, "get": gets, "incr": incrs} {
		b, a := statsBefore[cmd], statsAfter[cmd]
		if a == nil {
			t.Errorf("no cmdstat_%s", cmd)
			continue
		}
		for field, grow := range map[string]int{"calls": want, "failed_calls": 0, "rejected_calls": 0} {
			x, _ := strconv.Atoi(b[field]) // 0 if the command was absent before
			y, err := strconv.Atoi(a[field])
			if err != nil || y-x != grow {
				t.Errorf("cmdstat_%s %s went from %q to %q, want +%d", cmd, field, b[field], a[field], grow)
			}
		}
		// The Prometheus collector reads the same counters.
		if got := scrapeAfter.value("rustypotato_commands_total", "cmd", cmd) -
			scrapeBefore.value("rustypotato_commands_total", "cmd", cmd); got != float64(want) {
			t.Errorf("commands_total{cmd=%s} grew by %v, want %d", cmd, got, want)
		}
	}
}

// commandstats returns INFO commandstats as command -> field -> value.
func commandstats(t *testing.T, rdb *redis.Client) map[string]map[string]string {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]map[string]string{}
	for _, line := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			fields[k] = v
		}
		stats[strings.TrimPrefix(name, "cmdstat_")] = fields
	}
	if !strings.Contains(info, "# Commandstats") {
		t.Fatalf("INFO commandstats has no Commandstats section:\n%s", info)
	}
	return stats
}

func TestMetricsCommandBuckets(t *testing.T) {
	var h metrics.Histogram
	h.Record(0)                       // bucket 0: le 1µs
	h.Record(3 * time.Microsecond)    // bucket 2: le 4µs
	h.Record(3 * time.Microsecond)    // bucket 2
	h.Record(100 * time.Second)       // bucket 27: beyond the last finite bucket
	h.Record(700 * time.Microsecond)  // bucket 10: le 1024µs
	h.Record(1023 * time.Microsecond) // bucket 10
	count, buckets := commandBuckets(h.Snapshot().Buckets)
	if count != 6 {
		t.Fatalf("count %d, want 6", count)
	}
	if len(buckets) != commandHistMaxBucket+1 {
		t.Fatalf("%d buckets, want %d", len(buckets), commandHistMaxBucket+1)
	}
	for le, want := range map[float64]uint64{1e-6: 1, 2e-6: 1, 4e-6: 3, 512e-6: 3, 1024e-6: 5, float64(1<<24) / 1e6: 5} {
		if got, ok := buckets[le]; !ok || got != want {
			t.Errorf("bucket le=%v: %d (present %v), want %d", le, got, ok, want)
		}
	}
}

func TestMetricsFsyncHistogram(t *testing.T) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: []float64{
		100e3, 200e3, 300e3, 400e3, 1e6, 5e6, 7e6, 20e6,
	}})
	for _, ns := range []float64{50e3, 150e3, 350e3, 900e3, 6e6, 1e9} {
		h.Observe(ns)
	}
	m := fsyncHistogram(h)
	if m == nil {
		t.Fatal("nil metric")
	}
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	ph := out.GetHistogram()
	if ph.GetSampleCount() != 6 || math.Abs(ph.GetSampleSum()-(50e3+150e3+350e3+900e3+6e6+1e9)/1e9) > 1e-9 {
		t.Fatalf("count %d sum %v", ph.GetSampleCount(), ph.GetSampleSum())
	}
	// Kept bounds are Pebble's, about doubling: 100µs, 200µs, 400µs, 1ms,
	// 5ms, 20ms; cumulative counts are exact at each.
	want := []struct {
		le  float64
		cum uint64
	}{{100e-6, 1}, {200e-6, 2}, {400e-6, 3}, {1e-3, 4}, {5e-3, 4}, {20e-3, 5}}
	if len(ph.Bucket) != len(want) {
		t.Fatalf("buckets %v", ph.Bucket)
	}
	for i, w := range want {
		b := ph.Bucket[i]
		if math.Abs(b.GetUpperBound()-w.le) > 1e-12 || b.GetCumulativeCount() != w.cum {
			t.Errorf("bucket %d: le=%v cum=%d, want le=%v cum=%d", i, b.GetUpperBound(), b.GetCumulativeCount(), w.le, w.cum)
		}
	}
}
