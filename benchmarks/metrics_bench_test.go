package benchmarks

import (
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/internal/cmdtable"
	"github.com/rustypotato/rustypotato/internal/metrics"
	"github.com/rustypotato/rustypotato/kv"
)

// Benchmark_metrics_collection measures the cost of observability:
//
//   - record_command_latency: one command's statistics on the command path
//     (look the command up by name, count the call, add its time, record
//     its latency in the power-of-two histogram); _parallel from every
//     core at once on the same command, the contended case;
//   - record_network_bytes: counting one read and one write;
//   - get_summary: aggregating the statistics of every command of the
//     command table (cmdtable.List, about 100; the commands metric) into
//     one Summary with a merged histogram, plus its p99;
//   - prometheus_scrape: gathering the whole Prometheus registry of a
//     running server (every rustypotato_* metric, Pebble's and the Go
//     runtime's), which is what each /metrics scrape costs the server.
//
// All but prometheus_scrape report 0 allocs/op (with -benchtime=1x the
// parallel one also counts starting its goroutines).
func Benchmark_metrics_collection(b *testing.B) {
	names := cmdtable.List()
	set := metrics.NewSet(names...)
	get := []byte("get")
	b.Run("record_command_latency", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			set.Command(get).Record(time.Duration(i&1023)*time.Microsecond, false)
		}
	})
	b.Run("record_command_latency_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			d := time.Duration(0)
			for pb.Next() {
				set.Command(get).Record(d, false)
				d += time.Microsecond
			}
		})
	})
	b.Run("record_network_bytes", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			set.NetInput.Add(64)
			set.NetOutput.Add(5)
		}
	})
	b.Run("get_summary", func(b *testing.B) {
		for i, n := range names {
			c := set.Command([]byte(n))
			for j := 0; j <= i%7; j++ {
				c.Record(time.Duration(j*100)*time.Microsecond, j == 3)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		var p99 float64
		for i := 0; i < b.N; i++ {
			sum := set.Summary()
			p99 = sum.Latency.Percentile(99)
		}
		if p99 <= 0 {
			b.Fatalf("p99 = %v", p99)
		}
		b.ReportMetric(float64(set.Len()), "commands")
	})
	b.Run("prometheus_scrape", func(b *testing.B) {
		bs := newServer(b, kv.EverySec)
		rc := dialRESP(b, bs.addr)
		set := encodeRESP(nil, []byte("SET"), []byte("k"), srvValue)
		for i := 0; i < 10; i++ {
			if err := rc.do(set, replyOK); err != nil {
				b.Fatal(err)
			}
		}
		reg := bs.srv.MetricsRegistry()
		b.ReportAllocs()
		b.ResetTimer()
		var families int
		for i := 0; i < b.N; i++ {
			fams, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			families = len(fams)
		}
		b.ReportMetric(float64(families), "families")
	})
}
