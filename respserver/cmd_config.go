package respserver

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rustypotato/rustypotato/internal/conf"
	"github.com/rustypotato/rustypotato/internal/glob"
	"github.com/rustypotato/rustypotato/kv"
)

// CONFIG GET | SET | RESETSTAT | REWRITE | HELP.

func init() {
	cfg := registerContainer("config", 0, nil)
	registerHelp(cfg, configHelp)
	registerSub(cfg, "get", 0, func(c *client, args [][]byte) (fn, error) {
		patterns := args[2:]
		return func(c *client, _ *kv.Tx) error { c.srv.configGet(c, patterns); return nil }, nil
	})
	registerSub(cfg, "set", 0, parseConfigSet)
	registerSub(cfg, "resetstat", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.srv.ResetStats()
			c.w.SimpleString("OK")
			return nil
		}, nil
	})
	registerSub(cfg, "rewrite", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			if err := c.srv.RewriteConfig(); err != nil {
				return err
			}
			c.w.SimpleString("OK")
			return nil
		}, nil
	})
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

// configParam is one CONFIG GET/SET parameter.
type configParam struct {
	name string
	get  func(s *Server) string
	// set validates v and returns the function that applies it; nil for
	// parameters that cannot change at runtime.
	set func(s *Server, v string) (apply func(), err error)
	// dflt is the value CONFIG REWRITE leaves out of a file that does not
	// mention the parameter; rewrite is false for parameters it never
	// writes.
	dflt    string
	rewrite bool
	// sensitive values are redacted from the SLOWLOG, as in Redis.
	sensitive bool
}

// Errors of CONFIG SET value checks, as Redis words them.
var (
	errConfigNotInt      = errors.New("argument couldn't be parsed into an integer")
	errConfigNotMemory   = errors.New("argument must be a memory value")
	errConfigImmutable   = errors.New("can't set immutable config")
	errConfigDuplicate   = errors.New("duplicate parameter")
	errConfigYesNo       = errors.New("argument must be 'yes' or 'no'")
	errConfigInvalidSave = errors.New("Invalid save parameters")
)

// ErrNoConfigFile is CONFIG REWRITE's error when the server was started
// without a configuration file.
var ErrNoConfigFile = errors.New("ERR The server is running without a config file")

