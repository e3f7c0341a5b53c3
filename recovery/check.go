package recovery

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// Kind classifies a Finding.
type Kind string

// Finding kinds. The comment says what Repair does about each.
const (
	// KindUnreadable: Pebble could not read part of the store (for example
	// an sstable block whose checksum does not match). Not fixable: restore
	// from a backup.
	KindUnreadable Kind = "unreadable"
	// KindBadKey: a data or expiry-index key that does not decode (too
	// short, an unknown database, a hash that does not match the key).
	// Quarantined.
	KindBadKey Kind = "bad-key"
	// KindBadValue: a data record whose value header does not decode
	// (unknown type or flags, too short, negative deadline). Quarantined.
	KindBadValue Kind = "bad-value"
	// KindUnknownRecord: a record under a reserved or unknown key prefix,
	// or an unknown metadata key. Quarantined.
	KindUnknownRecord Kind = "unknown-record"
	// KindMissingExpiry: a key with a deadline but no expiry-index entry,
	// so the background expirer would never remove it. Entry rebuilt.
	KindMissingExpiry Kind = "missing-expiry"
	// KindStaleExpiry: an expiry-index entry whose key does not exist,
	// does not decode or has another deadline. Entry deleted.
	KindStaleExpiry Kind = "stale-expiry"
	// KindCount: a database's recorded key count (DBSIZE) differs from the
	// number of its records, or does not decode. Recomputed.
	KindCount Kind = "count"
	// KindDBMap: the logical-to-physical database map is missing or is not
	// a permutation. Restored (keeping its valid entries).
	KindDBMap Kind = "db-map"
	// KindVersion: the format version record is missing or unreadable
	// (rewritten), or names a newer format than this release reads (not
	// fixable: upgrade RustyPotato).
	KindVersion Kind = "version"
)

// Finding is one problem Check found.
type Finding struct {
	Kind Kind
	// DB is the logical database the problem is in, -1 if none applies.
	DB int
	// Key is the user key involved, nil if none applies or it does not
	// decode (RawKey then shows it).
	Key []byte
	// RawKey is the Pebble key involved, nil if none applies.
	RawKey []byte
	// Detail explains the problem.
	Detail string
	// File is, for KindUnreadable, the path of the damaged file when Pebble
	// names it.
	File string

	fix fix
}

type fixOp int

const (
	fixNone       fixOp = iota
	fixQuarantine       // move key/value to the quarantine file, delete key
	fixSet              // set key to value
	fixDelete           // delete key (derived data only)
)

type fix struct {
	op         fixOp
	key, value []byte
}

// Fixable reports whether Repair can fix f.
func (f Finding) Fixable() bool { return f.fix.op != fixNone }

// String formats f on one line, e.g.
// `bad-value db=0 key="user:1": unknown value type 9`.
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(string(f.Kind))
	if f.DB >= 0 {
		fmt.Fprintf(&b, " db=%d", f.DB)
	}
	switch {
	case f.Key != nil:
		b.WriteString(" key=")
		b.WriteString(QuoteKey(f.Key))
	case f.RawKey != nil:
		b.WriteString(" raw-key=")
		b.WriteString(strconv.Quote(string(f.RawKey)))
	}
	if f.File != "" {
		b.WriteString(" file=")
		b.WriteString(f.File)
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	return b.String()
}

// QuoteKey returns key as is if it is printable UTF-8 without spaces or
// quotes, and Go-quoted otherwise.
func QuoteKey(key []byte) string {
	if len(key) == 0 || !utf8.Valid(key) {
		return strconv.Quote(string(key))
	}
	for _, r := range string(key) {
		if r <= ' ' || r == '"' || r == '\\' || r == 0x7f || !strconv.IsPrint(r) {
			return strconv.Quote(string(key))
		}
	}
	return string(key)
}

// Findings is the result of Check.
type Findings struct {
	// Problems lists every problem found, in the order found.
	Problems []Finding
	// Records is the number of data records read; Expiring how many of
	// them (that decode) carry a deadline; IndexEntries the number of
	// expiry-index entries read.
	Records, Expiring, IndexEntries int64
	// FormatVersion is the store's format version, 0 if the record is
	// missing or unreadable.
	FormatVersion int
	// Unverified describes the parts of the store that could not be read
	// and so were not checked.
	Unverified []string
	// Duration is how long the check took.
	Duration time.Duration

	newer bool                 // the store has a newer, unknown format: nothing else was checked
	found [format.NumDBs]int64 // decodable records per physical database
}

