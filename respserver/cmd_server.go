package respserver

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rustypotato/rustypotato/internal/cmdtable"
	"github.com/rustypotato/rustypotato/internal/rnum"
	"github.com/rustypotato/rustypotato/kv"
)

// Server administration commands: TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN,
// FUNCTION FLUSH, DEBUG, SLOWLOG, MONITOR, LATENCY, OBJECT, MEMORY; and the
// container-command machinery the other admin files share.

func init() {
	register("time", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			now := time.Now()
			c.w.ArrayLen(2)
			c.w.BulkString(strconv.FormatInt(now.Unix(), 10))
			c.w.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
			return nil
		}, nil
	})
	register("lastsave", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.w.Int(c.srv.lastSave.Load())
			return nil
		}, nil
	})
	register("save", fNoTx, func(c *client, args [][]byte) (fn, error) { return runSave, nil })
	register("bgsave", 0, parseBgsave)
	register("shutdown", fNoTx, parseShutdown)
	register("monitor", fNoTx, func(c *client, args [][]byte) (fn, error) { return runMonitor, nil })
	register("debug", fNoTx, parseDebug)

	fnc := registerContainer("function", 0, nil)
	registerHelp(fnc, functionHelp)
	registerSub(fnc, "flush", 0, parseFunctionFlush)

	sl := registerContainer("slowlog", 0, nil)
	registerHelp(sl, slowlogHelp)
	registerSub(sl, "get", 0, parseSlowlogGet)
	registerSub(sl, "len", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error { c.w.Int(int64(c.srv.slowlog.len())); return nil }, nil
	})
	registerSub(sl, "reset", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.srv.slowlog.reset()
			c.w.SimpleString("OK")
			return nil
		}, nil
	})

	lat := registerContainer("latency", 0, nil)
	registerHelp(lat, latencyHelp)
	registerSub(lat, "histogram", 0, parseLatencyHistogram)

	obj := registerContainer("object", 0, nil)
	registerHelp(obj, objectHelp)
	registerSub(obj, "encoding", 0, parseObject(objEncoding))
	registerSub(obj, "freq", 0, parseObject(objFreq))
	registerSub(obj, "idletime", 0, parseObject(objIdletime))
	registerSub(obj, "refcount", 0, parseObject(objRefcount))

	mem := registerContainer("memory", 0, nil)
	registerHelp(mem, memoryHelp)
	registerSub(mem, "usage", 0, parseMemoryUsage)
}

// ---- Container commands ----

// registerContainer registers a container command such as CLIENT or
// CONFIG, whose subcommands registerSub adds. call dispatches
// "NAME sub ..." to the subcommand, which keeps its own statistics (INFO
// commandstats reports "client|list"), as Redis does. bare, if not nil,
// runs the command given without a subcommand (COMMAND); other containers
// have arity -2, so that never happens.
func registerContainer(name string, flags cmdFlags, bare func(c *client, args [][]byte) (fn, error)) *command {
	register(name, flags, func(c *client, args [][]byte) (fn, error) {
		if len(args) == 1 && bare != nil {
			return bare(c, args)
		}
		// call resolves subcommands before running a command; this path
		// only serves a dispatcher that does not.
		cmd := registry[name]
		sub := cmd.sub(args[1])
		if sub == nil {
			return nil, errors.New(unknownSubcommand(args))
		}
		if !sub.info.ArityOK(len(args)) {
			return nil, errors.New(sub.info.ArityError())
		}
		return func(c *client, tx *kv.Tx) error { return sub.exec(c, tx, args) }, nil
	})
	cmd := registry[name]
	cmd.subs = map[string]*command{}
	return cmd
}

// registerSub adds the subcommand sub (lower case) to the container parent;
// parse and run follow register's pattern. HELP subcommands, which the
// command table leaves out, get an entry of arity 2.
func registerSub[T runner](parent *command, sub string, flags cmdFlags, parse func(c *client, args [][]byte) (T, error)) {
	info := cmdtable.LookupSub(parent.name, sub)
	if info == nil {
		if sub != "help" {
			panic("respserver: subcommand " + parent.name + "|" + sub + " is not in the command table")
		}
		info = &cmdtable.Command{Name: parent.name + "|help", Arity: 2, Parent: parent.info,
			Flags: []string{"loading", "stale"}, ACLCategories: []string{"@slow"}}
	}
	parent.subs[sub] = newCommand(info.Name, info, flags, parse)
}

