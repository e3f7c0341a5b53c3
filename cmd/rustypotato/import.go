package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "load JSON lines or a RESP command stream (export's, or a Redis AOF) into a data directory",
		ArgsUsage: "DIR FILE [--format jsonl|resp]",
		Description: "FILE - reads standard input. The format is detected from the first byte unless given.\n" +
			"RESP input is applied command by command (SELECT, SET and its options, SETEX, MSET, DEL,\n" +
			"EXPIRE/PEXPIREAT..., INCR..., APPEND, RENAME, COPY, MOVE, SWAPDB, FLUSHDB, MULTI/EXEC...);\n" +
			"unknown commands are skipped and reported. An AOF with an RDB preamble is refused.\n" +
			"Keys are committed in batches of 1000; Ctrl-C stops between batches and leaves the\n" +
			"directory consistent. DIR is created if needed; the server must not be running on it.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "jsonl or resp (default: detect)"},
		},
		OnUsageError: onUsageError,
		Action:       runImport,
	}
}

func runImport(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 2, 2)
	if !ok {
		return err
	}
	dir, file := args[0], args[1]
	format := c.String("format")
	if format != "" && format != recovery.FormatJSONL && format != recovery.FormatRESP {
		return usageError(c, fmt.Sprintf("--format %q must be jsonl or resp", format))
	}
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return cli.Exit(fmt.Sprintf("cannot read %s: %v; check the path", file, err), exitFailure)
		}
		defer f.Close()
		r = f
	}
	ctx, stop := interruptible(c)
	defer stop()
	// Ctrl-C must not wait for more input (a pipe may be idle).
	r = &ctxReader{ctx: ctx, r: r}
	p := newProgress("import")
	st, err := recovery.Import(ctx, dir, r, &recovery.ImportOptions{Format: format, Options: recovery.Options{Progress: p.update}})
	p.finish()
	w := c.App.Writer
	if st.Format == recovery.FormatJSONL {
		fmt.Fprintf(w, "imported %d keys from %d lines in %d batches into %s\n", st.Keys, st.Commands, st.Batches, dir)
	} else {
		fmt.Fprintf(w, "applied %d commands (%d key writes) in %d batches to %s\n", st.Commands, st.Keys, st.Batches, dir)
	}
	if st.Expired > 0 {
		fmt.Fprintf(w, "skipped %d keys that had already expired\n", st.Expired)
	}
	if st.Discarded > 0 {
		fmt.Fprintf(w, "dropped %d commands of a MULTI block the input ended inside (as Redis does with a truncated AOF)\n", st.Discarded)
	}
	var problems []string
	if len(st.Unknown) > 0 {
		var names []string
		for _, n := range st.UnknownCommands() {
			names = append(names, fmt.Sprintf("%s (%d)", strings.ToUpper(n), st.Unknown[n]))
		}
		fmt.Fprintf(w, "skipped unknown commands: %s\n", strings.Join(names, ", "))
		problems = append(problems, "some commands are not supported")
	}
	if st.Failed > 0 {
		fmt.Fprintf(w, "%d lines or commands failed:\n", st.Failed)
		for _, e := range st.Errors {
			fmt.Fprintln(w, "  "+e)
		}
		if int64(len(st.Errors)) < st.Failed {
			fmt.Fprintf(w, "  ... and %d more\n", st.Failed-int64(len(st.Errors)))
		}
		problems = append(problems, fmt.Sprintf("%d failed", st.Failed))
	}
	if err != nil {
		return failure(err, dir)
	}
	if len(problems) > 0 {
		return cli.Exit("import finished with problems ("+strings.Join(problems, "; ")+"): the rest was imported; see the list above", exitFailure)
	}
	return nil
}

// ctxReader is a Reader that returns ctx's error as soon as ctx is done,
// even while the underlying Read blocks (which then finishes in the
// background and is discarded).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	buf []byte
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	ch := make(chan readResult, 1)
	go func() {
		n, err := c.r.Read(buf)
		ch <- readResult{n, err}
	}()
	select {
	case res := <-ch:
		copy(p, buf[:res.n])
		return res.n, res.err
	case <-c.ctx.Done():
		c.buf = nil // the abandoned Read may still write into it
		return 0, c.ctx.Err()
	}
}
