package crashbench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// These tests drive the whole harness (process start, preload, writers,
// SIGKILL, restart, verification) against redis-server; they are skipped
// when it is not installed. Building RustyPotato would take too long for a
// unit test: set RUSTYPOTATO_BIN to a built binary to run it against that
// too.

func needRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	return bin
}

func quickConfig() *Config {
	cfg := &Config{Writers: 4, Pipeline: 4, KillMin: 50 * time.Millisecond, KillMax: 150 * time.Millisecond, Seed: 7}
	if err := cfg.setDefaults(); err != nil {
		panic(err)
	}
	return cfg
}

func runQuick(t *testing.T, kind serverKind, cfg *Config, keys, cycles int) Result {
	t.Helper()
	dir := t.TempDir()
	res, err := runOne(context.Background(), cfg, kind, keys, cycles, dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cycles != cycles || len(res.Recovery) != cycles || res.Acked == 0 {
		t.Fatalf("cycles %d, %d recovery times, %d acked; want %d, %d, > 0", res.Cycles, len(res.Recovery), res.Acked, cycles, cycles)
	}
	wantChecked := cycles*cfg.Writers*(strKeysPerWriter+ctrKeysPerWriter) + (cycles-1)*min(preloadSample, keys) + keys
	if res.Checked != wantChecked {
		t.Fatalf("checked %d keys, want %d", res.Checked, wantChecked)
	}
	return res
}

func TestRedisEverysecKeepsAcknowledgedWrites(t *testing.T) {
	bin := needRedis(t)
	res := runQuick(t, redisServer(bin, "everysec", ""), quickConfig(), 2000, 2)
	if res.Lost != 0 {
		t.Fatalf("%d lost writes against Redis appendfsync everysec: %v", res.Lost, res.Violations)
	}
}

// Without an append-only file Redis forgets everything on SIGKILL: the
// harness must report it.
func TestLossIsDetected(t *testing.T) {
	bin := needRedis(t)
	amnesiac := serverKind{
		name: "Redis without persistence",
		argv: func(port int, dir string) []string {
			return []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
				"--appendonly", "no", "--save", "", "--daemonize", "no", "--logfile", ""}
		},
	}
	cfg := quickConfig()
	res, err := runOne(context.Background(), cfg, amnesiac, 100, 1, t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lost == 0 || len(res.Violations) == 0 {
		t.Fatalf("no loss reported after a restart that forgot %d acknowledged writes", res.Acked)
	}
}

func TestRustyPotatoBinary(t *testing.T) {
	bin := os.Getenv("RUSTYPOTATO_BIN")
	if bin == "" {
		t.Skip("RUSTYPOTATO_BIN not set")
	}
	bin, _ = filepath.Abs(bin)
	res := runQuick(t, rustyPotato(bin, "everysec"), quickConfig(), 2000, 2)
	if res.Lost != 0 {
		t.Fatalf("%d lost writes: %v", res.Lost, res.Violations)
	}
	if len(res.Open) != 2 {
		t.Fatalf("store open time parsed from %d of 2 restarts", len(res.Open))
	}
}
