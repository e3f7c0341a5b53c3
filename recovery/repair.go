package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/kv"
)

// RepairBatch is how many changes Repair commits per Pebble batch.
const RepairBatch = 1000

// Action is one change Repair makes (or, without apply, would make).
type Action struct {
	// Op is "quarantine" (copy the record to the quarantine file and
	// delete it), "write" or "delete".
	Op string
	// Finding is the problem the change fixes.
	Finding Finding
}

// String describes a, e.g. `quarantine bad-value db=0 key=k: ...`.
func (a Action) String() string { return a.Op + " " + a.Finding.String() }

// Plan is what Repair did or would do.
type Plan struct {
	// Findings is what the check before the repair found.
	Findings Findings
	// Actions are the changes, in the order they are applied.
	Actions []Action
	// Unfixable lists the problems Repair cannot fix; Advice says what to
	// do about them.
	Unfixable []Finding
	Advice    []string
	// Applied reports whether the actions were applied.
	Applied bool
	// Quarantine is the path of the quarantine file written, "" if none;
	// Quarantined is the number of records moved into it.
	Quarantine  string
	Quarantined int
	// After is a fresh check made after applying the actions (nil if
	// nothing was applied).
	After *Findings
}

// QuarantineRecord is one line of a quarantine file.
type QuarantineRecord struct {
	RawKey   []byte `json:"raw_key"`   // the Pebble key (base64)
	RawValue []byte `json:"raw_value"` // the Pebble value (base64)
	Kind     Kind   `json:"kind"`
	DB       int    `json:"db"` // logical database, -1 if unknown
	Reason   string `json:"reason"`
	Time     string `json:"time"` // when it was quarantined (RFC 3339)
}

// ErrUnfixable is returned (wrapped) by Repair when the store has a format
// this release cannot repair.
var ErrUnfixable = errors.New("recovery: the store cannot be repaired by this release")

// Repair checks the store in dir and fixes what it can: see the package
// documentation. With apply false it opens the store read-only, changes
// nothing and returns the plan. It fails at once with kv.ErrLocked if a
// server holds dir.
func Repair(dir string, apply bool) (Plan, error) {
	return RepairContext(context.Background(), dir, apply, nil)
}

// RepairContext is Repair with cancellation and options. Changes are
// committed in batches of RepairBatch; a canceled repair leaves a
// consistent store on which Repair can simply run again.
func RepairContext(ctx context.Context, dir string, apply bool, o *Options) (Plan, error) {
	o = o.withDefaults()
	raw, err := kv.OpenRaw(dir, &kv.RawOptions{ReadOnly: !apply, Logger: o.Logger})
	if err != nil {
		return Plan{}, openError(err)
	}
	defer raw.Close()
	f, err := check(ctx, raw.Pebble(), o)
	if err != nil {
		return Plan{Findings: f}, err
	}
	plan := planFor(f)
	if f.newer {
		return plan, fmt.Errorf("%w: %s", ErrUnfixable, plan.Unfixable[0].Detail)
	}
	if !apply || len(plan.Actions) == 0 {
		if apply && f.Clean() {
			_ = MarkClean(dir)
		}
		return plan, nil
	}
	if err := applyPlan(ctx, raw.Pebble(), dir, &plan, o); err != nil {
		return plan, err
	}
	if err := raw.Close(); err != nil {
		return plan, fmt.Errorf("recovery: close after repair: %w", err)
	}
	after, err := CheckContext(ctx, dir, o)
	if err != nil {
		return plan, err
	}
	plan.After = &after
	if after.Clean() {
		// A full check passed: the next startup need not reconcile.
		_ = MarkClean(dir)
	}
	return plan, nil
}

