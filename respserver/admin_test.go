package respserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/rustypotato/rustypotato/internal/cmdtable"
	"github.com/rustypotato/rustypotato/internal/conf"
	"github.com/rustypotato/rustypotato/kv"
)

// Tests of the administration commands (cmd_server.go, cmd_client.go,
// cmd_command.go, cmd_info.go, cmd_config.go).

// admGoRedis returns a go-redis client for addr speaking proto; identity
// makes it send CLIENT SETINFO on connect, as go-redis does by default.
func admGoRedis(t *testing.T, addr string, proto int, identity bool) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:            addr,
		Protocol:        proto,
		DisableIdentity: !identity,
		PoolSize:        2,
		MaxRetries:      -1,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func admExpect(t *testing.T, tc *testConn, want string, args ...string) {
	t.Helper()
	if got := tc.do(args...); got != want {
		t.Errorf("%q:\n got %q\nwant %q", args, got, want)
	}
}

func admErr(msg string) string { return "-" + msg + "\r\n" }

// bulkBody returns the payload of a bulk or verbatim string reply.
func bulkBody(t *testing.T, raw string) string {
	t.Helper()
	i := strings.Index(raw, "\r\n")
	if i < 0 || (raw[0] != '$' && raw[0] != '=') {
		t.Fatalf("not a bulk reply: %q", raw)
	}
	n, err := strconv.Atoi(raw[1:i])
	if err != nil || len(raw) != i+2+n+2 {
		t.Fatalf("malformed bulk reply: %q", raw)
	}
	return raw[i+2 : i+2+n]
}

// clientLineRE is the exact layout of a CLIENT LIST line.
var clientLineRE = regexp.MustCompile(`^id=(\d+) addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ ` +
	`name=(\S*) age=\d+ idle=\d+ flags=([A-Za-z]+) db=(\d+) sub=0 psub=0 ssub=0 multi=(-1|\d+) ` +
	`qbuf=0 qbuf-free=0 argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ ` +
	`events=r cmd=(\S+) user=default redir=-1 resp=([23]) lib-name=(\S*) lib-ver=(\S*)$`)

