package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "copy a data directory consistently (a Pebble checkpoint) to a new directory",
		ArgsUsage: "DIR DEST",
		Description: "DEST must not exist. The copy is a complete data directory: 'rustypotato serve --dir DEST'\n" +
			"opens it. sstables are hard-linked when DEST is on the same filesystem. The server must\n" +
			"not be running on DIR.",
		OnUsageError: onUsageError,
		Action:       runBackup,
	}
}

func runBackup(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 2, 2)
	if !ok {
		return err
	}
	dir, dest := args[0], args[1]
	ctx, stop := interruptible(c)
	defer stop()
	p := newProgress("backup")
	p.spin("checkpoint")
	st, err := recovery.Backup(ctx, dir, dest, nil)
	p.finish()
	if errors.Is(err, recovery.ErrDestExists) {
		return cli.Exit(fmt.Sprintf("%s already exists: backup never overwrites; choose a new destination directory", dest), exitFailure)
	}
	if err != nil {
		return failure(err, dir)
	}
	fmt.Fprintf(c.App.Writer, "backed up %s to %s: %d keys, %s in %s; it opens as a data directory ('rustypotato serve --dir %s')\n",
		dir, dest, st.Keys, humanBytes(st.Bytes), roundDur(st.Duration), dest)
	return nil
}
