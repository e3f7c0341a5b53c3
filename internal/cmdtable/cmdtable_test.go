package cmdtable

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// implemented is the list of commands the server implements
// ("parent:sub,sub" for containers).
var implemented = []string{
	"get", "set", "setnx", "setex", "psetex", "getset", "getdel", "getex",
	"mget", "mset", "msetnx", "append", "strlen", "getrange", "substr",
	"setrange", "incr", "decr", "incrby", "decrby", "incrbyfloat", "del",
	"unlink", "exists", "type", "expire", "pexpire", "expireat", "pexpireat",
	"ttl", "pttl", "expiretime", "pexpiretime", "persist", "rename",
	"renamenx", "copy", "move", "keys", "scan", "randomkey", "dbsize",
	"flushdb", "flushall", "swapdb", "touch", "select", "ping", "echo",
	"quit", "reset", "auth", "hello",
	"client:id,setname,getname,list,info,kill,setinfo,no-evict,no-touch",
	"command:count,info,docs,list,getkeys", "info",
	"config:get,set,resetstat,rewrite", "time", "lastsave", "save", "bgsave",
	"shutdown", "function:flush", "debug", "slowlog:get,len,reset", "monitor",
	"latency:histogram", "multi", "exec", "discard", "watch", "unwatch",
	"object:encoding,freq,idletime,refcount", "memory:usage",
}

