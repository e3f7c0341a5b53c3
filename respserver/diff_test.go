package respserver_test

// The differential test: a deterministic random sequence of commands goes
// to a real redis-server and to our server over raw RESP connections, and
// every reply is compared byte for byte, except for the values that depend
// on time or on the hash order (TTLs, RANDOMKEY, SCAN cursors, KEYS order),
// which are normalised.
//
// Knobs: RP_DIFF_SEED and RP_DIFF_N choose another sequence; RP_DIFF_DEBUG
// dumps the commands before the first mismatch and both key spaces, then
// stops; RP_DIFF_SELF compares two of our servers (nondeterminism check).

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cmpMode says how the two replies to a command are compared.
type cmpMode int

const (
	cmpExact     cmpMode = iota
	cmpTTL               // integers: both equal if either is negative, else within a tolerance
	cmpNullness          // RANDOMKEY: both null, or both a bulk string
	cmpSorted            // KEYS: the same elements in any order
	cmpScanShape         // one SCAN call: a cursor and an array
	cmpFirstLine         // HELLO: the same reply header (the id differs)
)

// diffOp is one step of the sequence: a command, or (scan != nil) a full
// SCAN iteration whose key sets are compared.
type diffOp struct {
	args [][]byte
	mode cmpMode
	tol  int64
	scan [][]byte // SCAN options after the cursor, for a full iteration
}

func (op diffOp) String() string {
	if op.scan != nil {
		return "full SCAN iteration with" + quoteArgs(op.scan)
	}
	return quoteArgs(op.args)
}

func quoteArgs(args [][]byte) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		if len(a) > 60 {
			fmt.Fprintf(&b, "%q...(%d bytes)", a[:60], len(a))
			continue
		}
		fmt.Fprintf(&b, "%q", a)
	}
	return b.String()
}

// modeFor picks the comparison for a command by its name.
func modeFor(args [][]byte) (cmpMode, int64) {
	switch strings.ToLower(string(args[0])) {
	case "ttl", "expiretime":
		return cmpTTL, 2
	case "pttl", "pexpiretime":
		return cmpTTL, 2000
	case "randomkey":
		return cmpNullness, 0
	case "keys":
		return cmpSorted, 0
	case "scan":
		return cmpScanShape, 0
	case "hello":
		return cmpFirstLine, 0
	}
	return cmpExact, 0
}

// diffGen generates the sequence.
type diffGen struct {
	rng   *rand.Rand
	base  int64 // Unix seconds when the sequence was generated
	used  map[int64]bool
	multi bool
}

var (
	diffKeys = []string{
		"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9",
		"k10", "k11", "k12", "k13", "k14", "n0", "n1", "n2", "n3", "f0", "f1",
		"user:1", "user:2", "{tag}x", "", "key with space", "\x00bin\xff", "*", "k?", "[k]",
	}
	diffValues = []string{
		"v", "hello", "", "0", "1", "-1", "10", "42", "123456789", maxInt, minInt,
		"9223372036854775806", "-9223372036854775807", "9223372036854775808", "-9223372036854775809",
		"1.5", "-0.25", "3.0e3", "5.0e3", "abc", " 1", "1 ", "01", "0x1", "+1", "-0", "00", "1e10",
		"inf", "-inf", "nan", "0.1", "1e308", "\x00\x01\x02", strings.Repeat("x", 100), "ü€",
	}
	diffInts = []string{
		"0", "1", "-1", "2", "5", "10", "-10", "100", "-100", "1000", maxInt, minInt,
		"9223372036854775806", "-9223372036854775807", "9223372036854775808",
		"abc", "1.5", "", " 1", "+1", "-0", "01", "1e3",
	}
	diffFloats = []string{
		"1.5", "-0.25", "1e3", "5.0e3", "0.1", "-0.1", "3", "-3", "0", "-0", "abc", "inf", "-inf", "nan",
		"1e308", "-1e308", "+1", " 1", "1 ", "0x10", "1.7976931348623157e308", "3.0e-2", "", "1e-320",
		"123456789.123456789", "10000000000000000000000", ".5", "5.", "1e", "e1",
	}
	diffPatterns = []string{"*", "k*", "k1?", "n[0-2]", "*[", "\\*", "f*", "user:*", "*e*", "[a-k]*", "?", "*\\?", "[^k]*", "nomatch"}
	diffUnknown  = []string{"FOO", "GETT", "SETX", "blah", "X", strings.Repeat("Z", 200), "GET\r\nx"}
)

