package respserver

import (
	"strings"
	"sync/atomic"

	"github.com/rustypotato/rustypotato/internal/cmdtable"
	"github.com/rustypotato/rustypotato/kv"
)

// runner is a parsed command, ready to run. run writes the reply to c.w or
// returns an error, which the dispatcher writes as the reply.
type runner interface {
	run(c *client, tx *kv.Tx) error
}

// cmdFlags say how a command is scheduled.
type cmdFlags uint8

const (
	// fWrite: the command may write, so its batch runs in kv.Store.Update.
	fWrite cmdFlags = 1 << iota
	// fNoTx: the command runs alone, outside any store transaction (it
	// blocks, closes the store, or manages connections).
	fNoTx
	// fNoAuth: allowed before AUTH.
	fNoAuth
	// fNoMulti: runs immediately even inside MULTI (EXEC, DISCARD, ...).
	fNoMulti
	// fNoStats: not counted (EXEC counts its commands itself).
	fNoStats
)

// command is one registry entry.
type command struct {
	name  string
	info  *cmdtable.Command
	flags cmdFlags
	exec  func(c *client, tx *kv.Tx, args [][]byte) error

	// id indexes the command's statistics in Server.cmdStats.
	id int

	// subs are the subcommands of a container command (CLIENT, CONFIG,
	// ...), by lower-case name; call dispatches to them (registerSub in
	// cmd_server.go).
	subs map[string]*command
}

var registry = map[string]*command{}

// numCommands counts registered commands and subcommands (the ids).
var numCommands int

// cmdStat is one command's statistics in one server (INFO commandstats,
// latencystats, LATENCY HISTOGRAM, Prometheus).
type cmdStat struct {
	calls    atomic.Int64
	usec     atomic.Int64
	failed   atomic.Int64 // errors while running
	rejected atomic.Int64 // errors before running (arity, auth, MISCONF)
	hist     latencyHist
}

// statsOf returns cmd's statistics in s.
func (s *Server) statsOf(cmd *command) *cmdStat { return &s.cmdStats[cmd.id] }

// register adds a command whose parse step is parse. parse validates the
// arguments (args[0] is the command name) without touching the store.
func register[T runner](name string, flags cmdFlags, parse func(c *client, args [][]byte) (T, error)) {
	info := cmdtable.Lookup(name)
	if info == nil {
		panic("respserver: command " + name + " is not in the command table")
	}
	registry[name] = newCommand(name, info, flags, parse)
}

// newCommand builds a registry entry whose exec runs parse, then the parsed
// command. A parse error is a failed call, as Redis counts a syntax error
// (rejected calls are the ones refused before the command runs: arity,
// authentication, unknown command).
func newCommand[T runner](name string, info *cmdtable.Command, flags cmdFlags, parse func(c *client, args [][]byte) (T, error)) *command {
	cmd := &command{name: name, info: info, flags: flags, id: numCommands}
	numCommands++
	cmd.exec = func(c *client, tx *kv.Tx, args [][]byte) error {
		r, err := parse(c, args)
		if err != nil {
			return err
		}
		return r.run(c, tx)
	}
	return cmd
}

// lookup finds the command for a request name without allocating for
// names up to 32 bytes.
func lookup(name []byte) *command {
	if len(name) <= 32 {
		var buf [32]byte
		for i, c := range name {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		return registry[string(buf[:len(name)])]
	}
	return registry[strings.ToLower(string(name))]
}

// fn adapts a function to runner, for commands whose parse step produces
// nothing but the function to run.
type fn func(c *client, tx *kv.Tx) error

func (f fn) run(c *client, tx *kv.Tx) error { return f(c, tx) }