func TestTableHasEveryCommand(t *testing.T) {
	want := map[string]bool{}
	for _, spec := range implemented {
		name, subs, _ := strings.Cut(spec, ":")
		want[name] = true
		c := Lookup(name)
		if c == nil {
			t.Errorf("Lookup(%q) = nil", name)
			continue
		}
		if c.Name != name || c.Parent != nil {
			t.Errorf("Lookup(%q) = %q (parent %v)", name, c.Name, c.Parent)
		}
		if c.Docs.Summary == "" || c.Docs.Since == "" || c.Docs.Group == "" {
			t.Errorf("%s: incomplete docs %+v", name, c.Docs)
		}
		if subs == "" {
			if len(c.Subcommands) != 0 {
				t.Errorf("%s: unexpected subcommands", name)
			}
			continue
		}
		wantSubs := strings.Split(subs, ",")
		if len(c.Subcommands) != len(wantSubs) {
			t.Errorf("%s: %d subcommands, want %d", name, len(c.Subcommands), len(wantSubs))
		}
		for _, s := range wantSubs {
			sc := LookupSub(name, s)
			if sc == nil {
				t.Errorf("LookupSub(%q, %q) = nil", name, s)
				continue
			}
			if sc.Name != name+"|"+s || sc.Parent != c {
				t.Errorf("LookupSub(%q, %q) = %q", name, s, sc.Name)
			}
			if sc.Docs.Summary == "" || sc.Docs.Group == "" {
				t.Errorf("%s: incomplete docs", sc.Name)
			}
			if LookupFullName(strings.ToUpper(sc.Name)) != sc {
				t.Errorf("LookupFullName(%q) failed", sc.Name)
			}
		}
	}
	if Count() != len(want) {
		t.Errorf("Count() = %d, want %d", Count(), len(want))
	}
	all := All()
	if len(all) != Count() {
		t.Fatalf("len(All()) = %d", len(all))
	}
	for i, c := range all {
		if !want[c.Name] {
			t.Errorf("unexpected command %q", c.Name)
		}
		if i > 0 && all[i-1].Name >= c.Name {
			t.Errorf("All() not sorted: %q before %q", all[i-1].Name, c.Name)
		}
	}
	list := List()
	if len(list) != len(all)+len(Lookup("client").Subcommands)+len(Lookup("command").Subcommands)+
		len(Lookup("config").Subcommands)+len(Lookup("function").Subcommands)+len(Lookup("slowlog").Subcommands)+
		len(Lookup("latency").Subcommands)+len(Lookup("object").Subcommands)+len(Lookup("memory").Subcommands) {
		t.Errorf("List() has %d names", len(list))
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{
		{"get", "get"},
		{"GET", "get"},
		{"gEt", "get"},
		{"PExpireTime", "pexpiretime"},
		{"nosuch", ""},
		{"", ""},
		{"client|id", ""}, // Lookup is for top-level names only
		{strings.Repeat("g", 40), ""},
	} {
		c := Lookup(tc.name)
		got := ""
		if c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("Lookup(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if c2 := LookupBytes([]byte(tc.name)); c2 != c {
			t.Errorf("LookupBytes(%q) != Lookup", tc.name)
		}
	}
	if c := LookupSub("CLIENT", "No-Evict"); c == nil || c.Name != "client|no-evict" {
		t.Errorf("LookupSub(CLIENT, No-Evict) = %v", c)
	}
	for _, tc := range [][2]string{{"client", "nosuch"}, {"get", "x"}, {"nosuch", "id"}, {"client", "help"}} {
		if c := LookupSub(tc[0], tc[1]); c != nil {
			t.Errorf("LookupSub(%q, %q) = %q, want nil", tc[0], tc[1], c.Name)
		}
	}
	for name, want := range map[string]string{
		"get": "get", "CONFIG|GET": "config|get", "config": "config",
		"config|nosuch": "", "get|x": "", "client|id|x": "", "client|": "", "|id": "",
	} {
		got := ""
		if c := LookupFullName(name); c != nil {
			got = c.Name
		}
		if got != want {
			t.Errorf("LookupFullName(%q) = %q, want %q", name, got, want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"Object", "ENCODING", "k"}, "object|encoding"},
		{[]string{"object"}, "object"},
		{[]string{"object", "nosuch"}, ""},
		{[]string{"get", "k"}, "get"},
		{[]string{"nosuch", "k"}, ""},
		{nil, ""},
	} {
		got := ""
		if c := LookupArgs(argv(tc.args...)); c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("LookupArgs(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	name := []byte("PExpireTime")
	args := argv("CLIENT", "SetName", "x")
	n := testing.AllocsPerRun(100, func() {
		if Lookup("MSET") == nil || LookupBytes(name) == nil || LookupSub("Config", "GET") == nil ||
			LookupFullName("client|NO-EVICT") == nil || LookupArgs(args) == nil {
			panic("lookup failed")
		}
	})
	if n != 0 {
		t.Errorf("lookups allocate %v times per run", n)
	}
}

func TestArity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		arity int
		ok    []int
		bad   []int
	}{
		{"get", 2, []int{2}, []int{0, 1, 3}},
		{"set", -3, []int{3, 4, 9}, []int{1, 2}},
		{"mset", -3, []int{3, 5, 6}, []int{1, 2}},
		{"ping", -1, []int{1, 2}, []int{0}},
		{"copy", -3, []int{3, 5}, []int{2}},
		{"getex", -2, []int{2, 3}, []int{1}},
		{"swapdb", 3, []int{3}, []int{2, 4}},
		{"hello", -1, []int{1, 5}, []int{0}},
	} {
		c := Lookup(tc.name)
		if c.Arity != tc.arity {
			t.Errorf("%s: arity %d, want %d", tc.name, c.Arity, tc.arity)
		}
		for _, n := range tc.ok {
			if !c.ArityOK(n) {
				t.Errorf("%s: ArityOK(%d) = false", tc.name, n)
			}
		}
		for _, n := range tc.bad {
			if c.ArityOK(n) {
				t.Errorf("%s: ArityOK(%d) = true", tc.name, n)
			}
		}
	}
	if sc := LookupSub("config", "get"); sc.Arity != -3 || !sc.ArityOK(3) || sc.ArityOK(2) {
		t.Errorf("config|get arity %d", sc.Arity)
	}
	if got := LookupSub("object", "encoding").ArityError(); got != "ERR wrong number of arguments for 'object|encoding' command" {
		t.Errorf("ArityError = %q", got)
	}
}

func TestTypedFields(t *testing.T) {
	get := Lookup("get")
	if !reflect.DeepEqual(get.Flags, []string{"readonly", "fast"}) ||
		get.FirstKey != 1 || get.LastKey != 1 || get.Step != 1 ||
		!reflect.DeepEqual(get.ACLCategories, []string{"@read", "@string", "@fast"}) {
		t.Errorf("get: %+v", get)
	}
	wantSpec := []KeySpec{{
		Flags:       []string{"RO", "access"},
		BeginSearch: BeginSearch{Type: "index", Index: 1},
		FindKeys:    FindKeys{Type: "range", LastKey: 0, KeyStep: 1},
	}}
	if !reflect.DeepEqual(get.KeySpecs, wantSpec) {
		t.Errorf("get key specs = %+v", get.KeySpecs)
	}
	if get.Docs.Summary != "Get the value of a key" || get.Docs.Since != "1.0.0" ||
		get.Docs.Group != "string" || get.Docs.Complexity != "O(1)" ||
		!reflect.DeepEqual(get.Docs.Arguments, []Arg{{Name: "key", Type: "key", KeySpecIndex: 0}}) {
		t.Errorf("get docs = %+v", get.Docs)
	}
	mset := Lookup("mset")
	if mset.FirstKey != 1 || mset.LastKey != -1 || mset.Step != 2 {
		t.Errorf("mset keys %d %d %d", mset.FirstKey, mset.LastKey, mset.Step)
	}
	set := Lookup("set")
	if len(set.Docs.History) == 0 || set.Docs.History[0].Version != "2.6.12" {
		t.Errorf("set history = %+v", set.Docs.History)
	}
	var cond *Arg
	for i := range set.Docs.Arguments {
		if set.Docs.Arguments[i].Name == "condition" {
			cond = &set.Docs.Arguments[i]
		}
	}
	if cond == nil || cond.Type != "oneof" || !reflect.DeepEqual(cond.Flags, []string{"optional"}) ||
		len(cond.Arguments) != 2 || cond.Arguments[0].Token != "NX" || cond.Arguments[0].KeySpecIndex != -1 {
		t.Errorf("set condition arg = %+v", cond)
	}
	if d := Lookup("substr").Docs; d.DeprecatedSince != "2.0.0" || d.ReplacedBy == "" ||
		!reflect.DeepEqual(d.DocFlags, []string{"deprecated"}) {
		t.Errorf("substr docs = %+v", d)
	}
	if tips := LookupSub("client", "list").Tips; !reflect.DeepEqual(tips, []string{"nondeterministic_output"}) {
		t.Errorf("client|list tips = %q", tips)
	}
	if !Lookup("client").IsContainer() || Lookup("get").IsContainer() || !Lookup("set").HasFlag("denyoom") {
		t.Error("IsContainer/HasFlag wrong")
	}
}

func argv(ss ...string) [][]byte {
	if ss == nil {
		return nil
	}
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// getKeysCases were checked against redis-server 7.0.15 COMMAND GETKEYS.
var getKeysCases = []struct {
	args string
	want []int
	err  error
}{
	{"mset a 1 b 2", []int{1, 3}, nil},
	{"MSET a 1 b 2 c", []int{1, 3, 5}, nil},
	{"mset a 1 b", []int{1, 3}, nil},
	{"mset a", nil, ErrInvalidNumberOfArguments},
	{"get k", []int{1}, nil},
	{"get a b", nil, ErrInvalidNumberOfArguments},
	{"copy a b", []int{1, 2}, nil},
	{"copy a b db 1 replace", []int{1, 2}, nil},
	{"set a", nil, ErrInvalidNumberOfArguments},
	{"set k v", []int{1}, nil},
	{"set k v get", []int{1}, nil},
	{"getex k persist", []int{1}, nil},
	{"rename a b", []int{1, 2}, nil},
	{"renamenx a b", []int{1, 2}, nil},
	{"exists a b c", []int{1, 2, 3}, nil},
	{"del a b", []int{1, 2}, nil},
	{"mget a b c", []int{1, 2, 3}, nil},
	{"msetnx a 1 b 2", []int{1, 3}, nil},
	{"watch a b", []int{1, 2}, nil},
	{"touch a", []int{1}, nil},
	{"move k 1", []int{1}, nil},
	{"expire k 10 nx", []int{1}, nil},
	{"getrange k 0 1", []int{1}, nil},
	{"object encoding k", []int{2}, nil},
	{"OBJECT Freq k", []int{2}, nil},
	{"object nosuch k", nil, ErrInvalidCommand},
	{"memory usage k samples 5", []int{2}, nil},
	{"memory usage", nil, ErrInvalidNumberOfArguments},
	{"nosuch a", nil, ErrInvalidCommand},
	{"ping a", nil, ErrNoKeyArguments},
	{"select 1", nil, ErrNoKeyArguments},
	{"client id", nil, ErrNoKeyArguments},
	{"keys *", nil, ErrNoKeyArguments},
	{"debug sleep 0", nil, ErrNoKeyArguments},
}

func TestGetKeys(t *testing.T) {
	for _, tc := range getKeysCases {
		got, err := GetKeys(argv(strings.Fields(tc.args)...))
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GetKeys(%q) = %v, %v; want %v, %v", tc.args, got, err, tc.want, tc.err)
		}
	}
	if _, err := GetKeys(nil); err != ErrInvalidCommand {
		t.Errorf("GetKeys(nil) error = %v", err)
	}
	got, err := Lookup("get").GetKeys(argv("get", "k"))
	if err != nil || !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("get.GetKeys = %v, %v", got, err)
	}
}

