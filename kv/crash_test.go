package kv

// Crash tests.
//
// TestCrashMemFS* simulate power loss: the store runs on
// vfs.NewCrashableMem, four writers run a random mix of transactions (SET
// with and without TTL or KEEPTTL, INCRBY, DEL, GETDEL, PEXPIREAT, PERSIST,
// MSET, RENAME, SWAPDB, FLUSHDB, and several of them in one transaction) on
// three databases of twelve keys, checked against a model as they run, while
// a reader runs Views. At a random moment CrashClone takes the state a
// machine crash could leave (the synced data plus a random share of the
// unsynced blocks and directory entries). A store reopened on the clone must
// pass crashReadState's invariants (key counts, expiry index) and hold
// exactly the model's state after some prefix of the commit order, a prefix
// that includes every transaction, read-only ones included, acknowledged
// before the crash (Always) or before the last completed Store.Sync
// (EverySec, No). The recovered store carries on as the next point's store.
//
// TestCrashKill* kill a child process (this test binary re-executed as
// TestCrashChild) with SIGKILL while eight writers write, then check that
// every write the child acknowledged on its ack pipe survived (EverySec,
// Always) or that the recovered state is at least a valid prefix (No).
//
// TestCrashReadWaitsForWALSync checks that a read seeing a write waits for
// that write's WAL sync.
//
// Flags: -crash.points=N (power-loss points for Always, default 200;
// EverySec and No run a quarter), -crash.kills=N (SIGKILL cycles for
// EverySec, default 20; Always and No run a fifth, at least 3),
// -crash.seed=N (random seed; 0 picks one and logs it), -crash.strict
// (default true: fail when a crash leaves a WAL the store cannot open even
// after Open cut its torn tail, see crashWALHole and kv/waltail.go;
// -crash.strict=false only counts such points).
// With -short or -race the heavy loops shrink to a few iterations.

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/rustypotato/rustypotato/internal/format"
)

var (
	crashPoints = flag.Int("crash.points", 200, "power-loss crash points for TestCrashMemFSAlways (EverySec and No run a quarter of it)")
	crashKills  = flag.Int("crash.kills", 20, "SIGKILL cycles for TestCrashKillEverySec (Always and No run a fifth of it, at least 3)")
	crashStrict = flag.Bool("crash.strict", true, "fail TestCrashMemFS* when a crash leaves a WAL that the store cannot open even after cutting its torn tail (see crashWALHole)")
	crashSeed   = flag.Uint64("crash.seed", 0, "random seed for the crash tests; 0 picks one")
)

// crashRaceEnabled reports whether the test binary was built with -race.
func crashRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// crashLight reports whether the heavy crash loops should shrink.
func crashLight() bool { return testing.Short() || crashRaceEnabled() }

