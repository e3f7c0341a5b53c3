package cmdtable

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAgainstRedis compares the table with a live redis-server 7.x when one
// is installed: COMMAND INFO and COMMAND DOCS must be byte-identical in RESP2
// and RESP3, and GetKeys must agree with COMMAND GETKEYS.
func TestAgainstRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	addr := startRedis(t, bin)
	c2 := dialRedis(t, addr, false)
	c3 := dialRedis(t, addr, true)

	check := func(c *Command) {
		for _, rc := range []*redisConn{c2, c3} {
			raw, v := rc.do(t, "COMMAND", "INFO", c.Name)
			if v.Arr[0].Kind == KindNull {
				t.Logf("%s: unknown to this redis-server, skipped", c.Name)
				return
			}
			if c.IsContainer() {
				compareContainerInfo(t, c, v.Arr[0], rc.resp3)
			} else if want := vArr(c.RawInfo).AppendRESP(nil, rc.resp3); !bytes.Equal(raw, want) {
				t.Errorf("COMMAND INFO %s (resp3=%v):\n got %q\nwant %q", c.Name, rc.resp3, raw, want)
			}
			raw, v = rc.do(t, "COMMAND", "DOCS", c.Name)
			if c.IsContainer() {
				compareContainerDocs(t, c, v, rc.resp3)
			} else if want := vMap(vBulk(c.Name), c.RawDocs).AppendRESP(nil, rc.resp3); !bytes.Equal(raw, want) {
				t.Errorf("COMMAND DOCS %s (resp3=%v):\n got %q\nwant %q", c.Name, rc.resp3, raw, want)
			}
		}
	}
	for _, c := range All() {
		check(c)
		for _, s := range c.Subcommands {
			check(s)
		}
	}

	for _, tc := range getKeysCases {
		args := strings.Fields(tc.args)
		_, v := c2.do(t, append([]string{"COMMAND", "GETKEYS"}, args...)...)
		got, err := GetKeys(argv(args...))
		if err != nil {
			if v.Kind != 'E' || v.Str != err.Error() {
				t.Errorf("GETKEYS %q: redis %+v, we %v", tc.args, v, err)
			}
			continue
		}
		var names []string
		for _, i := range got {
			names = append(names, args[i])
		}
		var redisNames []string
		for _, e := range v.Arr {
			redisNames = append(redisNames, e.Str)
		}
		if !reflect.DeepEqual(names, redisNames) {
			t.Errorf("GETKEYS %q: redis %q, we %q", tc.args, redisNames, names)
		}
	}
}

// compareContainerInfo compares a container's COMMAND INFO entry, ignoring
// the subcommands Redis has but the table leaves out.
func compareContainerInfo(t *testing.T, c *Command, got Value, resp3 bool) {
	t.Helper()
	want := c.RawInfo.Arr
	for i := 0; i < 9; i++ {
		w := want[i].AppendRESP(nil, resp3)
		g := got.Arr[i].AppendRESP(nil, resp3)
		if !bytes.Equal(w, g) {
			t.Errorf("COMMAND INFO %s element %d: got %q want %q", c.Name, i, g, w)
		}
	}
	if got.Arr[9].Kind != want[9].Kind {
		t.Errorf("COMMAND INFO %s: subcommands kind %q, want %q", c.Name, got.Arr[9].Kind, want[9].Kind)
	}
}

func compareContainerDocs(t *testing.T, c *Command, got Value, resp3 bool) {
	t.Helper()
	if !resp3 {
		got = toMap(got)
	}
	g, ok := got.Get(c.Name)
	if !ok {
		t.Fatalf("COMMAND DOCS %s: no entry", c.Name)
	}
	if !resp3 {
		g = toMap(g)
	}
	if g.Len() != c.RawDocs.Len() {
		t.Errorf("COMMAND DOCS %s: %d fields, want %d", c.Name, g.Len(), c.RawDocs.Len())
		return
	}
	for i := 0; i < len(g.Arr); i += 2 {
		k := c.RawDocs.Arr[i]
		if g.Arr[i].Str != k.Str {
			t.Errorf("COMMAND DOCS %s: field %d is %q, want %q", c.Name, i/2, g.Arr[i].Str, k.Str)
			continue
		}
		if k.Str == "subcommands" {
			continue
		}
		w := c.RawDocs.Arr[i+1].AppendRESP(nil, resp3)
		gv := g.Arr[i+1].AppendRESP(nil, resp3)
		if !bytes.Equal(w, gv) {
			t.Errorf("COMMAND DOCS %s %s: got %q want %q", c.Name, k.Str, gv, w)
		}
	}
}

func toMap(v Value) Value {
	v.Kind = KindMap
	return v
}

func startRedis(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type redisConn struct {
	c     net.Conn
	r     *bufio.Reader
	resp3 bool
}

func dialRedis(t *testing.T, addr string, resp3 bool) *redisConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &redisConn{c: c, r: bufio.NewReader(c), resp3: resp3}
	if resp3 {
		rc.do(t, "HELLO", "3")
	}
	return rc
}

// do sends a command and returns the raw reply bytes and the parsed reply.
// Error replies are returned as a Value of kind 'E'.
func (rc *redisConn) do(t *testing.T, args ...string) ([]byte, Value) {
	t.Helper()
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = vBulk(a).AppendRESP(b, false)
	}
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.c.Write(b); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	v, err := readReply(rc.r, &raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, v
}

func readReply(r *bufio.Reader, raw *[]byte) (Value, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return Value{}, err
	}
	*raw = append(*raw, line...)
	line = strings.TrimSuffix(line, "\r\n")
	kind, rest := line[0], line[1:]
	switch kind {
	case '+':
		return vSimple(rest), nil
	case '-':
		return Value{Kind: 'E', Str: rest}, nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		return vInt(n), err
	case '_':
		return vNull(), nil
	case '$':
		n, _ := strconv.Atoi(rest)
		if n < 0 {
			return vNull(), nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		*raw = append(*raw, buf...)
		return vBulk(string(buf[:n])), nil
	case '*', '~', '%':
		n, _ := strconv.Atoi(rest)
		if n < 0 {
			return vNull(), nil
		}
		if kind == '%' {
			n *= 2
		}
		v := Value{Kind: Kind(kind)}
		for i := 0; i < n; i++ {
			e, err := readReply(r, raw)
			if err != nil {
				return Value{}, err
			}
			v.Arr = append(v.Arr, e)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected reply %q", line)
}
