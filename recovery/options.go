package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rustypotato/rustypotato/kv"
)

// Progress receives the progress of a long operation: phase names the
// current step, done counts its units (records, keys, commands) and total
// is the expected number of units, 0 if unknown. It is called from the
// operation's goroutine, about every ProgressEvery units and at the end of
// each phase.
type Progress func(phase string, done, total int64)

// ProgressEvery is how many units pass between two Progress calls.
const ProgressEvery = 1024

// Options tune the offline operations. The zero value (or nil) is usable.
type Options struct {
	// Progress, if set, receives progress updates.
	Progress Progress
	// Logger receives Pebble's log lines. Default: they are discarded (the
	// operations report what matters in their results).
	Logger *slog.Logger
	// Now is the clock used to tell expired keys. Default: time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() *Options {
	var n Options
	if o != nil {
		n = *o
	}
	if n.Progress == nil {
		n.Progress = func(string, int64, int64) {}
	}
	if n.Logger == nil {
		n.Logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	if n.Now == nil {
		n.Now = time.Now
	}
	return &n
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// canceled returns ctx's error if it is done.
func canceled(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}

// ErrCannotOpen wraps the errors of opening a data directory other than
// kv.ErrLocked, kv.ErrNotExist and kv.ErrFormatVersion: Pebble cannot open
// it (a damaged MANIFEST or write-ahead log, an unreadable file), or the
// store's metadata does not decode (that error wraps format.ErrCorrupt).
var ErrCannotOpen = errors.New("recovery: cannot open the data directory")

// openError wraps err with ErrCannotOpen when it is not one of the
// documented open errors.
func openError(err error) error {
	if errors.Is(err, kv.ErrLocked) || errors.Is(err, kv.ErrNotExist) || errors.Is(err, kv.ErrFormatVersion) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCannotOpen, err)
}
