package respserver_test

// FuzzDispatch feeds arbitrary command vectors to a live server and checks
// that each gets exactly one well-formed reply, that nothing panics, and
// that the server still answers afterwards.
//
//	go test ./respserver/ -run '^$' -fuzz FuzzDispatch -fuzztime 60s

import (
	"bytes"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Fuzz input format: a sequence of commands; each command is one byte
// holding its argument count (1 + b%8), then per argument one length byte
// (b%64) and that many bytes. Decoding stops when the data runs out.
const (
	fuzzMaxCmds = 16
	fuzzMaxArgs = 8
	fuzzMaxLen  = 64
)

// encodeFuzz is the inverse of decodeFuzz, for the seed corpus.
func encodeFuzz(cmds ...[]string) []byte {
	var out []byte
	for _, c := range cmds {
		out = append(out, byte(len(c)-1))
		for _, a := range c {
			out = append(out, byte(len(a)))
			out = append(out, a...)
		}
	}
	return out
}

func decodeFuzz(data []byte) [][][]byte {
	var cmds [][][]byte
	for len(data) > 0 && len(cmds) < fuzzMaxCmds {
		n := 1 + int(data[0])%fuzzMaxArgs
		data = data[1:]
		var args [][]byte
		for i := 0; i < n && len(data) > 0; i++ {
			l := min(int(data[0])%fuzzMaxLen, len(data)-1)
			args = append(args, data[1:1+l])
			data = data[1+l:]
		}
		if len(args) > 0 {
			cmds = append(cmds, args)
		}
	}
	return cmds
}

// fuzzSkip lists commands that end the connection, change the server's
// configuration or state for every later input, or block, which the
// fuzzer must not send.
var fuzzSkip = map[string]bool{
	"quit": true, "monitor": true, "shutdown": true, "debug": true, "client": true,
	"config": true, "save": true, "bgsave": true, "subscribe": true, "psubscribe": true,
	"ssubscribe": true, "sync": true, "psync": true, "replicaof": true, "slaveof": true,
	"failover": true, "wait": true, "blpop": true, "brpop": true,
}

// fuzzUnsafe reports whether a command must be skipped.
func fuzzUnsafe(args [][]byte) bool {
	name := strings.ToLower(string(args[0]))
	if fuzzSkip[name] {
		return true
	}
	// A SETRANGE far out allocates up to 512 MB: keep offsets small.
	if name == "setrange" && len(args) > 2 {
		if off, err := strconv.ParseInt(string(args[2]), 10, 64); err == nil && off > 1<<20 {
			return true
		}
	}
	return false
}

var fuzzSeeds = [][][]string{
	{{"PING"}},
	{{"PING", "hello"}, {"ECHO", "x"}},
	{{"SET", "k", "v"}, {"GET", "k"}, {"DEL", "k"}},
	{{"SET", "k", "v", "EX", "100", "NX", "GET"}, {"TTL", "k"}, {"PTTL", "k"}},
	{{"SET", "k", "v", "PXAT", "1", "KEEPTTL"}},
	{{"INCR", "n"}, {"INCRBY", "n", "9223372036854775807"}, {"DECRBY", "n", "-9223372036854775808"}},
	{{"INCRBYFLOAT", "f", "1.5e3"}, {"INCRBYFLOAT", "f", "inf"}, {"INCRBYFLOAT", "f", "nan"}},
	{{"APPEND", "a", "xyz"}, {"SETRANGE", "a", "10", "q"}, {"GETRANGE", "a", "-3", "-1"}, {"STRLEN", "a"}},
	{{"MSET", "a", "1", "b", "2"}, {"MGET", "a", "b", "c"}, {"MSETNX", "a", "1", "c"}},
	{{"GETEX", "a", "EX", "10", "PERSIST"}, {"GETDEL", "a"}, {"GETSET", "b", "3"}},
	{{"EXPIRE", "a", "100", "NX", "GT"}, {"PEXPIREAT", "a", "1"}, {"EXPIRETIME", "a"}, {"PERSIST", "a"}},
	{{"RENAME", "a", "b"}, {"RENAMENX", "b", "a"}, {"COPY", "a", "b", "DB", "3", "REPLACE"}, {"MOVE", "a", "2"}},
	{{"KEYS", "*[a-"}, {"SCAN", "0", "MATCH", "a*", "COUNT", "5", "TYPE", "string"}, {"SCAN", "-1"}},
	{{"SELECT", "3"}, {"SWAPDB", "0", "3"}, {"DBSIZE"}, {"RANDOMKEY"}, {"FLUSHDB", "ASYNC"}},
	{{"MULTI"}, {"SET", "x", "1"}, {"INCR", "x"}, {"EXEC"}},
	{{"MULTI"}, {"SET", "x"}, {"EXEC"}},
	{{"MULTI"}, {"MULTI"}, {"DISCARD"}, {"EXEC"}},
	{{"HELLO", "3"}, {"GET", "missing"}, {"HELLO", "2", "SETNAME", "x"}},
	{{"HELLO", "3", "AUTH", "default", "pw"}, {"AUTH", "x"}, {"RESET"}},
	{{"NOSUCH", strings.Repeat("a", 60), strings.Repeat("b", 60), strings.Repeat("c", 60)}},
	{{"INFO", "keyspace"}, {"TIME"}, {"COMMAND", "COUNT"}, {"COMMAND", "INFO", "get"}},
	{{"OBJECT", "ENCODING", "k"}, {"MEMORY", "USAGE", "k"}, {"SLOWLOG", "GET", "1"}, {"LATENCY", "HISTOGRAM"}},
	{{"TYPE", "k"}, {"EXISTS", "k", "k"}, {"TOUCH", "k"}, {"UNLINK", "k"}},
	{{"get"}, {"SET", "k"}, {"PING", "a", "b"}, {"SELECT", "99"}},
}

var fuzzRuns atomic.Int64

func FuzzDispatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(encodeFuzz(s...))
	}
	ts := newTestServer(f, withMemFS())
	var conn *rawConn
	f.Cleanup(func() {
		if conn != nil {
			conn.Close()
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang anywhere leaves the stacks behind for diagnosis.
		watchdog := time.AfterFunc(20*time.Second, func() { dumpStacks() })
		defer watchdog.Stop()
		cmds := decodeFuzz(data)
		// Keys accumulate across inputs; start afresh now and then.
		runs := fuzzRuns.Add(1)
		if runs%256 == 0 {
			cmds = append([][][]byte{{[]byte("FLUSHALL")}}, cmds...)
		}
		// One connection serves every input of this process: the RESET
		// at the end of each input returns it to its initial state.
		if conn == nil {
			c, err := net.DialTimeout("tcp", ts.Addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn = &rawConn{Conn: c, br: newBufReader(c)}
		}
		rc, c := conn, conn.Conn
		defer func() {
			if t.Failed() {
				conn.Close()
				conn = nil
			}
		}()
		var sent [][][]byte
		for _, args := range cmds {
			if fuzzUnsafe(args) {
				continue
			}
			rc.QueueBytes(args)
			sent = append(sent, args)
		}
		// RESET leaves MULTI and RESP3 behind; PING proves the
		// connection is still served.
		rc.Queue("RESET")
		rc.Queue("PING")
		if err := rc.Flush(); err != nil {
			t.Fatalf("write: %v", err)
		}
		for i, args := range sent {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			r, err := readReply(rc.br)
			if err != nil {
				t.Fatalf("reply to command %d %q: %v%s", i, args, err, dumpStacks())
			}
			if r.Type == '-' && len(r.Str) == 0 {
				t.Fatalf("empty error reply to %q", args)
			}
			if r.Type == '-' && bytes.HasPrefix(r.Str, []byte("ERR Protocol error")) {
				t.Fatalf("protocol error for a well-formed request %q: %s", args, r)
			}
		}
		for _, want := range []string{"+RESET\r\n", "+PONG\r\n"} {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			r, err := readReply(rc.br)
			if err != nil || string(r.Raw) != want {
				t.Fatalf("after %q: got %v, %v; want %q%s", sent, r, err, want, dumpStacks())
			}
		}
		// Now and then, a new connection is served too.
		if runs%64 == 0 {
			c2, err := net.DialTimeout("tcp", ts.Addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			rc2 := &rawConn{Conn: c2, br: newBufReader(c2)}
			if got := rc2.Do(t, "PING"); got != "+PONG\r\n" {
				t.Fatalf("new connection: PING = %q", got)
			}
		}
	})
}

// dumpStacks writes every goroutine's stack to a file (a hung server is
// then diagnosable) and returns a note naming it.
func dumpStacks() string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	f, err := os.CreateTemp("", "fuzzdispatch-stacks-*.txt")
	if err != nil {
		return ""
	}
	defer f.Close()
	_, _ = f.Write(buf)
	return "\n\tgoroutine stacks: " + f.Name()
}

// TestFuzzCodec checks that the seeds decode to the commands they encode.
func TestFuzzCodec(t *testing.T) {
	for _, s := range fuzzSeeds {
		got := decodeFuzz(encodeFuzz(s...))
		if len(got) != len(s) {
			t.Fatalf("%q decoded to %d commands", s, len(got))
		}
		for i := range s {
			if len(got[i]) != len(s[i]) {
				t.Fatalf("%q: command %d decoded to %q", s, i, got[i])
			}
			for j := range s[i] {
				if string(got[i][j]) != s[i][j] {
					t.Fatalf("%q: command %d decoded to %q", s, i, got[i])
				}
			}
		}
	}
}
