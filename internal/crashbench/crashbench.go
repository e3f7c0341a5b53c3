// Package crashbench measures crash recovery. It runs a server
// (RustyPotato, and Redis for comparison) as a child process on a temporary
// data directory, optionally preloads keys, drives concurrent writes (SET,
// INCR, DEL, EXPIRE) through real connections while recording every
// acknowledgement, kills the server with SIGKILL at a random moment,
// restarts it on the same directory, times the restart to the first PONG
// and checks that every acknowledged write survived.
//
// Each writer goroutine owns its keys and sends its commands on one
// connection, so after a crash the state of a key must be the one its
// acknowledged writes left, or that state followed by a prefix of the
// writes that were in flight when the server died. A key that matches
// none of those is counted as a lost write.
//
// The same code backs "go run ./benchmarks/crashbench" and "rustypotato
// bench crash"; see Command.
package crashbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrLostWrites reports that acknowledged writes were missing or wrong
// after a restart of RustyPotato under a durability (always, everysec)
// that promises to keep them.
var ErrLostWrites = errors.New("crashbench: acknowledged writes were lost")

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("crashbench: invalid configuration")

// Config describes a run. Zero fields take the defaults noted.
type Config struct {
	Bin         string        // RustyPotato binary; "" builds one with go build
	RedisBin    string        // redis-server binary; "" means "redis-server"
	Redis       bool          // also measure redis-server, with the same fsync policy
	Durability  string        // always, everysec (default) or no
	Keys        []int         // preloaded key counts, one run each (default 100000)
	Cycles      int           // kill/restart cycles of RustyPotato per key count (default 50)
	RedisCycles int           // cycles of Redis (default min(Cycles, 10))
	Writers     int           // writer connections (default 8)
	Pipeline    int           // writes in flight per writer (default 1)
	KillMin     time.Duration // earliest kill after the writes start (default 200ms)
	KillMax     time.Duration // latest kill (default 1500ms)
	ValueSize   int           // bytes per preloaded value (default 32)
	Seed        uint64        // random seed (default: from the clock)
	Progress    io.Writer     // one line per cycle; nil for none
}

func (c *Config) setDefaults() error {
	if c.Durability == "" {
		c.Durability = "everysec"
	}
	switch c.Durability {
	case "always", "everysec", "no":
	default:
		return fmt.Errorf("%w: durability %q must be always, everysec or no", ErrConfig, c.Durability)
	}
	if len(c.Keys) == 0 {
		c.Keys = []int{100000}
	}
	for _, k := range c.Keys {
		if k < 0 {
			return fmt.Errorf("%w: key count %d is negative", ErrConfig, k)
		}
	}
	if c.Cycles == 0 {
		c.Cycles = 50
	}
	if c.RedisCycles == 0 {
		c.RedisCycles = min(c.Cycles, 10)
	}
	if c.Writers == 0 {
		c.Writers = 8
	}
	if c.Pipeline == 0 {
		c.Pipeline = 1
	}
	if c.KillMin == 0 && c.KillMax == 0 {
		c.KillMin, c.KillMax = 200*time.Millisecond, 1500*time.Millisecond
	}
	if c.ValueSize == 0 {
		c.ValueSize = 32
	}
	if c.RedisBin == "" {
		c.RedisBin = "redis-server"
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	switch {
	case c.Cycles < 1 || c.RedisCycles < 1:
		return fmt.Errorf("%w: cycles must be positive", ErrConfig)
	case c.Writers < 1 || c.Pipeline < 1:
		return fmt.Errorf("%w: writers and pipeline must be positive", ErrConfig)
	case c.KillMin < 0 || c.KillMax < c.KillMin:
		return fmt.Errorf("%w: kill window [%s, %s] is empty", ErrConfig, c.KillMin, c.KillMax)
	case c.ValueSize < 1:
		return fmt.Errorf("%w: value size must be positive", ErrConfig)
	}
	return nil
}

// Result is the outcome for one server at one key count.
type Result struct {
	Server     string
	Keys       int             // preloaded keys
	Cycles     int             // kill/restart cycles completed
	Acked      int64           // acknowledged writes (SET, INCR, DEL, EXPIRE)
	Lost       int             // keys or replies contradicting acknowledged writes
	Violations []string        // the first few, described
	Recovery   []time.Duration // process start to first PONG, one per restart
	Open       []time.Duration // store open time the server logged, if it does
	Checked    int             // key reads verified, over all restarts
}

// maxViolations bounds the violations a Result keeps described.
const maxViolations = 20

func stats(ds []time.Duration) (lo, med, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], med, s[n-1]
}

