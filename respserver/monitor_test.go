package respserver_test

import (
	"strings"
	"sync"
	"testing"
)

// TestMonitorWhileOtherClientsWrite: a MONITOR connection gets +OK first,
// then one well-formed line per command of the other clients, interleaved
// with the replies to its own commands, while other clients run commands
// concurrently (run with -race).
func TestMonitorWhileOtherClientsWrite(t *testing.T) {
	ts := newTestServer(t)
	mon := dialRaw(t, ts.Addr)
	if got := mon.Do(t, "MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	const writers, sets, pings = 3, 100, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialRaw(t, ts.Addr)
			for i := 0; i < sets; i++ {
				if got := c.Do(t, "SET", "k", "v"); got != "+OK\r\n" {
					t.Errorf("SET = %q", got)
					return
				}
			}
		}()
	}
	// The monitor's own commands, while the others write.
	for i := 0; i < pings; i++ {
		if err := mon.Send("PING"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	lines, pongs := 0, 0
	for lines < writers*sets || pongs < pings {
		r, err := mon.Read()
		if err != nil {
			t.Fatalf("after %d monitor lines and %d PONGs: %v", lines, pongs, err)
		}
		s := string(r.Raw)
		switch {
		case s == "+PONG\r\n":
			pongs++
		case strings.HasPrefix(s, "+") && strings.Contains(s, `] "SET" "k" "v"`):
			lines++
		default:
			t.Fatalf("unexpected reply on the monitor connection: %q", s)
		}
	}
}
