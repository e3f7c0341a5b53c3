package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/recovery"
)

func scanCommand() *cli.Command {
	return &cli.Command{
		Name:      "scan",
		Usage:     "list the keys of a data directory (read-only)",
		ArgsUsage: "DIR [--match PATTERN] [--db N] [--type TYPE] [--limit N]",
		Description: "Prints one key per line, in the store's order (as SCAN returns them). Keys that are not\n" +
			"printable UTF-8, or that contain spaces or quotes, are printed Go-quoted.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "match", Value: "*", Usage: "glob pattern, as SCAN MATCH"},
			&cli.IntFlag{Name: "db", Usage: "logical database (0-15)"},
			&cli.StringFlag{Name: "type", Usage: "only keys of this type (string, list, set, zset, hash, stream)"},
			&cli.IntFlag{Name: "limit", Usage: "stop after this many keys (0: no limit)"},
		},
		OnUsageError: onUsageError,
		Action:       runScan,
	}
}

func runScan(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	db, err := dbFlag(c, false)
	if err != nil {
		return err
	}
	limit := c.Int("limit")
	if limit < 0 {
		return usageError(c, "--limit must not be negative")
	}
	ctx, stop := interruptible(c)
	defer stop()
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true})
	if err != nil {
		return openFailure(err, dir)
	}
	// A fatal Pebble error (a corrupt block) leaves the store's lock held
	// by the failed read: do not wait for it; exiting releases everything.
	fatal := false
	defer func() {
		if !fatal {
			s.Close()
		}
	}()
	w := bufio.NewWriter(c.App.Writer)
	defer w.Flush()
	match, typ := []byte(c.String("match")), c.String("type")
	n := 0
	err = func() (err error) {
		defer kv.CatchFatal(&err)
		return s.View(func(tx *kv.Tx) error {
			cursor := uint64(0)
			for {
				next, keys, err := tx.Scan(db, cursor, match, 1000, typ)
				if err != nil {
					return err
				}
				for _, k := range keys {
					if limit > 0 && n >= limit {
						return nil
					}
					fmt.Fprintln(w, recovery.QuoteKey(k))
					n++
				}
				if next == 0 {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				cursor = next
			}
		})
	}()
	if err != nil {
		fatal = errors.Is(err, kv.ErrPebbleFatal)
		return failure(err, dir)
	}
	return nil
}