func crashRNG(t *testing.T) *rand.Rand {
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -crash.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func crashLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ---------------------------------------------------------------------------
// Reading and checking a recovered store.

// crashRec is one key's recovered (or modelled) state.
type crashRec struct {
	val string
	exp int64 // Unix ms; 0: no TTL
}

// crashDBs is the state of every logical database.
type crashDBs [format.NumDBs]map[string]crashRec

func newCrashDBs() crashDBs {
	var d crashDBs
	for i := range d {
		d[i] = map[string]crashRec{}
	}
	return d
}

func (d crashDBs) clone() crashDBs {
	var c crashDBs
	for i := range d {
		c[i] = maps.Clone(d[i])
	}
	return c
}

func (d crashDBs) equal(o crashDBs) bool {
	for i := range d {
		if !maps.Equal(d[i], o[i]) {
			return false
		}
	}
	return true
}

// diff describes how got differs from want (at most a few lines).
func (d crashDBs) diff(got crashDBs) string {
	var b strings.Builder
	n := 0
	for db := range d {
		keys := slices.Sorted(maps.Keys(d[db]))
		for k := range got[db] {
			if _, ok := d[db][k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			w, wok := d[db][k]
			g, gok := got[db][k]
			if w == g && wok == gok {
				continue
			}
			if n++; n > 8 {
				b.WriteString("  ...\n")
				return b.String()
			}
			fmt.Fprintf(&b, "  db%d %q: want %v (exists %v), got %v (exists %v)\n", db, k, w, wok, g, gok)
		}
	}
	return b.String()
}

// crashReadState reads every record of the store straight from Pebble,
// checks the store's invariants and returns the logical databases' contents:
//   - the format version and database map are present and valid, and the
//     database map equals the store's;
//   - each physical database's key-count record equals both its number of
//     data records and the store's in-memory count (DBSIZE);
//   - the expiry index holds exactly one entry per data record with a TTL,
//     at that record's deadline, and nothing else;
//   - every record decodes, and no key outside the known prefixes exists.
func crashReadState(s *Store) (crashDBs, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.db.NewIter(nil)
	if err != nil {
		return crashDBs{}, err
	}
	defer it.Close()
	var (
		data       = newCrashDBs() // by physical database
		index      [format.NumDBs]map[string][]int64
		counts     [format.NumDBs]int64
		haveCount  [format.NumDBs]bool
		haveVer    bool
		dbmap      [format.NumDBs]uint8
		haveDBMap  bool
		errs       []error
		addErr     = func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
		indexCount int
	)
	for i := range index {
		index[i] = map[string][]int64{}
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return crashDBs{}, err
		}
		switch k[0] {
		case format.PrefixMeta:
			switch {
			case bytes.Equal(k, format.KeyVersion):
				haveVer = true
				if string(v) != strconv.Itoa(format.Version) {
					addErr("format version record %q", v)
				}
			case bytes.Equal(k, format.KeyDBMap):
				haveDBMap = true
				m, err := format.DecodeDBMap(v)
				if err != nil {
					addErr("database map: %v", err)
				}
				dbmap = m
			case len(k) == 3 && k[1] == 'C' && int(k[2]) < format.NumDBs:
				n, err := format.DecodeCount(v)
				if err != nil {
					addErr("count of db %d: %v", k[2], err)
				}
				counts[k[2]], haveCount[k[2]] = n, true
			default:
				addErr("unknown metadata key %q", k)
			}
		case format.PrefixData:
			phys, _, key, err := format.DecodeDataKey(k)
			if err != nil {
				addErr("%v", err)
				continue
			}
			typ, exp, payload, err := format.DecodeValue(v)
			if err != nil {
				addErr("value of %q: %v", key, err)
				continue
			}
			if typ != format.TypeString {
				addErr("key %q has type %d", key, typ)
			}
			data[phys][string(key)] = crashRec{val: string(payload), exp: exp}
		case format.PrefixExpire:
			phys, at, key, err := format.DecodeExpireKey(k)
			if err != nil {
				addErr("%v", err)
				continue
			}
			if len(v) != 0 {
				addErr("expiry-index entry of %q has a value", key)
			}
			index[phys][string(key)] = append(index[phys][string(key)], at)
			indexCount++
		default:
			addErr("unexpected key %q", k)
		}
	}
	if err := it.Error(); err != nil {
		return crashDBs{}, err
	}
	if !haveVer {
		addErr("no format version record")
	}
	if !haveDBMap {
		addErr("no database map record")
	} else if dbmap != s.dbmap {
		addErr("database map on disk %v, in memory %v", dbmap, s.dbmap)
	}
	for phys := range data {
		n := int64(len(data[phys]))
		if !haveCount[phys] && n != 0 {
			addErr("physical db %d: no count record, %d keys", phys, n)
		}
		if counts[phys] != n {
			addErr("physical db %d: count record %d, %d data records", phys, counts[phys], n)
		}
		if s.counts[phys] != n {
			addErr("physical db %d: in-memory count %d, %d data records", phys, s.counts[phys], n)
		}
		for key, r := range data[phys] {
			ats := index[phys][key]
			switch {
			case r.exp == 0 && len(ats) != 0:
				addErr("physical db %d key %q: no TTL but expiry-index entries %v", phys, key, ats)
			case r.exp != 0 && (len(ats) != 1 || ats[0] != r.exp):
				addErr("physical db %d key %q: deadline %d but expiry-index entries %v", phys, key, r.exp, ats)
			}
		}
		for key, ats := range index[phys] {
			if _, ok := data[phys][key]; !ok {
				addErr("physical db %d: expiry-index entries %v for missing key %q", phys, ats, key)
			}
		}
	}
	if len(errs) > 8 {
		errs = append(errs[:8], fmt.Errorf("... and %d more", len(errs)-8))
	}
	if err := errors.Join(errs...); err != nil {
		return crashDBs{}, err
	}
	var out crashDBs
	for db := range out {
		out[db] = data[s.dbmap[db]]
	}
	return out, nil
}

// crashCheckAPI checks that the store's read API agrees with want: DBSize
// of every logical database, and GET and PEXPIRETIME of every key of want
// and of keys (which may be absent).
func crashCheckAPI(s *Store, want crashDBs, keys []string) error {
	var errs []error
	err := s.View(func(tx *Tx) error {
		for db := range want {
			n, err := tx.DBSize(db)
			if err != nil {
				return err
			}
			if n != int64(len(want[db])) {
				errs = append(errs, fmt.Errorf("DBSize(%d) = %d, want %d", db, n, len(want[db])))
			}
			check := slices.Collect(maps.Keys(want[db]))
			if db < 3 {
				check = append(check, keys...)
			}
			for _, k := range check {
				w, wok := want[db][k]
				v, ok, err := tx.Get(db, []byte(k))
				if err != nil {
					return err
				}
				if ok != wok || string(v) != w.val {
					errs = append(errs, fmt.Errorf("GET db%d %q = %q (exists %v), want %q (exists %v)", db, k, v, ok, w.val, wok))
					continue
				}
				et, err := tx.ExpireTime(db, []byte(k))
				if err != nil {
					return err
				}
				we := int64(-2)
				if wok {
					we = -1
					if w.exp != 0 {
						we = w.exp
					}
				}
				if et != we {
					errs = append(errs, fmt.Errorf("PEXPIRETIME db%d %q = %d, want %d", db, k, et, we))
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(errs) > 8 {
		errs = errs[:8]
	}
	return errors.Join(errs...)
}

// ---------------------------------------------------------------------------
// Power loss on a crashable in-memory filesystem.

// crashNow is the fixed clock of the power-loss tests: deadlines are in its
// future, so nothing expires while a test runs, and every deadline written
// must come back exactly.
var crashNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const crashModelDBs = 3 // logical databases the model writes

var crashKeySpace = func() []string {
	ks := make([]string, 12)
	for i := range ks {
		ks[i] = fmt.Sprintf("k%02d", i)
	}
	return ks
}()

type crashOpKind int

const (
	cNop crashOpKind = iota
	cSet
	cIncr
	cDel
	cGetDel
	cExpire
	cPersist
	cMSet
	cRename
	cSwapDB
	cFlushDB
)

var crashKindNames = [...]string{"NOP", "SET", "INCRBY", "DEL", "GETDEL", "PEXPIREAT", "PERSIST", "MSET", "RENAME", "SWAPDB", "FLUSHDB"}

// crashOp is one command of a transaction.
type crashOp struct {
	kind    crashOpKind
	db, db2 int
	keys    []string
	vals    []string
	delta   int64
	exp     int64
	keepTTL bool
}

func (o *crashOp) String() string {
	return fmt.Sprintf("%s db%d/%d %v %v delta=%d exp=%d keepttl=%v", crashKindNames[o.kind], o.db, o.db2, o.keys, o.vals, o.delta, o.exp, o.keepTTL)
}

// crashResult is what a command returned.
type crashResult struct {
	n  int64
	s  string
	ok bool
}

// apply applies o to the model state m and returns what the store must
// return for it.
func (m *crashDBs) apply(o *crashOp, now int64) crashResult {
	var r crashResult
	d := m[o.db]
	switch o.kind {
	case cNop:
	case cSet:
		exp := o.exp
		if old, had := d[o.keys[0]]; had && o.keepTTL {
			exp = old.exp
		}
		d[o.keys[0]] = crashRec{val: o.vals[0], exp: exp}
		r.ok = true
	case cIncr:
		old := d[o.keys[0]]
		cur, _ := strconv.ParseInt(old.val, 10, 64)
		cur += o.delta
		d[o.keys[0]] = crashRec{val: strconv.FormatInt(cur, 10), exp: old.exp}
		r.n = cur
	case cDel:
		for _, k := range o.keys {
			if _, ok := d[k]; ok {
				delete(d, k)
				r.n++
			}
		}
	case cGetDel:
		if old, ok := d[o.keys[0]]; ok {
			r.s, r.ok = old.val, true
			delete(d, o.keys[0])
		}
	case cExpire:
		if old, ok := d[o.keys[0]]; ok {
			r.ok = true
			if o.exp <= now {
				delete(d, o.keys[0])
			} else {
				d[o.keys[0]] = crashRec{val: old.val, exp: o.exp}
			}
		}
	case cPersist:
		if old, ok := d[o.keys[0]]; ok && old.exp != 0 {
			r.ok = true
			d[o.keys[0]] = crashRec{val: old.val}
		}
	case cMSet:
		for i, k := range o.keys {
			d[k] = crashRec{val: o.vals[i]}
		}
	case cRename:
		if old, ok := d[o.keys[0]]; ok && o.keys[0] != o.keys[1] {
			delete(d, o.keys[0])
			d[o.keys[1]] = old
		}
	case cSwapDB:
		m[o.db], m[o.db2] = m[o.db2], m[o.db]
	case cFlushDB:
		clear(d)
	}
	return r
}

// run executes o in tx and returns what the store returned.
func (o *crashOp) run(tx *Tx) (crashResult, error) {
	var r crashResult
	var err error
	k := func(i int) []byte { return []byte(o.keys[i]) }
	switch o.kind {
	case cNop:
	case cSet:
		var sr SetResult
		sr, err = tx.Set(o.db, k(0), []byte(o.vals[0]), SetOptions{Expire: o.exp, KeepTTL: o.keepTTL})
		r.ok = sr.Written
	case cIncr:
		r.n, err = tx.IncrBy(o.db, k(0), o.delta)
	case cDel:
		keys := make([][]byte, len(o.keys))
		for i := range keys {
			keys[i] = k(i)
		}
		var n int
		n, err = tx.Del(o.db, keys...)
		r.n = int64(n)
	case cGetDel:
		var v []byte
		v, r.ok, err = tx.GetDel(o.db, k(0))
		r.s = string(v)
	case cExpire:
		r.ok, err = tx.Expire(o.db, k(0), o.exp, ExpireAlways)
	case cPersist:
		r.ok, err = tx.Persist(o.db, k(0))
	case cMSet:
		kvs := make([][]byte, 0, 2*len(o.keys))
		for i := range o.keys {
			kvs = append(kvs, k(i), []byte(o.vals[i]))
		}
		err = tx.MSet(o.db, kvs...)
	case cRename:
		err = tx.Rename(o.db, k(0), k(1))
	case cSwapDB:
		err = tx.SwapDB(o.db, o.db2)
	case cFlushDB:
		err = tx.FlushDB(o.db)
	}
	return r, err
}

// crashGenTx generates a random transaction of 1 to 4 commands.
func crashGenTx(rng *rand.Rand, now int64) []crashOp {
	n := 1
	if rng.IntN(100) < 15 {
		n = 2 + rng.IntN(3)
	}
	ops := make([]crashOp, n)
	for i := range ops {
		ops[i] = crashGenOp(rng, now)
	}
	return ops
}

func crashGenOp(rng *rand.Rand, now int64) crashOp {
	key := func() string { return crashKeySpace[rng.IntN(len(crashKeySpace))] }
	val := func() string { return strconv.Itoa(rng.IntN(2_000_001) - 1_000_000) }
	future := func() int64 { return now + 1 + rng.Int64N(10_000_000) }
	o := crashOp{db: []int{0, 0, 0, 0, 1, 1, 2}[rng.IntN(7)]}
	switch p := rng.IntN(1000); {
	case p < 250:
		o.kind, o.keys, o.vals = cSet, []string{key()}, []string{val()}
		switch q := rng.IntN(10); {
		case q < 3:
			o.exp = future()
		case q < 5:
			o.keepTTL = true
		}
	case p < 500:
		o.kind, o.keys, o.delta = cIncr, []string{key()}, rng.Int64N(11)-5
	case p < 600:
		o.kind = cDel
		for range 1 + rng.IntN(3) {
			o.keys = append(o.keys, key())
		}
	case p < 650:
		o.kind, o.keys = cGetDel, []string{key()}
	case p < 760:
		o.kind, o.keys, o.exp = cExpire, []string{key()}, future()
		if rng.IntN(5) == 0 {
			o.exp = now - rng.Int64N(1000) // in the past: deletes the key
		}
	case p < 800:
		o.kind, o.keys = cPersist, []string{key()}
	case p < 880:
		o.kind = cMSet
		for range 1 + rng.IntN(3) {
			o.keys, o.vals = append(o.keys, key()), append(o.vals, val())
		}
	case p < 960:
		o.kind, o.keys = cRename, []string{key(), key()}
	case p < 995:
		o.kind, o.db, o.db2 = cSwapDB, rng.IntN(crashModelDBs), rng.IntN(crashModelDBs)
	default:
		o.kind = cFlushDB
	}
	return o
}

// crashHistory records the committed transactions in commit order. The
// store serialises writers: a transaction's function and its batch's
// application to Pebble run under the store's exclusive lock, so the
// sequence number taken inside the function is the commit order, which is
// the order of the records in Pebble's write-ahead log.
type crashHistory struct {
	mu    sync.Mutex
	txs   [][]crashOp // by sequence number; nil for a View
	wrote []bool      // by sequence number: the transaction committed a batch
	model crashDBs    // state after every recorded transaction
	now   int64

	acked   atomic.Int64 // highest acknowledged sequence number, -1 if none
	durable atomic.Int64 // every seq < durable was acknowledged before a completed Store.Sync
	failed  atomic.Pointer[error]
}

func (h *crashHistory) fail(err error) { h.failed.CompareAndSwap(nil, &err) }

func (h *crashHistory) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.txs)
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

var errCrashMismatch = errors.New("store and model disagree")

// do runs one transaction in s, records it and, once s acknowledges it,
// raises the acknowledged high-water mark.
func (h *crashHistory) do(s *Store, ops []crashOp) error {
	seq := int64(-1)
	err := s.Update(func(tx *Tx) error {
		// Transaction functions run one at a time, in commit order; h.mu
		// only keeps h.len's readers out.
		h.mu.Lock()
		defer h.mu.Unlock()
		for i := range ops {
			o := &ops[i]
			// A RENAME of a missing key fails (ERR no such key) and would
			// roll back the transaction: the model turns it into a no-op.
			if o.kind == cRename {
				if _, ok := h.model[o.db][o.keys[0]]; !ok {
					o.kind = cNop
				}
			}
			got, err := o.run(tx)
			if err != nil {
				return fmt.Errorf("%v: %w", o, err)
			}
			if want := h.model.apply(o, h.now); want != got {
				return fmt.Errorf("%w: %v returned %+v, model %+v", errCrashMismatch, o, got, want)
			}
		}
		// Every command succeeded, so the transaction commits (the store's
		// lock is held until its batch is applied): it joins the history.
		seq = int64(len(h.txs))
		h.txs = append(h.txs, ops)
		h.wrote = append(h.wrote, tx.batch != nil)
		return nil
	})
	if err != nil {
		return err
	}
	atomicMax(&h.acked, seq)
	return nil
}

// crashWALHole reports whether err is Pebble refusing to open a store whose
// last WAL has a hole: a zeroed or garbage chunk followed by a valid one.
// A power loss leaves that when the disk wrote back some unsynced blocks of
// the WAL but not an earlier one (CrashClone with 0 < UnsyncedDataPercent <
// 100 does exactly this). Pebble's reader then reports ErrZeroedChunk or
// ErrInvalidChunk, marked as corruption, instead of treating the hole as
// the end of the log, so Open fails until the WAL is truncated at the hole
// (what redis-check-aof --fix does to an AOF). Everything past the hole was
// never synced, so truncating loses nothing that Always (or EverySec,
// beyond its last second) promised. With EverySec and No the unsynced tail
// is long and this is frequent; with Always it needs a crash during a
// group commit whose data spans a 4 KiB block boundary, and is rare.
func crashWALHole(err error) bool {
	return pebble.IsCorruptionError(err) && strings.Contains(err.Error(), "error when replaying WAL") &&
		(strings.Contains(err.Error(), "zeroed chunk") || strings.Contains(err.Error(), "invalid chunk"))
}

// view runs a read-only transaction that checks a few keys and the
// databases' sizes against the model. It takes a place in the history (as
// a no-op) like any transaction: once View returns, what it read has been
// acknowledged to the caller, so a crash must not lose it.
func (h *crashHistory) view(s *Store, rng *rand.Rand) error {
	seq := int64(-1)
	err := s.View(func(tx *Tx) error {
		h.mu.Lock() // writers are out (s.mu); other views wait here
		defer h.mu.Unlock()
		for db := range crashModelDBs {
			n, err := tx.DBSize(db)
			if err != nil {
				return err
			}
			if n != int64(len(h.model[db])) {
				return fmt.Errorf("%w: DBSize(%d) = %d, model %d", errCrashMismatch, db, n, len(h.model[db]))
			}
			k := crashKeySpace[rng.IntN(len(crashKeySpace))]
			v, ok, err := tx.Get(db, []byte(k))
			if err != nil {
				return err
			}
			if w, wok := h.model[db][k]; ok != wok || string(v) != w.val {
				return fmt.Errorf("%w: GET db%d %q = %q (exists %v), model %q (exists %v)", errCrashMismatch, db, k, v, ok, w.val, wok)
			}
		}
		seq = int64(len(h.txs))
		h.txs = append(h.txs, nil)
		h.wrote = append(h.wrote, false)
		return nil
	})
	if err != nil {
		return err
	}
	atomicMax(&h.acked, seq)
	return nil
}

func crashTxString(ops []crashOp) string {
	parts := make([]string, len(ops))
	for i := range ops {
		parts[i] = ops[i].String()
	}
	return strings.Join(parts, "; ")
}

// describe lists the transactions of [from, to) for a failure message.
func (h *crashHistory) describe(from, to int) string {
	var b strings.Builder
	if to-from > 12 {
		fmt.Fprintf(&b, "  (the last 12 of %d)\n", to-from)
		from = to - 12
	}
	for l := max(from, 0); l < to && l < len(h.txs); l++ {
		switch {
		case h.txs[l] == nil:
			fmt.Fprintf(&b, "  #%d: View\n", l)
		case !h.wrote[l]:
			fmt.Fprintf(&b, "  #%d: read-only Update %s\n", l, crashTxString(h.txs[l]))
		default:
			fmt.Fprintf(&b, "  #%d: write %s\n", l, crashTxString(h.txs[l]))
		}
	}
	return b.String()
}

// crashPowerLoss runs points crash points in mode on one lineage of
// crashable filesystems: each point's recovered store carries on as the
// next point's store, so recovery after repeated crashes is exercised.
func crashPowerLoss(t *testing.T, mode Durability, points int) {
	rng := crashRNG(t)
	now := crashNow.UnixMilli()
	opts := func(fs vfs.FS) *Options {
		return &Options{
			FS:             fs,
			Durability:     mode,
			MemTableBytes:  1 << 20, // small: WAL rotations and flushes happen often
			SyncInterval:   5 * time.Millisecond,
			ExpireInterval: time.Hour,
			Now:            func() time.Time { return crashNow },
			Logger:         crashLogger(),
		}
	}
	const dir = "/db"
	fs := vfs.NewCrashableMem()
	s, err := Open(dir, opts(fs))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	state := newCrashDBs()

	var (
		totalTxs, totalAcked, totalUnackedKept, totalDurable int
		beyondLo                                             int // points that recovered more than they had to
		walHoles                                             int // points whose store did not open (crashWALHole)
		tornCut                                              int // points where Open cut a torn WAL tail (kv/waltail.go)
		pct                                                  = []int{0, 0, 10, 25, 50, 75, 90, 100}
	)
	const writers = 4
	for point := 0; point < points; point++ {
		h := &crashHistory{model: state.clone(), now: now}
		h.acked.Store(-1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := h.do(s, crashGenTx(wrng, now)); err != nil {
						h.fail(err)
						return
					}
				}
			}()
		}
		wg.Add(1)
		vrng := rand.New(rand.NewPCG(rng.Uint64(), 99))
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := h.view(s, vrng); err != nil {
					h.fail(err)
					return
				}
			}
		}()
		if mode != Always {
			// Explicit syncs give a lower bound on what must survive.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Duration(500+rand.IntN(3000)) * time.Microsecond):
					}
					snap := h.acked.Load()
					if err := s.Sync(); err != nil {
						h.fail(fmt.Errorf("Sync: %w", err))
						return
					}
					atomicMax(&h.durable, snap+1)
				}
			}()
		}
		// Crash at a random moment: sometimes at once, mostly after some
		// writes.
		if d := rng.IntN(12); d > 0 {
			time.Sleep(time.Duration(d) * time.Millisecond)
		}
		lo := h.acked.Load() + 1
		if mode != Always {
			lo = h.durable.Load()
		}
		p := pct[rng.IntN(len(pct))]
		if rng.IntN(4) == 0 {
			p = rng.IntN(101)
		}
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: p, RNG: rand.New(rand.NewPCG(rng.Uint64(), 1))})
		hi := h.len()
		close(stop)
		wg.Wait()
		if errp := h.failed.Load(); errp != nil {
			t.Fatalf("point %d: writer failed: %v", point, *errp)
		}
		acked := int(h.acked.Load() + 1)
		if err := s.Close(); err != nil {
			t.Fatalf("point %d: close: %v", point, err)
		}

		s, err = Open(dir, opts(clone))
		if err == nil && s.WALRepair != nil {
			tornCut++
		}
		if err != nil && crashWALHole(err) && p > 0 && p < 100 && !*crashStrict {
			// Known limitation (see crashWALHole): count it, and carry on
			// from the original filesystem, which the store closed
			// cleanly, so it must hold every commit.
			if walHoles++; walHoles <= 3 {
				t.Logf("point %d (unsynced %d%%): store does not open: %v", point, p, err)
			}
			s, err = Open(dir, opts(fs))
			if err != nil {
				t.Fatalf("point %d: reopen after a clean close: %v", point, err)
			}
			got, err := crashReadState(s)
			if err != nil {
				t.Fatalf("point %d: store is inconsistent after a clean close: %v", point, err)
			}
			if !h.model.equal(got) {
				t.Fatalf("point %d: after a clean close:\n%s", point, h.model.diff(got))
			}
			state = got
			continue
		}
		if err != nil {
			t.Fatalf("point %d (unsynced %d%%, %d commits, %d acknowledged before the crash): reopen after crash: %v", point, p, hi, lo, err)
		}
		got, err := crashReadState(s)
		if err != nil {
			t.Fatalf("point %d (unsynced %d%%): recovered store is inconsistent: %v", point, p, err)
		}
		// Find the prefixes of the commit order whose state is the
		// recovered one.
		m := state.clone()
		var match []int
		for l := 0; ; l++ {
			if m.equal(got) {
				match = append(match, l)
			}
			if l == hi {
				break
			}
			for i := range h.txs[l] {
				m.apply(&h.txs[l][i], now)
			}
		}
		switch {
		case len(match) == 0:
			lost := state.clone()
			for l := 0; l < int(lo); l++ {
				for i := range h.txs[l] {
					lost.apply(&h.txs[l][i], now)
				}
			}
			t.Fatalf("point %d (unsynced %d%%): recovered state is no prefix of the %d commits; against the state after the %d acknowledged ones:\n%s", point, p, hi, lo, lost.diff(got))
		case match[len(match)-1] < int(lo):
			t.Fatalf("point %d (unsynced %d%%): acknowledged transactions lost: recovered the state after %d..%d of %d transactions, %d were acknowledged%s; the lost ones:\n%s",
				point, p, match[0], match[len(match)-1], hi, lo, map[bool]string{true: " before a completed Sync", false: ""}[mode != Always], h.describe(match[len(match)-1], int(lo)))
		}
		l := match[len(match)-1]
		if l > int(lo) {
			beyondLo++
		}
		if err := crashCheckAPI(s, got, crashKeySpace); err != nil {
			t.Fatalf("point %d: read API disagrees with the recovered records: %v", point, err)
		}
		totalTxs += hi
		totalAcked += acked
		totalDurable += int(lo)
		totalUnackedKept += max(0, l-int(lo))
		state, fs = got, clone
	}

	// A clean close keeps everything: reopen the last lineage's store.
	final := state.clone()
	if err := s.Update(func(tx *Tx) error {
		_, err := tx.Set(0, []byte("final"), []byte("1"), SetOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	final[0]["final"] = crashRec{val: "1"}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, opts(fs.CrashClone(vfs.CrashCloneCfg{})))
	if err != nil {
		t.Fatal(err)
	}
	got, err := crashReadState(s)
	if err != nil {
		t.Fatal(err)
	}
	if !final.equal(got) {
		t.Fatalf("after a clean close and a crash:\n%s", final.diff(got))
	}
	lowerBound := "acknowledged before the crash"
	if mode != Always {
		lowerBound = "acknowledged before a completed Sync"
	}
	t.Logf("%s: %d crash points, %d commits, %d acknowledged, %d %s (all recovered), %d more commits survived; %d points recovered more than required; %d points where Open cut a torn WAL tail; %d points left a WAL the store could not open",
		mode, points, totalTxs, totalAcked, totalDurable, lowerBound, totalUnackedKept, beyondLo, tornCut, walHoles)
}

func TestCrashMemFSAlways(t *testing.T) {
	n := *crashPoints
	if crashLight() {
		n = min(n, 10)
	}
	crashPowerLoss(t, Always, n)
}

func TestCrashMemFSEverySec(t *testing.T) {
	n := max(*crashPoints/4, 1)
	if crashLight() {
		n = min(n, 5)
	}
	crashPowerLoss(t, EverySec, n)
}

func TestCrashMemFSNo(t *testing.T) {
	n := max(*crashPoints/4, 1)
	if crashLight() {
		n = min(n, 5)
	}
	crashPowerLoss(t, No, n)
}

// ---------------------------------------------------------------------------
// SIGKILL of a child process (see crashchild_test.go for the child).

// crashKillStats are the figures of one mode's kill cycles.
type crashKillStats struct {
	cycles, acked, lost, unackedKept int
}

// crashChildRun starts the child for one cycle, kills it with SIGKILL and
// returns the highest acknowledged operation of each writer (-1: none) and
// the number of ack lines received.
func crashChildRun(t *testing.T, rng *rand.Rand, dir string, mode Durability, cycle int, early bool) (last [crashChildWriters]int, acks int) {
	t.Helper()
	for i := range last {
		last[i] = -1
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashEnvDir+"="+dir,
		crashEnvMode+"="+mode.String(),
		crashEnvCycle+"="+strconv.Itoa(cycle))
	cmd.ExtraFiles = []*os.File{pw}
	var out crashLimitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		t.Fatal(err)
	}
	pw.Close()

	first := make(chan struct{})
	done := make(chan struct{})
	var badLine string
	go func() {
		defer close(done)
		r := bufio.NewReaderSize(pr, 64<<10)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // EOF; an incomplete last line is not an ack
			}
			var w, n int
			if _, err := fmt.Sscanf(line, "%d %d\n", &w, &n); err != nil || w < 0 || w >= crashChildWriters || n <= last[w] {
				if badLine == "" {
					badLine = line
				}
				continue
			}
			last[w] = n
			if acks++; acks == 1 {
				close(first)
			}
		}
	}()

	var delay time.Duration
	if early {
		// Kill while the child is still opening (recovering) the store or
		// has just started writing.
		delay = time.Duration(5+rng.IntN(60)) * time.Millisecond
		time.Sleep(delay)
	} else {
		select {
		case <-first:
		case <-done:
		case <-time.After(60 * time.Second):
		}
		delay = time.Duration(50+rng.IntN(251)) * time.Millisecond
		time.Sleep(delay)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	<-done
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("cycle %d: child ended on its own (%v) after %v; output:\n%s", cycle, cmd.ProcessState, time.Since(start), out.String())
	}
	if badLine != "" {
		t.Fatalf("cycle %d: malformed or out-of-order ack line %q", cycle, badLine)
	}
	return last, acks
}

