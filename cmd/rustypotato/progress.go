package main

// Progress reporting, and the helpers every offline subcommand shares:
// argument parsing, Ctrl-C handling and turning errors into messages that
// say what to do next.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/recovery"
)

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows the progress of a long operation on stderr: a redrawn bar
// on a terminal, otherwise a plain line every few seconds.
type progress struct {
	name string
	w    io.Writer
	tty  bool

	mu       sync.Mutex
	start    time.Time
	last     time.Time
	drawn    bool
	phase    string
	done     int64
	total    int64
	stopSpin chan struct{}
	spinDone chan struct{}
}

// Intervals between updates.
const (
	ttyRedraw   = 100 * time.Millisecond
	plainPeriod = 5 * time.Second
)

func newProgress(name string) *progress {
	now := time.Now()
	return &progress{name: name, w: os.Stderr, tty: isTerminal(os.Stderr), start: now, last: now}
}

// update is a recovery.Progress.
func (p *progress) update(phase string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := phase != p.phase
	p.phase, p.done, p.total = phase, done, total
	now := time.Now()
	if p.tty {
		if changed || now.Sub(p.last) >= ttyRedraw || (total > 0 && done >= total) {
			p.last = now
			fmt.Fprint(p.w, "\r\x1b[K"+p.line(true))
			p.drawn = true
		}
		return
	}
	if now.Sub(p.last) >= plainPeriod {
		p.last = now
		fmt.Fprintln(p.w, p.line(false))
	}
}

// line formats the current state.
func (p *progress) line(bar bool) string {
	elapsed := time.Since(p.start).Round(time.Second)
	switch {
	case p.total > 0:
		frac := min(float64(p.done)/float64(p.total), 1)
		s := fmt.Sprintf("%s: %s %d/%d (%.0f%%, %s)", p.name, p.phase, p.done, p.total, frac*100, elapsed)
		if bar {
			const width = 30
			n := int(frac * width)
			s = fmt.Sprintf("%s: %-13s [%s%s] %3.0f%% %d/%d %s", p.name, p.phase,
				strings.Repeat("#", n), strings.Repeat("-", width-n), frac*100, p.done, p.total, elapsed)
		}
		return s
	case p.done > 0:
		return fmt.Sprintf("%s: %s %d (%s)", p.name, p.phase, p.done, elapsed)
	}
	return fmt.Sprintf("%s: %s (%s)", p.name, p.phase, elapsed)
}

// spin keeps the display alive during a step that reports no progress.
func (p *progress) spin(phase string) {
	p.update(phase, 0, 0)
	p.stopSpin, p.spinDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.spinDone)
		t := time.NewTicker(ttyRedraw)
		defer t.Stop()
		for {
			select {
			case <-p.stopSpin:
				return
			case <-t.C:
				p.update(phase, 0, 0)
			}
		}
	}()
}

// finish clears the bar (on a terminal) and stops any spinner.
func (p *progress) finish() {
	if p.stopSpin != nil {
		close(p.stopSpin)
		<-p.spinDone
		p.stopSpin = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// interruptible returns a context canceled by Ctrl-C or SIGTERM.
func interruptible(c *cli.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
}

// errHelpShown: the command printed its help because of a trailing -h.
var errHelpShown = errors.New("help shown")

// positional returns the command's positional arguments (between min and
// max of them), first applying the flags that follow them: urfave/cli
// stops parsing flags at the first argument, and the documented syntax is
// 'rustypotato get DIR KEY --db 3'. "--" ends the flags.
func positional(c *cli.Context, minArgs, maxArgs int) ([]string, error) {
	var out []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			_ = cli.ShowSubcommandHelp(c)
			return nil, errHelpShown
		}
		var fl cli.Flag
		for _, f := range c.Command.Flags {
			for _, n := range f.Names() {
				if n == name {
					fl = f
				}
			}
		}
		if fl == nil {
			return nil, usageError(c, "flag provided but not defined: "+a)
		}
		if _, isBool := fl.(*cli.BoolFlag); isBool {
			if !hasVal {
				val = "true"
			}
		} else if !hasVal {
			if i+1 >= len(args) {
				return nil, usageError(c, "flag needs an argument: "+a)
			}
			i++
			val = args[i]
		}
		// Set the primary name: urfave/cli keeps one value per alias and
		// reads the primary one.
		if err := c.Set(fl.Names()[0], val); err != nil {
			return nil, usageError(c, fmt.Sprintf("invalid value %q for flag %s: %v", val, a, err))
		}
	}
	if len(out) < minArgs || len(out) > maxArgs {
		return nil, usageError(c, fmt.Sprintf("wrong number of arguments (%d)", len(out)))
	}
	return out, nil
}

