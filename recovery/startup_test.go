package recovery

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

func stepNames(r Report) string {
	var n []string
	for _, s := range r.Steps {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

func TestStartupCleanAndUnclean(t *testing.T) {
	dir := buildStore(t, 100)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s, rep, err := Startup(dir, &kv.Options{Logger: logger, ExpireInterval: time.Hour}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.UncleanShutdown || rep.Reconciled || rep.Keys != 102 || rep.FormatVersion != 1 {
		t.Fatalf("report %+v", rep)
	}
	if got := stepNames(rep); got != "shutdown marker,open,format version,expiry index,warm hot tier" {
		t.Fatalf("steps %s", got)
	}
	if rep.IndexSampled != IndexSample+1 || len(rep.IndexProblems) != 0 {
		t.Fatalf("index sample %d %v", rep.IndexSampled, rep.IndexProblems)
	}
	// The store's own background warm-up may have cached keys first.
	if rep.Warm.Bytes > 1<<20 {
		t.Fatalf("warm %+v", rep.Warm)
	}
	for _, want := range []string{"startup: open", "startup: expiry index", "duration="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, DirtyMarker)); err != nil {
		t.Fatalf("no dirty marker while running: %v", err)
	}
	// A second Startup while the first holds the directory fails at once.
	if _, _, err := Startup(dir, nil, 0); !strings.Contains(err.Error(), "in use by a running server") {
		t.Fatalf("second startup: %v", err)
	}
	s.Close()
	// No MarkClean: the next start sees an unclean shutdown. Damage the
	// derived data meanwhile.
	rawUpdate(t, dir, func(b *pebble.Batch) {
		b.Delete(format.AppendExpireKey(nil, 0, future+3, []byte("k00003")), nil)
		b.Set(format.AppendExpireKey(nil, 0, future, []byte("ghost")), nil, nil)
		b.Set(format.CountKey(0), format.EncodeCount(1000), nil)
		b.Set(format.AppendDataKey(nil, 0, []byte("bad")), []byte{1}, nil)
	})
	s, rep, err = Startup(dir, &kv.Options{Logger: logger, ExpireInterval: time.Hour}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.UncleanShutdown || !rep.Reconciled || len(rep.Fixed) != 3 || len(rep.Unrepaired) != 1 || rep.Unrepaired[0].Kind != KindBadValue {
		t.Fatalf("report: unclean %v reconciled %v fixed %v unrepaired %v", rep.UncleanShutdown, rep.Reconciled, rep.Fixed, rep.Unrepaired)
	}
	if rep.Keys != 102 {
		t.Fatalf("keys after reconcile %d", rep.Keys)
	}
	s.Close()
	if err := MarkClean(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, DirtyMarker)); !os.IsNotExist(err) {
		t.Fatalf("marker after MarkClean: %v", err)
	}
	f, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Only the undecodable record remains, for repair.
	if len(f.Problems) != 1 || f.Problems[0].Kind != KindBadValue {
		t.Fatalf("after reconcile: %v", f.Problems)
	}
	// A clean start does not reconcile.
	s, rep, err = Startup(dir, nil, 0)
	if err != nil || rep.Reconciled || rep.UncleanShutdown {
		t.Fatalf("clean start: %v %+v", err, rep)
	}
	s.Close()
}

func TestStartupSkipsLargeReconcile(t *testing.T) {
	old := fullReconcileMax
	fullReconcileMax = 50
	defer func() { fullReconcileMax = old }()
	dir := buildStore(t, 100)
	if err := markDirty(dir); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, dir, func(b *pebble.Batch) { b.Set(format.CountKey(0), format.EncodeCount(1000), nil) })
	s, rep, err := Startup(dir, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !rep.UncleanShutdown || rep.Reconciled {
		t.Fatalf("report %+v", rep)
	}
	found := false
	for _, st := range rep.Steps {
		if st.Name == "reconcile" && strings.Contains(st.Detail, "skipped") && strings.Contains(st.Detail, "rustypotato check") {
			found = true
		}
	}
	if !found {
		t.Fatalf("steps %+v", rep.Steps)
	}
}

func TestStartupIndexSampleFindsStale(t *testing.T) {
	dir := buildStore(t, 10)
	rawUpdate(t, dir, func(b *pebble.Batch) {
		// Due before every real entry, so the sample sees it.
		b.Set(format.AppendExpireKey(nil, 0, 1, []byte("ghost")), nil, nil)
	})
	s, rep, err := Startup(dir, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(rep.IndexProblems) != 1 || rep.IndexProblems[0].Kind != KindStaleExpiry {
		t.Fatalf("index problems %v", rep.IndexProblems)
	}
}

func TestStartupNewerFormat(t *testing.T) {
	dir := buildStore(t, 1)
	rawUpdate(t, dir, func(b *pebble.Batch) { b.Set(format.KeyVersion, []byte("2"), nil) })
	if err := markDirty(dir); err != nil {
		t.Fatal(err)
	}
	_, _, err := Startup(dir, nil, 0)
	if err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("startup of a newer format: %v", err)
	}
}

func TestStartupWarmIsBounded(t *testing.T) {
	dir := buildStore(t, 1000)
	// Read-only: no background warm-up competes with Startup's.
	s, rep, err := Startup(dir, &kv.Options{ReadOnly: true}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if rep.Warm.Keys != 1002 || rep.Warm.Bytes <= 0 {
		t.Fatalf("full warm %+v", rep.Warm)
	}
	full := rep.Warm.Bytes
	s, rep, err = Startup(dir, &kv.Options{ReadOnly: true}, full/4)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if rep.Warm.Bytes > full/4 || rep.Warm.Keys < 200 || rep.Warm.Keys > 300 {
		t.Fatalf("bounded warm %+v (full %d)", rep.Warm, full)
	}
}
