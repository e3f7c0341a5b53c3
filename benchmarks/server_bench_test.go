package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/respserver"
)

// The server benchmarks talk RESP over real loopback TCP connections to an
// in-process respserver. The client side is a minimal hand-written RESP
// client (pre-encoded requests, replies read by their known length), so
// that allocations and time are the server's, the kernel's and the
// store's, not a client library's.

// srvLogger drops every log line.
func srvLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 100}))
}

// benchServer is a respserver serving a store on a free port of 127.0.0.1.
type benchServer struct {
	srv    *respserver.Server
	store  *kv.Store
	addr   string
	served chan error
}

// startServer opens a store with durability d in dir and serves it.
func startServer(dir string, d kv.Durability) (*benchServer, error) {
	store, err := kv.Open(dir, &kv.Options{Durability: d, Logger: srvLogger()})
	if err != nil {
		return nil, err
	}
	srv, err := respserver.New(respserver.Config{Addr: "127.0.0.1:0", Store: store, Logger: srvLogger()})
	if err != nil {
		store.Close()
		return nil, err
	}
	ln, err := srv.Listen()
	if err != nil {
		store.Close()
		return nil, err
	}
	bs := &benchServer{srv: srv, store: store, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { bs.served <- srv.Serve(ln) }()
	return bs, nil
}

// stop shuts the server down and closes the store.
func (bs *benchServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if err := bs.srv.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := <-bs.served; !errors.Is(err, respserver.ErrServerClosed) {
		errs = append(errs, err)
	}
	if err := bs.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newServer starts a server with durability d in a temporary directory,
// stopped when the benchmark ends.
func newServer(tb testing.TB, d kv.Durability) *benchServer {
	tb.Helper()
	bs, err := startServer(tb.TempDir(), d)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := bs.stop(); err != nil {
			tb.Error(err)
		}
	})
	return bs
}

// respConn is a raw client connection.
type respConn struct {
	conn net.Conn
	br   *bufio.Reader
	buf  []byte // the last reply
}

func dialRESP(tb testing.TB, addr string) *respConn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &respConn{conn: conn, br: bufio.NewReaderSize(conn, 64<<10)}
}

