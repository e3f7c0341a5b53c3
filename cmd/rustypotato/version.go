package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/respserver"
)

var version = respserver.Version

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the Redis version it follows and the on-disk format version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "rustypotato %s (redis %s compatible, format %d, %s %s/%s)\n",
				version, respserver.RedisVersion, format.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