// RecoveryStats returns the minimum, median and maximum recovery time.
func (r *Result) RecoveryStats() (lo, med, hi time.Duration) { return stats(r.Recovery) }

// Report is the outcome of a run.
type Report struct {
	Durability string
	Writers    int
	Pipeline   int
	KillMin    time.Duration
	KillMax    time.Duration
	Seed       uint64
	Results    []Result
}

// Lost returns the lost writes of RustyPotato over all key counts.
func (r *Report) Lost() int {
	n := 0
	for _, res := range r.Results {
		if res.Server == "RustyPotato" {
			n += res.Lost
		}
	}
	return n
}

func fmtDur(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteMarkdown prints the report as a markdown section with one table.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### Crash recovery: SIGKILL under write load, appendfsync %s\n\n", r.Durability)
	fmt.Fprintf(w, "%d writer connections (SET, INCR, DEL, EXPIRE on keys each writer owns, %d in flight per connection), "+
		"SIGKILL %s–%s after the writes start, restart on the same directory. "+
		"Recovery is the time from process start to the first PONG (polled every 1 ms on fresh connections); "+
		"\"store open\" is the time RustyPotato logs for opening its store. "+
		"Lost writes are keys or replies that contradict an acknowledged write. Seed %d.\n\n",
		r.Writers, r.Pipeline, fmtDur(r.KillMin), fmtDur(r.KillMax), r.Seed)
	fmt.Fprintln(w, "| keys | server | cycles | acked writes | lost writes | recovery min | median | max | store open (median) |")
	fmt.Fprintln(w, "|-----:|--------|-------:|-------------:|------------:|-------------:|-------:|----:|--------------------:|")
	for _, res := range r.Results {
		if res.Cycles == 0 {
			continue
		}
		lo, med, hi := res.RecoveryStats()
		open := "–"
		if len(res.Open) > 0 {
			_, m, _ := stats(res.Open)
			open = fmtDur(m)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %d | %s | %s | %s | %s |\n",
			fmtInt(int64(res.Keys)), res.Server, res.Cycles, fmtInt(res.Acked), res.Lost,
			fmtDur(lo), fmtDur(med), fmtDur(hi), open)
	}
	fmt.Fprintln(w)
	for _, res := range r.Results {
		if len(res.Violations) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s at %s keys, first violations:\n\n", res.Server, fmtInt(int64(res.Keys)))
		for _, v := range res.Violations {
			fmt.Fprintf(w, "- %s\n", v)
		}
		fmt.Fprintln(w)
	}
}

// ParseKeys parses a comma-separated list of key counts such as
// "100000,1000000" (underscores and k/m suffixes are accepted: "100k,1m").
func ParseKeys(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if f == "" {
			continue
		}
		mult := 1
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "m"):
			mult, f = 1000000, strings.TrimSuffix(f, "m")
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: key count %q", ErrConfig, f)
		}
		out = append(out, n*mult)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no key count in %q", ErrConfig, s)
	}
	return out, nil
}

// BuildBinary builds the rustypotato command into dir with go build (run
// from inside the module) and returns the binary's path.
func BuildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "rustypotato")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/rustypotato/rustypotato/cmd/rustypotato")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build (run from the module, or pass --bin): %w", err)
	}
	return bin, nil
}

// Run runs the benchmark: for each key count, RustyPotato and then (if
// cfg.Redis) Redis. It returns the report, and ErrLostWrites if
// RustyPotato lost acknowledged writes under always or everysec.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "crashbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.Bin
	if bin == "" {
		if cfg.Progress != nil {
			fmt.Fprintln(cfg.Progress, "building rustypotato ...")
		}
		if bin, err = BuildBinary(ctx, tmp); err != nil {
			return nil, err
		}
	}
	kinds := []serverKind{rustyPotato(bin, cfg.Durability)}
	cycles := []int{cfg.Cycles}
	if cfg.Redis {
		if _, err := exec.LookPath(cfg.RedisBin); err != nil {
			return nil, fmt.Errorf("%w: redis-server not found: %v", ErrConfig, err)
		}
		kinds = append(kinds, redisServer(cfg.RedisBin, cfg.Durability, redisVersion(cfg.RedisBin)))
		cycles = append(cycles, cfg.RedisCycles)
	}
	rep := &Report{Durability: cfg.Durability, Writers: cfg.Writers, Pipeline: cfg.Pipeline,
		KillMin: cfg.KillMin, KillMax: cfg.KillMax, Seed: cfg.Seed}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6372617368))
	for ki, keys := range cfg.Keys {
		for si, kind := range kinds {
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d-%d", strings.Fields(kind.name)[0], ki, keys))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return rep, err
			}
			res, err := runOne(ctx, &cfg, kind, keys, cycles[si], dir, rng.Uint64())
			rep.Results = append(rep.Results, res)
			if err != nil {
				return rep, fmt.Errorf("%s, %d keys: %w", kind.name, keys, err)
			}
			_ = os.RemoveAll(dir)
		}
	}
	if cfg.Durability != "no" && rep.Lost() > 0 {
		return rep, fmt.Errorf("%w: %d under appendfsync %s", ErrLostWrites, rep.Lost(), cfg.Durability)
	}
	return rep, nil
}

