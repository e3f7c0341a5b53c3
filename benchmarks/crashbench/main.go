// Command crashbench is RustyPotato's crash-recovery benchmark: it kills
// the daemon with SIGKILL under write load, restarts it, times the restart
// and checks that every acknowledged write survived, side by side with
// Redis. Run it from the module:
//
//	go run ./benchmarks/crashbench --cycles 50 --keys 100000,1000000
//
// It is the same as "rustypotato bench crash" (package internal/crashbench),
// except that it builds the daemon with go build unless --bin is given.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/internal/crashbench"
)

func main() {
	cmd := crashbench.Command(false)
	app := &cli.App{
		Name:        "crashbench",
		Usage:       cmd.Usage,
		Description: cmd.Description,
		Flags:       cmd.Flags,
		Action:      cmd.Action,
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return cli.Exit(fmt.Sprintf("usage error: %v", err), crashbench.ExitUsage)
		},
		ExitErrHandler: func(c *cli.Context, err error) {},
	}
	if err := app.Run(os.Args); err != nil {
		code := crashbench.ExitLost
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "crashbench:", msg)
		}
		os.Exit(code)
	}
}