// crashLimitedBuffer keeps the first 64 KiB written to it.
type crashLimitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *crashLimitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 64<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *crashLimitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// crashKillCycles runs cycles SIGKILL cycles in mode on one data directory.
// After each kill it reopens the store in-process and checks, for each
// writer, that the recovered keys are the state after a prefix of that
// writer's operations (in any mode), and with lossless set that the prefix
// includes every acknowledged operation: each SET key holds the last
// acknowledged value or a later one of the same writer, and each counter
// is at least its last acknowledged value.
func crashKillCycles(t *testing.T, mode Durability, cycles int, lossless bool) crashKillStats {
	rng := crashRNG(t)
	dir := t.TempDir()
	var (
		st   crashKillStats
		prev = newCrashDBs() // state at the start of the cycle
	)
	for cycle := 0; cycle < cycles; cycle++ {
		early := cycle%5 == 4
		last, acks := crashChildRun(t, rng, dir, mode, cycle, early)

		s, err := Open(dir, crashChildOptions(mode))
		if err != nil {
			t.Fatalf("cycle %d: reopen after SIGKILL: %v", cycle, err)
		}
		got, err := crashReadState(s)
		if err == nil {
			err = crashCheckAPI(s, got, nil)
		}
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("cycle %d: recovered store is inconsistent: %v", cycle, err)
		}
		for db := 1; db < format.NumDBs; db++ {
			if len(got[db]) != 0 {
				t.Fatalf("cycle %d: db %d holds %d keys", cycle, db, len(got[db]))
			}
		}
		nkeys := 0
		for w := range crashChildWriters {
			lost, kept, err := crashKillCheckWriter(prev[0], got[0], w, cycle, last[w])
			if err != nil {
				t.Fatalf("cycle %d (%d acks, killed %s): %v", cycle, acks, map[bool]string{true: "early", false: "while writing"}[early], err)
			}
			if lossless && lost > 0 {
				t.Errorf("cycle %d: writer %d: %d acknowledged writes lost (last ack: op %d)", cycle, w, lost, last[w])
			}
			st.lost += lost
			st.unackedKept += kept
			for slot := range crashChildSlots {
				k := crashChildCounterKey(w)
				if slot != crashChildCounter {
					k = crashChildSetKey(w, slot)
				}
				if _, ok := got[0][k]; ok {
					nkeys++
				}
			}
		}
		if nkeys != len(got[0]) {
			t.Fatalf("cycle %d: %d keys recovered, %d of them the writers'", cycle, len(got[0]), nkeys)
		}
		st.cycles++
		st.acked += acks
		prev = got
	}
	t.Logf("%s: %d SIGKILL cycles, %d acknowledged writes, %d lost, %d unacknowledged writes survived, %d keys at the end",
		mode, st.cycles, st.acked, st.lost, st.unackedKept, len(prev[0]))
	return st
}

