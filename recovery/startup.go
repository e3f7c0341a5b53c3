package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// DirtyMarker is the file Startup creates in the data directory and
// MarkClean removes after a clean shutdown. Finding it at startup means the
// last run did not shut down cleanly.
const DirtyMarker = "rustypotato.running"

// FullReconcileMaxKeys is the largest store (in keys) that Startup fully
// reconciles after an unclean shutdown; larger stores are left to an
// offline 'rustypotato check', so that restart time stays bounded.
const FullReconcileMaxKeys = 100_000

// fullReconcileMax is FullReconcileMaxKeys; tests lower it.
var fullReconcileMax int64 = FullReconcileMaxKeys

// IndexSample is how many expiry-index entries per database Startup
// verifies against their records (the ones due first).
const IndexSample = 32

// Step is one timed step of Startup.
type Step struct {
	Name     string
	Duration time.Duration
	Detail   string
}

// Report is what Startup did.
type Report struct {
	Dir   string
	Steps []Step
	// UncleanShutdown: the dirty marker was found.
	UncleanShutdown bool
	// FormatVersion is the store's format version.
	FormatVersion int
	// Keys is the number of keys (records) in all databases.
	Keys int64
	// IndexSampled is the number of expiry-index entries verified;
	// IndexProblems what that found (the store still opens: the expirer
	// deletes stale entries itself; 'rustypotato repair' fixes the rest).
	IndexSampled  int
	IndexProblems []Finding
	// Reconciled reports whether a full reconcile ran; Fixed lists the
	// derived-data problems it fixed (expiry index, counts) and Unrepaired
	// the problems it left for 'rustypotato repair'.
	Reconciled bool
	Fixed      []Finding
	Unrepaired []Finding
	// Warm is what warming the hot tier loaded.
	Warm kv.WarmStats
	// Total is the time Startup took.
	Total time.Duration
}

// LogValue makes a Report loggable as one slog group.
func (r Report) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("dir", r.Dir),
		slog.Duration("total", r.Total),
		slog.Bool("unclean_shutdown", r.UncleanShutdown),
		slog.Int("format", r.FormatVersion),
		slog.Int64("keys", r.Keys),
		slog.Int("index_sampled", r.IndexSampled),
		slog.Int("index_problems", len(r.IndexProblems)),
		slog.Bool("reconciled", r.Reconciled),
		slog.Int("fixed", len(r.Fixed)),
		slog.Int("unrepaired", len(r.Unrepaired)),
		slog.Int("warm_keys", r.Warm.Keys),
		slog.Int64("warm_bytes", r.Warm.Bytes),
	}
	for _, s := range r.Steps {
		attrs = append(attrs, slog.Duration("step_"+strings.ReplaceAll(s.Name, " ", "_"), s.Duration))
	}
	return slog.GroupValue(attrs...)
}

// Startup opens the store in dir for a server: see the package
// documentation for its steps. opts are the store's options (nil: the
// defaults); warm bounds, in bytes, how much Startup loads into the hot tier
// (0: nothing). Each step is logged to opts.Logger with its duration. The
// errors are kv.Open's (kv.ErrLocked, kv.ErrFormatVersion, ...).
func Startup(dir string, opts *kv.Options, warm int64) (*kv.Store, Report, error) {
	o := opts.EnsureDefaults()
	log := o.Logger
	rep := Report{Dir: dir}
	begin := time.Now()
	step := func(name string, t0 time.Time, detail string) {
		d := time.Since(t0)
		rep.Steps = append(rep.Steps, Step{Name: name, Duration: d, Detail: detail})
		log.Info("startup: "+name, "duration", d.Round(time.Microsecond).String(), "detail", detail)
	}

	t0 := time.Now()
	// The marker and the reconcile work on the operating system's files.
	useMarker := !o.ReadOnly && o.FS == vfs.Default
	if useMarker {
		if _, err := os.Stat(filepath.Join(dir, DirtyMarker)); err == nil {
			rep.UncleanShutdown = true
		}
	}
	if rep.UncleanShutdown {
		// The reconcile runs inside kv.Open (Options.OnOpen), on the
		// store's own Pebble, before the expirer starts: no second open.
		o.OnOpen = func(db *pebble.DB, keys int64) error { return reconcile(db, dir, keys, o, &rep) }
		step("shutdown marker", t0, "the last run did not shut down cleanly")
	} else {
		step("shutdown marker", t0, "the last shutdown was clean (or this is the first start)")
	}

	t0 = time.Now()
	s, err := kv.Open(dir, o)
	if err != nil {
		log.Error("startup: cannot open the data directory", "dir", dir, "err", err)
		return nil, rep, err
	}
	step("open", t0, "Pebble opened, write-ahead log replayed")

	t0 = time.Now()
	rep.FormatVersion = readVersion(s.Pebble())
	for db := 0; db < format.NumDBs; db++ {
		n, _ := s.CountRecords(db)
		rep.Keys += n
	}
	step("format version", t0, fmt.Sprintf("format %d, %d keys", rep.FormatVersion, rep.Keys))

	t0 = time.Now()
	rep.IndexSampled, rep.IndexProblems = sampleIndex(s.Pebble())
	detail := fmt.Sprintf("%d entries verified", rep.IndexSampled)
	if len(rep.IndexProblems) > 0 {
		detail += fmt.Sprintf(", %d problems: run 'rustypotato check' while the server is stopped", len(rep.IndexProblems))
		for _, p := range rep.IndexProblems {
			log.Warn("startup: expiry index", "problem", p.String())
		}
	}
	step("expiry index", t0, detail)

	if useMarker {
		if err := markDirty(dir); err != nil {
			log.Warn("startup: cannot create the shutdown marker; an unclean shutdown will go unnoticed", "err", err)
		}
	}

	if warm > 0 {
		t0 = time.Now()
		ws, err := s.Warm(warm)
		rep.Warm = ws
		if err != nil {
			log.Warn("startup: warming the hot tier failed", "err", err)
		}
		step("warm hot tier", t0, fmt.Sprintf("%d keys, %d bytes", ws.Keys, ws.Bytes))
	}
	rep.Total = time.Since(begin)
	return s, rep, nil
}