// Clean reports whether Check found no problem.
func (f *Findings) Clean() bool { return len(f.Problems) == 0 }

// Count returns the number of problems of kind k.
func (f *Findings) Count(k Kind) int {
	n := 0
	for _, p := range f.Problems {
		if p.Kind == k {
			n++
		}
	}
	return n
}

// Check walks the store in dir read-only and reports every problem it
// finds. It fails at once with kv.ErrLocked if a server holds dir.
func Check(dir string) (Findings, error) {
	return CheckContext(context.Background(), dir, nil)
}

// CheckContext is Check with cancellation and options. A canceled check
// returns ctx's error and the findings so far.
func CheckContext(ctx context.Context, dir string, o *Options) (Findings, error) {
	o = o.withDefaults()
	raw, err := kv.OpenRaw(dir, &kv.RawOptions{ReadOnly: true, Logger: o.Logger})
	if err != nil {
		return Findings{}, openError(err)
	}
	defer raw.Close()
	return check(ctx, raw.Pebble(), o)
}

// check walks r: metadata first (to learn the database map), then every
// data record, then every expiry-index entry, then the reserved and
// unknown prefixes, and finally compares the key counts.
func check(ctx context.Context, r pebble.Reader, o *Options) (Findings, error) {
	o = o.withDefaults()
	start := time.Now()
	w := &walker{ctx: ctx, r: r, o: o, now: o.Now().UnixMilli(), unreadable: map[string]bool{}}
	err := w.run()
	w.f.Duration = time.Since(start)
	return w.f, err
}

type walker struct {
	ctx context.Context
	r   pebble.Reader
	o   *Options
	now int64
	f   Findings

	versionSeen bool
	dbmapSeen   bool
	dbmapOK     bool
	dbmap       [format.NumDBs]uint8
	badDBMap    []byte
	logical     [format.NumDBs]int // physical -> logical database
	recorded    [format.NumDBs]int64
	countSeen   [format.NumDBs]bool
	countBad    [format.NumDBs]bool
	incomplete  [format.NumDBs]bool // data of the physical db not fully read
	unreadable  map[string]bool     // reported damaged files (or messages)
	skipped     [][2][]byte         // unreadable key ranges [from, to) found by scans (to nil: open)
	other       bool                // any data or index record seen

	phase       string
	done, total int64
}

func (w *walker) run() error {
	for i := range w.logical {
		w.logical[i] = i
	}
	w.setPhase("metadata", 0)
	if _, err := w.scan("the metadata", nil, []byte{format.PrefixData}, w.meta); err != nil {
		return err
	}
	if w.f.newer {
		return nil
	}
	if w.dbmapOK {
		for l, p := range w.dbmap {
			w.logical[p] = l
		}
	}
	var total int64
	for _, n := range w.recorded {
		total += n
	}
	w.setPhase("records", total)
	for phys := uint8(0); phys < format.NumDBs; phys++ {
		what := fmt.Sprintf("the records of database %d", w.logical[phys])
		complete, err := w.scan(what, format.DataPrefix(phys), format.DataUpper(phys), w.data)
		if err != nil {
			return err
		}
		if !complete {
			w.incomplete[phys] = true
		}
	}
	if _, err := w.scan("the records of unknown databases", format.DataUpper(format.NumDBs-1), []byte{format.PrefixExpire}, w.data); err != nil {
		return err
	}
	w.setPhase("expiry index", w.f.Expiring)
	if _, err := w.scan("the expiry index", []byte{format.PrefixExpire}, []byte{format.PrefixSub}, w.index); err != nil {
		return err
	}
	w.setPhase("other records", 0)
	if _, err := w.scan("the reserved prefixes", []byte{format.PrefixSub}, nil, w.unknown); err != nil {
		return err
	}
	w.finish()
	w.o.Progress(w.phase, w.done, w.total)
	return nil
}

func (w *walker) setPhase(name string, total int64) {
	if w.phase != "" {
		w.o.Progress(w.phase, w.done, w.total)
	}
	w.phase, w.done, w.total = name, 0, total
}

func (w *walker) add(f Finding) { w.f.Problems = append(w.f.Problems, f) }

func (w *walker) logicalOf(phys byte) int {
	if int(phys) < format.NumDBs {
		return w.logical[phys]
	}
	return -1
}

func quarantine(k, v []byte) fix {
	return fix{op: fixQuarantine, key: bytes.Clone(k), value: bytes.Clone(v)}
}

