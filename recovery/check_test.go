package recovery

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

func TestCheckCleanStore(t *testing.T) {
	dir := buildStore(t, 300)
	// SWAPDB moves database 3's data to logical database 7.
	s, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *kv.Tx) error { return tx.SwapDB(3, 7) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var phases []string
	f, err := CheckContext(t.Context(), dir, &Options{Progress: func(phase string, done, total int64) {
		if len(phases) == 0 || phases[len(phases)-1] != phase {
			phases = append(phases, phase)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Clean() {
		t.Fatalf("clean store has findings: %v", f.Problems)
	}
	if f.Records != 302 || f.Expiring != 101 || f.IndexEntries != 101 || f.FormatVersion != 1 {
		t.Fatalf("records %d expiring %d index %d version %d", f.Records, f.Expiring, f.IndexEntries, f.FormatVersion)
	}
	if strings.Join(phases, ",") != "metadata,records,expiry index,other records" {
		t.Fatalf("progress phases %v", phases)
	}
}

func TestCheckEmptyAndMissing(t *testing.T) {
	if _, err := Check(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, kv.ErrNotExist) {
		t.Fatalf("missing dir: %v", err)
	}
	dir := t.TempDir()
	s, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, err := Check(dir)
	if err != nil || !f.Clean() {
		t.Fatalf("empty store: %v %v", err, f.Problems)
	}
}

func TestCheckLocked(t *testing.T) {
	dir := buildStore(t, 10)
	s, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, fn := range map[string]func() error{
		"check":  func() error { _, err := Check(dir); return err },
		"repair": func() error { _, err := Repair(dir, true); return err },
		"export": func() error { _, err := Export(t.Context(), dir, &bytes.Buffer{}, nil); return err },
		"import": func() error {
			_, err := Import(t.Context(), dir, strings.NewReader(`{"key":"a","value":"b"}`), nil)
			return err
		},
		"compact": func() error { _, err := Compact(t.Context(), dir, nil); return err },
		"backup":  func() error { _, err := Backup(t.Context(), dir, filepath.Join(t.TempDir(), "b"), nil); return err },
		"inspect": func() error { _, err := Inspect(t.Context(), dir, nil); return err },
	} {
		if err := fn(); !errors.Is(err, kv.ErrLocked) || !strings.Contains(err.Error(), "in use by a running server") {
			t.Errorf("%s on a locked dir: %v", name, err)
		}
	}
	// The holder still works.
	if err := s.Update(func(tx *kv.Tx) error { _, err := tx.Set(0, []byte("x"), []byte("y"), kv.SetOptions{}); return err }); err != nil {
		t.Fatal(err)
	}
}

// damage writes one instance of every logical problem into dir.
func damage(t *testing.T, dir string) {
	rawUpdate(t, dir, func(b *pebble.Batch) {
		// A value with an unknown type byte.
		b.Set(format.AppendDataKey(nil, 0, []byte("k00001")), format.AppendValue(nil, 9, 0, []byte("garbage")), nil)
		// A data key whose hash does not match its key.
		bad := format.AppendDataKey(nil, 0, []byte("hashless"))
		bad[5] ^= 0xff
		b.Set(bad, format.AppendValue(nil, format.TypeString, 0, []byte("v")), nil)
		// k00003 expires at future+3: delete its index entry (missing).
		b.Delete(format.AppendExpireKey(nil, 0, future+3, []byte("k00003")), nil)
		// A stale entry for a key without TTL and one for a missing key.
		b.Set(format.AppendExpireKey(nil, 0, future, []byte("k00002")), nil, nil)
		b.Set(format.AppendExpireKey(nil, 0, future, []byte("ghost")), nil, nil)
		// A record under the reserved prefix.
		b.Set([]byte{format.PrefixSub, 0, 'x'}, []byte("sub"), nil)
		// A wrong count for database 5.
		b.Set(format.CountKey(5), format.EncodeCount(7), nil)
	})
}

func TestCheckAndRepairLogicalDamage(t *testing.T) {
	dir := buildStore(t, 200)
	before := dump(t, dir)
	damage(t, dir)
	f, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Kind]int{KindBadValue: 1, KindBadKey: 1, KindMissingExpiry: 1, KindStaleExpiry: 2, KindUnknownRecord: 1, KindCount: 2}
	got := kinds(f)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: got %d findings, want %d (all: %v)", k, got[k], n, f.Problems)
		}
	}
	if len(f.Problems) != 8 {
		t.Errorf("got %d findings, want 8: %v", len(f.Problems), f.Problems)
	}
	for _, p := range f.Problems {
		if p.Kind == KindBadValue && (string(p.Key) != "k00001" || p.DB != 0 || !strings.Contains(p.Detail, "unknown value type 9")) {
			t.Errorf("bad-value finding: %v", p)
		}
		if p.Kind == KindMissingExpiry && string(p.Key) != "k00003" {
			t.Errorf("missing-expiry finding: %v", p)
		}
		if p.Kind == KindCount && p.DB == 5 && !strings.Contains(p.Detail, "recorded key count 7, found 1") {
			t.Errorf("count finding: %v", p)
		}
	}

	// A dry run changes nothing.
	plan, err := Repair(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Applied || len(plan.Actions) != 8 || len(plan.Unfixable) != 0 || plan.Quarantine != "" {
		t.Fatalf("dry run plan: applied %v, %d actions, %d unfixable, %q", plan.Applied, len(plan.Actions), len(plan.Unfixable), plan.Quarantine)
	}
	if f2, _ := Check(dir); len(f2.Problems) != 8 {
		t.Fatalf("dry run changed the store: %v", f2.Problems)
	}

	plan, err = Repair(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Applied || plan.After == nil || !plan.After.Clean() {
		t.Fatalf("repair: applied %v after %+v", plan.Applied, plan.After)
	}
	if plan.Quarantined != 3 || filepath.Dir(plan.Quarantine) != dir || !strings.HasPrefix(filepath.Base(plan.Quarantine), "quarantine-") {
		t.Fatalf("quarantine %q with %d records", plan.Quarantine, plan.Quarantined)
	}
	qf, err := os.Open(plan.Quarantine)
	if err != nil {
		t.Fatal(err)
	}
	defer qf.Close()
	var recs []QuarantineRecord
	sc := bufio.NewScanner(qf)
	for sc.Scan() {
		var r QuarantineRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("quarantine line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("quarantine has %d lines", len(recs))
	}
	foundBad := false
	for _, r := range recs {
		if bytes.Equal(r.RawKey, format.AppendDataKey(nil, 0, []byte("k00001"))) {
			foundBad = true
			if !bytes.Equal(r.RawValue, format.AppendValue(nil, 9, 0, []byte("garbage"))) || r.Reason == "" || r.Kind != KindBadValue {
				t.Errorf("quarantined record %+v", r)
			}
		}
	}
	if !foundBad {
		t.Errorf("k00001 not in the quarantine file: %+v", recs)
	}

	// Every good key survived; k00001 is gone (quarantined).
	after := dump(t, dir)
	var wantAfter []string
	for _, l := range before {
		if !strings.HasPrefix(l, `0 "k00001" `) {
			wantAfter = append(wantAfter, l)
		}
	}
	if strings.Join(after, "\n") != strings.Join(wantAfter, "\n") {
		t.Fatalf("records after repair differ:\n got %d\nwant %d", len(after), len(wantAfter))
	}
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountRecords(5); n != 1 {
		t.Errorf("db 5 count %d after repair", n)
	}
	if n, _ := s.CountRecords(0); n != 199 {
		t.Errorf("db 0 count %d after repair", n)
	}
	s.Close()

	// Idempotent: a second repair has nothing to do.
	plan, err = Repair(dir, true)
	if err != nil || len(plan.Actions) != 0 || plan.Applied || plan.Quarantine != "" {
		t.Fatalf("second repair: %v %+v", err, plan)
	}
}

func TestRepairDBMapAndVersion(t *testing.T) {
	dir := buildStore(t, 20)
	rawUpdate(t, dir, func(b *pebble.Batch) {
		m := format.IdentityDBMap()
		m[3], m[4] = 5, 5 // 4 is missing, 5 twice
		b.Set(format.KeyDBMap, m[:], nil)
	})
	if _, err := kv.Open(dir, &kv.Options{ReadOnly: true}); err == nil {
		t.Fatal("a store with a bad map opened")
	}
	rawUpdate(t, dir, func(b *pebble.Batch) { b.Delete(format.KeyVersion, nil) })
	f, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k := kinds(f); k[KindDBMap] != 1 || k[KindVersion] != 1 || len(f.Problems) != 2 {
		t.Fatalf("findings: %v", f.Problems)
	}
	plan, err := Repair(dir, true)
	if err != nil || !plan.After.Clean() {
		t.Fatalf("repair: %v %+v", err, plan.After)
	}
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Logical 3 keeps physical 5; logical 4 and 5 get the unused physical
	// 3 and 4, so physical 3's binary key is now in logical db 4.
	err = s.View(func(tx *kv.Tx) error {
		v, ok, err := tx.Get(4, []byte{0xff, 0x00, 'b'})
		if err != nil || !ok || !bytes.Equal(v, []byte{0, 1, 0xfe, 0xff}) {
			t.Errorf("db 4 binary key: %q %v %v", v, ok, err)
		}
		_, ok, _ = tx.Get(3, []byte("empty"))
		if !ok {
			t.Errorf("db 3 lost the key of physical db 5")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckNewerFormat(t *testing.T) {
	dir := buildStore(t, 5)
	rawUpdate(t, dir, func(b *pebble.Batch) { b.Set(format.KeyVersion, []byte("99"), nil) })
	f, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != 1 || f.Problems[0].Kind != KindVersion || f.Problems[0].Fixable() || !strings.Contains(f.Problems[0].Detail, "upgrade") {
		t.Fatalf("findings: %v", f.Problems)
	}
	if _, err := Repair(dir, true); !errors.Is(err, ErrUnfixable) {
		t.Fatalf("repair of a newer format: %v", err)
	}
}

func TestCheckSSTableCorruption(t *testing.T) {
	dir := buildStore(t, 5000)
	flushStore(t, dir)
	// A logical problem elsewhere, still found and fixed.
	rawUpdate(t, dir, func(b *pebble.Batch) {
		b.Set(format.AppendDataKey(nil, 5, []byte("badtype")), format.AppendValue(nil, 0, 0, nil), nil)
	})
	name := flipSSTable(t, dir)
	f, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	k := kinds(f)
	if k[KindUnreadable] < 1 || k[KindBadValue] != 1 {
		t.Fatalf("findings: %v", f.Problems)
	}
	for _, p := range f.Problems {
		if p.Kind == KindUnreadable && (filepath.Base(p.File) != name || !strings.Contains(p.Detail, "checksum")) {
			t.Errorf("unreadable finding: %+v (damaged %s)", p, name)
		}
		if p.Kind == KindCount && p.DB == 0 {
			t.Errorf("count of the damaged database was compared: %v", p)
		}
	}
	if len(f.Unverified) == 0 {
		t.Fatal("no unverified range reported")
	}
	// The walk resumed after the damaged block: most records were read.
	if f.Records < 4000 {
		t.Fatalf("only %d records read around the damage", f.Records)
	}
	plan, err := Repair(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Unfixable) == 0 || len(plan.Advice) == 0 || !strings.Contains(plan.Advice[0], "backup") {
		t.Fatalf("plan: unfixable %v advice %v", plan.Unfixable, plan.Advice)
	}
	if !plan.Applied || plan.Quarantined != 1 {
		t.Fatalf("the fixable problem was not fixed: %+v", plan)
	}
	// The damage is still there, and only it.
	if plan.After == nil || plan.After.Count(KindUnreadable) == 0 || plan.After.Count(KindBadValue) != 0 {
		t.Fatalf("after repair: %v", plan.After)
	}
}