// runOne starts a server on dir, preloads keys, and runs the cycles.
func runOne(ctx context.Context, cfg *Config, kind serverKind, keys, cycles int, dir string, seed uint64) (Result, error) {
	res := Result{Server: kind.name, Keys: keys}
	progress := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s, %s keys: ", kind.name, fmtInt(int64(keys)))
			fmt.Fprintf(cfg.Progress, format+"\n", a...)
		}
	}
	port, err := freePort()
	if err != nil {
		return res, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return res, err
	}
	logPath := filepath.Join(dir, "server.log")
	p, _, err := startProc(ctx, kind, port, data, logPath)
	if err != nil {
		return res, err
	}
	defer func() {
		if p != nil {
			p.kill()
		}
	}()
	t := time.Now()
	if err := preload(p.addr, keys, cfg.ValueSize); err != nil {
		return res, err
	}
	if keys > 0 {
		progress("preloaded in %s", fmtDur(time.Since(t)))
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	writers := make([]*writer, cfg.Writers)
	for i := range writers {
		writers[i] = newWriter(i, seed)
	}
	for cycle := 1; cycle <= cycles; cycle++ {
		conns := make([]*conn, len(writers))
		for i := range conns {
			if conns[i], err = dial(p.addr, 5*time.Second); err != nil {
				for _, c := range conns[:i] {
					c.close()
				}
				return res, err
			}
		}
		ackedBefore := int64(0)
		for _, w := range writers {
			ackedBefore += w.acked
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, w := range writers {
			wg.Add(1)
			go w.run(conns[i], cfg.Pipeline, start, &wg)
		}
		after := cfg.KillMin + time.Duration(rng.Int64N(int64(cfg.KillMax-cfg.KillMin)+1))
		close(start)
		timer := time.NewTimer(after)
		select {
		case <-timer.C:
		case <-ctx.Done():
			p.kill()
			wg.Wait()
			return res, ctx.Err()
		case <-p.done:
			wg.Wait()
			return res, p.exited()
		}
		p.kill()
		end := time.Now()
		wg.Wait()
		var acked int64
		for _, w := range writers {
			acked += w.acked
			for _, v := range w.viol {
				res.Lost++
				if len(res.Violations) < maxViolations {
					res.Violations = append(res.Violations, fmt.Sprintf("cycle %d: %s", cycle, v))
				}
			}
			w.viol = w.viol[:0]
		}
		res.Acked = acked
		p = nil
		np, rec, err := startProc(ctx, kind, port, data, logPath)
		if err != nil {
			return res, err
		}
		p = np
		res.Recovery = append(res.Recovery, rec)
		if d, ok := p.openTime(); ok {
			res.Open = append(res.Open, d)
		}
		var idx []int
		if cycle == cycles {
			idx = make([]int, keys) // every preloaded key after the last restart
			for i := range idx {
				idx[i] = i
			}
		} else if keys > 0 {
			for range min(preloadSample, keys) {
				idx = append(idx, rng.IntN(keys))
			}
		}
		v, err := verify(p.addr, writers, end, idx, cfg.ValueSize)
		if err != nil {
			return res, fmt.Errorf("verify after restart: %w", err)
		}
		res.Checked += v.keys + v.preloaded
		for _, m := range v.violations {
			res.Lost++
			if len(res.Violations) < maxViolations {
				res.Violations = append(res.Violations, fmt.Sprintf("cycle %d: %s", cycle, m))
			}
		}
		res.Cycles = cycle
		progress("cycle %d/%d: killed after %s, %s writes acked (%s/s), recovery %s, %d keys checked, %d lost",
			cycle, cycles, fmtDur(after), fmtInt(acked-ackedBefore),
			fmtInt(int64(float64(acked-ackedBefore)/after.Seconds())), fmtDur(rec),
			v.keys+v.preloaded, len(v.violations))
	}
	err = p.stop(30 * time.Second)
	p = nil
	return res, err
}