func (w *walker) meta(k, v []byte) {
	switch {
	case bytes.Equal(k, format.KeyVersion):
		w.versionSeen = true
		ver, err := strconv.Atoi(string(v))
		switch {
		case err != nil || ver < 1:
			w.add(Finding{Kind: KindVersion, DB: -1, RawKey: bytes.Clone(k),
				Detail: fmt.Sprintf("unreadable format version record %q", v),
				fix:    fix{op: fixSet, key: bytes.Clone(k), value: []byte(strconv.Itoa(format.Version))}})
		case ver > format.Version:
			w.f.FormatVersion = ver
			w.f.newer = true
			w.add(Finding{Kind: KindVersion, DB: -1, RawKey: bytes.Clone(k),
				Detail: fmt.Sprintf("the store has format %d, this release reads up to format %d: upgrade RustyPotato (nothing else was checked)", ver, format.Version)})
		default:
			w.f.FormatVersion = ver
		}
	case bytes.Equal(k, format.KeyDBMap):
		w.dbmapSeen = true
		m, err := format.DecodeDBMap(v)
		if err != nil {
			w.badDBMap = bytes.Clone(v)
			return
		}
		w.dbmap = m
		w.dbmapOK = true
	case len(k) == 3 && k[1] == 'C' && k[2] < format.NumDBs:
		p := k[2]
		w.countSeen[p] = true
		n, err := format.DecodeCount(v)
		if err != nil {
			w.countBad[p] = true
			return
		}
		w.recorded[p] = n
	default:
		w.add(Finding{Kind: KindUnknownRecord, DB: -1, RawKey: bytes.Clone(k),
			Detail: "unknown metadata key", fix: quarantine(k, v)})
	}
}

func (w *walker) data(k, v []byte) {
	w.f.Records++
	w.other = true
	phys, _, key, err := format.DecodeDataKey(k)
	if err != nil {
		db := -1
		if len(k) >= 2 {
			db = w.logicalOf(k[1])
		}
		w.add(Finding{Kind: KindBadKey, DB: db, RawKey: bytes.Clone(k),
			Detail: "data key does not decode: " + trimFormat(err), fix: quarantine(k, v)})
		return
	}
	typ, exp, _, err := format.DecodeValue(v)
	if err != nil {
		w.add(Finding{Kind: KindBadValue, DB: w.logical[phys], Key: bytes.Clone(key), RawKey: bytes.Clone(k),
			Detail: "value does not decode: " + trimFormat(err), fix: quarantine(k, v)})
		return
	}
	_ = typ
	w.f.found[phys]++
	if exp == 0 {
		return
	}
	w.f.Expiring++
	ik := format.AppendExpireKey(nil, phys, exp, key)
	_, closer, err := w.r.Get(ik)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		w.add(Finding{Kind: KindMissingExpiry, DB: w.logical[phys], Key: bytes.Clone(key), RawKey: ik,
			Detail: "the key expires at " + fmtMs(exp) + " but has no expiry-index entry",
			fix:    fix{op: fixSet, key: ik, value: nil}})
	case err != nil:
		w.readError(err, "the expiry index")
		w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("the expiry-index entry of key %s in database %d", QuoteKey(key), w.logical[phys]))
	default:
		closer.Close()
	}
}

func (w *walker) index(k, v []byte) {
	w.f.IndexEntries++
	w.other = true
	phys, at, key, err := format.DecodeExpireKey(k)
	if err != nil {
		db := -1
		if len(k) >= 2 {
			db = w.logicalOf(k[1])
		}
		w.add(Finding{Kind: KindBadKey, DB: db, RawKey: bytes.Clone(k),
			Detail: "expiry-index key does not decode: " + trimFormat(err), fix: quarantine(k, v)})
		return
	}
	stale := func(why string) {
		w.add(Finding{Kind: KindStaleExpiry, DB: w.logical[phys], Key: bytes.Clone(key), RawKey: bytes.Clone(k),
			Detail: "index entry for " + fmtMs(at) + ", but " + why, fix: fix{op: fixDelete, key: bytes.Clone(k)}})
	}
	dk := format.AppendDataKey(nil, phys, key)
	if w.inSkipped(dk) {
		w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("the record of key %s in database %d (for its expiry-index entry)", QuoteKey(key), w.logical[phys]))
		return
	}
	dv, closer, err := w.r.Get(dk)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		stale("the key does not exist")
		return
	case err != nil:
		w.readError(err, "the records")
		w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("the record of key %s in database %d (for its expiry-index entry)", QuoteKey(key), w.logical[phys]))
		return
	}
	_, exp, _, derr := format.DecodeValue(dv)
	closer.Close()
	switch {
	case derr != nil:
		stale("the key's record does not decode")
	case exp == 0:
		stale("the key has no TTL")
	case exp != at:
		stale("the key expires at " + fmtMs(exp))
	}
}