// crashKillCheckWriter checks writer w's keys after a kill in cycle: prev
// is the state at the start of the cycle, got the recovered one, ack the
// writer's highest acknowledged operation in the cycle (-1: none). It
// returns how many acknowledged operations were lost and how many
// unacknowledged ones survived.
func crashKillCheckWriter(prev, got map[string]crashRec, w, cycle, ack int) (lost, kept int, err error) {
	// [lo, hi] bounds P, the number of w's operations of this cycle that
	// the recovered state reflects; each key narrows it.
	lo, hi := 0, int(^uint(0)>>1)
	for slot := range crashChildCounter {
		k := crashChildSetKey(w, slot)
		r, ok := got[k]
		if ok && r.exp != 0 {
			return 0, 0, fmt.Errorf("%s has a TTL", k)
		}
		var vw, vc, n int
		if ok {
			if _, err := fmt.Sscanf(r.val, "w%d:%d:%d", &vw, &vc, &n); err != nil || vw != w || vc > cycle {
				return 0, 0, fmt.Errorf("%s = %q: no value this writer wrote", k, r.val)
			}
		}
		if ok && vc == cycle {
			if n%crashChildSlots != slot {
				return 0, 0, fmt.Errorf("%s = %q: written by the wrong operation", k, r.val)
			}
			// Operation n was applied, n+5 (the next on this slot) was not.
			lo, hi = max(lo, n+1), min(hi, n+crashChildSlots)
			if n < ack {
				lost += (ack - n) / crashChildSlots // acknowledged later writes of this slot
			} else {
				kept += (n - ack + crashChildSlots - 1) / crashChildSlots
			}
			continue
		}
		// No operation of this cycle on the slot survived: the key must be
		// as the cycle found it.
		if pr, pok := prev[k]; pok != ok || pr != r {
			return 0, 0, fmt.Errorf("%s = %q (exists %v), at the start of the cycle %q (exists %v)", k, r.val, ok, pr.val, pok)
		}
		hi = min(hi, slot)
		if ack >= slot {
			lost += (ack-slot)/crashChildSlots + 1
		}
	}
	k := crashChildCounterKey(w)
	base, err := crashCounter(prev, k)
	if err != nil {
		return 0, 0, err
	}
	c, err := crashCounter(got, k)
	if err != nil {
		return 0, 0, err
	}
	if r, ok := got[k]; ok && r.exp != 0 {
		return 0, 0, fmt.Errorf("%s has a TTL", k)
	}
	if _, ok := got[k]; !ok && base != 0 {
		return 0, 0, fmt.Errorf("%s vanished (was %d)", k, base)
	}
	incrs := c - base // INCRs of this cycle applied: operations 4, 9, 14, ...
	if incrs < 0 {
		return 0, 0, fmt.Errorf("%s = %d went backwards from %d", k, c, base)
	}
	if incrs > 0 {
		lo, hi = max(lo, crashChildSlots*incrs), min(hi, crashChildSlots*incrs+crashChildCounter)
	} else {
		hi = min(hi, crashChildCounter)
	}
	ackedIncrs := (ack + 1) / crashChildSlots
	if incrs < ackedIncrs {
		lost += ackedIncrs - incrs
	} else {
		kept += incrs - ackedIncrs
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("writer %d: recovered keys are no prefix of its operations (%d..%d); last ack op %d", w, lo, hi, ack)
	}
	return lost, kept, nil
}

