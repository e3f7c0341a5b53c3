// Command rustypotato is RustyPotato's single binary: "serve" runs the
// Redis-compatible daemon; the other subcommands inspect, check, repair,
// back up, export and import a data directory offline.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // failure, or corruption found by check
	exitUsage   = 2
)

func main() {
	app := &cli.App{
		Name:                 "rustypotato",
		Usage:                "a durable, Redis-compatible key-value daemon",
		Version:              version,
		EnableBashCompletion: true,
		Commands:             commands(),
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return cli.Exit(fmt.Sprintf("usage error: %v\nrun '%s --help' for usage", err, c.App.Name), exitUsage)
		},
		ExitErrHandler: func(c *cli.Context, err error) {},
	}
	if err := app.Run(os.Args); err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(os.Stderr, "rustypotato:", msg)
			}
			os.Exit(ec.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "rustypotato:", err)
		os.Exit(exitFailure)
	}
}

// commands lists the subcommands; each lives in its own file.
func commands() []*cli.Command {
	return []*cli.Command{
		serveCommand(),
		versionCommand(),
		inspectCommand(),
		getCommand(),
		scanCommand(),
		checkCommand(),
		repairCommand(),
		backupCommand(),
		exportCommand(),
		importCommand(),
		compactCommand(),
		benchCommand(),
	}
}
