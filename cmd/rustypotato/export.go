package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the keys of a data directory as JSON lines or RESP commands (read-only)",
		ArgsUsage: "DIR [--format jsonl|resp] [--db N] [-o FILE]",
		Description: "jsonl: one object per key, {\"db\":0,\"key\":K,\"type\":\"string\",\"value\":V,\"expire_at_ms\":T},\n" +
			"where K and V are strings when they are valid UTF-8 and {\"base64\":\"...\"} otherwise, and\n" +
			"expire_at_ms (absolute Unix milliseconds) is present only for keys with a TTL.\n" +
			"resp: SELECT, SET and PEXPIREAT commands that 'redis-cli --pipe' loads into Redis.\n" +
			"'rustypotato import' reads both. With -o the file appears only when the export is complete.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: recovery.FormatJSONL, Usage: "jsonl or resp"},
			&cli.IntFlag{Name: "db", Value: recovery.AllDBs, Usage: "only this logical database (default: all)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output"},
		},
		OnUsageError: onUsageError,
		Action:       runExport,
	}
}

func runExport(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	db, err := dbFlag(c, true)
	if err != nil {
		return err
	}
	format := c.String("format")
	if format != recovery.FormatJSONL && format != recovery.FormatRESP {
		return usageError(c, fmt.Sprintf("--format %q must be jsonl or resp", format))
	}
	ctx, stop := interruptible(c)
	defer stop()
	var w io.Writer = c.App.Writer
	out := c.String("output")
	var tmp *os.File
	if out != "" {
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
		if err != nil {
			return cli.Exit(fmt.Sprintf("cannot create %s: %v; check that its directory exists and is writable", out, err), exitFailure)
		}
		defer os.Remove(tmp.Name()) // no-op after the rename
		w = tmp
	}
	p := newProgress("export")
	st, err := recovery.Export(ctx, dir, w, &recovery.ExportOptions{Format: format, DB: db, Options: recovery.Options{Progress: p.update}})
	p.finish()
	if tmp != nil {
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), out)
		}
	}
	if err != nil {
		return failure(err, dir)
	}
	msg := fmt.Sprintf("exported %d keys (%s) from %s", st.Keys, humanBytes(st.Bytes), dir)
	if out != "" {
		msg += " to " + out
	}
	if st.Expired > 0 {
		msg += fmt.Sprintf("; skipped %d expired keys", st.Expired)
	}
	fmt.Fprintln(c.App.ErrWriter, msg)
	if st.Unsupported > 0 {
		return cli.Exit(fmt.Sprintf("skipped %d keys whose type export cannot encode yet; the rest was exported", st.Unsupported), exitFailure)
	}
	return nil
}
