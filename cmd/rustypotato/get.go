package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/kv"
	"github.com/rustypotato/rustypotato/recovery"
)

func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "print a key's value from a data directory (read-only)",
		ArgsUsage: "DIR KEY [--db N] [--verbose]",
		Description: "Prints the value as stored, followed by a newline. Exit status 1 if the key does not\n" +
			"exist. --verbose also prints the type, size and TTL on stderr.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "db", Usage: "logical database (0-15)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print type, size and TTL on stderr"},
		},
		OnUsageError: onUsageError,
		Action:       runGet,
	}
}

func runGet(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 2, 2)
	if !ok {
		return err
	}
	dir, key := args[0], []byte(args[1])
	db, err := dbFlag(c, false)
	if err != nil {
		return err
	}
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
	var (
		typ   string
		val   []byte
		found bool
		exp   int64
		now   int64
	)
	err = func() (err error) {
		defer kv.CatchFatal(&err)
		return s.View(func(tx *kv.Tx) error {
			now = tx.Now()
			if typ, err = tx.Type(db, key); err != nil || typ == "none" {
				return err
			}
			if exp, err = tx.ExpireTime(db, key); err != nil {
				return err
			}
			if typ != "string" {
				return nil
			}
			val, found, err = tx.Get(db, key)
			return err
		})
	}()
	if err != nil {
		fatal = errors.Is(err, kv.ErrPebbleFatal)
		return failure(err, dir)
	}
	if typ == "none" {
		return cli.Exit(fmt.Sprintf("key %s does not exist in database %d (list keys with 'rustypotato scan %s --db %d')", recovery.QuoteKey(key), db, dir, db), exitFailure)
	}
	if !found {
		return failure(fmt.Errorf("key %s holds a %s: get prints strings only (see 'rustypotato export')", recovery.QuoteKey(key), typ), dir)
	}
	if c.Bool("verbose") {
		ttl := "no TTL"
		if exp > 0 {
			ttl = fmt.Sprintf("expires %s (in %s)", time.UnixMilli(exp).UTC().Format(time.RFC3339Nano), time.Duration(exp-now)*time.Millisecond)
		}
		fmt.Fprintf(c.App.ErrWriter, "db %d, type %s, %d bytes, %s\n", db, typ, len(val), ttl)
	}
	w := c.App.Writer
	if _, err := w.Write(val); err != nil {
		return failure(errors.Join(errors.New("write the value"), err), dir)
	}
	fmt.Fprintln(w)
	return nil
}
