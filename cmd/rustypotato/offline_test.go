package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/redis/go-redis/v9"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/recovery"
)

func TestReadOnlyCommands(t *testing.T) {
	dir := makeStore(t)
	before := snapshot(t, dir)

	run(t, nil, "inspect", dir).want(t, 0, "keys: 55 in 2 databases, 2 with a TTL", "value sizes:", "TTL horizon", "LSM level", "disk:")

	r := run(t, nil, "get", dir, "a")
	r.want(t, 0)
	if r.stdout != "1\n" {
		t.Fatalf("get a: %q", r.stdout)
	}
	r = run(t, nil, "get", dir, "bin")
	if r.code != 0 || r.stdout != string(binVal)+"\n" {
		t.Fatalf("get bin: %d %q", r.code, r.stdout)
	}
	r = run(t, nil, "get", dir, "x", "--db", "2")
	if r.code != 0 || r.stdout != "y\n" {
		t.Fatalf("get --db 2 x: %d %q %s", r.code, r.stdout, r.stderr)
	}
	run(t, nil, "get", dir, "ttl", "-v").want(t, 0, "type string, 4 bytes, expires "+time.UnixMilli(future).UTC().Format("2006-01-02"))
	run(t, nil, "get", dir, "nope").want(t, 1, "does not exist in database 0", "rustypotato scan")

	r = run(t, nil, "scan", dir, "--match", "k0*")
	r.want(t, 0)
	if got := strings.Fields(r.stdout); len(got) != 10 {
		t.Fatalf("scan --match k0*: %q", got)
	}
	r = run(t, nil, "scan", dir, "--limit", "5")
	if got := strings.Fields(r.stdout); r.code != 0 || len(got) != 5 {
		t.Fatalf("scan --limit 5: %q", got)
	}
	r = run(t, nil, "scan", dir, "--db", "2")
	if r.code != 0 || r.stdout != "\"\\xff\\x00\"\nx\n" && r.stdout != "x\n\"\\xff\\x00\"\n" {
		t.Fatalf("scan --db 2: %q", r.stdout)
	}
	r = run(t, nil, "scan", dir, "--type", "hash")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("scan --type hash: %q", r.stdout)
	}

	run(t, nil, "check", dir).want(t, 0, "55 records (2 expiring), 2 expiry-index entries", "no problems found")
	run(t, nil, "repair", dir).want(t, 0, "nothing to do")

	r = run(t, nil, "export", dir)
	r.want(t, 0, "exported 55 keys")
	if n := strings.Count(r.stdout, "\n"); n != 55 {
		t.Fatalf("export wrote %d lines", n)
	}
	if !strings.Contains(r.stdout, `{"db":0,"key":"bin","type":"string","value":{"base64":"`+base64.StdEncoding.EncodeToString(binVal)+`"}}`) ||
		!strings.Contains(r.stdout, `{"db":0,"key":"ttl","type":"string","value":"soon","expire_at_ms":`+strconv.FormatInt(future, 10)+`}`) {
		t.Fatalf("export output:\n%s", r.stdout)
	}

	if after := snapshot(t, dir); after != before {
		t.Fatalf("a read-only command changed the directory:\n%s\nvs\n%s", before, after)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := makeStore(t)
	for _, args := range [][]string{
		{"get", dir},
		{"get", dir, "a", "--db", "16"},
		{"get", dir, "a", "--db"},
		{"scan", dir, "--limit", "x"},
		{"scan", dir, "--nope"},
		{"check"},
		{"check", dir, "extra"},
		{"export", dir, "--format", "xml"},
		{"import", dir},
		{"backup", dir},
		{"repair"},
		{"compact"},
		{"inspect"},
		{"check", "--nope", dir},
	} {
		r := run(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	run(t, nil, "get", dir, "--help").want(t, 0, "USAGE", "--db")
	missing := filepath.Join(t.TempDir(), "missing")
	for _, cmd := range []string{"check", "inspect", "export", "repair", "compact"} {
		run(t, nil, cmd, missing).want(t, 1, "no data directory at "+missing)
	}
	run(t, nil, "get", missing, "k").want(t, 1, "no data directory")
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("a command created the missing directory")
	}
}

func TestBackupAndCompactCommands(t *testing.T) {
	dir := makeStore(t)
	want := dump(t, dir)
	dest := filepath.Join(t.TempDir(), "backup")
	run(t, nil, "backup", dir, dest).want(t, 0, "55 keys", "opens as a data directory")
	if got := dump(t, dest); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("backup differs:\n%v\n%v", got, want)
	}
	run(t, nil, "check", dest).want(t, 0, "no problems found")
	run(t, nil, "backup", dir, dest).want(t, 1, "already exists", "choose a new destination")

	// Overwrite keys in three flushed rounds, then compact: the old
	// versions go and the directory shrinks.
	s, err := kv.Open(dir, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		big := bytes.Repeat([]byte{byte('a' + round)}, 2048)
		if err := s.Update(func(tx *kv.Tx) error {
			for i := 0; i < 500; i++ {
				if _, err := tx.Set(5, []byte(fmt.Sprint("big", i)), big, kv.SetOptions{}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.Pebble().Flush()
	}
	if err := s.Update(func(tx *kv.Tx) error { return tx.FlushDB(5) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := run(t, nil, "compact", dir)
	r.want(t, 0, "compacted", "before", "after")
	if !strings.Contains(r.stdout, "(-") {
		t.Fatalf("compaction did not shrink the directory: %s", r.stdout)
	}
	if got := dump(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal("compaction changed the data")
	}
}

func TestExportImportRoundtrip(t *testing.T) {
	dir := makeStore(t)
	want := dump(t, dir)
	for _, f := range []string{"jsonl", "resp"} {
		t.Run(f, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "dump."+f)
			run(t, nil, "export", dir, "--format", f, "-o", file).want(t, 0, "exported 55 keys", file)
			dst := filepath.Join(t.TempDir(), "copy")
			wantOut := "imported 55 keys from 55 lines"
			if f == "resp" {
				wantOut = "applied 59 commands (57 key writes)" // 55 SET, 2 PEXPIREAT, 2 SELECT
			}
			run(t, nil, "import", dst, file).want(t, 0, wantOut)
			if got := dump(t, dst); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("roundtrip differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Importing from standard input works too, and again is idempotent.
			data, _ := os.ReadFile(file)
			run(t, data, "import", dst, "-").want(t, 0, wantOut)
			if got := dump(t, dst); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatal("second import changed the data")
			}
		})
	}
	// One database only.
	r := run(t, nil, "export", dir, "--db", "2")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, `"key":{"base64":"/wA="}`) {
		t.Fatalf("export --db 2: %d %s", r.code, r.stdout)
	}
}

func TestImportAOFAndProblems(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	aof := "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n" +
		"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n" +
		"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nv\r\n" +
		"*3\r\n$9\r\nPEXPIREAT\r\n$3\r\nfoo\r\n$13\r\n4102444800000\r\n"
	file := filepath.Join(t.TempDir(), "appendonly.aof")
	os.WriteFile(file, []byte(aof), 0o644)
	run(t, nil, "import", dir, file).want(t, 1, "skipped unknown commands: LPUSH (1)", "the rest was imported")
	if got := dump(t, dir); len(got) != 1 || got[0] != `1 "foo" 1 4102444800000 "bar"` {
		t.Fatalf("after AOF import: %v", got)
	}
	os.WriteFile(file, []byte("REDIS0011\xfa\x09redis-ver"), 0o644)
	run(t, nil, "import", dir, file).want(t, 1, "RDB preamble", "aof-use-rdb-preamble no")
	run(t, nil, "import", dir, filepath.Join(t.TempDir(), "none")).want(t, 1, "cannot read")
}

func TestImportInterruptedBySignal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	cmd := exec.Command(binary, "import", dir, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(stdin, `{"key":"k%d","value":"v"}`+"\n", i)
	}
	// The input stays open: the import waits for more when the signal
	// comes, and must stop anyway.
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("import did not stop after SIGINT")
	}
	stdin.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out.String(), "interrupted") || !strings.Contains(out.String(), "consistent") {
		t.Fatalf("interrupted import: %v\n%s", err, out.String())
	}
	run(t, nil, "check", dir).want(t, 0, "no problems found")
	if n := len(dump(t, dir)); n < 2000 || n > 2500 {
		t.Fatalf("%d keys after the interruption", n)
	}
}

