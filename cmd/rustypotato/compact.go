package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func compactCommand() *cli.Command {
	return &cli.Command{
		Name:         "compact",
		Usage:        "compact the whole key range of a data directory, dropping deleted data",
		ArgsUsage:    "DIR",
		Description:  "Flushes the write-ahead log and compacts every key into the LSM's last level. The\nserver must not be running on DIR. Ctrl-C stops it safely.",
		OnUsageError: onUsageError,
		Action:       runCompact,
	}
}

func runCompact(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	ctx, stop := interruptible(c)
	defer stop()
	p := newProgress("compact")
	p.spin("compacting")
	st, err := recovery.Compact(ctx, dir, nil)
	p.finish()
	if err != nil {
		return failure(err, dir)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "compacted %s in %s: %s before, %s after (%+d bytes)\n",
		dir, roundDur(st.Duration), humanBytes(st.Before), humanBytes(st.After), st.After-st.Before)
	for i := range st.LSMAfter {
		b, a := st.LSMBefore[i], st.LSMAfter[i]
		if b.Files != 0 || a.Files != 0 {
			fmt.Fprintf(w, "  L%d: %d files, %s -> %d files, %s\n", i, b.Files, humanBytes(b.Bytes), a.Files, humanBytes(a.Bytes))
		}
	}
	return nil
}