// TestGetKeysSpecKinds exercises the keyword, keynum and limit code paths of
// the key-spec engine with specs taken from Redis 7.0 commands outside the
// table (XREAD without its incomplete flag, ZUNIONSTORE and MIGRATE).
func TestGetKeysSpecKinds(t *testing.T) {
	xread := &Command{Name: "xread", Arity: -4, KeySpecs: []KeySpec{{
		Flags:       []string{"RO", "access"},
		BeginSearch: BeginSearch{Type: "keyword", Keyword: "STREAMS", StartFrom: 1},
		FindKeys:    FindKeys{Type: "range", LastKey: -1, KeyStep: 1, Limit: 2},
	}}}
	zunionstore := &Command{Name: "zunionstore", Arity: -4, KeySpecs: []KeySpec{
		{Flags: []string{"OW", "update"}, BeginSearch: BeginSearch{Type: "index", Index: 1}, FindKeys: FindKeys{Type: "range", KeyStep: 1}},
		{Flags: []string{"RO", "access"}, BeginSearch: BeginSearch{Type: "index", Index: 2}, FindKeys: FindKeys{Type: "keynum", KeyNumIdx: 0, FirstKey: 1, KeyStep: 1}},
	}}
	migrate := &Command{Name: "migrate", Arity: -6, Flags: []string{"no_mandatory_keys"}, flagSet: flagNoMandatoryKeys, KeySpecs: []KeySpec{
		{Flags: []string{"RW", "access", "delete"}, BeginSearch: BeginSearch{Type: "index", Index: 3}, FindKeys: FindKeys{Type: "range", KeyStep: 1}},
		{Flags: []string{"RW", "access", "delete"}, BeginSearch: BeginSearch{Type: "keyword", Keyword: "KEYS", StartFrom: -2}, FindKeys: FindKeys{Type: "range", LastKey: -1, KeyStep: 1}},
	}}
	notKey := &Command{Name: "nk", Arity: -2, KeySpecs: []KeySpec{{
		Flags: []string{"not_key"}, BeginSearch: BeginSearch{Type: "index", Index: 1}, FindKeys: FindKeys{Type: "range", KeyStep: 1},
	}}}
	for _, tc := range []struct {
		c    *Command
		args string
		want []int
		err  error
	}{
		{xread, "xread streams a b 0 0", []int{2, 3}, nil},
		{xread, "xread count 2 STREAMS a b 0 0", []int{4, 5}, nil},
		{xread, "xread count 2 block 0", nil, ErrInvalidArguments},
		{zunionstore, "zunionstore dst 2 a b", []int{1, 3, 4}, nil},
		{zunionstore, "zunionstore dst 3 a b", nil, ErrInvalidArguments},
		{zunionstore, "zunionstore dst 0 a b", nil, ErrInvalidArguments},
		{zunionstore, "zunionstore dst x a b", nil, ErrInvalidArguments},
		{zunionstore, "zunionstore dst 02 a b", nil, ErrInvalidArguments},
		{migrate, "migrate h p k 0 1", []int{3}, nil},
		{migrate, "migrate h p k 0 1 keys a b", []int{3, 7, 8}, nil},
		{notKey, "nk a", nil, ErrNoKeyArguments},
	} {
		got, err := tc.c.GetKeys(argv(strings.Fields(tc.args)...))
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s.GetKeys(%q) = %v, %v; want %v, %v", tc.c.Name, tc.args, got, err, tc.want, tc.err)
		}
	}
}