func TestRESPExportLoadsIntoRedis(t *testing.T) {
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		t.Skip("redis-server or redis-cli not installed")
	}
	dir := makeStore(t)
	file := filepath.Join(t.TempDir(), "dump.resp")
	run(t, nil, "export", dir, "--format", "resp", "-o", file).want(t, 0, "exported 55 keys")

	port := freePort(t)
	srv := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	waitPing(t, port)
	in, _ := os.Open(file)
	defer in.Close()
	pipe := exec.Command(cli, "-p", strconv.Itoa(port), "--pipe")
	pipe.Stdin = in
	out, err := pipe.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "errors: 0, replies: 59") {
		// 55 SET + 2 PEXPIREAT + 2 SELECT
		t.Fatalf("redis-cli --pipe: %v\n%s", err, out)
	}
	ctx := context.Background()
	for db, keys := range map[int]map[string]string{
		0: {"a": "1", "bin": string(binVal), "ttl": "soon", "k07": "vvvvvvv"},
		2: {"x": "y", "\xff\x00": "z"},
	} {
		rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), DB: db})
		if n := rdb.DBSize(ctx).Val(); (db == 0 && n != 53) || (db == 2 && n != 2) {
			t.Errorf("db %d has %d keys", db, n)
		}
		for k, v := range keys {
			if got, err := rdb.Get(ctx, k).Result(); err != nil || got != v {
				t.Errorf("db %d GET %q = %q, %v", db, k, got, err)
			}
		}
		rdb.Close()
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	if got := rdb.PExpireTime(ctx, "ttl").Val(); got != time.Duration(future)*time.Millisecond {
		t.Errorf("PEXPIRETIME ttl = %d, want %d", got, future)
	}
	if got := rdb.PExpireTime(ctx, "a").Val(); got != -1 {
		t.Errorf("PEXPIRETIME a = %d", got)
	}
}