func errConfigRange(lo, hi int64) error {
	return errors.New("argument must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + " inclusive")
}

func errConfigEnum(values ...string) error {
	return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
}

// configInt parses an integer parameter in [lo, hi].
func configInt(v string, lo, hi int64) (int64, error) {
	n, ok := parseStrictInt([]byte(v))
	if !ok {
		return 0, errConfigNotInt
	}
	if n < lo || n > hi {
		return 0, errConfigRange(lo, hi)
	}
	return n, nil
}

// configEnum matches v (case-insensitive) against values.
func configEnum(v string, values ...string) (string, error) {
	for _, e := range values {
		if strings.EqualFold(v, e) {
			return e, nil
		}
	}
	return "", errConfigEnum(values...)
}

// extraOr returns the startup value of an extra parameter, or dflt.
func (s *Server) extraOr(name, dflt string) string {
	if v, ok := s.settings.getExtra(name); ok {
		return v
	}
	return dflt
}

func setExtra(name string, s *Server, v string) func() {
	return func() { s.settings.setExtra(name, v) }
}

var logLevels = []string{"debug", "verbose", "notice", "warning"}

var evictionPolicies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

// configParams are the parameters, sorted by name.
var configParams = []*configParam{
	{name: "appendfsync", rewrite: true, dflt: "everysec",
		get: func(s *Server) string { return s.store.Options().Durability.String() },
		set: func(s *Server, v string) (func(), error) {
			mode, err := configEnum(v, "everysec", "always", "no")
			if err != nil {
				return nil, err
			}
			if mode != s.store.Options().Durability.String() {
				return nil, errors.New("changing appendfsync at runtime is not supported; restart the server with the new setting")
			}
			return func() {}, nil
		}},
	{name: "appendonly", get: func(*Server) string { return "yes" },
		set: func(s *Server, v string) (func(), error) {
			switch {
			case strings.EqualFold(v, "yes"):
				return func() {}, nil
			case strings.EqualFold(v, "no"):
				return nil, errors.New("appendonly cannot be disabled: every write goes to the write-ahead log")
			}
			return nil, errConfigYesNo
		}},
	{name: "bind", rewrite: true, dflt: "127.0.0.1",
		get: func(s *Server) string {
			host, _, _ := net.SplitHostPort(s.cfg.Addr)
			return s.extraOr("bind", host)
		}},
	{name: "client-query-buffer-limit",
		get: func(s *Server) string { return strconv.FormatInt(orDefault(s.cfg.Limits.MaxQueryBuffer, 1<<30), 10) }},
	{name: "databases", get: func(*Server) string { return "16" }},
	{name: "dir", rewrite: true, dflt: "./data",
		get: func(s *Server) string {
			if abs, err := filepath.Abs(s.store.Dir()); err == nil {
				return abs
			}
			return s.store.Dir()
		}},
	{name: "hot-tier-size", rewrite: true, dflt: strconv.FormatInt(256<<20, 10),
		get: func(s *Server) string { return strconv.FormatInt(s.store.Options().HotTierBytes, 10) }},
	{name: "loglevel", rewrite: true, dflt: "notice",
		get: func(s *Server) string { return s.extraOr("loglevel", "notice") },
		set: func(s *Server, v string) (func(), error) {
			lvl, err := configEnum(v, logLevels...)
			if err != nil {
				return nil, err
			}
			return setExtra("loglevel", s, lvl), nil
		}},
	{name: "maxclients", rewrite: true, dflt: "10000",
		get: func(s *Server) string { return strconv.Itoa(s.settings.maxClients()) },
		set: func(s *Server, v string) (func(), error) {
			n, err := configInt(v, 1, 4294967295)
			if err != nil {
				return nil, err
			}
			return func() { s.settings.setMaxClients(int(n)) }, nil
		}},
	{name: "maxmemory", get: func(*Server) string { return "0" },
		set: func(s *Server, v string) (func(), error) {
			n, err := conf.ParseMemory(v)
			if err != nil || v == "" {
				return nil, errConfigNotMemory
			}
			if n != 0 {
				return nil, errors.New("maxmemory is not supported: every key is kept on disk (see hot-tier-size)")
			}
			return func() {}, nil
		}},
	{name: "maxmemory-policy", get: func(*Server) string { return "noeviction" },
		set: func(s *Server, v string) (func(), error) {
			p, err := configEnum(v, evictionPolicies...)
			if err != nil {
				return nil, err
			}
			if p != "noeviction" {
				return nil, errors.New("only noeviction is supported: keys are never evicted")
			}
			return func() {}, nil
		}},
	{name: "port", rewrite: true, dflt: "6379",
		get: func(s *Server) string { return strconv.Itoa(s.port()) }},
	{name: "proto-max-bulk-len",
		get: func(s *Server) string { return strconv.FormatInt(orDefault(s.cfg.Limits.MaxBulkLen, 512<<20), 10) }},
	{name: "requirepass", rewrite: true, dflt: "", sensitive: true,
		get: func(s *Server) string { return s.settings.requirePass() },
		set: func(s *Server, v string) (func(), error) {
			return func() { s.settings.setRequirePass(v) }, nil
		}},
	{name: "save", dflt: "",
		get: func(s *Server) string { return s.extraOr("save", "") },
		set: func(s *Server, v string) (func(), error) {
			f := strings.Fields(v)
			if len(f)%2 != 0 {
				return nil, errConfigInvalidSave
			}
			for j, x := range f {
				n, err := strconv.ParseInt(x, 10, 64)
				if err != nil || j%2 == 0 && n < 1 || n < 0 {
					return nil, errConfigInvalidSave
				}
			}
			return setExtra("save", s, strings.Join(f, " ")), nil
		}},
	{name: "slowlog-log-slower-than", rewrite: true, dflt: "10000",
		get: func(s *Server) string { return strconv.FormatInt(s.settings.slowlogMicros(), 10) },
		set: func(s *Server, v string) (func(), error) {
			n, err := configInt(v, -1, 1<<63-1)
			if err != nil {
				return nil, err
			}
			return func() { s.settings.setSlowlogMicros(n) }, nil
		}},
	{name: "slowlog-max-len", rewrite: true, dflt: "128",
		get: func(s *Server) string { return strconv.Itoa(s.slowlog.getMaxLen()) },
		set: func(s *Server, v string) (func(), error) {
			n, err := configInt(v, 0, 1<<63-1)
			if err != nil {
				return nil, err
			}
			return func() { s.slowlog.setMaxLen(int(min(n, 1<<31))) }, nil
		}},
	{name: "timeout", rewrite: true, dflt: "0",
		get: func(s *Server) string { return strconv.FormatInt(int64(s.settings.timeout()/time.Second), 10) },
		set: func(s *Server, v string) (func(), error) {
			n, err := configInt(v, 0, 2147483647)
			if err != nil {
				return nil, err
			}
			return func() { s.settings.setTimeout(time.Duration(n) * time.Second) }, nil
		}},
}

func orDefault(v, d int64) int64 {
	if v <= 0 {
		return d
	}
	return v
}

// lookupConfig finds a parameter by name (case-insensitive).
func lookupConfig(name string) *configParam {
	for _, p := range configParams {
		if strings.EqualFold(p.name, name) {
			return p
		}
	}
	return nil
}

// configGet writes CONFIG GET's reply: a map (a flat array in RESP2) of
// every parameter a pattern matches. A pattern without glob characters
// names one parameter, reported under the name as given, as Redis 7.0
// does.
func (s *Server) configGet(c *client, patterns [][]byte) {
	seen := map[*configParam]bool{}
	var names, values []string
	add := func(p *configParam, name string) {
		if !seen[p] {
			seen[p] = true
			names = append(names, name)
			values = append(values, p.get(s))
		}
	}
	for _, pat := range patterns {
		if !bytes.ContainsAny(pat, "[*?") {
			if p := lookupConfig(string(pat)); p != nil {
				add(p, string(pat))
			}
			continue
		}
		for _, p := range configParams {
			if glob.String(string(pat), p.name, true) {
				add(p, p.name)
			}
		}
	}
	c.w.MapLen(len(names))
	for i := range names {
		c.w.BulkString(names[i])
		c.w.BulkString(values[i])
	}
}

// CONFIG SET name value [name value ...]: all or nothing.
type configSetCmd struct{ apply []func() }

func parseConfigSet(c *client, args [][]byte) (configSetCmd, error) {
	if len(args)%2 != 0 {
		return configSetCmd{}, errSyntax
	}
	// Like Redis, redact sensitive values (call logs these arguments in
	// the SLOWLOG) whatever the outcome; values are read before.
	values := make([]string, 0, (len(args)-2)/2)
	for i := 2; i+1 < len(args); i += 2 {
		values = append(values, string(args[i+1]))
		if p := lookupConfig(string(args[i])); p != nil && p.sensitive {
			args[i+1] = []byte("(redacted)")
		}
	}
	failed := func(name []byte, err error) error {
		return errors.New("ERR CONFIG SET failed (possibly related to argument '" + string(name) + "') - " + err.Error())
	}
	params := make([]*configParam, 0, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		p := lookupConfig(string(args[i]))
		switch {
		case p == nil:
			return configSetCmd{}, errors.New("ERR Unknown option or number of arguments for CONFIG SET - '" + string(args[i]) + "'")
		case p.set == nil:
			return configSetCmd{}, failed(args[i], errConfigImmutable)
		}
		for _, q := range params {
			if q == p {
				return configSetCmd{}, failed(args[i], errConfigDuplicate)
			}
		}
		params = append(params, p)
	}
	var cs configSetCmd
	for i, p := range params {
		apply, err := p.set(c.srv, values[i])
		if err != nil {
			return configSetCmd{}, failed(args[2+2*i], err)
		}
		cs.apply = append(cs.apply, apply)
	}
	return cs, nil
}

func (cs configSetCmd) run(c *client, _ *kv.Tx) error {
	for _, apply := range cs.apply {
		apply()
	}
	c.w.SimpleString("OK")
	return nil
}

// ResetStats resets the statistics INFO reports, as CONFIG RESETSTAT does:
// the server counters and every command's calls, times, errors and latency
// histogram. The slowlog is kept, as in Redis.
func (s *Server) ResetStats() {
	for i := range s.cmdStats {
		st := &s.cmdStats[i]
		st.calls.Store(0)
		st.usec.Store(0)
		st.failed.Store(0)
		st.rejected.Store(0)
		st.hist.reset()
	}
	ks := s.store.Stats()
	s.stats.reset(ks.ExpiredKeys.Load(), ks.EvictedKeys.Load(), ks.HotHits.Load(), ks.HotMisses.Load())
}

// RewriteConfig writes the current settings to Config.ConfigFile, as
// CONFIG REWRITE does: lines of parameters the server manages are updated
// in place (later duplicates dropped), other lines and comments are kept,
// and parameters the file does not mention are appended when they differ
// from their defaults. The file is replaced atomically.
func (s *Server) RewriteConfig() error {
	path := s.cfg.ConfigFile
	if path == "" {
		return ErrNoConfigFile
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return errors.New("ERR Rewriting config file: " + err.Error())
	}
	values := map[string]string{}
	for _, p := range configParams {
		if p.rewrite {
			values[p.name] = p.get(s)
		}
	}
	// Keep the startup spelling of settings whose value is unchanged.
	for _, name := range []string{"dir", "bind", "port"} {
		if v, ok := s.settings.getExtra(name); ok {
			values[name] = v
		}
	}
	written := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		name, _, _ := strings.Cut(t, " ")
		name = strings.ToLower(name)
		if v, ok := values[name]; ok && t != "" && t[0] != '#' {
			if !written[name] {
				out = append(out, name+" "+confValue(v))
				written[name] = true
			}
			continue
		}
		out = append(out, line)
	}
	var extra []string
	for name, v := range values {
		if !written[name] && v != lookupConfig(name).dflt {
			extra = append(extra, name+" "+confValue(v))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		const marker = "# Generated by CONFIG REWRITE"
		if !containsLine(out, marker) {
			out = append(out, marker)
		}
		out = append(out, extra...)
	}
	data := []byte(strings.Join(out, "\n") + "\n")
	if err := writeFileAtomic(path, data); err != nil {
		return errors.New("ERR Rewriting config file: " + err.Error())
	}
	return nil
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// confValue formats a value for a redis.conf-style file.
func confValue(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsynced, then renamed over path.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".rustypotato-conf-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
