package respserver

import (
	"errors"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

// CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | SETINFO | NO-EVICT |
// NO-TOUCH | HELP.

func init() {
	cl := registerContainer("client", 0, nil)
	registerHelp(cl, clientHelp)
	registerSub(cl, "id", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error { c.w.Int(c.id); return nil }, nil
	})
	registerSub(cl, "getname", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.bulkOrNull([]byte(c.name), c.name != "")
			return nil
		}, nil
	})
	registerSub(cl, "setname", 0, func(c *client, args [][]byte) (fn, error) {
		name := args[2]
		if err := validClientName(name); err != nil {
			return nil, err
		}
		return func(c *client, _ *kv.Tx) error {
			c.name = string(name)
			c.w.SimpleString("OK")
			return nil
		}, nil
	})
	registerSub(cl, "setinfo", 0, parseClientSetinfo)
	registerSub(cl, "no-evict", 0, parseClientFlag(func(c *client, on bool) { c.noEvict = on }))
	registerSub(cl, "no-touch", 0, parseClientFlag(func(c *client, on bool) { c.noTouch = on }))
	registerSub(cl, "info", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			line := c.srv.appendClientLine(nil, c, c, args)
			c.w.Verbatim("txt", append(line, '\n'))
			return nil
		}, nil
	})
	registerSub(cl, "list", 0, parseClientList)
	registerSub(cl, "kill", 0, parseClientKill)
}

var clientHelp = []string{
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"    * ID <client-id>",
	"      Kill connections by client id.",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"    * ID <client-id> [<client-id> ...]",
	"      Return clients with the specified IDs.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"SETINFO <option> <value>",
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"NO-TOUCH (ON|OFF)",
	"    Will not touch LRU/LFU stats when this mode is on.",
}

// clientInfo is the part of a connection's state that only its own
// goroutine changes and that other connections report (CLIENT LIST) or
// match (CLIENT KILL). The owner publishes a copy after each batch.
type clientInfo struct {
	db                      int
	name, libName, libVer   string
	noEvict, noTouch        bool
	monitor, multi, closing bool
	queued                  int
	multiMem                int
	proto                   int
}

// snapshot returns the connection's current state; only the owning
// goroutine may call it.
func (c *client) snapshot() clientInfo {
	ci := clientInfo{
		db: c.db, name: c.name, libName: c.libName, libVer: c.libVer,
		noEvict: c.noEvict, noTouch: c.noTouch, monitor: c.monitor,
		multi: c.multi, closing: c.closeAfter, proto: c.w.Proto(),
	}
	if c.multi {
		ci.queued = len(c.queued)
		for _, q := range c.queued {
			for _, a := range q {
				ci.multiMem += len(a)
			}
		}
	}
	return ci
}

// publishInfo publishes the connection's state for other connections if it
// changed; the owner calls it after each batch.
func (c *client) publishInfo() {
	cur := c.snapshot()
	if p := c.info.Load(); p != nil && *p == cur {
		return
	}
	c.info.Store(&cur)
}

// infoOf returns the state of cl as seen from self: live for self, else
// the last published copy (the defaults before cl's first batch ends).
func infoOf(cl, self *client) clientInfo {
	if cl == self {
		return cl.snapshot()
	}
	if p := cl.info.Load(); p != nil {
		return *p
	}
	return clientInfo{proto: 2}
}