func crashCounter(m map[string]crashRec, k string) (int, error) {
	r, ok := m[k]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(r.val)
	if err != nil {
		return 0, fmt.Errorf("%s = %q is no counter", k, r.val)
	}
	return n, nil
}

func crashKillCount(everysec bool) int {
	n := *crashKills
	if !everysec {
		n = max(n/5, 3)
	}
	if crashLight() {
		n = min(n, 2)
	}
	return n
}

func TestCrashKillEverySec(t *testing.T) {
	crashKillCycles(t, EverySec, crashKillCount(true), true)
}

func TestCrashKillAlways(t *testing.T) {
	if crashRaceEnabled() {
		t.Skip("heavy; the EverySec variant covers the harness under -race")
	}
	crashKillCycles(t, Always, crashKillCount(false), true)
}

// TestCrashKillNo: durability No is best effort (docs: writes since the
// last WAL block flush may be lost when the process dies), so lost writes
// are only reported; the recovered store must still be consistent and a
// prefix of each writer's operations.
func TestCrashKillNo(t *testing.T) {
	if crashRaceEnabled() {
		t.Skip("heavy; the EverySec variant covers the harness under -race")
	}
	crashKillCycles(t, No, crashKillCount(false), false)
}

// ---------------------------------------------------------------------------
// Reads wait for the syncs of the writes they see.

