package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "verify a data directory offline; exit status 1 if anything is wrong",
		ArgsUsage: "DIR",
		Description: "Walks the whole store read-only: every record must decode, every expiring key must\n" +
			"have its expiry-index entry and every entry its key, the per-database key counts must\n" +
			"match, the database map must be a permutation and the version record present.\n" +
			"Unreadable sstable blocks are reported with the damaged file. Every problem is listed.",
		OnUsageError: onUsageError,
		Action:       runCheck,
	}
}

func runCheck(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	ctx, stop := interruptible(c)
	defer stop()
	p := newProgress("check")
	f, err := recovery.CheckContext(ctx, dir, &recovery.Options{Progress: p.update})
	p.finish()
	if err != nil {
		return failure(err, dir)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "checked %s: %d records (%d expiring), %d expiry-index entries in %s\n",
		dir, f.Records, f.Expiring, f.IndexEntries, roundDur(f.Duration))
	printUnverified(w, f.Unverified)
	if f.Clean() {
		fmt.Fprintln(w, "no problems found")
		return nil
	}
	fmt.Fprintf(w, "%d problems:\n", len(f.Problems))
	fixable := 0
	for _, p := range f.Problems {
		fmt.Fprintln(w, "  "+p.String())
		if p.Fixable() {
			fixable++
		}
	}
	msg := fmt.Sprintf("found %d problems", len(f.Problems))
	if fixable > 0 {
		msg += fmt.Sprintf("; %d can be fixed: run 'rustypotato repair %s' to see the changes, then 'rustypotato repair --yes %s' to apply them", fixable, dir, dir)
	}
	if n := len(f.Problems) - fixable; n > 0 {
		msg += fmt.Sprintf("; %d cannot be fixed by repair (unreadable data or a newer format): restore the directory from a backup, or upgrade RustyPotato for a newer format", n)
	}
	return cli.Exit(msg, exitFailure)
}

// printUnverified lists what could not be verified, at most 20 lines.
func printUnverified(w io.Writer, u []string) {
	if len(u) == 0 {
		return
	}
	fmt.Fprintf(w, "not verified (unreadable), %d parts:\n", len(u))
	for i, s := range u {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(u)-20)
			break
		}
		fmt.Fprintln(w, "  "+s)
	}
}