func TestValueAppendRESP(t *testing.T) {
	v := vMap(
		vBulk("flags"), vSet(vSimple("RO"), vSimple("access")),
		vBulk("n"), vInt(-3),
		vBulk("x"), vNull(),
		vBulk("a"), vArr(),
	)
	want3 := "%4\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$1\r\nn\r\n:-3\r\n$1\r\nx\r\n_\r\n$1\r\na\r\n*0\r\n"
	want2 := "*8\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$1\r\nn\r\n:-3\r\n$1\r\nx\r\n$-1\r\n$1\r\na\r\n*0\r\n"
	if got := string(v.AppendRESP(nil, true)); got != want3 {
		t.Errorf("RESP3 = %q, want %q", got, want3)
	}
	if got := string(v.AppendRESP([]byte("pre"), false)); got != "pre"+want2 {
		t.Errorf("RESP2 = %q, want %q", got, want2)
	}
	if v.Len() != 4 || vArr(vInt(1)).Len() != 1 || vBulk("x").Len() != 0 {
		t.Error("Len wrong")
	}
	if x, ok := v.Get("n"); !ok || x.Int != -3 {
		t.Errorf("Get(n) = %v, %v", x, ok)
	}
	if _, ok := v.Get("missing"); ok {
		t.Error("Get(missing) found")
	}

	// The generated table re-emits Redis's own bytes (checked live in
	// live_test.go); here check the shape of GET's COMMAND INFO entry.
	info := Lookup("get").RawInfo.AppendRESP(nil, false)
	if !bytes.HasPrefix(info, []byte("*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n")) {
		t.Errorf("get RESP2 info = %q", info)
	}
}