// crashGateFS holds every Sync of a WAL file until the gate opens.
type crashGateFS struct {
	vfs.FS
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (g *crashGateFS) block() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *crashGateFS) release() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

func (g *crashGateFS) wait() {
	g.mu.Lock()
	c := g.gate
	g.mu.Unlock()
	if c != nil {
		<-c
	}
}

func (g *crashGateFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &crashGateFile{File: f, g: g}, nil
}

func (g *crashGateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.Create(name, c)
	return g.wrap(name, f, err)
}

func (g *crashGateFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.ReuseForWrite(old, name, c)
	return g.wrap(name, f, err)
}

type crashGateFile struct {
	vfs.File
	g *crashGateFS
}

func (f *crashGateFile) Sync() error     { f.g.wait(); return f.File.Sync() }
func (f *crashGateFile) SyncData() error { f.g.wait(); return f.File.SyncData() }

// TestCrashReadWaitsForWALSync: with Always, a write is visible to other
// transactions as soon as it is applied, before its WAL fsync. A read that
// sees it (View, or an Update that writes nothing) must not return before
// that fsync, or a crash could lose a write some client has already seen
// (Redis sends no reply before the fsync under appendfsync always).
func TestCrashReadWaitsForWALSync(t *testing.T) {
	g := &crashGateFS{FS: vfs.NewMem()}
	s, err := Open("/db", &Options{FS: g, Durability: Always, Logger: crashLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g.block()
	defer g.release() // before Close, which syncs
	wrote := make(chan error, 1)
	go func() {
		wrote <- s.Update(func(tx *Tx) error {
			_, err := tx.Set(0, []byte("k"), []byte("v"), SetOptions{})
			return err
		})
	}()
	// Wait until the write is applied (visible) and waiting for its sync.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if s.stats.WriteBatches.Load() == 1 { // counted when applied
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write was never applied")
		}
		time.Sleep(time.Millisecond)
	}
	read := make(chan string, 2)
	go func() {
		var v []byte
		err := s.View(func(tx *Tx) error {
			var err error
			v, _, err = tx.Get(0, []byte("k"))
			return err
		})
		read <- fmt.Sprintf("View: %q %v", v, err)
	}()
	go func() {
		var v []byte
		err := s.Update(func(tx *Tx) error {
			var err error
			v, _, err = tx.Get(0, []byte("k"))
			return err
		})
		read <- fmt.Sprintf("read-only Update: %q %v", v, err)
	}()
	select {
	case r := <-read:
		t.Fatalf("%s returned before the WAL sync of the write it saw", r)
	case err := <-wrote:
		t.Fatalf("the write returned before its WAL sync: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	g.release()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := <-read; !strings.Contains(r, `"v" <nil>`) {
			t.Fatalf("%s, want \"v\"", r)
		}
	}
	// Reads that see only synced writes do not wait.
	if err := s.View(func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