func TestCommandsFailFastOnLiveServer(t *testing.T) {
	dir := makeStore(t)
	port := freePort(t)
	srv := exec.Command(binary, "serve", "--port", strconv.Itoa(port), "--dir", dir)
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = srv.Wait(); close(exited) }()
	defer func() {
		srv.Process.Kill()
		<-exited
	}()
	waitPing(t, port)
	if _, err := os.Stat(filepath.Join(dir, recovery.DirtyMarker)); err != nil {
		t.Fatalf("no shutdown marker while serving: %v", err)
	}
	before := snapshot(t, dir)
	other := filepath.Join(t.TempDir(), "x")
	for _, args := range [][]string{
		{"check", dir},
		{"export", dir, "-o", filepath.Join(t.TempDir(), "out.jsonl")},
		{"repair", "--yes", dir},
		{"inspect", dir},
		{"get", dir, "a"},
		{"scan", dir},
		{"import", dir, filepath.Join("testdata", "none")},
		{"compact", dir},
		{"backup", dir, other},
	} {
		if args[0] == "import" {
			f := filepath.Join(t.TempDir(), "in.jsonl")
			os.WriteFile(f, []byte(`{"key":"new","value":"v"}`), 0o644)
			args[2] = f
		}
		r := run(t, nil, args...)
		r.want(t, 1, "data directory is in use by a running server (pid", "stop the server first")
		if r.took > 5*time.Second {
			t.Errorf("%v took %s", args, r.took)
		}
		if !ping(port) {
			t.Fatalf("the server stopped answering after %v", args)
		}
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Error("backup created its destination")
	}
	// Nothing in the directory changed (the server was idle).
	if after := snapshot(t, dir); after != before {
		t.Errorf("the directory changed:\n%s\nvs\n%s", before, after)
	}
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("server exit: %v\n%s", exitErr, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := os.Stat(filepath.Join(dir, recovery.DirtyMarker)); !os.IsNotExist(err) {
		t.Errorf("shutdown marker left after a clean shutdown: %v", err)
	}
	for _, s := range []string{"startup: open", "startup: expiry index", "startup report"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("server log lacks %q:\n%s", s, logs.String())
		}
	}
}