func parseClientLines(t *testing.T, text string) []map[string]string {
	t.Helper()
	if text != "" && !strings.HasSuffix(text, "\n") {
		t.Fatalf("client list does not end with a newline: %q", text)
	}
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		if !clientLineRE.MatchString(line) {
			t.Fatalf("client line does not match Redis's layout:\n%s", line)
		}
		m := map[string]string{}
		for _, f := range strings.Split(line, " ") {
			k, v, _ := strings.Cut(f, "=")
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

func TestClientIDNameInfo(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	id := c.do("CLIENT", "ID")
	if !regexp.MustCompile(`^:\d+\r\n$`).MatchString(id) {
		t.Fatalf("CLIENT ID = %q", id)
	}
	admExpect(t, c, "$-1\r\n", "CLIENT", "GETNAME")
	admExpect(t, c, admErr("ERR Client names cannot contain spaces, newlines or special characters."), "CLIENT", "SETNAME", "a b")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'client|setname' command"), "CLIENT", "SETNAME")
	admExpect(t, c, "+OK\r\n", "client", "setname", "alice")
	admExpect(t, c, "$5\r\nalice\r\n", "CLIENT", "GETNAME")
	admExpect(t, c, "+OK\r\n", "CLIENT", "SETINFO", "LIB-NAME", "mylib")
	admExpect(t, c, "+OK\r\n", "CLIENT", "SETINFO", "lib-ver", "1.2")
	admExpect(t, c, admErr("ERR Unrecognized option 'foo'"), "CLIENT", "SETINFO", "foo", "x")
	admExpect(t, c, admErr("ERR LIB-NAME cannot contain spaces, newlines or special characters."), "CLIENT", "SETINFO", "LIB-NAME", "a b")
	admExpect(t, c, "+OK\r\n", "CLIENT", "NO-EVICT", "on")
	admExpect(t, c, "+OK\r\n", "CLIENT", "NO-TOUCH", "ON")
	admExpect(t, c, admErr("ERR syntax error"), "CLIENT", "NO-EVICT", "maybe")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'client|no-touch' command"), "CLIENT", "NO-TOUCH")
	admExpect(t, c, "+OK\r\n", "SELECT", "5")

	lines := parseClientLines(t, bulkBody(t, c.do("CLIENT", "INFO")))
	if len(lines) != 1 {
		t.Fatalf("CLIENT INFO: %d lines", len(lines))
	}
	l := lines[0]
	want := map[string]string{"id": strings.TrimSpace(id[1:]), "name": "alice", "flags": "eT", "db": "5",
		"multi": "-1", "cmd": "client|info", "resp": "2", "lib-name": "mylib", "lib-ver": "1.2", "idle": "0"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("CLIENT INFO %s=%q, want %q", k, l[k], v)
		}
	}
	if l["addr"] != c.conn.LocalAddr().String() || l["laddr"] != addr {
		t.Errorf("CLIENT INFO addr=%s laddr=%s, want %s %s", l["addr"], l["laddr"], c.conn.LocalAddr(), addr)
	}

	// RESP3: CLIENT INFO and CLIENT LIST are verbatim strings, GETNAME
	// of no name is a RESP3 null.
	c.do("HELLO", "3")
	info := c.do("CLIENT", "INFO")
	if !strings.HasPrefix(info, "=") || !strings.Contains(info, "\r\ntxt:id=") || !strings.Contains(info, " resp=3 ") {
		t.Errorf("RESP3 CLIENT INFO = %q", info)
	}
	if list := c.do("CLIENT", "LIST"); !strings.HasPrefix(list, "=") {
		t.Errorf("RESP3 CLIENT LIST = %q", list)
	}
	admExpect(t, c, "+OK\r\n", "CLIENT", "SETNAME", "")
	admExpect(t, c, "_\r\n", "CLIENT", "GETNAME")
}

func TestClientListSeesOtherConnections(t *testing.T) {
	addr, srv, _ := startTestServer(t, nil)
	a, b := dialTest(t, addr), dialTest(t, addr)
	bid := strings.TrimSpace(b.do("CLIENT", "ID")[1:])
	b.do("CLIENT", "SETNAME", "bee")
	b.do("SELECT", "3")
	b.do("HELLO", "3")
	b.do("CLIENT", "SETINFO", "lib-name", "blib")
	admExpect(t, b, "+OK\r\n", "MULTI")
	admExpect(t, b, "+QUEUED\r\n", "SET", "x", "y")

	lines := parseClientLines(t, bulkBody(t, a.do("CLIENT", "LIST")))
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST: %d lines, want 2", len(lines))
	}
	if lines[0]["cmd"] != "client|list" || lines[1]["id"] != bid {
		t.Errorf("CLIENT LIST order: %v", lines)
	}
	bl := lines[1]
	for k, v := range map[string]string{"name": "bee", "db": "3", "resp": "3", "flags": "x", "multi": "1", "lib-name": "blib"} {
		if bl[k] != v {
			t.Errorf("other client's %s=%q, want %q", k, bl[k], v)
		}
	}
	only := parseClientLines(t, bulkBody(t, a.do("CLIENT", "LIST", "ID", bid, "123456")))
	if len(only) != 1 || only[0]["id"] != bid {
		t.Errorf("CLIENT LIST ID %s: %v", bid, only)
	}
	admExpect(t, a, "$0\r\n\r\n", "CLIENT", "LIST", "TYPE", "pubsub")
	if n := len(parseClientLines(t, bulkBody(t, a.do("CLIENT", "LIST", "TYPE", "NORMAL")))); n != 2 {
		t.Errorf("CLIENT LIST TYPE normal: %d lines", n)
	}
	admExpect(t, a, admErr("ERR Unknown client type 'foo'"), "CLIENT", "LIST", "TYPE", "foo")
	admExpect(t, a, admErr("ERR Invalid client ID"), "CLIENT", "LIST", "ID", "1", "x")
	admExpect(t, a, admErr("ERR syntax error"), "CLIENT", "LIST", "ID")
	admExpect(t, a, admErr("ERR syntax error"), "CLIENT", "LIST", "TYPE", "normal", "ID", "1")

	// INFO clients counts both.
	if info := bulkBody(t, a.do("INFO", "clients")); !strings.Contains(info, "connected_clients:2\r\n") {
		t.Errorf("INFO clients:\n%s", info)
	}

	// CLIENT KILL ID closes the other connection.
	admExpect(t, a, ":1\r\n", "CLIENT", "KILL", "ID", bid)
	b.expectEOF()
	waitFor(t, "killed client to leave", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.clients) == 1
	})
	admExpect(t, a, ":0\r\n", "CLIENT", "KILL", "ID", bid)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientKillFilters(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	a := dialTest(t, addr)
	a.do("PING")

	admExpect(t, a, admErr("ERR No such client"), "CLIENT", "KILL", "1.2.3.4:5")
	admExpect(t, a, admErr("ERR client-id should be greater than 0"), "CLIENT", "KILL", "ID", "x")
	admExpect(t, a, admErr("ERR client-id should be greater than 0"), "CLIENT", "KILL", "ID", "0")
	admExpect(t, a, admErr("ERR syntax error"), "CLIENT", "KILL", "foo", "bar")
	admExpect(t, a, admErr("ERR syntax error"), "CLIENT", "KILL", "ID", "1", "TYPE")
	admExpect(t, a, admErr("ERR syntax error"), "CLIENT", "KILL", "SKIPME", "maybe")
	admExpect(t, a, admErr("ERR No such user 'nobody'"), "CLIENT", "KILL", "USER", "nobody")
	admExpect(t, a, admErr("ERR Unknown client type 'x'"), "CLIENT", "KILL", "TYPE", "x")
	admExpect(t, a, admErr("ERR wrong number of arguments for 'client|kill' command"), "CLIENT", "KILL")
	// The only other client matching is this one, which SKIPME protects.
	admExpect(t, a, ":0\r\n", "CLIENT", "KILL", "USER", "default")
	admExpect(t, a, ":0\r\n", "CLIENT", "KILL", "LADDR", "1.1.1.1:1")
	admExpect(t, a, ":0\r\n", "CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "no")

	// Old form, by address.
	b := dialTest(t, addr)
	b.do("PING")
	admExpect(t, a, "+OK\r\n", "CLIENT", "KILL", b.conn.LocalAddr().String())
	b.expectEOF()

	// New form with ADDR and LADDR.
	d := dialTest(t, addr)
	d.do("PING")
	admExpect(t, a, ":1\r\n", "CLIENT", "KILL", "ADDR", d.conn.LocalAddr().String(), "LADDR", addr, "SKIPME", "yes")
	d.expectEOF()

	// SKIPME no kills the caller too, after its reply.
	e := dialTest(t, addr)
	e.do("PING")
	admExpect(t, a, ":2\r\n", "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no")
	a.expectEOF()
	e.expectEOF()
}

func TestClientGoRedis(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := admGoRedis(t, addr, proto, true) // sends CLIENT SETINFO
			conn := rdb.Conn()
			defer conn.Close()
			if err := conn.ClientSetName(ctx, "gr").Err(); err != nil {
				t.Fatal(err)
			}
			name, err := conn.ClientGetName(ctx).Result()
			if err != nil || name != "gr" {
				t.Fatalf("ClientGetName = %q, %v", name, err)
			}
			id, err := conn.ClientID(ctx).Result()
			if err != nil || id <= 0 {
				t.Fatalf("ClientID = %d, %v", id, err)
			}
			ci, err := conn.ClientInfo(ctx).Result()
			if err != nil {
				t.Fatalf("ClientInfo: %v", err)
			}
			if ci.ID != id || ci.Name != "gr" || ci.Resp != proto || !strings.HasPrefix(ci.LibName, "go-redis") || ci.LastCmd != "client|info" {
				t.Errorf("ClientInfo = %+v", ci)
			}
			list, err := conn.ClientList(ctx).Result()
			if err != nil || !strings.Contains(list, "name=gr ") || !strings.Contains(list, "lib-name=go-redis") {
				t.Errorf("ClientList = %q, %v", list, err)
			}
			other := admGoRedis(t, addr, proto, false)
			oc := other.Conn()
			defer oc.Close()
			oid, err := oc.ClientID(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			n, err := conn.ClientKillByFilter(ctx, "ID", strconv.FormatInt(oid, 10)).Result()
			if err != nil || n != 1 {
				t.Fatalf("ClientKillByFilter = %d, %v", n, err)
			}
			if err := oc.Ping(ctx).Err(); err == nil {
				t.Error("killed connection still answers PING")
			}
		})
	}
}

func TestUnknownSubcommandsAndHelp(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	for _, name := range []string{"client", "config", "command", "object", "memory", "slowlog", "latency", "function"} {
		up := strings.ToUpper(name)
		admExpect(t, c, admErr("ERR unknown subcommand 'foo'. Try "+up+" HELP."), name, "foo")
		admExpect(t, c, admErr("ERR unknown subcommand 'Foo'. Try "+up+" HELP."), strings.ToUpper(name[:1])+name[1:], "Foo")
		admExpect(t, c, admErr("ERR wrong number of arguments for '"+name+"|help' command"), name, "help", "x")
		help := c.do(name, "HELP")
		first := "+" + up + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
		if !strings.HasPrefix(help, "*") || !strings.Contains(help, "\r\n"+first) ||
			!strings.HasSuffix(help, "+HELP\r\n+    Prints this help.\r\n") {
			t.Errorf("%s HELP = %q", up, help)
		}
		if name != "command" {
			admExpect(t, c, admErr("ERR wrong number of arguments for '"+name+"' command"), name)
		}
	}
	long := strings.Repeat("x", 200)
	admExpect(t, c, admErr("ERR unknown subcommand '"+long[:128]+"'. Try CLIENT HELP."), "client", long)
	admExpect(t, c, admErr("ERR wrong number of arguments for 'client|id' command"), "client", "id", "x")
	// Inside MULTI an unknown subcommand aborts the transaction.
	admExpect(t, c, "+OK\r\n", "MULTI")
	admExpect(t, c, admErr("ERR unknown subcommand 'nope'. Try CONFIG HELP."), "CONFIG", "nope")
	admExpect(t, c, admErr("EXECABORT Transaction discarded because of previous errors."), "EXEC")
}

