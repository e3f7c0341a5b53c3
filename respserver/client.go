package respserver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rustypotato/rustypotato/internal/wire"
	"github.com/rustypotato/rustypotato/kv"
)

// maxBatch bounds how many pipelined commands run in one transaction.
const maxBatch = 512

// client is one connection's state.
type client struct {
	srv  *Server
	conn net.Conn
	r    *wire.Reader
	w    *wire.Writer
	id   int64

	db      int
	authed  bool
	name    string
	libName string
	libVer  string
	created time.Time
	lastCmd atomic.Pointer[command] // the last command run, for CLIENT LIST
	lastAt  atomic.Int64            // Unix ms of the last command
	addr    string
	laddr   string

	noEvict, noTouch bool
	closeAfter       bool // QUIT: close once the replies are flushed
	killed           atomic.Bool
	monitor          bool
	wmu              sync.Mutex // serialises socket writes once the client is a monitor (monitor.go)

	multi    bool
	multiErr bool
	queued   [][][]byte

	// The current batch: the arguments of each pipelined command, copied
	// out of the reader into arena.
	arena []byte
	spans []int      // per argument: end offset in arena
	cmds  []int      // per command: index of its first argument in spans
	defs  []*command // per command: its registry entry (nil: unknown), looked up once
	argv  [][]byte

	netIn, netOut atomic.Int64

	// info is the connection state other connections' CLIENT LIST and
	// CLIENT KILL read, published by publishInfo after each batch
	// (cmd_client.go).
	info atomic.Pointer[clientInfo]
}

func newClient(s *Server, conn net.Conn) *client {
	c := &client{srv: s, conn: conn, id: s.nextID.Add(1), created: time.Now()}
	c.authed = s.settings.requirePass() == ""
	lim := s.cfg.Limits
	lim.AuthRequired = !c.authed
	cr := &countingReader{c: c}
	c.r = wire.NewReader(cr, lim)
	c.w = wire.NewWriter(&countingWriter{c: c})
	c.addr = conn.RemoteAddr().String()
	c.laddr = conn.LocalAddr().String()
	c.lastAt.Store(time.Now().UnixMilli())
	return c
}

type countingReader struct{ c *client }

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.c.conn.Read(p)
	r.c.netIn.Add(int64(n))
	r.c.srv.stats.netIn.Add(int64(n))
	return n, err
}

type countingWriter struct{ c *client }

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.c.conn.Write(p)
	w.c.netOut.Add(int64(n))
	w.c.srv.stats.netOut.Add(int64(n))
	return n, err
}

// wake makes a blocked read return, so that the connection notices the
// server is shutting down.
func (c *client) wake() { _ = c.conn.SetReadDeadline(time.Now()) }

// serve runs the connection: read every command the client has pipelined,
// run them, flush all replies with one write, repeat.
func (c *client) serve() {
	defer c.conn.Close()
	c.r.SetBeforeRead(func() error {
		c.runBatch()
		if err := c.flush(); err != nil {
			return err
		}
		if c.closeAfter || c.killed.Load() || c.srv.closing.Load() {
			return io.EOF
		}
		if t := c.srv.settings.timeout(); t > 0 && !c.monitor {
			_ = c.conn.SetReadDeadline(time.Now().Add(t))
		} else {
			_ = c.conn.SetReadDeadline(time.Time{})
		}
		return nil
	})
	for {
		args, err := c.r.ReadCommand()
		if err != nil {
			c.runBatch()
			var pe *wire.ProtocolError
			switch {
			case errors.As(err, &pe):
				c.srv.log.Debug("protocol error", "client", c.addr, "err", pe.Error())
				c.w.Error(pe.Reply())
			case errors.Is(err, wire.ErrQueryBufferLimit):
				c.srv.log.Warn("closing client that exceeded the query buffer limit", "client", c.addr)
			case errors.Is(err, os.ErrDeadlineExceeded) && !c.srv.closing.Load():
				c.srv.log.Debug("closing idle client", "client", c.addr)
			}
			_ = c.flush()
			return
		}
		c.enqueue(args)
		if len(c.cmds) >= maxBatch || len(c.arena) >= 1<<20 {
			c.runBatch()
		}
	}
}

func (c *client) flush() error {
	if c.monitor {
		c.wmu.Lock()
		defer c.wmu.Unlock()
	}
	return c.w.Flush()
}

// enqueue copies a command's arguments into the batch.
func (c *client) enqueue(args [][]byte) {
	c.cmds = append(c.cmds, len(c.spans))
	c.defs = append(c.defs, lookup(args[0]))
	for _, a := range args {
		c.arena = append(c.arena, a...)
		c.spans = append(c.spans, len(c.arena))
	}
}

// batchArgs returns the arguments of command i of the batch.
func (c *client) batchArgs(i int) [][]byte {
	first := c.cmds[i]
	last := len(c.spans)
	if i+1 < len(c.cmds) {
		last = c.cmds[i+1]
	}
	c.argv = c.argv[:0]
	start := 0
	if first > 0 {
		start = c.spans[first-1]
	}
	for _, end := range c.spans[first:last] {
		c.argv = append(c.argv, c.arena[start:end:end])
		start = end
	}
	return c.argv
}