func (w *walker) unknown(k, v []byte) {
	w.other = true
	what := "record under an unknown key prefix"
	if len(k) > 0 && k[0] == format.PrefixSub {
		what = "record under the reserved prefix 0x03, which format 1 does not use"
	}
	db := -1
	if len(k) >= 2 && k[0] == format.PrefixSub {
		db = w.logicalOf(k[1])
	}
	w.add(Finding{Kind: KindUnknownRecord, DB: db, RawKey: bytes.Clone(k), Detail: what, fix: quarantine(k, v)})
}

// finish checks what needs the whole walk: the key counts, the database
// map and the version record.
func (w *walker) finish() {
	anything := w.other || w.dbmapSeen
	for _, s := range w.countSeen {
		anything = anything || s
	}
	if !w.versionSeen && anything {
		w.add(Finding{Kind: KindVersion, DB: -1, RawKey: bytes.Clone(format.KeyVersion),
			Detail: "the format version record is missing",
			fix:    fix{op: fixSet, key: bytes.Clone(format.KeyVersion), value: []byte(strconv.Itoa(format.Version))}})
	}
	switch {
	case w.badDBMap != nil:
		m := repairDBMap(w.badDBMap)
		w.add(Finding{Kind: KindDBMap, DB: -1, RawKey: bytes.Clone(format.KeyDBMap),
			Detail: fmt.Sprintf("the database map %v is not a permutation of 0..15; repair writes %v", w.badDBMap, m[:]),
			fix:    fix{op: fixSet, key: bytes.Clone(format.KeyDBMap), value: m[:]}})
	case !w.dbmapSeen && anything:
		m := format.IdentityDBMap()
		w.add(Finding{Kind: KindDBMap, DB: -1, RawKey: bytes.Clone(format.KeyDBMap),
			Detail: "the database map is missing; repair writes the identity map (undoing any SWAPDB)",
			fix:    fix{op: fixSet, key: bytes.Clone(format.KeyDBMap), value: m[:]}})
	}
	for phys := 0; phys < format.NumDBs; phys++ {
		db := w.logical[phys]
		found := w.f.found[phys]
		if w.incomplete[phys] {
			w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("the key count of database %d (recorded %d, %d records read: about %d are unreadable)",
				db, w.recorded[phys], found, max(0, w.recorded[phys]-found)))
			continue
		}
		fx := fix{op: fixSet, key: format.CountKey(uint8(phys)), value: format.EncodeCount(found)}
		switch {
		case w.countBad[phys]:
			w.add(Finding{Kind: KindCount, DB: db, RawKey: fx.key, Detail: fmt.Sprintf("the key count record does not decode; found %d records", found), fix: fx})
		case !w.countSeen[phys] && found != 0:
			w.add(Finding{Kind: KindCount, DB: db, RawKey: fx.key, Detail: fmt.Sprintf("no key count recorded; found %d records", found), fix: fx})
		case w.recorded[phys] != found:
			w.add(Finding{Kind: KindCount, DB: db, RawKey: fx.key, Detail: fmt.Sprintf("recorded key count %d, found %d records that decode", w.recorded[phys], found), fix: fx})
		}
	}
}

// repairDBMap keeps the valid entries of a damaged database map (the first
// occurrence of each physical database) and gives the other logical
// databases the unused physical ones in order.
func repairDBMap(v []byte) [format.NumDBs]uint8 {
	var m [format.NumDBs]uint8
	var used, set [format.NumDBs]bool
	for i := 0; i < format.NumDBs && i < len(v); i++ {
		if p := v[i]; int(p) < format.NumDBs && !used[p] {
			m[i], used[p], set[i] = p, true, true
		}
	}
	next := 0
	for i := range m {
		if set[i] {
			continue
		}
		for used[next] {
			next++
		}
		m[i], used[next] = uint8(next), true
	}
	return m
}

// readError records a Pebble read error, once per damaged file.
func (w *walker) readError(err error, where string) {
	file := ""
	if info := pebble.ExtractDataCorruptionInfo(err); info != nil {
		file = info.Path
	}
	msg := firstLine(err.Error())
	id := file
	if id == "" {
		id = msg
	}
	if w.unreadable[id] {
		return
	}
	w.unreadable[id] = true
	detail := "Pebble cannot read " + where + ": " + msg
	if pebble.IsCorruptionError(err) {
		detail = "on-disk corruption in " + where + ": " + msg
	}
	w.add(Finding{Kind: KindUnreadable, DB: -1, File: file, Detail: detail})
}