func TestCommandCommand(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	// The advertised commands: the registered ones in the command table.
	var top []string
	for _, ci := range cmdtable.All() {
		if registry[ci.Name] != nil {
			top = append(top, ci.Name)
		}
	}
	admExpect(t, c, ":"+strconv.Itoa(len(top))+"\r\n", "COMMAND", "COUNT")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'command|count' command"), "COMMAND", "COUNT", "x")

	get := cmdtable.Lookup("get")
	admExpect(t, c, "*1\r\n"+string(get.RawInfo.AppendRESP(nil, false)), "COMMAND", "INFO", "GET")
	admExpect(t, c, "*2\r\n$-1\r\n"+string(get.RawInfo.AppendRESP(nil, false)), "COMMAND", "INFO", "nosuch", "get")
	admExpect(t, c, "*1\r\n$-1\r\n", "COMMAND", "INFO", "get|x")
	admExpect(t, c, "*2\r\n$3\r\nget\r\n"+string(get.RawDocs.AppendRESP(nil, false)), "COMMAND", "DOCS", "get")
	admExpect(t, c, "*0\r\n", "COMMAND", "DOCS", "nosuch")
	id := cmdtable.LookupFullName("client|id")
	admExpect(t, c, "*1\r\n"+string(id.RawInfo.AppendRESP(nil, false)), "COMMAND", "INFO", "CLIENT|ID")

	all := c.do("COMMAND")
	if !strings.HasPrefix(all, "*"+strconv.Itoa(len(top))+"\r\n") || all != c.do("COMMAND", "INFO") {
		t.Errorf("COMMAND and COMMAND INFO differ or have the wrong count")
	}
	if !strings.Contains(all, string(get.RawInfo.AppendRESP(nil, false))) {
		t.Error("COMMAND does not include GET's entry")
	}

	// COMMAND LIST and its filters.
	list := c.do("COMMAND", "LIST")
	for _, want := range []string{"$3\r\nget\r\n", "$11\r\nclient|list\r\n", "$10\r\nconfig|get\r\n"} {
		if !strings.Contains(list, want) {
			t.Errorf("COMMAND LIST lacks %q", want)
		}
	}
	if strings.Contains(list, "client|help") {
		t.Error("COMMAND LIST advertises client|help, which the command table does not have")
	}
	pat := c.do("COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG|*")
	if !strings.Contains(pat, "$10\r\nconfig|get\r\n") || strings.Contains(pat, "$6\r\nconfig\r\n") || strings.Contains(pat, "get\r\n$3") {
		t.Errorf("COMMAND LIST FILTERBY PATTERN config|* = %q", pat)
	}
	cat := c.do("COMMAND", "LIST", "FILTERBY", "ACLCAT", "KEYSPACE")
	if !strings.Contains(cat, "$3\r\ndel\r\n") || strings.Contains(cat, "$3\r\nget\r\n") {
		t.Errorf("COMMAND LIST FILTERBY ACLCAT keyspace = %q", cat)
	}
	admExpect(t, c, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "MODULE", "x")
	admExpect(t, c, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch")
	admExpect(t, c, admErr("ERR syntax error"), "COMMAND", "LIST", "FILTERBY", "foo", "x")
	admExpect(t, c, admErr("ERR syntax error"), "COMMAND", "LIST", "FILTERBY")

	// COMMAND GETKEYS.
	admExpect(t, c, "*1\r\n$1\r\nk\r\n", "COMMAND", "GETKEYS", "SET", "k", "v")
	admExpect(t, c, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "COMMAND", "GETKEYS", "MGET", "a", "b", "c")
	admExpect(t, c, admErr("ERR Invalid command specified"), "COMMAND", "GETKEYS", "nosuch", "x")
	admExpect(t, c, admErr("ERR Invalid command specified"), "COMMAND", "GETKEYS", "client", "x")
	admExpect(t, c, admErr("ERR The command has no key arguments"), "COMMAND", "GETKEYS", "ping", "x")
	admExpect(t, c, admErr("ERR Invalid number of arguments specified for command"), "COMMAND", "GETKEYS", "get", "a", "b")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'command|getkeys' command"), "COMMAND", "GETKEYS", "get")

	// RESP3: unknown names are nulls, DOCS is a map.
	c.do("HELLO", "3")
	admExpect(t, c, "*1\r\n_\r\n", "COMMAND", "INFO", "nosuch")
	admExpect(t, c, "%1\r\n$3\r\nget\r\n"+string(get.RawDocs.AppendRESP(nil, true)), "COMMAND", "DOCS", "get")
	admExpect(t, c, "%0\r\n", "COMMAND", "DOCS", "nosuch")
}

func TestCommandGoRedis(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		rdb := admGoRedis(t, addr, proto, false)
		infos, err := rdb.Command(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d COMMAND: %v", proto, err)
		}
		g := infos["get"]
		if g == nil || g.Arity != 2 || g.FirstKeyPos != 1 || !g.ReadOnly {
			t.Errorf("RESP%d COMMAND get = %+v", proto, g)
		}
		if infos["client"] == nil || infos["hello"] == nil {
			t.Errorf("RESP%d COMMAND lacks client or hello", proto)
		}
		keys, err := rdb.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result()
		if err != nil || strings.Join(keys, ",") != "a,b" {
			t.Errorf("RESP%d COMMAND GETKEYS = %v, %v", proto, keys, err)
		}
		names, err := rdb.CommandList(ctx, &redis.FilterBy{Pattern: "slowlog*"}).Result()
		if err != nil || strings.Join(names, ",") != "slowlog,slowlog|get,slowlog|len,slowlog|reset" {
			t.Errorf("RESP%d COMMAND LIST pattern = %v, %v", proto, names, err)
		}
	}
}