// appendClientLine appends cl's CLIENT LIST line (without newline) in
// Redis 7.0's format, followed by 7.2's lib-name and lib-ver. self is the
// connection running the command and args that command's arguments.
// Fields Redis derives from its buffers are approximations: qbuf and
// qbuf-free are 0, argv-mem, rbp and tot-mem count the request being run
// and the MULTI queue, rbs is at least 1024, obl, oll and omem are 0.
func (s *Server) appendClientLine(dst []byte, cl, self *client, args [][]byte) []byte {
	ci := infoOf(cl, self)
	now := time.Now()
	idle := now.UnixMilli() - cl.lastAt.Load()
	cmd := ""
	if last := cl.lastCmd.Load(); last != nil {
		cmd = last.name
	}
	argvMem := 0
	if cl == self {
		idle = 0
		cmd = lookupFullCommandName(args)
		for _, a := range args {
			argvMem += len(a)
		}
	}
	if cmd == "" {
		cmd = "NULL"
	}
	dst = append(dst, "id="...)
	dst = strconv.AppendInt(dst, cl.id, 10)
	dst = append(dst, " addr="...)
	dst = append(dst, cl.addr...)
	dst = append(dst, " laddr="...)
	dst = append(dst, cl.laddr...)
	dst = append(dst, " fd="...)
	dst = strconv.AppendInt(dst, int64(connFD(cl)), 10)
	dst = append(dst, " name="...)
	dst = append(dst, ci.name...)
	dst = append(dst, " age="...)
	dst = strconv.AppendInt(dst, int64(now.Sub(cl.created)/time.Second), 10)
	dst = append(dst, " idle="...)
	dst = strconv.AppendInt(dst, max(idle, 0)/1000, 10)
	dst = append(dst, " flags="...)
	dst = appendClientFlags(dst, ci, cl.killed.Load())
	dst = append(dst, " db="...)
	dst = strconv.AppendInt(dst, int64(ci.db), 10)
	dst = append(dst, " sub=0 psub=0 ssub=0 multi="...)
	if ci.multi {
		dst = strconv.AppendInt(dst, int64(ci.queued), 10)
	} else {
		dst = append(dst, "-1"...)
	}
	dst = append(dst, " qbuf=0 qbuf-free=0 argv-mem="...)
	dst = strconv.AppendInt(dst, int64(argvMem), 10)
	dst = append(dst, " multi-mem="...)
	dst = strconv.AppendInt(dst, int64(ci.multiMem), 10)
	dst = append(dst, " rbs="...)
	dst = strconv.AppendInt(dst, int64(max(argvMem, 1024)), 10)
	dst = append(dst, " rbp="...)
	dst = strconv.AppendInt(dst, int64(argvMem), 10)
	dst = append(dst, " obl=0 oll=0 omem=0 tot-mem="...)
	dst = strconv.AppendInt(dst, int64(argvMem+ci.multiMem), 10)
	dst = append(dst, " events=r cmd="...)
	dst = append(dst, cmd...)
	dst = append(dst, " user=default redir=-1 resp="...)
	dst = strconv.AppendInt(dst, int64(ci.proto), 10)
	dst = append(dst, " lib-name="...)
	dst = append(dst, ci.libName...)
	dst = append(dst, " lib-ver="...)
	dst = append(dst, ci.libVer...)
	return dst
}

// appendClientFlags appends Redis's client flags: O monitor, x MULTI, c
// close after reply, A closing asap (killed), e no-evict, T no-touch, N
// none of them.
func appendClientFlags(dst []byte, ci clientInfo, killed bool) []byte {
	n := len(dst)
	if ci.monitor {
		dst = append(dst, 'O')
	}
	if ci.multi {
		dst = append(dst, 'x')
	}
	if ci.closing {
		dst = append(dst, 'c')
	}
	if killed {
		dst = append(dst, 'A')
	}
	if ci.noEvict {
		dst = append(dst, 'e')
	}
	if ci.noTouch {
		dst = append(dst, 'T')
	}
	if len(dst) == n {
		dst = append(dst, 'N')
	}
	return dst
}

// lookupFullCommandName is the full name ("client|list") of the command
// args invoke, as CLIENT LIST's cmd= reports it.
func lookupFullCommandName(args [][]byte) string {
	cmd := lookup(args[0])
	if cmd == nil {
		return ""
	}
	if cmd.subs != nil && len(args) > 1 {
		if sub := cmd.sub(args[1]); sub != nil {
			return sub.name
		}
	}
	return cmd.name
}

// connFD returns the connection's file descriptor, or -1.
func connFD(cl *client) int {
	sc, ok := cl.conn.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil {
		return -1
	}
	return fd
}

// clientsByID returns the connected clients sorted by id (connection
// order, as Redis lists them).
func (s *Server) clientsByID() []*client {
	s.mu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, cl)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// clientType reports whether name is a client type Redis knows, and
// whether our connections (all "normal") are of that type.
func clientType(name []byte) (known, normal bool) {
	switch {
	case eq(name, "normal"):
		return true, true
	case eq(name, "slave"), eq(name, "replica"), eq(name, "master"), eq(name, "pubsub"):
		return true, false
	}
	return false, false
}

// CLIENT LIST [TYPE type | ID id [id ...]]
type clientListCmd struct {
	args   [][]byte
	noType bool // TYPE of a kind we never have
	ids    []int64
	byID   bool
}

func parseClientList(c *client, args [][]byte) (clientListCmd, error) {
	l := clientListCmd{args: args}
	switch {
	case len(args) == 2:
	case len(args) == 4 && eq(args[2], "type"):
		known, normal := clientType(args[3])
		if !known {
			return l, errors.New("ERR Unknown client type '" + string(args[3]) + "'")
		}
		l.noType = !normal
	case len(args) > 3 && eq(args[2], "id"):
		l.byID = true
		for _, a := range args[3:] {
			id, ok := parseStrictInt(a)
			if !ok {
				return l, errors.New("ERR Invalid client ID")
			}
			l.ids = append(l.ids, id)
		}
	default:
		return l, errSyntax
	}
	return l, nil
}

