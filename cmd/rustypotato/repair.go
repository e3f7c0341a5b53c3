package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func repairCommand() *cli.Command {
	return &cli.Command{
		Name:      "repair",
		Usage:     "fix what check finds (a dry run unless --yes)",
		ArgsUsage: "DIR [--yes]",
		Description: "Rebuilds the expiry index, recomputes key counts, restores the database map and\n" +
			"version record, and moves records that do not decode into DIR/quarantine-<time>.jsonl\n" +
			"(base64 raw key and value, and the reason) before deleting them. Without --yes it only\n" +
			"prints what it would change. Running it again is harmless. Unreadable sstables cannot\n" +
			"be repaired: restore them from a backup.\n" +
			"Exit status: 0 if the store is (now) clean, 1 if problems remain (or, without --yes, exist).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "apply the changes"},
		},
		OnUsageError: onUsageError,
		Action:       runRepair,
	}
}

func runRepair(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	apply := c.Bool("yes")
	ctx, stop := interruptible(c)
	defer stop()
	p := newProgress("repair")
	plan, err := recovery.RepairContext(ctx, dir, apply, &recovery.Options{Progress: p.update})
	p.finish()
	w := c.App.Writer
	if err != nil {
		if plan.Applied || plan.Quarantine != "" {
			fmt.Fprintf(w, "quarantine file: %s\n", plan.Quarantine)
		}
		return failure(err, dir)
	}
	f := plan.Findings
	fmt.Fprintf(w, "checked %s: %d records, %d expiry-index entries, %d problems\n", dir, f.Records, f.IndexEntries, len(f.Problems))
	printUnverified(w, f.Unverified)
	if len(plan.Actions) > 0 {
		if plan.Applied {
			fmt.Fprintf(w, "applied %d changes:\n", len(plan.Actions))
		} else {
			fmt.Fprintf(w, "would apply %d changes:\n", len(plan.Actions))
		}
		for _, a := range plan.Actions {
			fmt.Fprintln(w, "  "+a.String())
		}
	}
	if plan.Quarantine != "" {
		fmt.Fprintf(w, "moved %d records into %s\n", plan.Quarantined, plan.Quarantine)
	}
	if len(plan.Unfixable) > 0 {
		fmt.Fprintf(w, "cannot fix %d problems:\n", len(plan.Unfixable))
		for _, u := range plan.Unfixable {
			fmt.Fprintln(w, "  "+u.String())
		}
		for _, a := range plan.Advice {
			fmt.Fprintln(w, a)
		}
	}
	switch {
	case !apply && len(plan.Actions) > 0:
		return cli.Exit(fmt.Sprintf("nothing was changed (dry run): run 'rustypotato repair --yes %s' to apply these %d changes", dir, len(plan.Actions)), exitFailure)
	case !apply && len(plan.Unfixable) > 0:
		return cli.Exit("nothing to repair, but the problems above remain: follow the advice above", exitFailure)
	case !apply:
		fmt.Fprintln(w, "no problems found; nothing to do")
		return nil
	case plan.After != nil && !plan.After.Clean():
		fmt.Fprintf(w, "a check after the repair still finds %d problems:\n", len(plan.After.Problems))
		for _, p := range plan.After.Problems {
			fmt.Fprintln(w, "  "+p.String())
		}
		return cli.Exit("repair fixed what it could, problems remain: see above (restore unreadable data from a backup)", exitFailure)
	case len(plan.Unfixable) > 0:
		return cli.Exit("problems remain that repair cannot fix: see above", exitFailure)
	case plan.Applied:
		fmt.Fprintln(w, "a check after the repair finds no problems")
	default:
		fmt.Fprintln(w, "no problems found; nothing to do")
	}
	return nil
}
