package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/internal/conf"
	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/recovery"
	"github.com/rustypotato/rustypotato/respserver"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the Redis-compatible daemon",
		Description: "Flags may also be given as environment variables (RUSTYPOTATO_PORT, ...) or in a\n" +
			"redis.conf-style file (--config): flags win over the environment, which wins over the file.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "redis.conf-style configuration file", EnvVars: []string{"RUSTYPOTATO_CONFIG"}},
			&cli.IntFlag{Name: "port", Value: 6379, Usage: "TCP port", EnvVars: []string{"RUSTYPOTATO_PORT"}},
			&cli.StringFlag{Name: "bind", Value: "127.0.0.1", Usage: "address(es) to listen on, space-separated (first one is used)", EnvVars: []string{"RUSTYPOTATO_BIND"}},
			&cli.StringFlag{Name: "dir", Value: "./data", Usage: "data directory", EnvVars: []string{"RUSTYPOTATO_DIR"}},
			&cli.StringFlag{Name: "appendfsync", Value: "everysec", Usage: "durability: always, everysec or no", EnvVars: []string{"RUSTYPOTATO_APPENDFSYNC"}},
			&cli.StringFlag{Name: "hot-tier-size", Value: "256mb", Usage: "in-memory hot tier budget (e.g. 256mb, 1gb)", EnvVars: []string{"RUSTYPOTATO_HOT_TIER_SIZE"}},
			&cli.StringFlag{Name: "requirepass", Usage: "password clients must AUTH with", EnvVars: []string{"RUSTYPOTATO_REQUIREPASS"}},
			&cli.IntFlag{Name: "maxclients", Value: 10000, Usage: "maximum concurrent clients", EnvVars: []string{"RUSTYPOTATO_MAXCLIENTS"}},
			&cli.IntFlag{Name: "timeout", Value: 0, Usage: "close connections idle for this many seconds (0: never)", EnvVars: []string{"RUSTYPOTATO_TIMEOUT"}},
			&cli.StringFlag{Name: "loglevel", Value: "notice", Usage: "debug, verbose, notice or warning", EnvVars: []string{"RUSTYPOTATO_LOGLEVEL"}},
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of the whole run to this file (for benchmarks)", EnvVars: []string{"RUSTYPOTATO_CPUPROFILE"}},
			&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus metrics on this address (off by default)", EnvVars: []string{"RUSTYPOTATO_METRICS_ADDR"}},
		},
		Action: runServe,
	}
}

// serveSettings are the resolved settings of a serve run.
type serveSettings struct {
	port        int
	bind        string
	dir         string
	durability  kv.Durability
	hotTier     int64
	requirePass string
	maxClients  int
	timeout     time.Duration
	level       slog.Level
	levelName   string
	metricsAddr string
	configFile  string
}

// resolveSettings merges flags, environment and the config file, and
// reports every problem at once.
func resolveSettings(c *cli.Context) (*serveSettings, error) {
	file := map[string]string{}
	st := &serveSettings{configFile: c.String("config")}
	if st.configFile != "" {
		m, err := conf.ParseFile(st.configFile)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		file = m
	}
	get := func(name string) string {
		if !c.IsSet(name) {
			if v, ok := file[name]; ok {
				return v
			}
		}
		return fmt.Sprint(c.Value(name))
	}
	var errs []error
	var err error
	if st.port, err = strconv.Atoi(get("port")); err != nil || st.port < 0 || st.port > 65535 {
		errs = append(errs, fmt.Errorf("port %q must be 0..65535", get("port")))
	}
	st.bind = strings.Fields(get("bind") + " 127.0.0.1")[0]
	st.dir = get("dir")
	if st.durability, err = kv.ParseDurability(get("appendfsync")); err != nil {
		errs = append(errs, err)
	}
	if st.hotTier, err = conf.ParseMemory(get("hot-tier-size")); err != nil {
		errs = append(errs, fmt.Errorf("hot-tier-size: %w", err))
	}
	st.requirePass = get("requirepass")
	if st.maxClients, err = strconv.Atoi(get("maxclients")); err != nil || st.maxClients < 1 {
		errs = append(errs, fmt.Errorf("maxclients %q must be a positive integer", get("maxclients")))
	}
	t, err := strconv.Atoi(get("timeout"))
	if err != nil || t < 0 {
		errs = append(errs, fmt.Errorf("timeout %q must be a non-negative number of seconds", get("timeout")))
	}
	st.timeout = time.Duration(t) * time.Second
	st.levelName = strings.ToLower(get("loglevel"))
	switch st.levelName {
	case "debug":
		st.level = slog.LevelDebug
	case "verbose", "info":
		st.level = slog.LevelInfo
	case "notice":
		st.level = slog.LevelInfo
	case "warning", "warn":
		st.level = slog.LevelWarn
	default:
		errs = append(errs, fmt.Errorf("loglevel %q must be debug, verbose, notice or warning", st.levelName))
	}
	st.metricsAddr = get("metrics-addr")
	if err := checkProtected(st.bind, st.requirePass); err != nil {
		errs = append(errs, err)
	}
	return st, errors.Join(errs...)
}