func TestInfo(t *testing.T) {
	addr, srv, _ := startTestServer(t, nil)
	srv.ResetStats()
	c := dialTest(t, addr)
	c.do("SET", "k", "v")
	c.do("SET", "k2", "v")
	c.do("SELECT", "2")
	c.do("SET", "k", "v")
	c.do("GET", "k")
	c.do("GET", "nokey")

	sectionsOf := func(info string) []string {
		var out []string
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, "# ") {
				out = append(out, l[2:])
			}
		}
		return out
	}
	info := bulkBody(t, c.do("INFO"))
	if got := strings.Join(sectionsOf(info), ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Cluster,Keyspace" {
		t.Errorf("INFO sections: %s", got)
	}
	if !strings.HasPrefix(info, "# Server\r\nredis_version:7.0.15\r\n") || !strings.HasSuffix(info, "\r\n") || strings.HasSuffix(info, "\r\n\r\n") {
		t.Errorf("INFO layout:\n%q", info)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, want := range []string{
		"\r\nredis_mode:standalone\r\n", "\r\nrustypotato_version:" + Version + "\r\n", "\r\ntcp_port:" + port + "\r\n",
		"\r\nprocess_id:" + strconv.Itoa(os.Getpid()) + "\r\n", "\r\narch_bits:64\r\n",
		"\r\nconnected_clients:1\r\n", "\r\nmaxclients:10000\r\n", "\r\nblocked_clients:0\r\n",
		"\r\nmaxmemory:0\r\n", "\r\nhot_tier_max_bytes:268435456\r\n",
		"\r\nloading:0\r\n", "\r\naof_enabled:1\r\n", "\r\nappendfsync:no\r\n", "\r\naof_last_write_status:ok\r\n",
		"\r\nkeyspace_hits:1\r\n", "\r\nkeyspace_misses:1\r\n", "\r\nevicted_keys:0\r\n",
		"\r\nrole:master\r\n", "\r\nconnected_slaves:0\r\n", "\r\nmaster_repl_offset:0\r\n",
		"\r\ncluster_enabled:0\r\n",
		"# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	for _, re := range []string{`\r\nused_memory:\d+\r\n`, `\r\nused_memory_rss:[1-9]\d*\r\n`, `\r\nused_memory_human:\d+(\.\d\d)?[BKMG]\r\n`,
		`\r\nused_cpu_user:\d+\.\d{6}\r\n`, `\r\nuptime_in_seconds:\d+\r\n`, `\r\nrun_id:[0-9a-f]{40}\r\n`,
		`\r\nmaster_replid:[0-9a-f]{40}\r\n`, `\r\ntotal_commands_processed:[1-9]\d*\r\n`, `\r\npebble_wal_files:\d+\r\n`,
		`\r\ninstantaneous_ops_per_sec:\d+\r\n`, `\r\ntotal_net_input_bytes:[1-9]\d*\r\n`} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("INFO does not match %s", re)
		}
	}

	// Section selection.
	admExpect(t, c, "$0\r\n\r\n", "INFO", "nosuch")
	admExpect(t, c, "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n", "INFO", "CLUSTER")
	two := bulkBody(t, c.do("INFO", "keyspace", "server"))
	if got := strings.Join(sectionsOf(two), ","); got != "Server,Keyspace" || !strings.Contains(two, "\r\n\r\n# Keyspace\r\n") {
		t.Errorf("INFO keyspace server: %q", got)
	}
	cs := bulkBody(t, c.do("INFO", "commandstats"))
	if !regexp.MustCompile(`\r\ncmdstat_set:calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n`).MatchString(cs) ||
		!strings.Contains(cs, "\r\ncmdstat_info:calls=") {
		t.Errorf("INFO commandstats:\n%s", cs)
	}
	c.do("CLIENT", "ID", "extra") // rejected (arity)
	c.do("OBJECT", "FREQ", "k")   // failed
	ev := bulkBody(t, c.do("INFO", "everything"))
	if got := strings.Join(sectionsOf(ev), ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Commandstats,Latencystats,Cluster,Keyspace" {
		t.Errorf("INFO everything sections: %s", got)
	}
	for _, want := range []string{"\r\ncmdstat_client|id:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n",
		",rejected_calls=0,failed_calls=1\r\n"} {
		if !strings.Contains(ev, want) {
			t.Errorf("INFO everything lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\r\nlatency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n`).MatchString(ev) {
		t.Errorf("INFO latencystats:\n%s", ev)
	}
	if all := bulkBody(t, c.do("INFO", "all")); len(sectionsOf(all)) != len(sectionsOf(ev)) {
		t.Errorf("INFO all sections: %v", sectionsOf(all))
	}

	// RESP3: a verbatim string.
	c.do("HELLO", "3")
	admExpect(t, c, "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n", "INFO", "cluster")

	// CONFIG RESETSTAT clears the command statistics and counters.
	admExpect(t, c, "+OK\r\n", "CONFIG", "RESETSTAT")
	cs = bulkBody(t, c.do("INFO", "commandstats", "stats"))
	if strings.Contains(cs, "cmdstat_set") || strings.Contains(cs, "cmdstat_info") || !strings.Contains(cs, "\r\nkeyspace_hits:0\r\n") ||
		!regexp.MustCompile(`\r\ncmdstat_config\|resetstat:calls=1,usec=\d+,`).MatchString(cs) {
		t.Errorf("after RESETSTAT:\n%s", cs)
	}
	if srv.stats.commands.Load() > 2 {
		t.Errorf("total_commands_processed after RESETSTAT = %d", srv.stats.commands.Load())
	}

	// go-redis parses it in both protocols.
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		m, err := admGoRedis(t, addr, proto, false).InfoMap(ctx, "server", "keyspace").Result()
		if err != nil {
			t.Fatalf("RESP%d InfoMap: %v", proto, err)
		}
		if m["Server"]["redis_version"] != RedisVersion || m["Keyspace"]["db2"] != "keys=1,expires=0,avg_ttl=0" {
			t.Errorf("RESP%d InfoMap = %v", proto, m)
		}
	}
}

func TestInstantaneousOps(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	c.do("INFO", "stats") // starts the sampler
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for i := 0; i < 50; i++ {
			c.do("PING")
		}
		info := bulkBody(t, c.do("INFO", "stats"))
		if regexp.MustCompile(`\r\ninstantaneous_ops_per_sec:[1-9]\d*\r\n`).MatchString(info) &&
			regexp.MustCompile(`\r\ninstantaneous_input_kbps:\d+\.\d\d\r\n`).MatchString(info) {
			return
		}
	}
	t.Error("instantaneous_ops_per_sec stayed 0 under load")
}