// usageError is a usage error (exit code 2) that shows the syntax.
func usageError(c *cli.Context, msg string) error {
	return cli.Exit(fmt.Sprintf("usage error: %s\nusage: rustypotato %s %s\nrun 'rustypotato %s --help' for details",
		msg, c.Command.Name, c.Command.ArgsUsage, c.Command.Name), exitUsage)
}

// argsOrHelp wraps positional for actions: it turns errHelpShown into a
// clean exit.
func argsOrHelp(c *cli.Context, minArgs, maxArgs int) ([]string, bool, error) {
	args, err := positional(c, minArgs, maxArgs)
	if errors.Is(err, errHelpShown) {
		return nil, false, nil
	}
	return args, err == nil, err
}

// dbFlag validates --db.
func dbFlag(c *cli.Context, allowAll bool) (int, error) {
	db := c.Int("db")
	if (allowAll && db == recovery.AllDBs) || (db >= 0 && db < format.NumDBs) {
		return db, nil
	}
	return 0, usageError(c, fmt.Sprintf("--db %d is out of range (0 to %d)", db, format.NumDBs-1))
}

// failure turns an error of an offline command on dir into an exit error
// (code 1) whose message says what to do next.
func failure(err error, dir string) error {
	msg := err.Error()
	switch {
	case errors.Is(err, kv.ErrLocked):
		msg += ": stop the server first (for example 'redis-cli -p PORT shutdown'), then run this command again; nothing was changed"
	case errors.Is(err, kv.ErrNotExist):
		msg = fmt.Sprintf("no data directory at %s: check the path (a server creates one with 'rustypotato serve --dir %s')", dir, dir)
	case errors.Is(err, context.Canceled), errors.Is(err, recovery.ErrInterrupted):
		msg = "interrupted: " + msg + "; the data directory is consistent, run the command again to finish"
	case errors.Is(err, kv.ErrFormatVersion), errors.Is(err, recovery.ErrUnfixable):
		// The message already says to upgrade.
	case errors.Is(err, recovery.ErrCannotOpen) && errors.Is(err, format.ErrCorrupt):
		// The store's metadata does not decode; the message names the fix.
	case errors.Is(err, recovery.ErrCannotOpen):
		msg = firstLine(msg) + ": Pebble cannot open the data directory (a damaged MANIFEST or write-ahead log?), so check and repair cannot read it either: restore it from a backup (made with 'rustypotato backup')"
	case errors.Is(err, format.ErrCorrupt), errors.Is(err, kv.ErrPebbleFatal), pebble.IsCorruptionError(err):
		msg = firstLine(msg) + fmt.Sprintf(": the data directory is damaged; run 'rustypotato check %s' for the full list of problems", dir)
	}
	return cli.Exit(msg, exitFailure)
}

// openFailure is failure for the error of opening dir.
func openFailure(err error, dir string) error {
	if !errors.Is(err, kv.ErrLocked) && !errors.Is(err, kv.ErrNotExist) && !errors.Is(err, kv.ErrFormatVersion) {
		err = fmt.Errorf("%w: %w", recovery.ErrCannotOpen, err)
	}
	return failure(err, dir)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// humanBytes formats a byte count.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// roundDur rounds d for display.
func roundDur(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// onUsageError makes a flag parsing error of a subcommand a usage error
// (exit code 2).
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageError(c, err.Error())
}