// sub returns the subcommand of cmd called name (case-insensitive), or nil.
func (cmd *command) sub(name []byte) *command {
	if len(name) > 32 {
		return nil
	}
	var buf [32]byte
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return cmd.subs[string(buf[:len(name)])]
}

// unknownSubcommand is Redis's error for "CONTAINER nosuch ...".
func unknownSubcommand(args [][]byte) string {
	return "ERR unknown subcommand '" + trunc128(args[1]) + "'. Try " + strings.ToUpper(string(args[0])) + " HELP."
}

// errSubcommandSyntax is Redis's addReplySubcommandSyntaxError: a known
// subcommand with arguments it does not accept.
func errSubcommandSyntax(args [][]byte) error {
	return errors.New("ERR unknown subcommand or wrong number of arguments for '" + trunc128(args[1]) +
		"'. Try " + strings.ToUpper(string(args[0])) + " HELP.")
}

// trunc128 is C's "%.128s" of b.
func trunc128(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// registerHelp adds the HELP subcommand to a container; lines are the
// help body between Redis's usage line and its "HELP" entry.
func registerHelp(parent *command, lines []string) {
	registerSub(parent, "help", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			writeHelp(c, parent.name, lines)
			return nil
		}, nil
	})
}

// writeHelp writes a subcommand help as Redis's addReplyHelp does: an
// array of status lines.
func writeHelp(c *client, name string, lines []string) {
	c.w.ArrayLen(len(lines) + 3)
	c.w.SimpleString(strings.ToUpper(name) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.w.SimpleString(l)
	}
	c.w.SimpleString("HELP")
	c.w.SimpleString("    Prints this help.")
}

// allCommands returns every registered command and subcommand, sorted by
// full name (INFO commandstats, LATENCY HISTOGRAM, CONFIG RESETSTAT).
func allCommands() []*command {
	var out []*command
	for _, cmd := range registry {
		out = append(out, cmd)
		for _, sub := range cmd.subs {
			out = append(out, sub)
		}
	}
	sortCommands(out)
	return out
}

func sortCommands(cmds []*command) {
	for i := 1; i < len(cmds); i++ {
		for j := i; j > 0 && cmds[j].name < cmds[j-1].name; j-- {
			cmds[j], cmds[j-1] = cmds[j-1], cmds[j]
		}
	}
}

// lookupFullName finds a registered command or subcommand by its full name
// ("get", "client|list"), case-insensitively.
func lookupFullName(name []byte) *command {
	for i, ch := range name {
		if ch == '|' {
			parent := lookup(name[:i])
			if parent == nil || parent.subs == nil {
				return nil
			}
			return parent.sub(name[i+1:])
		}
	}
	return lookup(name)
}

// ---- SAVE, BGSAVE, SHUTDOWN ----

var errBgsaveInProgress = errors.New("ERR Background save already in progress")

// SAVE makes every acknowledged write durable now (an fsync of the WAL).
// The store is always persistent: there is no snapshot to write.
func runSave(c *client, _ *kv.Tx) error {
	if c.srv.stats.bgsaveRunning.Load() {
		return errBgsaveInProgress
	}
	if err := c.srv.store.Sync(); err != nil {
		return err
	}
	c.srv.lastSave.Store(time.Now().Unix())
	c.srv.stats.saves.Add(1)
	c.w.SimpleString("OK")
	return nil
}

// BGSAVE [SCHEDULE]: a consistent copy of the store (a Pebble checkpoint)
// in DIR/backups/backup-<unix time>, written in the background.
type bgsaveCmd struct{ schedule bool }

func parseBgsave(c *client, args [][]byte) (bgsaveCmd, error) {
	switch {
	case len(args) == 1:
		return bgsaveCmd{}, nil
	case len(args) == 2 && eq(args[1], "schedule"):
		return bgsaveCmd{schedule: true}, nil
	}
	return bgsaveCmd{}, errSyntax
}

func (b bgsaveCmd) run(c *client, _ *kv.Tx) error {
	s := c.srv
	if !s.stats.bgsaveRunning.CompareAndSwap(false, true) {
		if b.schedule {
			s.stats.bgsaveScheduled.Store(true)
			c.w.SimpleString("Background saving scheduled")
			return nil
		}
		return errBgsaveInProgress
	}
	// The connection goroutine is counted in s.wg, so Add cannot race
	// with Shutdown's Wait: Shutdown waits for the checkpoint, and the
	// store is closed only after it.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			s.backup()
			if !s.stats.bgsaveScheduled.CompareAndSwap(true, false) || s.closing.Load() {
				break
			}
		}
		s.stats.bgsaveRunning.Store(false)
	}()
	c.w.SimpleString("Background saving started")
	return nil
}