// encodeRESP appends the RESP encoding of a command to dst.
func encodeRESP(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// bulkReply returns the RESP2 bulk-string reply carrying v.
func bulkReply(v []byte) []byte {
	out := fmt.Appendf(nil, "$%d\r\n", len(v))
	out = append(out, v...)
	return append(out, '\r', '\n')
}

// do writes req and reads the reply, which must be exactly want.
func (rc *respConn) do(req, want []byte) error {
	if _, err := rc.conn.Write(req); err != nil {
		return err
	}
	return rc.expect(want)
}

// expect reads len(want) bytes and compares them with want.
func (rc *respConn) expect(want []byte) error {
	if cap(rc.buf) < len(want) {
		rc.buf = make([]byte, len(want))
	}
	rc.buf = rc.buf[:len(want)]
	if _, err := io.ReadFull(rc.br, rc.buf); err != nil {
		return err
	}
	if !bytes.Equal(rc.buf, want) {
		return fmt.Errorf("reply %.80q, want %.80q", rc.buf, want)
	}
	return nil
}

var (
	srvValue  = []byte("0123456789abcdef") // the 16-byte value the write benchmarks store
	replyOK   = []byte("+OK\r\n")
	replyPONG = []byte("+PONG\r\n")
	reqPING   = encodeRESP(nil, []byte("PING"))
)

// Benchmark_network_throughput measures SET then GET of one value, two
// round trips over one loopback TCP connection to an in-process server
// (appendfsync everysec), by value size. MB/s counts the value bytes sent
// (SET) and received (GET).
func Benchmark_network_throughput(b *testing.B) {
	bs := newServer(b, kv.EverySec)
	for _, size := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10} {
		name := strconv.Itoa(size) + "B"
		if size >= 1<<10 {
			name = strconv.Itoa(size>>10) + "KB"
		}
		b.Run(name, func(b *testing.B) {
			rc := dialRESP(b, bs.addr)
			key := []byte("net:" + name)
			val := bytes.Repeat([]byte{'x'}, size)
			set := encodeRESP(nil, []byte("SET"), key, val)
			get := encodeRESP(nil, []byte("GET"), key)
			want := bulkReply(val)
			b.SetBytes(int64(2 * size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := rc.do(set, replyOK); err != nil {
					b.Fatal(err)
				}
				if err := rc.do(get, want); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Benchmark_server_operations measures the server itself:
//
//   - server_lifecycle: open a new store, start the server, serve one
//     PING over a new connection, shut the server down and close the store;
//   - ping: one PING round trip on an open connection;
//   - pipelined_set_100: 100 SETs written at once, then their 100 replies
//     (the server runs them as one transaction: one WAL write);
//   - parallel_set_50_clients: SETs from 50 connections at once (b.N SETs
//     in all), which share WAL writes (group commit).
func Benchmark_server_operations(b *testing.B) {
	b.Run("server_lifecycle", func(b *testing.B) {
		root := b.TempDir()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dir, err := os.MkdirTemp(root, "life")
			if err != nil {
				b.Fatal(err)
			}
			bs, err := startServer(dir, kv.EverySec)
			if err != nil {
				b.Fatal(err)
			}
			conn, err := net.Dial("tcp", bs.addr)
			if err != nil {
				b.Fatal(err)
			}
			rc := &respConn{conn: conn, br: bufio.NewReader(conn)}
			if err := rc.do(reqPING, replyPONG); err != nil {
				b.Fatal(err)
			}
			conn.Close()
			if err := bs.stop(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("ping", func(b *testing.B) {
		bs := newServer(b, kv.EverySec)
		rc := dialRESP(b, bs.addr)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := rc.do(reqPING, replyPONG); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipelined_set_100", func(b *testing.B) {
		bs := newServer(b, kv.EverySec)
		rc := dialRESP(b, bs.addr)
		var req []byte
		for i := 0; i < 100; i++ {
			req = encodeRESP(req, []byte("SET"), fmt.Appendf(nil, "pipe:%03d", i), srvValue)
		}
		want := bytes.Repeat(replyOK, 100)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := rc.do(req, want); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "sets/s")
	})
	b.Run("parallel_set_50_clients", func(b *testing.B) {
		bs := newServer(b, kv.EverySec)
		conns := make([]*respConn, 50)
		for i := range conns {
			conns[i] = dialRESP(b, bs.addr)
		}
		reqs := make([][]byte, 10_000)
		for i := range reqs {
			reqs[i] = encodeRESP(nil, []byte("SET"), fmt.Appendf(nil, "par:%05d", i), srvValue)
		}
		b.ReportAllocs()
		b.ResetTimer()
		runConcurrent(b, len(conns), func(w, i int) error {
			return conns[w].do(reqs[i%len(reqs)], replyOK)
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sets/s")
	})
}

// runConcurrent runs op b.N times in all from workers goroutines (worker
// w, iteration i), stopping at the first error.
func runConcurrent(b *testing.B, workers int, op func(w, i int) error) {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for failed.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(w, i); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		b.Fatal(*p)
	}
}

// Benchmark_persistence_writes measures acknowledged writes per second
// (the writes/s metric) through kv.Store.Update, one SET per transaction,
// under each durability mode, from one writer and from 50 concurrent
// writers (whose commits share fsyncs under always: group commit). Unlike
// Benchmark_persistence (restart cost), this is the steady-state write
// cost of each appendfsync setting.
func Benchmark_persistence_writes(b *testing.B) {
	for _, d := range []kv.Durability{kv.Always, kv.EverySec, kv.No} {
		for _, writers := range []int{1, 50} {
			b.Run(d.String()+"/writers_"+strconv.Itoa(writers), func(b *testing.B) {
				s, err := kv.Open(b.TempDir(), &kv.Options{Durability: d, Logger: srvLogger()})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				keys := make([][]byte, 10_000)
				for i := range keys {
					keys[i] = fmt.Appendf(nil, "w:%05d", i)
				}
				b.ReportAllocs()
				b.ResetTimer()
				runConcurrent(b, writers, func(_, i int) error {
					k := keys[i%len(keys)]
					return s.Update(func(tx *kv.Tx) error {
						_, err := tx.Set(0, k, srvValue, kv.SetOptions{})
						return err
					})
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		}
	}
}