// reconcile runs the full reconcile of a small store after an unclean
// shutdown, on the store's Pebble inside kv.Open (Options.OnOpen), before
// the expirer starts. It only fixes derived data; keys is the store's
// key count, which bounds the work.
func reconcile(db *pebble.DB, dir string, keys int64, o *kv.Options, rep *Report) error {
	t0 := time.Now()
	if keys > fullReconcileMax {
		d := time.Since(t0)
		detail := fmt.Sprintf("skipped: %d keys is more than %d; run 'rustypotato check' while the server is stopped", keys, fullReconcileMax)
		rep.Steps = append(rep.Steps, Step{Name: "reconcile", Duration: d, Detail: detail})
		o.Logger.Warn("startup: reconcile", "duration", d.Round(time.Microsecond).String(), "detail", detail)
		return nil
	}
	f, err := check(context.Background(), db, &Options{Now: o.Now})
	if err != nil {
		return err
	}
	rep.Reconciled = true
	var fixes []Action
	for _, p := range f.Problems {
		switch p.Kind {
		case KindMissingExpiry, KindStaleExpiry, KindCount:
			rep.Fixed = append(rep.Fixed, p)
			op := "write"
			if p.fix.op == fixDelete {
				op = "delete"
			}
			fixes = append(fixes, Action{Op: op, Finding: p})
		default:
			rep.Unrepaired = append(rep.Unrepaired, p)
		}
	}
	if len(fixes) > 0 {
		plan := Plan{Actions: fixes}
		if err := applyPlan(context.Background(), db, dir, &plan, (&Options{}).withDefaults()); err != nil {
			return err
		}
	}
	d := time.Since(t0)
	detail := fmt.Sprintf("%d records and %d expiry-index entries verified, %d derived-data problems fixed", f.Records, f.IndexEntries, len(rep.Fixed))
	rep.Steps = append(rep.Steps, Step{Name: "reconcile", Duration: d, Detail: detail})
	o.Logger.Info("startup: reconcile", "duration", d.Round(time.Microsecond).String(), "detail", detail)
	for _, p := range rep.Fixed {
		o.Logger.Warn("startup: reconcile fixed", "problem", p.String())
	}
	for _, p := range rep.Unrepaired {
		o.Logger.Error("startup: reconcile found a problem it does not fix; stop the server and run 'rustypotato repair'", "problem", p.String())
	}
	return nil
}

// readVersion returns the store's format version, 0 if unreadable.
func readVersion(db *pebble.DB) int {
	v, closer, err := db.Get(format.KeyVersion)
	if err != nil {
		return 0
	}
	defer closer.Close()
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0
	}
	return n
}

// sampleIndex verifies the first IndexSample expiry-index entries of each
// database against their records.
func sampleIndex(db *pebble.DB) (n int, problems []Finding) {
	w := &walker{ctx: context.Background(), o: (&Options{}).withDefaults(), unreadable: map[string]bool{}}
	var fatal error
	defer func() {
		problems = w.f.Problems
		if fatal != nil {
			// The store's Pebble logger treats a corrupt block as fatal.
			problems = append(problems, Finding{Kind: KindUnreadable, DB: -1, Detail: fatal.Error()})
		}
	}()
	defer kv.CatchFatal(&fatal)
	snap := db.NewSnapshot()
	defer snap.Close()
	w.r = snap
	for i := range w.logical {
		w.logical[i] = i
	}
	if v, closer, err := snap.Get(format.KeyDBMap); err == nil {
		if m, err := format.DecodeDBMap(v); err == nil {
			for l, p := range m {
				w.logical[p] = l
			}
		}
		closer.Close()
	}
	for phys := uint8(0); phys < format.NumDBs; phys++ {
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: format.ExpirePrefix(phys), UpperBound: format.ExpireEnd(phys)})
		if err != nil {
			w.readError(err, "the expiry index")
			continue
		}
		k := 0
		for ok := it.First(); ok && k < IndexSample; ok = it.Next() {
			w.index(it.Key(), nil)
			k++
		}
		if err := it.Error(); err != nil {
			w.readError(err, "the expiry index")
		}
		_ = it.Close()
		n += k
	}
	return n, nil
}

// markDirty creates the dirty marker and makes it durable.
func markDirty(dir string) error {
	path := filepath.Join(dir, DirtyMarker)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	syncDir(dir)
	return err
}

// MarkClean records that the store in dir was shut down cleanly (it
// removes the dirty marker). Call it after kv.Store.Close succeeded.
func MarkClean(dir string) error {
	err := os.Remove(filepath.Join(dir, DirtyMarker))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	syncDir(dir)
	return nil
}
