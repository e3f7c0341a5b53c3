package respserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rustypotato/rustypotato/internal/wire"
	"github.com/rustypotato/rustypotato/kv"
)

// Config configures a Server. Fields left zero take the documented default.
type Config struct {
	// Addr is the TCP address to listen on. Default: "127.0.0.1:6379".
	Addr string
	// Store is the kv store to serve. Required.
	Store *kv.Store
	// RequirePass, if set, makes clients AUTH first (Redis's requirepass;
	// "AUTH pass" or "AUTH default pass"). Default: none.
	RequirePass string
	// MaxClients bounds concurrent connections; one more gets
	// "-ERR max number of clients reached". Default: 10000.
	MaxClients int
	// Timeout closes a connection idle for this long; 0 never does.
	// Default: 0.
	Timeout time.Duration
	// Limits bound requests (proto-max-bulk-len 512 MB,
	// client-query-buffer-limit 1 GB, inline requests 64 KB by default).
	Limits wire.Limits
	// Logger receives the server's logs. Default: slog.Default().
	Logger *slog.Logger
	// Version is reported by INFO and HELLO. Default: "7.0.15"-compatible
	// build string set by the binary.
	Version string
	// ConfigFile is the file CONFIG REWRITE writes; empty makes CONFIG
	// REWRITE fail as Redis does without a config file.
	ConfigFile string
	// Extra holds settings CONFIG GET reports and CONFIG SET accepts that
	// the server itself does not use (for example "bind", "port", "dir",
	// "loglevel", "hot-tier-size", "appendfsync" as given at startup).
	Extra map[string]string
	// SlowlogThreshold logs commands slower than this in SLOWLOG.
	// Default: 10ms (Redis's slowlog-log-slower-than 10000).
	SlowlogThreshold time.Duration
	// SlowlogMaxLen bounds SLOWLOG. Default: 128.
	SlowlogMaxLen int
}

// Version is RustyPotato's version, reported by INFO, HELLO and the CLI.
const Version = "0.1.0"

// RedisVersion is the Redis version whose behaviour the server follows; it
// is what INFO's redis_version and HELLO's version report, since clients
// select features by it.
const RedisVersion = "7.0.15"

// Server serves the RESP protocol on a kv store.
type Server struct {
	cfg   Config
	store *kv.Store
	log   *slog.Logger

	mu        sync.Mutex
	ln        net.Listener
	clients   map[int64]*client
	monitors  map[int64]*client
	nmonitors atomic.Int32
	settings  *settings

	nextID      atomic.Int64
	closing     atomic.Bool
	shutdownReq chan struct{}
	shutOnce    sync.Once
	wg          sync.WaitGroup
	started     time.Time
	stats       serverStats
	slowlog     slowlog
	cmdStats    []cmdStat    // by command id
	lastSave    atomic.Int64 // Unix seconds
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("respserver: Config.Store is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:6379"
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = 10000
	}
	if cfg.MaxClients < 0 {
		return nil, fmt.Errorf("respserver: MaxClients %d is negative", cfg.MaxClients)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SlowlogThreshold == 0 {
		cfg.SlowlogThreshold = 10 * time.Millisecond
	}
	if cfg.SlowlogMaxLen == 0 {
		cfg.SlowlogMaxLen = 128
	}
	s := &Server{
		cfg:         cfg,
		store:       cfg.Store,
		log:         cfg.Logger,
		clients:     map[int64]*client{},
		monitors:    map[int64]*client{},
		shutdownReq: make(chan struct{}),
		started:     time.Now(),
	}
	s.settings = newSettings(cfg)
	s.cmdStats = make([]cmdStat, numCommands)
	s.slowlog.maxLen = cfg.SlowlogMaxLen
	s.lastSave.Store(time.Now().Unix())
	return s, nil
}

// ListenAndServe listens on Config.Addr and serves until Shutdown or Close.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Listen binds Config.Addr without serving yet, so the caller learns the
// address (e.g. port 0) before Serve.
func (s *Server) Listen() (net.Listener, error) { return net.Listen("tcp", s.cfg.Addr) }

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("respserver: server closed")

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.ln = ln
	s.mu.Unlock()
	var tempDelay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		tempDelay = 0
		s.accept(conn)
	}
}

// Addr returns the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// ShutdownRequested is closed when a client sends SHUTDOWN; the owner of
// the server should then call Shutdown and close the store.
func (s *Server) ShutdownRequested() <-chan struct{} { return s.shutdownReq }

func (s *Server) requestShutdown() {
	s.shutOnce.Do(func() { close(s.shutdownReq) })
}

func (s *Server) accept(conn net.Conn) {
	s.stats.connectionsReceived.Add(1)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
		_ = tc.SetKeepAlivePeriod(300 * time.Second)
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		conn.Close()
		return
	}
	if len(s.clients) >= s.settings.maxClients() {
		s.mu.Unlock()
		s.stats.rejectedConns.Add(1)
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.Write([]byte("-" + errMaxClients.Error() + "\r\n"))
		conn.Close()
		return
	}
	c := newClient(s, conn)
	s.clients[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.clients, c.id)
		if _, ok := s.monitors[c.id]; ok {
			delete(s.monitors, c.id)
			s.nmonitors.Add(-1)
		}
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting connections, lets every connection finish the
// commands it has read, closes the connections and waits for them, or for
// ctx to end. It does not close the store: the store's owner does, after
// Shutdown returns, which makes every acknowledged write durable.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.clients {
		c.wake() // a connection blocked in a read returns at once
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes the listener and every connection at once, without waiting
// for in-flight commands.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.clients {
		c.conn.Close()
	}
	return nil
}