// scan calls fn for every record in [lower, upper) (upper nil: to the
// end). When Pebble cannot read part of the range, scan reports it, notes
// the part it skips in Unverified and resumes past the damage; complete is
// false if it skipped anything. The only error it returns is ctx's.
func (w *walker) scan(what string, lower, upper []byte, fn func(k, v []byte)) (complete bool, err error) {
	complete = true
	from := lower
	for {
		last, err := w.scanFrom(from, upper, fn)
		if err == nil {
			return complete, nil
		}
		if cerr := canceled(w.ctx); cerr != nil {
			return complete, cerr
		}
		complete = false
		w.readError(err, what)
		start := last
		if start == nil {
			start = from
		}
		next := w.resume(start, upper)
		w.skipped = append(w.skipped, [2][]byte{bytes.Clone(start), next})
		if next == nil {
			w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("%s after raw key %q (unreadable to the end)", what, start))
			return false, nil
		}
		w.f.Unverified = append(w.f.Unverified, fmt.Sprintf("%s between raw keys %q and %q (unreadable)", what, start, next))
		from = next
	}
}

// scanFrom iterates [from, upper) and returns the last key it visited.
func (w *walker) scanFrom(from, upper []byte, fn func(k, v []byte)) (last []byte, err error) {
	it, err := w.r.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return last, err
		}
		k := it.Key()
		fn(k, v)
		last = append(last[:0], k...)
		w.done++
		if w.done%ProgressEvery == 0 {
			w.o.Progress(w.phase, w.done, w.total)
			if err := canceled(w.ctx); err != nil {
				return last, err
			}
		}
	}
	return last, it.Error()
}

// resume finds a position after start (and before upper) from which
// Pebble reads again. Keys of every prefix carry a big-endian 64-bit number
// in bytes 2..10 (a hash, or a deadline), so it probes start's number plus
// growing powers of two (starting at about a millionth of the number, as
// every failed probe costs Pebble a bit-flip search of the damaged block),
// refines the first readable probe by bisection, and, when the numbers run
// out, tries the next value of byte 1. It gives up (nil) after maxProbes.
func (w *walker) resume(start, upper []byte) []byte {
	const maxProbes = 64
	probes := 0
	try := func(k []byte) bool {
		probes++
		return w.readable(k, upper)
	}
	cur := start
	for probes < maxProbes {
		var pad [10]byte
		copy(pad[:], cur)
		key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(append([]byte(nil), pad[:2]...), n) }
		n := binary.BigEndian.Uint64(pad[2:10])
		lo, hi, found := n, uint64(0), false
		for a := max(0, bits.Len64(n)-20); a < 64 && probes < maxProbes; a++ {
			c := n + uint64(1)<<a
			if c < n {
				break
			}
			if upper != nil && bytes.Compare(key(c), upper) >= 0 {
				return nil
			}
			if try(key(c)) {
				hi, found = c, true
				break
			}
			lo = c
		}
		if found {
			for i := 0; i < 8 && hi-lo > 1 && probes < maxProbes; i++ {
				mid := lo + (hi-lo)/2
				if try(key(mid)) {
					hi = mid
				} else {
					lo = mid
				}
			}
			return key(hi)
		}
		if pad[1] == 0xff {
			return nil
		}
		cur = []byte{pad[0], pad[1] + 1}
		if upper != nil && bytes.Compare(cur, upper) >= 0 {
			return nil
		}
		if try(cur) {
			return cur
		}
	}
	return nil
}

// inSkipped reports whether k lies in a range a scan found unreadable.
func (w *walker) inSkipped(k []byte) bool {
	for _, r := range w.skipped {
		if bytes.Compare(k, r[0]) > 0 && (r[1] == nil || bytes.Compare(k, r[1]) < 0) {
			return true
		}
	}
	return false
}

func (w *walker) readable(from, upper []byte) bool {
	it, err := w.r.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: upper})
	if err != nil {
		return false
	}
	it.First()
	if it.Valid() {
		_, err = it.ValueAndErr()
	}
	if err == nil {
		err = it.Error()
	}
	_ = it.Close()
	return err == nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// trimFormat removes the format package's generic prefix from err.
func trimFormat(err error) string {
	return strings.TrimPrefix(err.Error(), format.ErrCorrupt.Error()+": ")
}

// fmtMs formats a Unix-millisecond deadline.
func fmtMs(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") + " (" + strconv.FormatInt(ms, 10) + " ms)"
}