func planFor(f Findings) Plan {
	plan := Plan{Findings: f}
	var meta []Action
	for _, p := range f.Problems {
		switch p.fix.op {
		case fixNone:
			plan.Unfixable = append(plan.Unfixable, p)
		case fixQuarantine:
			plan.Actions = append(plan.Actions, Action{Op: "quarantine", Finding: p})
		case fixDelete:
			plan.Actions = append(plan.Actions, Action{Op: "delete", Finding: p})
		case fixSet:
			if p.Kind == KindMissingExpiry {
				plan.Actions = append(plan.Actions, Action{Op: "write", Finding: p})
			} else {
				meta = append(meta, Action{Op: "write", Finding: p})
			}
		}
	}
	// Metadata (counts, map, version) last: the counts assume the records
	// before them are gone.
	plan.Actions = append(plan.Actions, meta...)
	unreadable := false
	for _, p := range plan.Unfixable {
		if p.Kind == KindUnreadable {
			unreadable = true
		}
	}
	if unreadable {
		plan.Advice = append(plan.Advice,
			"Pebble cannot read part of the store (see the unreadable findings): the records in the damaged blocks are lost to this copy and repair cannot bring them back. "+
				"Restore the data directory from a backup (made with 'rustypotato backup'). "+
				"Without a backup: keep a copy of the directory, export the databases that still read fully ('rustypotato export DIR --db N -o FILE') and import them into a fresh directory.")
	}
	if f.newer {
		plan.Advice = append(plan.Advice, "Upgrade RustyPotato to a release that reads this format; repair changed nothing.")
	}
	return plan
}

// applyPlan writes the quarantine file (and syncs it) before it deletes
// anything, then commits the changes in batches.
func applyPlan(ctx context.Context, db *pebble.DB, dir string, plan *Plan, o *Options) error {
	var q []Action
	for _, a := range plan.Actions {
		if a.Op == "quarantine" {
			q = append(q, a)
		}
	}
	if len(q) > 0 {
		path, err := writeQuarantine(dir, q, o.Now())
		if err != nil {
			return err
		}
		plan.Quarantine, plan.Quarantined = path, len(q)
	}
	o.Progress("repair", 0, int64(len(plan.Actions)))
	b := db.NewBatch()
	n := 0
	commit := func() error {
		if b.Empty() {
			return nil
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("recovery: commit repair batch: %w", err)
		}
		_ = b.Close()
		b = db.NewBatch()
		return nil
	}
	defer func() { _ = b.Close() }()
	for i, a := range plan.Actions {
		fx := a.Finding.fix
		switch fx.op {
		case fixQuarantine, fixDelete:
			_ = b.Delete(fx.key, nil)
		case fixSet:
			_ = b.Set(fx.key, fx.value, nil)
		}
		n++
		if n%RepairBatch == 0 {
			if err := commit(); err != nil {
				return err
			}
			o.Progress("repair", int64(i+1), int64(len(plan.Actions)))
			if err := canceled(ctx); err != nil {
				return fmt.Errorf("recovery: repair interrupted after %d of %d changes (the store is consistent; run repair again to finish): %w", i+1, len(plan.Actions), err)
			}
		}
	}
	if err := commit(); err != nil {
		return err
	}
	o.Progress("repair", int64(len(plan.Actions)), int64(len(plan.Actions)))
	plan.Applied = true
	return nil
}

// writeQuarantine writes the records to a new DIR/quarantine-<time>.jsonl
// and makes it durable.
func writeQuarantine(dir string, q []Action, now time.Time) (string, error) {
	name := "quarantine-" + now.UTC().Format("20060102T150405.000000000Z") + ".jsonl"
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("recovery: create quarantine file (nothing was changed): %w", err)
	}
	enc := json.NewEncoder(f)
	ts := now.UTC().Format(time.RFC3339Nano)
	for _, a := range q {
		p := a.Finding
		rec := QuarantineRecord{RawKey: p.fix.key, RawValue: p.fix.value, Kind: p.Kind, DB: p.DB, Reason: p.Detail, Time: ts}
		if rec.RawValue == nil {
			rec.RawValue = []byte{}
		}
		if err := enc.Encode(&rec); err != nil {
			f.Close()
			return "", fmt.Errorf("recovery: write quarantine file %s (nothing was changed): %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("recovery: sync quarantine file %s (nothing was changed): %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("recovery: close quarantine file %s (nothing was changed): %w", path, err)
	}
	syncDir(dir)
	return path, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
