package crashbench

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes of the command.
const (
	ExitLost  = 1 // acknowledged writes were lost, or the run failed
	ExitUsage = 2 // invalid flags
)

// Command returns the "crash" command. With selfBin, --bin defaults to
// the running executable (for "rustypotato bench crash"); otherwise the
// binary is built with go build unless --bin is given.
func Command(selfBin bool) *cli.Command {
	binDefault := "build it with go build"
	if selfBin {
		binDefault = "this executable"
	}
	return &cli.Command{
		Name:  "crash",
		Usage: "crash-recovery benchmark: SIGKILL under write load, restart, check every acknowledged write",
		Description: "Starts the daemon on a temporary directory and a free port, preloads keys, drives\n" +
			"concurrent SET/INCR/DEL/EXPIRE writes, kills it with SIGKILL 200-1500 ms after the\n" +
			"writes start, restarts it, times the restart to the first PONG and verifies every\n" +
			"acknowledged write. With --redis, does the same to redis-server (appendonly yes and\n" +
			"the same appendfsync). Prints a markdown table; exits 1 if RustyPotato lost an\n" +
			"acknowledged write under always or everysec.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bin", Usage: "rustypotato binary to test", DefaultText: binDefault},
			&cli.IntFlag{Name: "cycles", Value: 50, Usage: "kill/restart cycles per key count"},
			&cli.StringFlag{Name: "durability", Value: "everysec", Usage: "appendfsync policy: always, everysec or no"},
			&cli.StringFlag{Name: "keys", Value: "100000", Usage: "comma-separated preloaded key counts, e.g. 100000,1000000"},
			&cli.BoolFlag{Name: "redis", Value: RedisInstalled(), Usage: "also measure redis-server", DefaultText: "true if redis-server is installed"},
			&cli.IntFlag{Name: "redis-cycles", Usage: "cycles for Redis", DefaultText: "min(cycles, 10)"},
			&cli.IntFlag{Name: "writers", Value: 8, Usage: "concurrent writer connections"},
			&cli.IntFlag{Name: "pipeline", Value: 1, Usage: "writes in flight per connection"},
			&cli.IntFlag{Name: "value-size", Value: 32, Usage: "bytes per preloaded value"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed", DefaultText: "from the clock"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no per-cycle progress on stderr"},
		},
		Action: action(selfBin),
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return cli.Exit(fmt.Sprintf("usage error: %v\nrun with --help for usage", err), ExitUsage)
		},
	}
}

func action(selfBin bool) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return cli.Exit(fmt.Sprintf("unexpected arguments: %v", c.Args().Slice()), ExitUsage)
		}
		keys, err := ParseKeys(c.String("keys"))
		if err != nil {
			return cli.Exit(err.Error(), ExitUsage)
		}
		cfg := Config{
			Bin:         c.String("bin"),
			Redis:       c.Bool("redis"),
			Durability:  c.String("durability"),
			Keys:        keys,
			Cycles:      c.Int("cycles"),
			RedisCycles: c.Int("redis-cycles"),
			Writers:     c.Int("writers"),
			Pipeline:    c.Int("pipeline"),
			ValueSize:   c.Int("value-size"),
			Seed:        c.Uint64("seed"),
		}
		if cfg.Bin == "" && selfBin {
			if cfg.Bin, err = os.Executable(); err != nil {
				return cli.Exit(err.Error(), ExitLost)
			}
		}
		if !c.Bool("quiet") {
			cfg.Progress = c.App.ErrWriter
			if cfg.Progress == nil {
				cfg.Progress = os.Stderr
			}
		}
		ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		rep, err := Run(ctx, cfg)
		if rep != nil {
			rep.WriteMarkdown(c.App.Writer)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrConfig):
			return cli.Exit(err.Error(), ExitUsage)
		default:
			return cli.Exit(err.Error(), ExitLost)
		}
	}
}
