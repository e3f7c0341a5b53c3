package recovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

func TestExportImportRoundtrip(t *testing.T) {
	dir := buildStore(t, 2500)
	want := dump(t, dir)
	for _, fmt := range []string{FormatJSONL, FormatRESP} {
		t.Run(fmt, func(t *testing.T) {
			var out bytes.Buffer
			st, err := Export(t.Context(), dir, &out, &ExportOptions{Format: fmt, DB: AllDBs})
			if err != nil {
				t.Fatal(err)
			}
			if st.Keys != 2502 || st.Bytes != int64(out.Len()) {
				t.Fatalf("export stats %+v (len %d)", st, out.Len())
			}
			dst := filepath.Join(t.TempDir(), "copy")
			ist, err := Import(t.Context(), dst, bytes.NewReader(out.Bytes()), &ImportOptions{Batch: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if ist.Format != fmt || ist.Failed != 0 || len(ist.Unknown) != 0 || ist.Batches < 3 {
				t.Fatalf("import stats %+v", ist)
			}
			got := dump(t, dst)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("roundtrip differs: %d vs %d records", len(got), len(want))
			}
			if f, err := Check(dst); err != nil || !f.Clean() {
				t.Fatalf("imported store: %v %v", err, f.Problems)
			}
		})
	}
}

func TestExportFormats(t *testing.T) {
	dir := buildStore(t, 0)
	var out bytes.Buffer
	if _, err := Export(t.Context(), dir, &out, &ExportOptions{DB: 3}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != `{"db":3,"key":{"base64":"/wBi"},"type":"string","value":{"base64":"AAH+/w=="}}`+"\n" {
		t.Fatalf("jsonl: %s", got)
	}
	out.Reset()
	if _, err := Export(t.Context(), dir, &out, &ExportOptions{DB: 5, Format: FormatRESP}); err != nil {
		t.Fatal(err)
	}
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*3\r\n$3\r\nSET\r\n$5\r\nempty\r\n$0\r\n\r\n*3\r\n$9\r\nPEXPIREAT\r\n$5\r\nempty\r\n$13\r\n"
	if !strings.HasPrefix(out.String(), want) {
		t.Fatalf("resp: %q", out.String())
	}
	if _, err := Export(t.Context(), dir, &out, &ExportOptions{Format: "xml"}); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestImportAOF(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	aof := strings.Join([]string{
		"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n",
		"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n",
		"*5\r\n$4\r\nMSET\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\ny\r\n",
		"*2\r\n$3\r\nDEL\r\n$1\r\nc\r\n",
		"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nb\r\n$13\r\n4102444800000\r\n",
		"*1\r\n$5\r\nMULTI\r\n",
		"*3\r\n$6\r\nAPPEND\r\n$1\r\nb\r\n$1\r\nz\r\n",
		"*1\r\n$4\r\nEXEC\r\n",
		"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nv\r\n",
		"*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n", // fails: not an integer
		"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n",
		"*5\r\n$3\r\nSET\r\n$1\r\nt\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\n4102444800000\r\n",
		"*1\r\n$5\r\nMULTI\r\n",
		"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\nv\r\n", // the input ends inside MULTI
	}, "")
	st, err := Import(t.Context(), dir, strings.NewReader(aof), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != FormatRESP || st.Unknown["lpush"] != 1 || st.Failed != 1 || st.Discarded != 2 || !strings.Contains(st.Errors[0], "INCR") {
		t.Fatalf("stats %+v", st)
	}
	got := dump(t, dir)
	want := []string{
		`0 "a" 1 0 "2"`,
		`0 "b" 1 4102444800000 "xz"`,
		`2 "t" 1 4102444800000 "v"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Import(t.Context(), dir, strings.NewReader("REDIS0009\xfa..."), nil); !errors.Is(err, ErrRDBPreamble) {
		t.Fatalf("rdb preamble: %v", err)
	}
}

func TestImportJSONLExpiredAndBad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	in := `{"db":1,"key":"live","type":"string","value":"v","expire_at_ms":4102444800000}
{"db":1,"key":"gone","type":"string","value":"v","expire_at_ms":1000}
not json
{"db":1,"key":"h","type":"hash","value":"v"}
{"db":1,"key":{"base64":"AP8="},"value":{"base64":"AAE="}}`
	st, err := Import(t.Context(), dir, strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != FormatJSONL || st.Keys != 2 || st.Expired != 1 || st.Failed != 2 || st.Commands != 5 {
		t.Fatalf("stats %+v", st)
	}
	got := strings.Join(dump(t, dir), "\n")
	if got != "1 \"\\x00\\xff\" 1 0 \"\\x00\\x01\"\n1 \"live\" 1 4102444800000 \"v\"" {
		t.Fatalf("got %s", got)
	}
}

func TestImportInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	var in bytes.Buffer
	for i := 0; i < 5000; i++ {
		in.WriteString(`{"key":"k` + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + `","value":"v"}` + "\n")
	}
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	st, err := Import(ctx, dir, &in, &ImportOptions{Batch: 100, Options: Options{Progress: func(string, int64, int64) {
		n++
		if n == 3 {
			cancel()
		}
	}}})
	if !errors.Is(err, ErrInterrupted) || st.Batches != 3 || st.Commands != 300 {
		t.Fatalf("interrupted import: %v %+v", err, st)
	}
	if f, err := Check(dir); err != nil || !f.Clean() {
		t.Fatalf("store after interruption: %v %v", err, f.Problems)
	}
}

func TestInspect(t *testing.T) {
	dir := buildStore(t, 300)
	inv, err := Inspect(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.DBs) != 3 || inv.Total.Keys != 302 || inv.Total.ByType["string"] != 302 || inv.Total.WithTTL != 101 {
		t.Fatalf("inventory %+v", inv)
	}
	if inv.EarliestExpiry != future || inv.LatestExpiry != future+297 {
		t.Fatalf("expiry horizon %d..%d", inv.EarliestExpiry, inv.LatestExpiry)
	}
	var hist int64
	for _, b := range inv.ValueSizes {
		hist += b.Count
	}
	if hist != 302 || inv.ValueSizes[0].Upper != 1 || inv.ValueSizes[0].Count != 1 {
		t.Fatalf("histogram %+v", inv.ValueSizes)
	}
	if inv.Disk.Total <= 0 || inv.Disk.WAL <= 0 || len(inv.LSM) != 7 || inv.PebbleMetrics == "" {
		t.Fatalf("disk %+v lsm %+v", inv.Disk, inv.LSM)
	}
}

func TestBackupAndCompact(t *testing.T) {
	dir := buildStore(t, 3000)
	want := dump(t, dir)
	dest := filepath.Join(t.TempDir(), "sub", "backup")
	st, err := Backup(t.Context(), dir, dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys != 3002 || st.Bytes <= 0 {
		t.Fatalf("backup stats %+v", st)
	}
	if got := dump(t, dest); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal("backup differs from the source")
	}
	if _, err := Backup(t.Context(), dir, dest, nil); !errors.Is(err, ErrDestExists) {
		t.Fatalf("backup over an existing dir: %v", err)
	}
	// The backup is a data directory a store opens for writing. Write
	// three versions of the same keys, each flushed into its own sstable,
	// so that compaction has old versions to drop.
	s, err := kv.Open(dest, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		val := bytes.Repeat([]byte{byte('a' + round)}, 1024)
		if err := s.Update(func(tx *kv.Tx) error {
			for i := 0; i < 1000; i++ {
				if _, err := tx.Set(7, []byte(fmt.Sprint("big", i)), val, kv.SetOptions{}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Pebble().Flush(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	cs, err := Compact(t.Context(), dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Before <= 0 || cs.After <= 0 || cs.After >= cs.Before {
		t.Fatalf("compact %+v", cs)
	}
	if f, err := Check(dest); err != nil || !f.Clean() || f.Records != 4002 {
		t.Fatalf("after compaction: %v %+v", err, f)
	}
	if _, err := Compact(t.Context(), filepath.Join(t.TempDir(), "none"), nil); !errors.Is(err, kv.ErrNotExist) {
		t.Fatalf("compact of nothing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "none")); !os.IsNotExist(err) {
		t.Fatal("compact created the directory")
	}
}