func TestConfigGetSet(t *testing.T) {
	addr, srv, _ := startTestServer(t, func(c *Config) {
		c.Extra = map[string]string{"loglevel": "notice", "appendfsync": "no"}
	})
	c := dialTest(t, addr)
	admExpect(t, c, "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", "CONFIG", "GET", "maxclients")
	admExpect(t, c, "*2\r\n$10\r\nMaxClients\r\n$5\r\n10000\r\n", "CONFIG", "GET", "MaxClients", "maxclients")
	admExpect(t, c, "*0\r\n", "CONFIG", "GET", "nosuch")
	admExpect(t, c, "*4\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n", "CONFIG", "GET", "SLOWLOG-*")
	admExpect(t, c, "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n", "CONFIG", "GET", "appendonly")
	admExpect(t, c, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "CONFIG", "GET", "save")
	admExpect(t, c, "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n", "CONFIG", "GET", "databases")
	admExpect(t, c, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n", "CONFIG", "GET", "maxmemory")
	admExpect(t, c, "*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n", "CONFIG", "GET", "proto-max-bulk-len")
	admExpect(t, c, "*2\r\n$25\r\nclient-query-buffer-limit\r\n$10\r\n1073741824\r\n", "CONFIG", "GET", "client-query-buffer-limit")
	_, port, _ := net.SplitHostPort(addr)
	admExpect(t, c, "*2\r\n$4\r\nport\r\n$"+strconv.Itoa(len(port))+"\r\n"+port+"\r\n", "CONFIG", "GET", "port")
	admExpect(t, c, "*2\r\n$11\r\nappendfsync\r\n$2\r\nno\r\n", "CONFIG", "GET", "appendfsync")

	failed := func(arg, msg string) string {
		return admErr("ERR CONFIG SET failed (possibly related to argument '" + arg + "') - " + msg)
	}
	admExpect(t, c, admErr("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"), "CONFIG", "SET", "nosuch", "1")
	admExpect(t, c, failed("maxclients", "argument couldn't be parsed into an integer"), "CONFIG", "SET", "maxclients", "abc")
	admExpect(t, c, failed("maxclients", "argument must be between 1 and 4294967295 inclusive"), "CONFIG", "SET", "maxclients", "0")
	admExpect(t, c, failed("timeout", "argument couldn't be parsed into an integer"), "CONFIG", "SET", "maxclients", "100", "timeout", "x")
	admExpect(t, c, failed("TIMEOUT", "duplicate parameter"), "CONFIG", "SET", "timeout", "5", "TIMEOUT", "6")
	admExpect(t, c, failed("databases", "can't set immutable config"), "CONFIG", "SET", "databases", "5")
	admExpect(t, c, failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"), "CONFIG", "SET", "loglevel", "foo")
	admExpect(t, c, failed("appendfsync", "argument(s) must be one of the following: everysec, always, no"), "CONFIG", "SET", "appendfsync", "foo")
	admExpect(t, c, failed("slowlog-max-len", "argument must be between 0 and 9223372036854775807 inclusive"), "CONFIG", "SET", "slowlog-max-len", "-1")
	admExpect(t, c, failed("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive"), "CONFIG", "SET", "slowlog-log-slower-than", "-5")
	admExpect(t, c, failed("maxmemory", "argument must be a memory value"), "CONFIG", "SET", "maxmemory", "foo")
	admExpect(t, c, failed("save", "Invalid save parameters"), "CONFIG", "SET", "save", "900")
	admExpect(t, c, failed("appendonly", "argument must be 'yes' or 'no'"), "CONFIG", "SET", "appendonly", "foo")
	admExpect(t, c, admErr("ERR syntax error"), "CONFIG", "SET", "maxclients", "100", "timeout")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'config|set' command"), "CONFIG", "SET", "port")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'config|get' command"), "CONFIG", "GET")
	// A failed CONFIG SET changes nothing.
	if srv.settings.maxClients() != 10000 {
		t.Errorf("maxclients changed by a failed CONFIG SET: %d", srv.settings.maxClients())
	}
	if msg := c.do("CONFIG", "SET", "appendfsync", "always"); !strings.HasPrefix(msg, "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - ") {
		t.Errorf("CONFIG SET appendfsync always = %q", msg)
	}

	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "maxclients", "50", "timeout", "7", "loglevel", "WARNING",
		"slowlog-max-len", "3", "appendfsync", "no", "appendonly", "yes", "maxmemory", "0", "save", "900 1 300 10")
	if srv.settings.maxClients() != 50 || srv.settings.timeout() != 7*time.Second || srv.slowlog.getMaxLen() != 3 {
		t.Errorf("settings after CONFIG SET: maxclients %d timeout %v slowlog-max-len %d",
			srv.settings.maxClients(), srv.settings.timeout(), srv.slowlog.getMaxLen())
	}
	admExpect(t, c, "*4\r\n$8\r\nloglevel\r\n$7\r\nwarning\r\n$4\r\nsave\r\n$12\r\n900 1 300 10\r\n", "CONFIG", "GET", "loglevel", "save")
	if info := bulkBody(t, c.do("INFO", "clients")); !strings.Contains(info, "\r\nmaxclients:50\r\n") {
		t.Errorf("INFO after CONFIG SET maxclients:\n%s", info)
	}

	// requirepass applies to new connections; this one stays authenticated.
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "s3cret")
	d := dialTest(t, addr)
	admExpect(t, d, admErr("NOAUTH Authentication required."), "GET", "x")
	admExpect(t, d, "+OK\r\n", "AUTH", "s3cret")
	admExpect(t, c, "*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n", "CONFIG", "GET", "requirepass")
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "")

	// RESP3: a map; go-redis reads it in both protocols.
	c.do("HELLO", "3")
	admExpect(t, c, "%1\r\n$7\r\ntimeout\r\n$1\r\n7\r\n", "CONFIG", "GET", "timeout")
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		m, err := admGoRedis(t, addr, proto, false).ConfigGet(ctx, "max*").Result()
		if err != nil || m["maxclients"] != "50" || m["maxmemory"] != "0" || m["maxmemory-policy"] != "noeviction" {
			t.Errorf("RESP%d ConfigGet max* = %v, %v", proto, m, err)
		}
	}
}

func TestConfigMaxClientsAndTimeoutTakeEffect(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "maxclients", "1")
	d := dialTest(t, addr)
	if r, err := d.read(); err != nil || r != admErr("ERR max number of clients reached") {
		t.Errorf("connection over maxclients got %q, %v", r, err)
	}
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "maxclients", "10", "timeout", "1")
	e := dialTest(t, addr)
	e.do("PING")
	start := time.Now()
	e.expectEOF()
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("idle connection closed after %v, want about 1s", d)
	}
}

func TestConfigRewrite(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	admExpect(t, c, admErr("ERR The server is running without a config file"), "CONFIG", "REWRITE")

	path := filepath.Join(t.TempDir(), "rp.conf")
	orig := "# my settings\nport 6390\nmaxclients 50\nbind 127.0.0.1\nMaxClients 60\nunknown-directive 1\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	addr2, _, _ := startTestServer(t, func(cfg *Config) {
		cfg.ConfigFile = path
		cfg.Extra = map[string]string{"port": "6390", "bind": "127.0.0.1", "dir": "./data"}
	})
	c2 := dialTest(t, addr2)
	admExpect(t, c2, "+OK\r\n", "CONFIG", "SET", "maxclients", "77", "timeout", "9", "requirepass", "pw", "slowlog-log-slower-than", "-1")
	admExpect(t, c2, "+OK\r\n", "CONFIG", "REWRITE")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# my settings\nport 6390\nmaxclients 77\nbind 127.0.0.1\nunknown-directive 1\n" +
		"# Generated by CONFIG REWRITE\nappendfsync no\nrequirepass pw\nslowlog-log-slower-than -1\ntimeout 9\n"
	if string(data) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", data, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("rewrite changed the file mode to %v", fi.Mode().Perm())
	}
	m, err := conf.ParseFile(path)
	if err != nil || m["maxclients"] != "77" || m["timeout"] != "9" || m["requirepass"] != "pw" {
		t.Errorf("conf.ParseFile = %v, %v", m, err)
	}
	// A second rewrite is stable; an empty password is written quoted.
	admExpect(t, c2, "+OK\r\n", "AUTH", "pw")
	admExpect(t, c2, "+OK\r\n", "CONFIG", "SET", "requirepass", "")
	admExpect(t, c2, "+OK\r\n", "CONFIG", "REWRITE")
	data, _ = os.ReadFile(path)
	if !strings.Contains(string(data), "\nrequirepass \"\"\n") || strings.Count(string(data), "# Generated by CONFIG REWRITE") != 1 {
		t.Errorf("second rewrite:\n%s", data)
	}
	if m, err := conf.ParseFile(path); err != nil || m["requirepass"] != "" {
		t.Errorf("conf.ParseFile after second rewrite = %v, %v", m, err)
	}
}