// checkProtected refuses to listen beyond loopback without a password, as
// Redis's protected mode would refuse such clients.
func checkProtected(bind, pass string) error {
	if pass != "" {
		return nil
	}
	host := bind
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without a password (protected mode): "+
		"anyone who can reach this address could read and change every key. "+
		"Set --requirepass (or RUSTYPOTATO_REQUIREPASS, or 'requirepass' in the config file), "+
		"or bind to 127.0.0.1", bind)
}

// warmBytes bounds how much of the hot tier serve loads at startup.
const warmBytes = 64 << 20

func runServe(c *cli.Context) error {
	st, err := resolveSettings(c)
	if err != nil {
		return cli.Exit("invalid configuration:\n"+err.Error(), exitUsage)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: st.level}))
	slog.SetDefault(logger)
	if path := c.String("cpuprofile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return cli.Exit(fmt.Sprintf("cpuprofile: %v", err), exitUsage)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return cli.Exit(fmt.Sprintf("cpuprofile: %v", err), exitUsage)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	store, report, err := recovery.Startup(st.dir, &kv.Options{
		Durability:   st.durability,
		HotTierBytes: st.hotTier,
		Logger:       logger,
	}, 0) // the store warms its hot tier in the background (kv/warm.go)
	if err != nil {
		if errors.Is(err, kv.ErrLocked) {
			return cli.Exit(err.Error()+": stop the other server first, or use another --dir", exitFailure)
		}
		return cli.Exit(fmt.Sprintf("cannot open the data directory: %v", err), exitFailure)
	}
	logger.Info("startup report", "report", report)
	addr := net.JoinHostPort(st.bind, strconv.Itoa(st.port))
	srv, err := respserver.New(respserver.Config{
		Addr:        addr,
		Store:       store,
		RequirePass: st.requirePass,
		MaxClients:  st.maxClients,
		Timeout:     st.timeout,
		Logger:      logger,
		ConfigFile:  st.configFile,
		Extra: map[string]string{
			"port":          strconv.Itoa(st.port),
			"bind":          st.bind,
			"dir":           st.dir,
			"appendfsync":   st.durability.String(),
			"hot-tier-size": strconv.FormatInt(st.hotTier, 10),
			"loglevel":      st.levelName,
			"databases":     "16",
		},
	})
	if err != nil {
		store.Close()
		return cli.Exit(err.Error(), exitFailure)
	}
	ln, err := srv.Listen()
	if err != nil {
		store.Close()
		return cli.Exit(fmt.Sprintf("cannot listen on %s: %v", addr, err), exitFailure)
	}
	var metricsSrv *http.Server
	if st.metricsAddr != "" {
		ms, maddr, err := srv.ListenMetrics(st.metricsAddr)
		if err != nil {
			ln.Close()
			store.Close()
			return cli.Exit(fmt.Sprintf("cannot listen on --metrics-addr %s: %v", st.metricsAddr, err), exitFailure)
		}
		metricsSrv = ms
		logger.Info("serving Prometheus metrics", "url", "http://"+maddr.String()+"/metrics")
	}
	logger.Info("rustypotato ready to accept connections",
		"version", version, "addr", ln.Addr().String(), "dir", st.dir,
		"appendfsync", st.durability.String(), "recovery", report.Total.Round(time.Microsecond).String(),
		"pid", os.Getpid())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case sig := <-sigs:
		logger.Info("received signal, shutting down", "signal", sig.String())
	case <-srv.ShutdownRequested():
		logger.Info("SHUTDOWN requested by a client")
	case err := <-serveErr:
		if !errors.Is(err, respserver.ErrServerClosed) {
			logger.Error("server stopped", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(ctx) // before the store closes: no scrape reads a closed store
	}
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("connections did not finish in time", "err", err)
	}
	if err := store.Close(); err != nil {
		return cli.Exit(fmt.Sprintf("closing the store: %v", err), exitFailure)
	}
	if err := recovery.MarkClean(st.dir); err != nil {
		logger.Warn("cannot record the clean shutdown; the next start will reconcile", "err", err)
	}
	logger.Info("RustyPotato is now ready to exit, bye bye...")
	return nil
}