// damageAll writes a corrupt header, deletes an expiry-index entry and
// adds two stale ones.
func damageAll(t *testing.T, dir string) {
	rawUpdate(t, dir, func(b *pebble.Batch) {
		b.Set(format.AppendDataKey(nil, 0, []byte("k05")), format.AppendValue(nil, 0x7f, 0, []byte("vvvvv")), nil)
		b.Delete(format.AppendExpireKey(nil, 0, future, []byte("ttl")), nil)
		b.Set(format.AppendExpireKey(nil, 0, future, []byte("a")), nil, nil)
		b.Set(format.AppendExpireKey(nil, 2, 12345, []byte("ghost")), nil, nil)
	})
}

func TestCheckRepairDamagedDir(t *testing.T) {
	dir := makeStore(t)
	want := dump(t, dir)
	damageAll(t, dir)
	r := run(t, nil, "check", dir)
	r.want(t, 1, "5 problems",
		"bad-value db=0 key=k05: value does not decode: unknown value type 127",
		"missing-expiry db=0 key=ttl",
		"stale-expiry db=0 key=a", "the key has no TTL",
		"stale-expiry db=2 key=ghost", "the key does not exist",
		"count db=0",
		"rustypotato repair --yes "+dir)
	before := snapshot(t, dir)
	run(t, nil, "repair", dir).want(t, 1, "would apply 5 changes", "quarantine bad-value", "nothing was changed (dry run)")
	if snapshot(t, dir) != before {
		t.Fatal("a dry run changed the directory")
	}
	r = run(t, nil, "repair", "--yes", dir)
	r.want(t, 0, "applied 5 changes", "moved 1 records into "+filepath.Join(dir, "quarantine-"), "finds no problems")
	q, _ := filepath.Glob(filepath.Join(dir, "quarantine-*.jsonl"))
	if len(q) != 1 {
		t.Fatalf("quarantine files %v", q)
	}
	data, _ := os.ReadFile(q[0])
	rawKey := base64.StdEncoding.EncodeToString(format.AppendDataKey(nil, 0, []byte("k05")))
	if !strings.Contains(string(data), `"raw_key":"`+rawKey+`"`) || !strings.Contains(string(data), "unknown value type 127") {
		t.Fatalf("quarantine file:\n%s", data)
	}
	run(t, nil, "check", dir).want(t, 0, "no problems found")
	run(t, nil, "repair", "--yes", dir).want(t, 0, "nothing to do")
	// Everything but the quarantined key is intact.
	var wantAfter []string
	for _, l := range want {
		if !strings.HasPrefix(l, `0 "k05" `) {
			wantAfter = append(wantAfter, l)
		}
	}
	if got := dump(t, dir); strings.Join(got, "\n") != strings.Join(wantAfter, "\n") {
		t.Fatalf("data after repair:\n%v", got)
	}
}