func TestSlowlog(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	c.do("CLIENT", "SETNAME", "slow")
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.do("SET", "k", strings.Repeat("v", 200))
	entries := c.do("SLOWLOG", "GET", "1")
	re := regexp.MustCompile(`^\*1\r\n\*6\r\n:1\r\n:(\d+)\r\n:\d+\r\n\*3\r\n\$3\r\nSET\r\n\$1\r\nk\r\n\$147\r\n(v{128})\.\.\. \(72 more bytes\)\r\n` +
		`\$\d+\r\n127\.0\.0\.1:\d+\r\n\$4\r\nslow\r\n$`)
	if m := re.FindStringSubmatch(entries); m == nil {
		t.Errorf("SLOWLOG GET 1 = %q", entries)
	} else if ts, _ := strconv.ParseInt(m[1], 10, 64); time.Since(time.Unix(ts, 0)) > time.Minute {
		t.Errorf("slowlog timestamp %d", ts)
	}
	admExpect(t, c, ":3\r\n", "SLOWLOG", "LEN")
	admExpect(t, c, admErr("ERR count should be greater than or equal to -1"), "SLOWLOG", "GET", "x")
	admExpect(t, c, admErr("ERR count should be greater than or equal to -1"), "SLOWLOG", "GET", "-2")
	admExpect(t, c, admErr("ERR unknown subcommand or wrong number of arguments for 'GeT'. Try SLOWLOG HELP."), "slowlog", "GeT", "1", "2")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'slowlog|len' command"), "SLOWLOG", "LEN", "x")

	ctx := context.Background()
	rdb := admGoRedis(t, addr, 3, false)
	logs, err := rdb.SlowLogGet(ctx, -1).Result()
	if err != nil || len(logs) < 5 {
		t.Fatalf("SlowLogGet = %v, %v", logs, err)
	}
	if logs[len(logs)-1].ID != 0 || logs[len(logs)-1].Args[0] != "CONFIG" || logs[len(logs)-1].ClientName != "slow" {
		t.Errorf("oldest entry = %+v", logs[len(logs)-1])
	}
	// CONFIG SET requirepass is redacted, as in Redis.
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "topsecret")
	if got := c.do("SLOWLOG", "GET", "1"); !strings.Contains(got, "$11\r\nrequirepass\r\n$10\r\n(redacted)\r\n") || strings.Contains(got, "topsecret\r\n$") {
		t.Errorf("SLOWLOG after CONFIG SET requirepass = %q", got)
	}
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "requirepass", "")
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "slowlog-max-len", "2")
	admExpect(t, c, ":2\r\n", "SLOWLOG", "LEN")
	admExpect(t, c, "+OK\r\n", "SLOWLOG", "RESET")
	admExpect(t, c, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "-1")
	c.do("PING")
	admExpect(t, c, ":1\r\n", "SLOWLOG", "LEN") // SLOWLOG RESET itself
	admExpect(t, c, "*0\r\n", "SLOWLOG", "GET", "0")
}

func TestLatencyHistogram(t *testing.T) {
	addr, srv, _ := startTestServer(t, nil)
	srv.ResetStats()
	c := dialTest(t, addr)
	for i := 0; i < 3; i++ {
		c.do("PING")
	}
	c.do("CLIENT", "ID")
	admExpect(t, c, "*0\r\n", "LATENCY", "HISTOGRAM", "nosuch", "get")
	re := regexp.MustCompile(`^\*4\r\n\$4\r\nping\r\n\*4\r\n\$5\r\ncalls\r\n:3\r\n\$14\r\nhistogram_usec\r\n\*(\d+)\r\n((?::\d+\r\n)+)` +
		`\$9\r\nclient\|id\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$`)
	h := c.do("LATENCY", "HISTOGRAM", "PING", "client|id", "client")
	m := re.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("LATENCY HISTOGRAM = %q", h)
	}
	nums := strings.Fields(strings.NewReplacer(":", " ", "\r\n", " ").Replace(m[2]))
	if n, _ := strconv.Atoi(m[1]); n != len(nums) || nums[len(nums)-1] != "3" {
		t.Errorf("ping histogram %v: cumulative counts must end at 3", nums)
	}
	for i := 2; i < len(nums); i += 2 {
		a, _ := strconv.Atoi(nums[i-2])
		b, _ := strconv.Atoi(nums[i])
		if b <= a {
			t.Errorf("bucket labels not increasing: %v", nums)
		}
	}
	c.do("HELLO", "3")
	if h := c.do("LATENCY", "HISTOGRAM", "ping"); !strings.HasPrefix(h, "%1\r\n$4\r\nping\r\n%2\r\n$5\r\ncalls\r\n:3\r\n$14\r\nhistogram_usec\r\n%") {
		t.Errorf("RESP3 LATENCY HISTOGRAM = %q", h)
	}
	all := c.do("LATENCY", "HISTOGRAM")
	if !strings.Contains(all, "$4\r\nping\r\n") || !strings.Contains(all, "$5\r\nhello\r\n") || strings.Contains(all, "$3\r\nget\r\n") {
		t.Errorf("LATENCY HISTOGRAM (all) = %q", all)
	}
	// Bucket labels follow Redis's hdr histogram iteration.
	for i, want := range []int64{1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113} {
		if got := histogramBucketUsec(i); got != want {
			t.Errorf("histogramBucketUsec(%d) = %d, want %d", i, got, want)
		}
	}
}

func TestObjectAndMemory(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	c.do("SET", "k", "hello")
	c.do("SET", "n", "123")
	c.do("SET", "big", strings.Repeat("x", 45))
	c.do("SET", "neg", "-99999999999999999999")
	c.do("SET", "z", "012")
	c.do("SET", "huge", strings.Repeat("y", 100000))
	for _, tc := range []struct{ args, want string }{
		{"OBJECT ENCODING k", "$6\r\nembstr\r\n"},
		{"OBJECT ENCODING n", "$3\r\nint\r\n"},
		{"OBJECT ENCODING big", "$3\r\nraw\r\n"},
		{"OBJECT ENCODING neg", "$6\r\nembstr\r\n"},
		{"OBJECT ENCODING z", "$6\r\nembstr\r\n"},
		{"OBJECT ENCODING nokey", "$-1\r\n"},
		{"OBJECT REFCOUNT n", ":2147483647\r\n"},
		{"OBJECT REFCOUNT k", ":1\r\n"},
		{"OBJECT IDLETIME k", ":0\r\n"},
		{"OBJECT FREQ nokey", "$-1\r\n"},
		{"OBJECT FREQ k", admErr("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")},
		{"OBJECT ENCODING", admErr("ERR wrong number of arguments for 'object|encoding' command")},
		// Redis 7.0.15's figures for the same keys.
		{"MEMORY USAGE k", ":64\r\n"},
		{"MEMORY USAGE n", ":48\r\n"},
		{"MEMORY USAGE big", ":112\r\n"},
		{"MEMORY USAGE huge", ":114736\r\n"},
		{"MEMORY USAGE k SAMPLES 0", ":64\r\n"},
		{"MEMORY USAGE nokey", "$-1\r\n"},
		{"MEMORY USAGE k SAMPLES", admErr("ERR syntax error")},
		{"MEMORY USAGE k SAMPLES -1", admErr("ERR syntax error")},
		{"MEMORY USAGE k SAMPLES x", admErr("ERR value is not an integer or out of range")},
		{"MEMORY USAGE k foo", admErr("ERR syntax error")},
	} {
		admExpect(t, c, tc.want, strings.Fields(tc.args)...)
	}
	for n, want := range map[int64]int64{1: 8, 9: 16, 17: 32, 100: 112, 129: 160, 257: 320, 1025: 1280, 100006: 114688} {
		if got := jemallocSize(n); got != want {
			t.Errorf("jemallocSize(%d) = %d, want %d", n, got, want)
		}
	}
	c.do("HELLO", "3")
	admExpect(t, c, "_\r\n", "OBJECT", "ENCODING", "nokey")
	admExpect(t, c, "_\r\n", "MEMORY", "USAGE", "nokey")
}