// backup writes one checkpoint and records the outcome.
func (s *Server) backup() {
	start := time.Now()
	s.stats.bgsaveStarted.Store(start.Unix())
	dest, err := s.Backup()
	secs := int64(time.Since(start).Seconds())
	s.stats.bgsaveLastSecs.Store(secs + 1)
	if err != nil {
		s.stats.bgsaveFailed.Store(true)
		s.log.Error("BGSAVE failed", "err", err)
		return
	}
	s.stats.bgsaveFailed.Store(false)
	s.stats.saves.Add(1)
	s.lastSave.Store(time.Now().Unix())
	s.log.Info("BGSAVE done", "dir", dest, "duration", time.Since(start).Round(time.Millisecond).String())
}

// Backup writes a consistent copy of the store (a Pebble checkpoint, which
// opens as a data directory) to DIR/backups/backup-<unix time>[-n] and
// returns its path; BGSAVE runs it in the background. Writes continue
// meanwhile.
func (s *Server) Backup() (string, error) {
	base := filepath.Join(s.store.Dir(), "backups")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	name := "backup-" + strconv.FormatInt(time.Now().Unix(), 10)
	dest := filepath.Join(base, name)
	for n := 2; ; n++ {
		if _, err := os.Lstat(dest); errors.Is(err, os.ErrNotExist) {
			break
		}
		dest = filepath.Join(base, name+"-"+strconv.Itoa(n))
	}
	return dest, s.store.Checkpoint(dest)
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: asks the server's owner to
// shut down (ShutdownRequested) and closes the connection without a reply,
// as Redis does. Every acknowledged write is made durable by the store's
// Close whatever the options; NOW and FORCE are accepted for
// compatibility. ABORT fails: once requested, a shutdown cannot be
// cancelled.
type shutdownCmd struct{ abort, force bool }

func parseShutdown(c *client, args [][]byte) (shutdownCmd, error) {
	var sh shutdownCmd
	var save, nosave, now bool
	for _, a := range args[1:] {
		switch {
		case eq(a, "nosave"):
			nosave = true
		case eq(a, "save"):
			save = true
		case eq(a, "now"):
			now = true
		case eq(a, "force"):
			sh.force = true
		case eq(a, "abort"):
			sh.abort = true
		default:
			return sh, errSyntax
		}
	}
	if sh.abort && (save || nosave || now || sh.force) || save && nosave {
		return sh, errSyntax
	}
	return sh, nil
}

func (sh shutdownCmd) run(c *client, _ *kv.Tx) error {
	if sh.abort {
		return errors.New("ERR No shutdown in progress.")
	}
	if err := c.srv.store.Err(); err != nil && !sh.force {
		c.srv.log.Warn("SHUTDOWN refused: the store has a write failure (use SHUTDOWN FORCE)", "err", err)
		return errors.New("ERR Errors trying to SHUTDOWN. Check logs.")
	}
	c.srv.log.Info("user requested shutdown", "client", c.addr)
	c.srv.requestShutdown()
	c.closeAfter = true
	return nil
}

// ---- MONITOR ----

func runMonitor(c *client, _ *kv.Tx) error {
	if c.monitor {
		c.w.SimpleString("OK")
		return nil
	}
	// The reply (and any reply before it) is sent before the connection
	// becomes a monitor: from then on other connections write monitor
	// lines straight to the socket under wmu, and they must come after it.
	c.wmu.Lock()
	c.w.SimpleString("OK")
	err := c.w.Flush()
	c.monitor = true
	c.wmu.Unlock()
	if err != nil {
		return nil // the connection is gone; the read loop notices
	}
	s := c.srv
	s.mu.Lock()
	s.monitors[c.id] = c
	s.mu.Unlock()
	s.nmonitors.Add(1)
	return nil
}

// ---- FUNCTION FLUSH ----

// FUNCTION FLUSH [ASYNC|SYNC]: there are no functions; it succeeds.
func parseFunctionFlush(c *client, args [][]byte) (fn, error) {
	if len(args) > 3 {
		return nil, errSubcommandSyntax(args)
	}
	if len(args) == 3 && !eq(args[2], "sync") && !eq(args[2], "async") {
		return nil, errors.New("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
	}
	return func(c *client, _ *kv.Tx) error { c.w.SimpleString("OK"); return nil }, nil
}

var functionHelp = []string{
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
}

// ---- DEBUG ----

var debugHelp = []string{
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

// DEBUG SLEEP seconds | DEBUG HELP. SLEEP blocks only this connection
// (Redis blocks the whole server); like Redis it parses the duration with
// strtod, so a non-number sleeps 0 seconds.
func parseDebug(c *client, args [][]byte) (fn, error) {
	switch {
	case eq(args[1], "help") && len(args) == 2:
		return func(c *client, _ *kv.Tx) error { writeHelp(c, "debug", debugHelp); return nil }, nil
	case eq(args[1], "sleep") && len(args) == 3:
		secs, _, _ := rnum.Strtod(args[2])
		var d time.Duration
		if secs > 0 { // false for NaN
			d = time.Duration(min(secs, 1e9) * float64(time.Second))
		}
		return func(c *client, _ *kv.Tx) error {
			deadline := time.Now().Add(d)
			for {
				left := time.Until(deadline)
				if left <= 0 || c.srv.closing.Load() || c.killed.Load() {
					break
				}
				time.Sleep(min(left, 50*time.Millisecond))
			}
			c.w.SimpleString("OK")
			return nil
		}, nil
	}
	return nil, errSubcommandSyntax(args)
}

// ---- SLOWLOG ----

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

// SLOWLOG GET [count]
func parseSlowlogGet(c *client, args [][]byte) (fn, error) {
	if len(args) > 3 {
		return nil, errSubcommandSyntax(args)
	}
	n := int64(10)
	if len(args) == 3 {
		v, ok := rnum.ParseInt(args[2])
		if !ok || v < -1 {
			return nil, errors.New("ERR count should be greater than or equal to -1")
		}
		n = v
	}
	return func(c *client, _ *kv.Tx) error {
		entries := c.srv.slowlog.newest(int(min(n, 1<<31)))
		w := c.w
		w.ArrayLen(len(entries))
		for _, e := range entries {
			w.ArrayLen(6)
			w.Int(e.id)
			w.Int(e.at)
			w.Int(e.duration.Microseconds())
			w.ArrayLen(len(e.args))
			for _, a := range e.args {
				w.BulkString(a)
			}
			w.BulkString(e.addr)
			w.BulkString(e.name)
		}
		return nil
	}, nil
}

// ---- LATENCY ----

var latencyHelp = []string{
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

// LATENCY HISTOGRAM [command ...]: for each command (every command that
// ran since the last CONFIG RESETSTAT if none is named) a map of "calls"
// and "histogram_usec", the cumulative count of calls per power-of-two
// bucket, in Redis 7's format. Unknown or never-run commands are skipped.
func parseLatencyHistogram(c *client, args [][]byte) (fn, error) {
	names := args[2:]
	return func(c *client, _ *kv.Tx) error {
		var cmds []*command
		if len(names) == 0 {
			for _, cmd := range allCommands() {
				if c.srv.statsOf(cmd).calls.Load() > 0 {
					cmds = append(cmds, cmd)
				}
			}
		} else {
			for _, n := range names {
				if cmd := lookupFullName(n); cmd != nil && c.srv.statsOf(cmd).calls.Load() > 0 {
					cmds = append(cmds, cmd)
				}
			}
		}
		w := c.w
		w.MapLen(len(cmds))
		for _, cmd := range cmds {
			st := c.srv.statsOf(cmd)
			labels, counts := st.hist.cumulative()
			w.BulkString(cmd.name)
			w.MapLen(2)
			w.BulkString("calls")
			w.Int(st.calls.Load())
			w.BulkString("histogram_usec")
			w.MapLen(len(labels))
			for i := range labels {
				w.Int(labels[i])
				w.Int(counts[i])
			}
		}
		return nil
	}, nil
}

// ---- OBJECT ----

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

type objectKind int

const (
	objEncoding objectKind = iota
	objFreq
	objIdletime
	objRefcount
)

// sharedRefcount is OBJECT REFCOUNT of Redis's shared integers 0..9999.
const sharedRefcount = 2147483647

// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key. Values are strings, encoded
// as Redis would encode them when written by SET: "int" (integers of at
// most 20 characters), "embstr" (at most 44 bytes) or "raw". Access times
// are not tracked: IDLETIME is always 0; FREQ fails as in Redis under the
// noeviction policy.
func parseObject(kind objectKind) func(c *client, args [][]byte) (fn, error) {
	return func(c *client, args [][]byte) (fn, error) {
		key := args[2]
		return func(c *client, tx *kv.Tx) error {
			typ, v, ok, err := lookupValue(tx, c.db, key)
			if err != nil {
				return err
			}
			if !ok {
				c.w.Null()
				return nil
			}
			switch kind {
			case objEncoding:
				if typ != "string" {
					c.w.BulkString(defaultEncodings[typ])
				} else {
					c.w.BulkString(stringEncoding(v))
				}
			case objFreq:
				return errors.New("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			case objIdletime:
				c.w.Int(0)
			case objRefcount:
				if n, isInt := intValue(v); typ == "string" && isInt && n >= 0 && n < 10000 {
					c.w.Int(sharedRefcount)
				} else {
					c.w.Int(1)
				}
			}
			return nil
		}, nil
	}
}

// defaultEncodings are the OBJECT ENCODING of small values of the other
// types in Redis 7.0.
var defaultEncodings = map[string]string{
	"list": "quicklist", "hash": "listpack", "set": "listpack", "zset": "listpack", "stream": "stream",
}

// lookupValue reads a key for OBJECT and MEMORY without counting a
// keyspace hit: its type and, for a string, its value.
func lookupValue(tx *kv.Tx, db int, key []byte) (typ string, val []byte, ok bool, err error) {
	val, ok, err = tx.Get(db, key)
	if err == nil {
		return "string", val, ok, nil
	}
	if !errors.Is(err, kv.ErrWrongType) {
		return "", nil, false, err
	}
	typ, err = tx.Type(db, key)
	return typ, nil, err == nil && typ != "none", err
}

// intValue reports whether v is stored as an integer by Redis
// (tryObjectEncoding: at most 20 characters, strict integer syntax).
func intValue(v []byte) (int64, bool) {
	if len(v) > 20 {
		return 0, false
	}
	return rnum.ParseInt(v)
}

// stringEncoding is the OBJECT ENCODING of a string value.
func stringEncoding(v []byte) string {
	if _, ok := intValue(v); ok {
		return "int"
	}
	if len(v) <= 44 {
		return "embstr"
	}
	return "raw"
}

// ---- MEMORY ----

var memoryHelp = []string{
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

// MEMORY USAGE key [SAMPLES count]: the bytes Redis 7.0 would use for the
// key (its value object, key string and dictionary entry, rounded to
// jemalloc's size classes), an estimate of RustyPotato's in-memory cost.
func parseMemoryUsage(c *client, args [][]byte) (fn, error) {
	for j := 3; j < len(args); j++ {
		if eq(args[j], "samples") && j+1 < len(args) {
			n, err := parseInt(args[j+1])
			if err != nil {
				return nil, err
			}
			if n < 0 {
				return nil, errSyntax
			}
			j++
			continue
		}
		return nil, errSyntax
	}
	key := args[2]
	return func(c *client, tx *kv.Tx) error {
		_, v, ok, err := lookupValue(tx, c.db, key)
		if err != nil {
			return err
		}
		if !ok {
			c.w.Null()
			return nil
		}
		c.w.Int(memoryUsage(key, v))
		return nil
	}, nil
}

// memoryUsage mirrors Redis 7.0's MEMORY USAGE for a string.
func memoryUsage(key, val []byte) int64 {
	const robj, dictEntry = 16, 24
	var size int64
	switch stringEncoding(val) {
	case "int":
		size = robj
	case "embstr":
		size = jemallocSize(robj + 3 + int64(len(val)) + 1)
	default:
		size = robj + jemallocSize(sdsHeader(len(val))+int64(len(val))+1)
	}
	return size + jemallocSize(sdsHeader(len(key))+int64(len(key))+1) + dictEntry
}

// sdsHeader is the header size of an sds string of n bytes.
func sdsHeader(n int) int64 {
	switch {
	case n < 1<<5:
		return 1
	case n < 1<<8:
		return 3
	case n < 1<<16:
		return 5
	case n < 1<<32:
		return 9
	}
	return 17
}

// jemallocSize rounds n up to jemalloc's size class: 8, 16, multiples of
// 16 up to 128, then four classes per power of two.
func jemallocSize(n int64) int64 {
	switch {
	case n <= 8:
		return 8
	case n <= 128:
		return (n + 15) &^ 15
	}
	p := int64(1) << (63 - bits.LeadingZeros64(uint64(n-1))) // largest power of two < n
	step := p / 4
	return (n + step - 1) / step * step
}

// humanBytes is Redis's bytesToHuman.
func humanBytes(n uint64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	}
	return fmt.Sprintf("%.2fP", d/(1<<50))
}
