package kv

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The child process of the SIGKILL crash tests (TestCrashKill*). The parent
// re-executes this test binary with -test.run=^TestCrashChild$ and the
// environment below; the child opens the store in the given directory and
// runs crashChildWriters writers until it is killed. Writer w performs
// operations n = 0, 1, 2, ... in order, one transaction each: operation n
// targets slot n%crashChildSlots, where slots 0..3 are SET of key
// "w<w>:s<slot>" to the value "w<w>:<cycle>:<n>" and slot 4 is INCR of
// "w<w>:c". After the store acknowledges an operation (Update returned nil),
// the writer queues the ack line "<w> <n>\n"; one goroutine writes the
// queued lines to file descriptor 3 (a pipe to the parent), one write per
// batch. The parent counts only the complete lines it read.

const (
	crashEnvDir   = "RUSTYPOTATO_CRASH_CHILD_DIR" // data directory; set only in the child
	crashEnvMode  = "RUSTYPOTATO_CRASH_CHILD_MODE"
	crashEnvCycle = "RUSTYPOTATO_CRASH_CHILD_CYCLE"

	crashChildWriters = 8
	crashChildSlots   = 5 // 4 SET keys and 1 counter per writer
	crashChildCounter = crashChildSlots - 1
)

func crashChildSetKey(w, slot int) string { return fmt.Sprintf("w%d:s%d", w, slot) }
func crashChildCounterKey(w int) string   { return fmt.Sprintf("w%d:c", w) }
func crashChildValue(w, cycle, n int) string {
	return fmt.Sprintf("w%d:%d:%d", w, cycle, n)
}

// crashChildOptions are the store options of the child and of the parent's
// verifying reopen: small memtables so that WAL rotations, recycled WAL
// files and flushes happen during a run of a few hundred milliseconds.
func crashChildOptions(mode Durability) *Options {
	return &Options{Durability: mode, MemTableBytes: 1 << 20, Logger: crashLogger()}
}

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("helper process of the SIGKILL crash tests; runs only when they start it")
	}
	die := func(code int, f string, a ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+f+"\n", a...)
		os.Exit(code)
	}
	mode, err := ParseDurability(os.Getenv(crashEnvMode))
	if err != nil {
		die(2, "%v", err)
	}
	cycle, err := strconv.Atoi(os.Getenv(crashEnvCycle))
	if err != nil {
		die(2, "cycle: %v", err)
	}
	ack := os.NewFile(3, "ack")
	s, err := Open(dir, crashChildOptions(mode))
	if err != nil {
		die(3, "open: %v", err)
	}

	type ackRec struct{ w, n int }
	acks := make(chan ackRec, 1<<16)
	go func() {
		buf := make([]byte, 0, 64<<10)
		for a := range acks {
			buf = strconv.AppendInt(buf[:0], int64(a.w), 10)
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(a.n), 10)
			buf = append(buf, '\n')
		drain:
			for len(buf) < 60<<10 {
				select {
				case a := <-acks:
					buf = strconv.AppendInt(buf, int64(a.w), 10)
					buf = append(buf, ' ')
					buf = strconv.AppendInt(buf, int64(a.n), 10)
					buf = append(buf, '\n')
				default:
					break drain
				}
			}
			if _, err := ack.Write(buf); err != nil {
				die(4, "write acks: %v", err)
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range crashChildWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ckey := []byte(crashChildCounterKey(w))
			for n := 0; ; n++ {
				slot := n % crashChildSlots
				err := s.Update(func(tx *Tx) error {
					if slot == crashChildCounter {
						_, err := tx.IncrBy(0, ckey, 1)
						return err
					}
					_, err := tx.Set(0, []byte(crashChildSetKey(w, slot)), []byte(crashChildValue(w, cycle, n)), SetOptions{})
					return err
				})
				if err != nil {
					die(5, "writer %d op %d: %v", w, n, err)
				}
				acks <- ackRec{w, n}
			}
		}()
	}
	// The parent kills the child within a second or so of its first ack;
	// a child still alive much later has lost its parent.
	time.Sleep(60 * time.Second)
	die(6, "not killed after 60s")
}