func TestTimeSaveBgsave(t *testing.T) {
	addr, srv, store := startTestServer(t, nil)
	c := dialTest(t, addr)
	m := regexp.MustCompile(`^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$`).FindStringSubmatch(c.do("TIME"))
	if m == nil {
		t.Fatal("TIME reply malformed")
	}
	secs, _ := strconv.ParseInt(m[1], 10, 64)
	us, _ := strconv.ParseInt(m[2], 10, 64)
	if d := time.Since(time.Unix(secs, us*1000)); d < -time.Second || d > time.Second || us > 999999 {
		t.Errorf("TIME %d.%06d is off by %v", secs, us, d)
	}
	admExpect(t, c, admErr("ERR wrong number of arguments for 'time' command"), "TIME", "x")
	srv.lastSave.Store(1000)
	admExpect(t, c, ":1000\r\n", "LASTSAVE")
	c.do("SET", "k", "v1")
	admExpect(t, c, "+OK\r\n", "SAVE")
	if ls := srv.lastSave.Load(); time.Since(time.Unix(ls, 0)) > time.Minute {
		t.Errorf("LASTSAVE after SAVE = %d", ls)
	}
	admExpect(t, c, admErr("ERR syntax error"), "BGSAVE", "foo")
	srv.lastSave.Store(1000)
	admExpect(t, c, "+Background saving started\r\n", "BGSAVE")
	waitFor(t, "BGSAVE", func() bool { return srv.lastSave.Load() != 1000 })
	waitFor(t, "BGSAVE to finish", func() bool { return !srv.stats.bgsaveRunning.Load() })
	info := bulkBody(t, c.do("INFO", "persistence"))
	for _, want := range []string{"\r\nrdb_bgsave_in_progress:0\r\n", "\r\nrdb_last_bgsave_status:ok\r\n", "\r\nrdb_saves:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO persistence lacks %q:\n%s", want, info)
		}
	}
	backups, err := filepath.Glob(filepath.Join(store.Dir(), "backups", "backup-*"))
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups: %v, %v", backups, err)
	}
	// The checkpoint opens as a data directory holding the data.
	cp, err := kv.Open(backups[0], &kv.Options{ReadOnly: true, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("open checkpoint: %v", err)
	}
	defer cp.Close()
	if err := cp.View(func(tx *kv.Tx) error {
		v, ok, err := tx.Get(0, []byte("k"))
		if err != nil || !ok || string(v) != "v1" {
			t.Errorf("checkpoint k = %q, %v, %v", v, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Two BGSAVEs in the same second get distinct directories; a BGSAVE
	// while one runs fails, or is scheduled with SCHEDULE.
	srv.stats.bgsaveRunning.Store(true)
	admExpect(t, c, admErr("ERR Background save already in progress"), "BGSAVE")
	admExpect(t, c, admErr("ERR Background save already in progress"), "SAVE")
	admExpect(t, c, "+Background saving scheduled\r\n", "BGSAVE", "SCHEDULE")
	srv.stats.bgsaveRunning.Store(false)
	srv.stats.bgsaveScheduled.Store(false)
	d1, err1 := srv.Backup()
	d2, err2 := srv.Backup()
	if err1 != nil || err2 != nil || d1 == d2 {
		t.Errorf("Backup twice: %s %v, %s %v", d1, err1, d2, err2)
	}
}

func TestFunctionDebugMisc(t *testing.T) {
	addr, _, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	admExpect(t, c, "+OK\r\n", "FUNCTION", "FLUSH")
	admExpect(t, c, "+OK\r\n", "FUNCTION", "FLUSH", "async")
	admExpect(t, c, "+OK\r\n", "function", "flush", "SYNC")
	admExpect(t, c, admErr("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"), "FUNCTION", "FLUSH", "foo")
	admExpect(t, c, admErr("ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP."), "FUNCTION", "FLUSH", "a", "b")
	admExpect(t, c, admErr("ERR unknown subcommand or wrong number of arguments for 'jmap'. Try DEBUG HELP."), "debug", "jmap")
	admExpect(t, c, admErr("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."), "DEBUG", "SLEEP")
	admExpect(t, c, admErr("ERR wrong number of arguments for 'debug' command"), "DEBUG")
	admExpect(t, c, "+OK\r\n", "DEBUG", "SLEEP", "notanumber")
	if h := c.do("DEBUG", "HELP"); !strings.HasPrefix(h, "*5\r\n+DEBUG <subcommand>") {
		t.Errorf("DEBUG HELP = %q", h)
	}

	// DEBUG SLEEP blocks its own connection only.
	d := dialTest(t, addr)
	start := time.Now()
	c.send("DEBUG", "SLEEP", "0.3")
	time.Sleep(20 * time.Millisecond)
	admExpect(t, d, "+PONG\r\n", "PING")
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("another connection waited %v during DEBUG SLEEP", el)
	}
	if r, err := c.read(); err != nil || r != "+OK\r\n" {
		t.Errorf("DEBUG SLEEP = %q, %v", r, err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("DEBUG SLEEP 0.3 returned after %v", el)
	}
}

func TestMonitor(t *testing.T) {
	addr, srv, _ := startTestServer(t, nil)
	m := dialTest(t, addr)
	admExpect(t, m, "+OK\r\n", "MONITOR")
	if srv.nmonitors.Load() != 1 {
		t.Fatalf("nmonitors = %d", srv.nmonitors.Load())
	}
	c := dialTest(t, addr)
	c.do("CONFIG", "SET", "requirepass", "") // admin commands are not shown
	c.do("CLIENT", "LIST")
	c.do("SET", "a", "b\"c\n")
	line, err := m.read()
	re := regexp.MustCompile(`^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "a" "b\\"c\\n"\r\n$`)
	if err != nil || !re.MatchString(line) {
		t.Errorf("monitor line %q, %v", line, err)
	}
	c.do("CLIENT", "ID")
	if line, err := m.read(); err != nil || !strings.HasSuffix(line, `] "CLIENT" "ID"`+"\r\n") {
		t.Errorf("monitor line %q, %v", line, err)
	}
	list := parseClientLines(t, bulkBody(t, c.do("CLIENT", "LIST")))
	if len(list) != 2 || list[0]["flags"] != "O" || list[0]["cmd"] != "monitor" {
		t.Errorf("CLIENT LIST with a monitor: %v", list)
	}
	m.conn.Close()
	waitFor(t, "monitor to leave", func() bool { return srv.nmonitors.Load() == 0 })
}

func TestShutdownCommand(t *testing.T) {
	addr, srv, _ := startTestServer(t, nil)
	c := dialTest(t, addr)
	admExpect(t, c, admErr("ERR syntax error"), "SHUTDOWN", "foo")
	admExpect(t, c, admErr("ERR syntax error"), "SHUTDOWN", "SAVE", "NOSAVE")
	admExpect(t, c, admErr("ERR syntax error"), "SHUTDOWN", "ABORT", "NOW")
	admExpect(t, c, admErr("ERR No shutdown in progress."), "SHUTDOWN", "ABORT")
	admExpect(t, c, "+OK\r\n", "MULTI")
	admExpect(t, c, admErr("ERR Command not allowed inside a transaction"), "SHUTDOWN")
	c.do("DISCARD")
	select {
	case <-srv.ShutdownRequested():
		t.Fatal("shutdown requested too early")
	default:
	}
	c.send("SHUTDOWN", "NOSAVE", "NOW", "FORCE")
	c.expectEOF()
	select {
	case <-srv.ShutdownRequested():
	case <-time.After(5 * time.Second):
		t.Fatal("SHUTDOWN did not request a shutdown")
	}
}

// TestAdminMatchesRedis sends the same commands to RustyPotato and to a
// real redis-server 7 and compares the replies byte for byte (skipped if
// redis-server is not installed).
func TestAdminMatchesRedis(t *testing.T) {
	redisAddr := admStartRedis(t)
	addr, _, _ := startTestServer(t, nil)
	cmds := [][]string{
		{"CLIENT"}, {"CLIENT", "foo"}, {"client", "id", "x"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "SETNAME", "n1"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", ""}, {"CLIENT", "GETNAME"},
		{"CLIENT", "LIST", "TYPE", "foo"}, {"CLIENT", "LIST", "ID", "1", "x"}, {"CLIENT", "LIST", "ID"},
		{"CLIENT", "LIST", "foo"}, {"CLIENT", "LIST", "TYPE", "pubsub"}, {"CLIENT", "LIST", "ID", "999999"},
		{"CLIENT", "KILL", "1.2.3.4:5"}, {"CLIENT", "KILL", "ID", "999999"}, {"CLIENT", "KILL", "ID", "x"},
		{"CLIENT", "KILL", "ADDR", "1.2.3.4:5"}, {"CLIENT", "KILL", "foo", "bar"}, {"CLIENT", "KILL", "ID"},
		{"CLIENT", "KILL", "SKIPME", "maybe"}, {"CLIENT", "KILL", "USER", "nobody"}, {"CLIENT", "KILL", "MAXAGE", "5"},
		{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}, {"CLIENT", "NO-EVICT", "maybe"}, {"CLIENT", "NO-EVICT", "on"},
		{"CONFIG"}, {"CONFIG", "foo"}, {"CONFIG", "GET"}, {"CONFIG", "GET", "nosuch"}, {"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "GET", "databases"}, {"CONFIG", "GET", "TIMEOUT"}, {"CONFIG", "GET", "maxmemory-policy"},
		{"CONFIG", "SET", "nosuch", "1"}, {"CONFIG", "SET", "maxclients", "abc"}, {"CONFIG", "SET", "maxclients", "0"},
		{"CONFIG", "SET", "timeout", "5", "timeout", "6"}, {"CONFIG", "SET", "databases", "5"},
		{"CONFIG", "SET", "loglevel", "foo"}, {"CONFIG", "SET", "maxclients", "100", "timeout"},
		{"CONFIG", "SET", "maxmemory-policy", "foo"}, {"CONFIG", "SET", "maxmemory", "foo"}, {"CONFIG", "SET", "save", "900"},
		{"CONFIG", "SET", "slowlog-max-len", "99999999999999999999"}, {"CONFIG", "SET", "timeout", "-1"},
		{"CONFIG", "REWRITE"}, {"CONFIG", "RESETSTAT", "x"},
		{"COMMAND", "foo"}, {"COMMAND", "COUNT", "x"}, {"COMMAND", "GETKEYS", "nosuch", "x"}, {"COMMAND", "GETKEYS", "ping", "x"},
		{"COMMAND", "GETKEYS", "set", "k", "v"}, {"COMMAND", "GETKEYS", "client", "kill"}, {"COMMAND", "DOCS", "get"},
		{"COMMAND", "DOCS", "nosuch"}, {"COMMAND", "INFO", "get", "nosuch", "client|id"}, {"COMMAND", "LIST", "FILTERBY", "foo", "x"},
		{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"},
		{"SLOWLOG"}, {"SLOWLOG", "foo"}, {"SLOWLOG", "GET", "x"}, {"SLOWLOG", "GET", "1", "2"}, {"SLOWLOG", "RESET"},
		{"LATENCY", "foo"}, {"LATENCY", "HISTOGRAM", "nosuch"},
		{"FUNCTION", "foo"}, {"FUNCTION", "FLUSH"}, {"FUNCTION", "FLUSH", "foo"}, {"FUNCTION", "FLUSH", "a", "b"},
		{"LASTSAVE", "x"}, {"TIME", "x"}, {"SAVE", "x"}, {"MONITOR", "x"},
		{"SET", "k", "hello"}, {"SET", "n", "123"}, {"SET", "big", strings.Repeat("x", 50)},
		{"OBJECT"}, {"OBJECT", "foo"}, {"OBJECT", "ENCODING", "k"}, {"OBJECT", "ENCODING", "n"}, {"OBJECT", "ENCODING", "big"},
		{"OBJECT", "ENCODING", "nokey"}, {"OBJECT", "REFCOUNT", "n"}, {"OBJECT", "FREQ", "k"}, {"OBJECT", "IDLETIME", "nokey"},
		{"MEMORY", "USAGE", "k"}, {"MEMORY", "USAGE", "n"}, {"MEMORY", "USAGE", "big"}, {"MEMORY", "USAGE", "nokey"},
		{"MEMORY", "USAGE", "k", "SAMPLES"}, {"MEMORY", "foo"},
		{"BGSAVE", "foo"}, {"SHUTDOWN", "foo"}, {"SHUTDOWN", "ABORT"}, {"SHUTDOWN", "SAVE", "NOSAVE"},
		{"INFO", "nosuch"}, {"INFO", "cluster"}, {"DEBUG"},
		{"CLIENT", "GETNAME"}, {"OBJECT", "ENCODING", "nokey"}, {"COMMAND", "DOCS", "nosuch"},
		{"COMMAND", "INFO", "nosuch"}, {"CONFIG", "GET", "timeout"}, {"INFO", "cluster"}, {"MEMORY", "USAGE", "nokey"},
	}
	ours, ref := dialTest(t, addr), dialTest(t, redisAddr)
	for i, cmd := range cmds {
		if len(cmd) == 2 && cmd[0] == "CLIENT" && cmd[1] == "GETNAME" && i > 10 {
			ours.do("HELLO", "3") // the rest in RESP3
			ref.do("HELLO", "3")
		}
		if got, want := ours.do(cmd...), ref.do(cmd...); got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", cmd, got, want)
		}
	}
}

// admStartRedis starts redis-server on a free port of 127.0.0.1 and returns
// its address, or skips the test.
func admStartRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitFor(t, "redis-server", func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return addr
}