func (l clientListCmd) run(c *client, _ *kv.Tx) error {
	var out []byte
	s := c.srv
	switch {
	case l.noType:
	case l.byID:
		for _, id := range l.ids {
			s.mu.Lock()
			cl := s.clients[id]
			s.mu.Unlock()
			if cl != nil {
				out = s.appendClientLine(out, cl, c, l.args)
				out = append(out, '\n')
			}
		}
	default:
		for _, cl := range s.clientsByID() {
			out = s.appendClientLine(out, cl, c, l.args)
			out = append(out, '\n')
		}
	}
	c.w.Verbatim("txt", out)
	return nil
}

// parseStrictInt parses a Redis integer argument (string2ll).
func parseStrictInt(b []byte) (int64, bool) {
	v, err := parseInt(b)
	return v, err == nil
}

// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [ADDR ip:port]
// [LADDR ip:port] [USER name] [SKIPME yes|no] ...
type clientKillCmd struct {
	oldStyle    bool
	addr, laddr string
	hasAddr     bool
	hasLaddr    bool
	id          int64
	noType      bool
	skipMe      bool
}

func parseClientKill(c *client, args [][]byte) (clientKillCmd, error) {
	k := clientKillCmd{skipMe: true}
	if len(args) == 3 {
		// CLIENT KILL addr: you can kill yourself with the old form.
		k.oldStyle, k.addr, k.hasAddr, k.skipMe = true, string(args[2]), true, false
		return k, nil
	}
	for i := 2; i < len(args); i += 2 {
		opt := args[i]
		if i+1 >= len(args) {
			return k, errSyntax
		}
		val := args[i+1]
		switch {
		case eq(opt, "id"):
			id, ok := parseStrictInt(val)
			if !ok || id < 1 {
				return k, errors.New("ERR client-id should be greater than 0")
			}
			k.id = id
		case eq(opt, "type"):
			known, normal := clientType(val)
			if !known {
				return k, errors.New("ERR Unknown client type '" + string(val) + "'")
			}
			k.noType = !normal
		case eq(opt, "addr"):
			k.addr, k.hasAddr = string(val), true
		case eq(opt, "laddr"):
			k.laddr, k.hasLaddr = string(val), true
		case eq(opt, "user"):
			if string(val) != "default" {
				return k, errors.New("ERR No such user '" + string(val) + "'")
			}
		case eq(opt, "skipme"):
			switch {
			case eq(val, "yes"):
				k.skipMe = true
			case eq(val, "no"):
				k.skipMe = false
			default:
				return k, errSyntax
			}
		default:
			return k, errSyntax
		}
	}
	return k, nil
}

func (k clientKillCmd) run(c *client, _ *kv.Tx) error {
	var victims []*client
	killed := 0
	if !k.noType {
		for _, cl := range c.srv.clientsByID() {
			switch {
			case cl.killed.Load(), // already going away
				k.hasAddr && cl.addr != k.addr,
				k.hasLaddr && cl.laddr != k.laddr,
				k.id != 0 && cl.id != k.id,
				cl == c && k.skipMe:
				continue
			}
			killed++
			if cl == c {
				c.closeAfter = true // after this reply
			} else {
				victims = append(victims, cl)
			}
		}
	}
	for _, cl := range victims {
		cl.killed.Store(true)
		cl.conn.Close()
	}
	if k.oldStyle {
		if killed == 0 {
			return errors.New("ERR No such client")
		}
		c.w.SimpleString("OK")
		return nil
	}
	c.w.Int(int64(killed))
	return nil
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; clients such as
// go-redis send it on connect).
func parseClientSetinfo(c *client, args [][]byte) (fn, error) {
	attr, val := args[2], args[3]
	isName := eq(attr, "lib-name")
	if !isName && !eq(attr, "lib-ver") {
		return nil, errors.New("ERR Unrecognized option '" + string(attr) + "'")
	}
	for _, ch := range val {
		if ch < '!' || ch > '~' {
			return nil, errors.New("ERR " + string(attr) + " cannot contain spaces, newlines or special characters.")
		}
	}
	return func(c *client, _ *kv.Tx) error {
		if isName {
			c.libName = string(val)
		} else {
			c.libVer = string(val)
		}
		c.w.SimpleString("OK")
		return nil
	}, nil
}

// CLIENT NO-EVICT|NO-TOUCH ON|OFF. Neither changes behaviour: connections
// are never evicted and the store keeps no access statistics.
func parseClientFlag(set func(c *client, on bool)) func(c *client, args [][]byte) (fn, error) {
	return func(c *client, args [][]byte) (fn, error) {
		var on bool
		switch {
		case eq(args[2], "on"):
			on = true
		case eq(args[2], "off"):
		default:
			return nil, errSyntax
		}
		return func(c *client, _ *kv.Tx) error {
			set(c, on)
			c.w.SimpleString("OK")
			return nil
		}, nil
	}
}