func TestCheckRepairEachDamage(t *testing.T) {
	for name, tc := range map[string]struct {
		damage func(b *pebble.Batch)
		report string
	}{
		"corrupt header": {func(b *pebble.Batch) {
			b.Set(format.AppendDataKey(nil, 2, []byte("x")), []byte{9, 0, 1}, nil)
		}, "bad-value db=2 key=x: value does not decode: value of 3 bytes is shorter than its header"},
		"missing expiry entry": {func(b *pebble.Batch) {
			b.Delete(format.AppendExpireKey(nil, 2, future+1, []byte{0xff, 0}), nil)
		}, `missing-expiry db=2 key="\xff\x00"`},
		"stale expiry entry": {func(b *pebble.Batch) {
			b.Set(format.AppendExpireKey(nil, 0, future+5, []byte("ttl")), nil, nil)
		}, "stale-expiry db=0 key=ttl: index entry for"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := makeStore(t)
			rawUpdate(t, dir, tc.damage)
			run(t, nil, "check", dir).want(t, 1, tc.report)
			run(t, nil, "repair", "--yes", dir).want(t, 0, "finds no problems")
			run(t, nil, "check", dir).want(t, 0, "no problems found")
		})
	}
}

// TestSSTableCorruption documents what happens to a flipped sstable byte:
// check reports the unreadable block with its file and keeps checking the
// rest; repair fixes the other problems, says it cannot fix the damage and
// advises restoring a backup; a second check still reports the damaged file
// (exit 1). Reading commands fail with a message instead of crashing.
func TestSSTableCorruption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := kv.Open(dir, &kv.Options{ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *kv.Tx) error {
		for i := 0; i < 5000; i++ {
			if _, err := tx.Set(0, []byte(fmt.Sprintf("key%05d", i)), []byte(fmt.Sprintf("value-%d-%s", i*7919, strings.Repeat("p", 40))), kv.SetOptions{}); err != nil {
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
	s.Close()
	// Plus a logical problem repair can fix.
	rawUpdate(t, dir, func(b *pebble.Batch) { b.Set(format.CountKey(3), format.EncodeCount(9), nil) })
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) != 1 {
		t.Fatalf("sstables: %v", ssts)
	}
	b, _ := os.ReadFile(ssts[0])
	for i := len(b) / 2; i < len(b)/2+8; i++ {
		b[i] ^= 0xff
	}
	os.WriteFile(ssts[0], b, 0o644)
	name := filepath.Base(ssts[0])

	run(t, nil, "check", dir).want(t, 1, "unreadable file="+filepath.Join(dir, name), "checksum mismatch",
		"not verified (unreadable)", "count db=3", "cannot be fixed by repair")
	run(t, nil, "repair", "--yes", dir).want(t, 1, "applied 1 changes", "cannot fix 1 problems", "backup", "still finds 1 problems")
	r := run(t, nil, "check", dir)
	r.want(t, 1, "1 problems", "unreadable file=")
	if strings.Contains(r.stdout, "count db=3") {
		t.Fatal("the fixable problem came back")
	}
	run(t, nil, "export", dir, "-o", filepath.Join(t.TempDir(), "x")).want(t, 1, "rustypotato check "+dir)
	run(t, nil, "scan", dir).want(t, 1, "rustypotato check "+dir)
}

func TestDamagedManifest(t *testing.T) {
	dir := makeStore(t)
	ms, _ := filepath.Glob(filepath.Join(dir, "marker.manifest.*"))
	if len(ms) != 1 {
		t.Fatalf("manifest markers %v", ms)
	}
	manifest := filepath.Join(dir, ms[0][strings.LastIndex(ms[0], "MANIFEST-"):])
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 20 && i < len(b); i++ {
		b[i] ^= 0xff
	}
	os.WriteFile(manifest, b, 0o644)
	for _, cmd := range []string{"check", "repair", "export", "inspect"} {
		run(t, nil, cmd, dir).want(t, 1, "Pebble cannot open the data directory", "restore it from a backup")
	}
}
