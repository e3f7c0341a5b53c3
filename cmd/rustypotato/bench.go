package main

import (
	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/internal/crashbench"
)

// benchCommand groups the built-in benchmarks; "bench crash" is the
// crash-recovery benchmark of package crashbench, run against this binary.
func benchCommand() *cli.Command {
	return &cli.Command{
		Name:        "bench",
		Usage:       "built-in benchmarks",
		Subcommands: []*cli.Command{crashbench.Command(true)},
	}
}