// runBatch runs the queued commands: each maximal run of store commands
// as one transaction (Update if any of them writes, else View), commands
// flagged fNoTx alone.
func (c *client) runBatch() {
	n := len(c.cmds)
	for i := 0; i < n; {
		if c.closeAfter || c.killed.Load() {
			break
		}
		cmd := c.defs[i]
		if cmd != nil && cmd.flags&fNoTx != 0 && !(c.multi && cmd.flags&fNoMulti == 0) {
			c.call(nil, c.batchArgs(i))
			i++
			continue
		}
		j, write := i, false
		for j < n {
			cm := c.defs[j]
			// An fNoTx command reaches here first only inside MULTI,
			// where call queues (rejects) it: it joins the run.
			if cm != nil && cm.flags&fNoTx != 0 && j > i {
				break
			}
			if cm != nil && cm.flags&fWrite != 0 {
				write = true
			}
			j++
		}
		c.runTx(i, j, write)
		i = j
	}
	c.arena = c.arena[:0]
	c.spans = c.spans[:0]
	c.cmds = c.cmds[:0]
	clear(c.defs)
	c.defs = c.defs[:0]
	if cap(c.arena) > 4<<20 {
		c.arena = nil
	}
	c.publishInfo()
}

// runTx runs batch commands [i, j) in one transaction.
func (c *client) runTx(i, j int, write bool) {
	mark := c.w.Buffered()
	body := func(tx *kv.Tx) error {
		// Nothing runs after QUIT (Redis stops reading the client's
		// input once it is flagged close-after-reply).
		for k := i; k < j && !c.closeAfter; k++ {
			c.call(tx, c.batchArgs(k))
		}
		return nil
	}
	var err error
	if write {
		err = c.srv.store.Update(body)
	} else {
		err = c.srv.store.View(body)
	}
	if err != nil {
		// The commit failed: none of the replies may be sent as if it had
		// succeeded.
		c.w.Truncate(mark)
		for k := i; k < j; k++ {
			writeError(c.w, "", err)
		}
	}
}

// call runs one command: lookup, auth, arity, MULTI queueing, then the
// command itself, with its statistics. tx is nil for fNoTx commands.
func (c *client) call(tx *kv.Tx, args [][]byte) {
	cmd := lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) > 1 {
		sub := cmd.sub(args[1])
		if sub == nil {
			if c.multi {
				c.multiErr = true
			}
			c.w.Error(unknownSubcommand(args))
			return
		}
		cmd = sub
	}
	if cmd == nil {
		c.srv.stats.unknownCmds.Add(1)
		if c.multi {
			c.multiErr = true
		}
		c.w.Error(unknownCommand(args))
		return
	}
	// Redis checks the arity before authentication (processCommand).
	if !cmd.info.ArityOK(len(args)) {
		c.reject(cmd, cmd.info.ArityError())
		return
	}
	if !c.authed && cmd.flags&fNoAuth == 0 {
		c.reject(cmd, errNoAuth.Error())
		return
	}
	if c.multi && cmd.flags&fNoMulti == 0 {
		c.queue(args)
		return
	}
	if cmd.flags&fWrite != 0 {
		if err := c.srv.store.Err(); err != nil {
			c.srv.statsOf(cmd).rejected.Add(1)
			writeError(c.w, cmd.name, err)
			return
		}
	}
	// Like Redis, administrative commands (CONFIG SET requirepass, ...)
	// are not shown to monitors.
	if c.srv.nmonitors.Load() > 0 && !cmd.info.HasFlag("admin") {
		c.srv.feedMonitors(c, args)
	}
	start := time.Now()
	err := cmd.exec(c, tx, args)
	if err != nil {
		writeError(c.w, cmd.name, err)
		if cmd.flags&fNoStats == 0 {
			c.srv.statsOf(cmd).failed.Add(1)
		}
	}
	end := time.Now()
	if cmd.flags&fNoStats == 0 {
		d := end.Sub(start)
		st := c.srv.statsOf(cmd)
		st.calls.Add(1)
		st.usec.Add(d.Microseconds())
		st.hist.record(d)
		c.srv.stats.commands.Add(1)
		if d >= c.srv.settings.slowlogThreshold() {
			c.srv.slowlog.add(c, args, d)
		}
	}
	c.lastCmd.Store(cmd)
	c.lastAt.Store(end.UnixMilli())
}

// reject replies to a command refused before it runs, as Redis's
// rejectCommand does: an open transaction is flagged, and a refused EXEC
// discards the transaction and replies EXECABORT with the reason.
func (c *client) reject(cmd *command, msg string) {
	c.srv.statsOf(cmd).rejected.Add(1)
	if cmd.name == "exec" {
		c.endMulti()
		c.w.Error("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	if c.multi {
		c.multiErr = true
	}
	c.w.Error(msg)
}

// unknownCommand formats Redis's unknown-command error (processCommand in
// server.c): the name truncated to 128 bytes, then arguments while the
// argument text is shorter than 128 bytes, each cut to what is left.
func unknownCommand(args [][]byte) string {
	var list []byte
	for _, a := range args[1:] {
		if len(list) >= 128 {
			break
		}
		a = cutNUL(a) // Redis formats with %.*s, which stops at a NUL
		room := 128 - len(list)
		if len(a) > room {
			a = a[:room]
		}
		list = append(list, '\'')
		list = append(list, a...)
		list = append(list, '\'', ' ')
	}
	name := cutNUL(args[0])
	if len(name) > 128 {
		name = name[:128]
	}
	return sanitize("ERR unknown command '" + string(name) + "', with args beginning with: " + string(list))
}

// cutNUL returns b up to its first NUL byte.
func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// sanitize replaces newlines in an error message with spaces, as Redis's
// addReplyErrorFormat does.
func sanitize(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '\r' || ch == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}