func (g *diffGen) pick(list []string) []byte { return []byte(list[g.rng.Intn(len(list))]) }
func (g *diffGen) key() []byte               { return g.pick(diffKeys) }
func (g *diffGen) val() []byte               { return g.pick(diffValues) }
func (g *diffGen) chance(p float64) bool     { return g.rng.Float64() < p }

// ttl returns a TTL in seconds never returned before, at least 100 s and a
// multiple of 60, so that comparing two deadlines (GT/LT) never depends on
// the moment each server ran the command.
func (g *diffGen) ttl() int64 {
	for {
		s := 100 + 60*int64(g.rng.Intn(1_000_000))
		if !g.used[s] {
			g.used[s] = true
			return s
		}
	}
}

func bs(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// expireAmount returns an amount for EXPIRE-like commands: a fresh TTL
// mostly, sometimes zero, negative, past, invalid or overflowing.
func (g *diffGen) expireAmount(seconds, absolute bool) string {
	switch g.rng.Intn(12) {
	case 0:
		return "0"
	case 1:
		return "-1"
	case 2:
		return "abc"
	case 3:
		return maxInt
	case 4:
		// Near the largest deadlines (overflowing in seconds). A relative
		// one stays unique too, so that GT/LT never compare equal amounts.
		switch {
		case seconds:
			return "9223372036854775"
		case absolute:
			return "9223370000000000000"
		}
		return itoa(9_000_000_000_000_000_000 + g.ttl()*1000)
	case 5:
		if absolute {
			return "1"
		}
		return "-100"
	}
	s := g.ttl()
	if absolute {
		s += g.base
	}
	if seconds {
		return itoa(s)
	}
	return itoa(s*1000 + int64(g.rng.Intn(1000)))
}

// expireOpt returns the EX/PX/EXAT/PXAT option of SET and GETEX. For SET
// (forSet) it never gives a past deadline: Redis 7.0 stores such a key and
// lets its expiry cycle delete it, so DBSIZE would depend on timing.
func (g *diffGen) expireOpt(forSet bool) []string {
	name := []string{"EX", "PX", "EXAT", "PXAT"}[g.rng.Intn(4)]
	seconds, absolute := name[0] == 'E', len(name) == 4
	amount := g.expireAmount(seconds, absolute)
	for forSet && absolute && amount == "1" {
		amount = g.expireAmount(seconds, absolute)
	}
	return []string{name, amount}
}

// cmd generates one command of any family. Inside MULTI, only commands
// compared exactly are generated.
func (g *diffGen) cmd() [][]byte {
	k, v := string(g.key()), string(g.val())
	switch g.rng.Intn(48) {
	case 0, 1, 2:
		return bs("GET", k)
	case 3, 4, 5:
		args := []string{"SET", k, v}
		for _, o := range g.rng.Perm(6)[:g.rng.Intn(4)] {
			switch o {
			case 0:
				args = append(args, "NX")
			case 1:
				args = append(args, "XX")
			case 2:
				args = append(args, "GET")
			case 3:
				args = append(args, g.expireOpt(true)...)
			case 4:
				args = append(args, "KEEPTTL")
			case 5:
				args = append(args, []string{"ex", "px", "FOO", "EX"}[g.rng.Intn(4)])
			}
		}
		if g.chance(0.1) {
			args = append(args, g.expireOpt(true)...)
		}
		return bs(args...)
	case 6:
		return bs("SETNX", k, v)
	case 7:
		if g.chance(0.5) {
			return bs("SETEX", k, g.expireAmount(true, false), v)
		}
		return bs("PSETEX", k, g.expireAmount(false, false), v)
	case 8:
		return bs("GETSET", k, v)
	case 9:
		return bs("GETDEL", k)
	case 10:
		args := []string{"GETEX", k}
		switch g.rng.Intn(5) {
		case 0:
		case 1:
			args = append(args, "PERSIST")
		case 2:
			args = append(args, g.expireOpt(false)...)
			if g.chance(0.2) {
				args = append(args, "PERSIST")
			}
		case 3:
			args = append(args, g.expireOpt(false)...)
			if g.chance(0.3) {
				args = append(args, g.expireOpt(false)...)
			}
		case 4:
			args = append(args, []string{"FOO", "EX", "PERSIST PERSIST"}[g.rng.Intn(3)])
		}
		return bs(args...)
	case 11, 12:
		args := []string{"MGET"}
		for n := 1 + g.rng.Intn(5); n > 0; n-- {
			args = append(args, string(g.key()))
		}
		return bs(args...)
	case 13, 14:
		name := "MSET"
		if g.chance(0.4) {
			name = "MSETNX"
		}
		args := []string{name}
		for n := 1 + g.rng.Intn(3); n > 0; n-- {
			args = append(args, string(g.key()), string(g.val()))
		}
		if g.chance(0.1) {
			args = args[:len(args)-1]
		}
		return bs(args...)
	case 15, 16:
		return bs("APPEND", k, v)
	case 17:
		return bs("STRLEN", k)
	case 18:
		ends := []string{"0", "1", "3", "10", "100", "5000", "-1", "-3", "-100", maxInt, minInt, "abc"}
		name := "GETRANGE"
		if g.chance(0.2) {
			name = "SUBSTR"
		}
		return bs(name, k, string(g.pick(ends)), string(g.pick(ends)))
	case 19:
		offs := []string{"0", "1", "3", "5", "20", "100", "4096", "-1", "abc", "536870911"}
		off := string(g.pick(offs))
		if off == "536870911" {
			v = "xx" // over the limit: an error, never a 512 MB value
		}
		return bs("SETRANGE", k, off, v)
	case 20, 21, 22:
		nk := string(g.pick([]string{"n0", "n1", "n2", "n3", k}))
		switch g.rng.Intn(4) {
		case 0:
			return bs("INCR", nk)
		case 1:
			return bs("DECR", nk)
		case 2:
			return bs("INCRBY", nk, string(g.pick(diffInts)))
		}
		return bs("DECRBY", nk, string(g.pick(diffInts)))
	case 23, 24:
		fk := string(g.pick([]string{"f0", "f1", "n0", k}))
		return bs("INCRBYFLOAT", fk, string(g.pick(diffFloats)))
	case 25, 26:
		name := []string{"DEL", "UNLINK", "EXISTS", "TOUCH"}[g.rng.Intn(4)]
		args := []string{name}
		for n := 1 + g.rng.Intn(4); n > 0; n-- {
			args = append(args, string(g.key()))
		}
		return bs(args...)
	case 27:
		return bs("TYPE", k)
	case 28, 29, 30:
		var name string
		var seconds, absolute bool
		switch g.rng.Intn(4) {
		case 0:
			name, seconds = "EXPIRE", true
		case 1:
			name = "PEXPIRE"
		case 2:
			name, seconds, absolute = "EXPIREAT", true, true
		case 3:
			name, absolute = "PEXPIREAT", true
		}
		args := []string{name, k, g.expireAmount(seconds, absolute)}
		opts := []string{"NX", "XX", "GT", "LT", "nx", "gt", "FOO"}
		for n := g.rng.Intn(3); n > 0; n-- {
			args = append(args, string(g.pick(opts)))
		}
		return bs(args...)
	case 31:
		if g.multi {
			return bs("EXISTS", k)
		}
		return bs([]string{"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}[g.rng.Intn(4)], k)
	case 32:
		return bs("PERSIST", k)
	case 33, 34:
		dst := string(g.key())
		if g.chance(0.1) {
			dst = k
		}
		if g.chance(0.5) {
			return bs("RENAME", k, dst)
		}
		return bs("RENAMENX", k, dst)
	case 35, 36:
		args := []string{"COPY", k, string(g.key())}
		if g.chance(0.5) {
			args = append(args, "DB", string(g.pick([]string{"0", "1", "2", "3", "16", "-1", "abc"})))
		}
		if g.chance(0.4) {
			args = append(args, "REPLACE")
		}
		if g.chance(0.05) {
			args = append(args, "FOO")
		}
		return bs(args...)
	case 37:
		return bs("MOVE", k, string(g.pick([]string{"0", "1", "2", "3", "16", "-1", "abc"})))
	case 38:
		if g.multi {
			return bs("DBSIZE")
		}
		return bs("KEYS", string(g.pick(diffPatterns)))
	case 39:
		if g.multi {
			return bs("PING")
		}
		if g.chance(0.5) {
			return bs("RANDOMKEY")
		}
		return bs("DBSIZE")
	case 40:
		if g.chance(0.95) {
			return bs("SELECT", string(g.pick([]string{"0", "1", "2", "3"})))
		}
		return bs("SELECT", string(g.pick([]string{"16", "-1", "abc", "15"})))
	case 41:
		if g.chance(0.3) {
			return bs("SWAPDB", string(g.pick([]string{"0", "1", "2", "3", "16", "x"})), string(g.pick([]string{"0", "1", "2", "3", "-1"})))
		}
		return bs("SWAPDB", string(g.pick([]string{"0", "1", "2", "3"})), string(g.pick([]string{"0", "1", "2", "3"})))
	case 42:
		if g.chance(0.02) {
			return bs("FLUSHDB")
		}
		if g.chance(0.1) {
			return bs("FLUSHDB", "FOO")
		}
		return bs("PING", string(g.val()))
	case 43:
		if g.chance(0.5) {
			return bs("ECHO", v)
		}
		return bs("PING")
	case 44:
		// Unknown commands, with arguments long enough to be cut.
		args := []string{string(g.pick(diffUnknown))}
		for n := g.rng.Intn(5); n > 0; n-- {
			if g.chance(0.2) {
				args = append(args, strings.Repeat("a", 50+g.rng.Intn(100)))
			} else {
				args = append(args, v)
			}
		}
		return bs(args...)
	case 45, 46:
		return g.wrongArity()
	case 47:
		if g.multi {
			return bs("GET", k)
		}
		if g.chance(0.5) {
			// Bad SCAN arguments, compared exactly as errors.
			return g.pickFields([]string{"SCAN abc", "SCAN 0 COUNT 0", "SCAN 0 MATCH", "SCAN 0 COUNT x", "SCAN 0 FOO bar", "SCAN 1.5", "SCAN 18446744073709551616"})
		}
		return bs("HELLO", string(g.pick([]string{"2", "3", "4", "x"})))
	}
	panic("unreachable")
}

func bsFields(s []byte) [][]byte { return bytes.Fields(s) }

func (g *diffGen) pickFields(list []string) [][]byte { return bsFields(g.pick(list)) }

// wrongArity returns a command with a wrong number of arguments.
func (g *diffGen) wrongArity() [][]byte {
	cases := []string{
		"GET", "GET a b", "SET k", "SETNX k", "SETEX k 100", "PSETEX k", "GETSET k", "GETDEL", "GETDEL a b",
		"GETEX", "MGET", "MSET", "MSET k", "MSETNX k", "APPEND k", "STRLEN", "GETRANGE k 0", "SUBSTR k",
		"SETRANGE k 0", "INCR", "INCR a b", "DECR", "INCRBY k", "DECRBY k 1 2", "INCRBYFLOAT k",
		"DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE", "TYPE a b", "EXPIRE k", "PEXPIRE", "EXPIREAT k",
		"PEXPIREAT k", "TTL", "PTTL a b", "EXPIRETIME", "PEXPIRETIME", "PERSIST", "RENAME a", "RENAMENX a",
		"COPY a", "MOVE a", "KEYS", "KEYS a b", "SCAN", "RANDOMKEY x", "DBSIZE x", "SWAPDB 0", "SELECT",
		"SELECT 0 1", "PING a b", "ECHO", "ECHO a b", "MULTI x", "EXEC x", "DISCARD x", "set", "Get",
	}
	return g.pickFields(cases)
}

// sequence generates n steps (a MULTI block counts each of its commands).
func (g *diffGen) sequence(n int) []diffOp {
	var ops []diffOp
	add := func(args [][]byte) {
		m, tol := modeFor(args)
		ops = append(ops, diffOp{args: args, mode: m, tol: tol})
	}
	for len(ops) < n {
		switch r := g.rng.Intn(1000); {
		case r < 12:
			// A full SCAN iteration.
			var opts [][]byte
			if g.chance(0.5) {
				opts = append(opts, []byte("MATCH"), g.pick(diffPatterns))
			}
			if g.chance(0.7) {
				opts = append(opts, []byte("COUNT"), []byte(strconv.Itoa(1+g.rng.Intn(20))))
			}
			if g.chance(0.2) {
				opts = append(opts, []byte("TYPE"), g.pick([]string{"string", "list", "STRING"}))
			}
			if opts == nil {
				opts = [][]byte{}
			}
			ops = append(ops, diffOp{scan: opts})
		case r < 40:
			// A transaction.
			add(bs("MULTI"))
			g.multi = true
			for m := 1 + g.rng.Intn(5); m > 0; m-- {
				add(g.cmd())
			}
			g.multi = false
			if g.chance(0.15) {
				add(bs("DISCARD"))
			} else {
				add(bs("EXEC"))
			}
		case r == 40:
			add(bs("FLUSHALL"))
		default:
			add(g.cmd())
		}
	}
	return ops
}

// diffSide is one server under comparison.
type diffSide struct {
	name string
	c    *rawConn
}

// compareReplies returns "" if a and b agree under op's mode.
func compareReplies(op diffOp, a, b *reply) string {
	if bytes.Equal(a.Raw, b.Raw) {
		return ""
	}
	if a.Type == '-' || b.Type == '-' {
		return "replies differ"
	}
	switch op.mode {
	case cmpTTL:
		if a.Type != ':' || b.Type != ':' {
			return "TTL replies are not both integers"
		}
		if a.Int < 0 || b.Int < 0 {
			return "TTL replies differ"
		}
		if d := a.Int - b.Int; d > op.tol || -d > op.tol {
			return fmt.Sprintf("TTL replies differ by more than %d", op.tol)
		}
		return ""
	case cmpNullness:
		if a.Null == b.Null && a.Type == b.Type {
			return ""
		}
		return "RANDOMKEY replies differ in kind"
	case cmpSorted:
		if a.Type != b.Type || len(a.Elems) != len(b.Elems) {
			return "KEYS replies differ in length"
		}
		sa, sb := elemStrings(a), elemStrings(b)
		if !slices.Equal(sa, sb) {
			return "KEYS replies differ"
		}
		return ""
	case cmpScanShape:
		if a.Type == b.Type && len(a.Elems) == 2 && len(b.Elems) == 2 && a.Elems[0].Type == '$' && b.Elems[0].Type == '$' &&
			a.Elems[1].Type == b.Elems[1].Type {
			return ""
		}
		return "SCAN replies differ in shape"
	case cmpFirstLine:
		la, _, _ := bytes.Cut(a.Raw, []byte("\r\n"))
		lb, _, _ := bytes.Cut(b.Raw, []byte("\r\n"))
		if bytes.Equal(la, lb) {
			return ""
		}
		return "HELLO replies differ"
	}
	return "replies differ"
}

func elemStrings(r *reply) []string {
	var out []string
	for _, e := range r.Elems {
		out = append(out, string(e.Str))
	}
	slices.Sort(out)
	return out
}

// fullScan iterates SCAN from cursor 0 to 0 and returns the set of keys.
func fullScan(side diffSide, opts [][]byte) ([]string, *reply, error) {
	seen := map[string]bool{}
	cursor := []byte("0")
	for i := 0; ; i++ {
		if i > 100000 {
			return nil, nil, fmt.Errorf("%s: SCAN did not finish", side.name)
		}
		side.c.QueueBytes(append([][]byte{[]byte("SCAN"), cursor}, opts...))
		if err := side.c.Flush(); err != nil {
			return nil, nil, err
		}
		r, err := side.c.Read()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", side.name, err)
		}
		if r.Type == '-' {
			return nil, r, nil
		}
		if len(r.Elems) != 2 {
			return nil, nil, fmt.Errorf("%s: SCAN reply %s", side.name, r)
		}
		for _, e := range r.Elems[1].Elems {
			seen[string(e.Str)] = true
		}
		cursor = r.Elems[0].Str
		if string(cursor) == "0" {
			break
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil, nil
}

func TestDifferential(t *testing.T) {
	raddr := startRedisServer(t)
	ts := newTestServer(t)
	seed := int64(20240601)
	if s := os.Getenv("RP_DIFF_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	n := 20000
	if s := os.Getenv("RP_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	g := &diffGen{rng: rand.New(rand.NewSource(seed)), base: time.Now().Unix(), used: map[int64]bool{}}
	ops := g.sequence(n)

	if os.Getenv("RP_DIFF_SELF") != "" {
		raddr = newTestServer(t).Addr
	}
	ref := diffSide{"redis", dialRaw(t, raddr)}
	our := diffSide{"rustypotato", dialRaw(t, ts.Addr)}
	sides := []diffSide{ref, our}
	for _, s := range sides {
		if got := s.c.Do(t, "FLUSHALL"); got != "+OK\r\n" {
			t.Fatalf("%s: FLUSHALL = %q", s.name, got)
		}
	}
	start := time.Now()
	mismatches, commands, scans := 0, 0, 0
	report := func(i int, op diffOp, why string, a, b fmt.Stringer) {
		mismatches++
		if mismatches <= 25 {
			ctx := ""
			if op.args != nil && strings.EqualFold(string(op.args[0]), "exec") {
				// Show the transaction.
				for k := i - 1; k >= 0 && k >= i-8; k-- {
					ctx = "\n\t  after " + strconv.Itoa(k) + ":" + ops[k].String() + ctx
					if ops[k].args != nil && strings.EqualFold(string(ops[k].args[0]), "multi") {
						break
					}
				}
			}
			t.Errorf("command %d:%s: %s%s\n\tredis:       %s\n\trustypotato: %s", i, op, why, ctx, a, b)
		}
	}
	const batch = 64
	for i := 0; i < len(ops); {
		op := ops[i]
		if op.scan != nil {
			scans++
			var keys [2][]string
			var errs [2]*reply
			for j, s := range sides {
				k, e, err := fullScan(s, op.scan)
				if err != nil {
					t.Fatalf("command %d:%s: %v", i, op, err)
				}
				keys[j], errs[j] = k, e
			}
			commands++
			switch {
			case errs[0] != nil || errs[1] != nil:
				if errs[0] == nil || errs[1] == nil || !bytes.Equal(errs[0].Raw, errs[1].Raw) {
					report(i, op, "SCAN errors differ", errs[0], errs[1])
				}
			case !slices.Equal(keys[0], keys[1]):
				report(i, op, "SCAN iterations found different keys", stringer(fmt.Sprintf("%q", keys[0])), stringer(fmt.Sprintf("%q", keys[1])))
			}
			i++
			continue
		}
		// A batch of plain commands, pipelined to both servers.
		j := i
		for j < len(ops) && j-i < batch && ops[j].scan == nil {
			for _, s := range sides {
				s.c.QueueBytes(ops[j].args)
			}
			j++
		}
		for _, s := range sides {
			if err := s.c.Flush(); err != nil {
				t.Fatalf("%s: write: %v", s.name, err)
			}
		}
		replies := make([][]*reply, 2)
		for si, s := range sides {
			for k := i; k < j; k++ {
				r, err := s.c.Read()
				if err != nil {
					t.Fatalf("%s: reply to command %d:%s: %v", s.name, k, ops[k], err)
				}
				replies[si] = append(replies[si], r)
			}
		}
		for k := i; k < j; k++ {
			a, b := replies[0][k-i], replies[1][k-i]
			if why := compareReplies(ops[k], a, b); why != "" {
				report(k, ops[k], why, a, b)
				if os.Getenv("RP_DIFF_DEBUG") != "" {
					for q := max(0, k-300); q <= j-1; q++ {
						t.Logf("  %d: %s", q, ops[q])
					}
					for _, s := range sides {
						for db := 0; db < 4; db++ {
							s.c.Do(t, "SELECT", strconv.Itoa(db))
							var b strings.Builder
							keys, _, _ := fullScan(s, nil)
							for _, key := range keys {
								fmt.Fprintf(&b, "%q:%s ", key, strings.TrimSpace(s.c.Do(t, "PTTL", key)))
							}
							t.Logf("%s db%d DBSIZE %s keys %s", s.name, db, strings.TrimSpace(s.c.Do(t, "DBSIZE")), b.String())
						}
					}
					t.FailNow()
				}
			}
		}
		commands += j - i
		i = j
	}
	// The final state: every key of every database, with its value.
	for db := 0; db < 16; db++ {
		var dumps [2]string
		for si, s := range sides {
			s.c.Do(t, "SELECT", strconv.Itoa(db))
			keys, _, err := fullScan(s, [][]byte{[]byte("COUNT"), []byte("100")})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, "%q=%s ", k, s.c.Do(t, "GET", k))
			}
			dumps[si] = b.String()
		}
		if dumps[0] != dumps[1] {
			mismatches++
			t.Errorf("db %d differs at the end:\n\tredis:       %s\n\trustypotato: %s", db, dumps[0], dumps[1])
		}
	}
	t.Logf("differential: %d commands (%d full SCAN iterations), seed %d, %d mismatches, %v",
		commands, scans, seed, mismatches, time.Since(start).Round(time.Millisecond))
	if commands < 10000 && n >= 10000 {
		t.Fatalf("only %d commands compared", commands)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
