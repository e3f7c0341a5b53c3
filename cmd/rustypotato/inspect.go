package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rustypotato/rustypotato/recovery"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe a data directory: keys per database and type, value sizes, TTLs, disk usage, LSM shape",
		ArgsUsage: "DIR [--pebble]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "pebble", Usage: "also print Pebble's full metrics table"},
		},
		OnUsageError: onUsageError,
		Action:       runInspect,
	}
}

func runInspect(c *cli.Context) error {
	args, ok, err := argsOrHelp(c, 1, 1)
	if !ok {
		return err
	}
	dir := args[0]
	ctx, stop := interruptible(c)
	defer stop()
	p := newProgress("inspect")
	inv, err := recovery.Inspect(ctx, dir, &recovery.Options{Progress: p.update})
	p.finish()
	if err != nil {
		return failure(err, dir)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "data directory: %s (format %d)\n", inv.Dir, inv.FormatVersion)
	fmt.Fprintf(w, "keys: %d in %d databases, %d with a TTL, %d expired awaiting removal; keys %s, values %s\n",
		inv.Total.Keys, len(inv.DBs), inv.Total.WithTTL, inv.Total.Expired, humanBytes(inv.Total.KeyBytes), humanBytes(inv.Total.ValueBytes))
	if inv.Total.Records != inv.Total.Keys {
		fmt.Fprintf(w, "warning: %d records but the key counts say %d: run 'rustypotato check %s'\n", inv.Total.Records, inv.Total.Keys, dir)
	}
	if len(inv.DBs) > 0 {
		types := map[string]bool{}
		for _, d := range inv.DBs {
			for t := range d.ByType {
				types[t] = true
			}
		}
		var tn []string
		for t := range types {
			tn = append(tn, t)
		}
		sort.Strings(tn)
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "db\tkeys\t%s\twith TTL\texpired\tkey bytes\tvalue bytes\t\n", strings.Join(tn, "\t"))
		for _, d := range inv.DBs {
			var counts []string
			for _, t := range tn {
				counts = append(counts, fmt.Sprint(d.ByType[t]))
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%d\t%d\t\n", d.DB, d.Keys, strings.Join(counts, "\t"), d.WithTTL, d.Expired, d.KeyBytes, d.ValueBytes)
		}
		tw.Flush()
	}
	if len(inv.ValueSizes) > 0 {
		fmt.Fprintln(w, "value sizes:")
		var most int64
		for _, b := range inv.ValueSizes {
			most = max(most, b.Count)
		}
		for _, b := range inv.ValueSizes {
			label := "0 B"
			if b.Upper == 2 {
				label = "1 B"
			} else if b.Upper > 2 {
				label = fmt.Sprintf("%s - %s", humanBytes(b.Lower), humanBytes(b.Upper-1))
			}
			bar := strings.Repeat("#", int(1+b.Count*39/most))
			fmt.Fprintf(w, "  %21s %10d %s\n", label, b.Count, bar)
		}
	}
	if inv.EarliestExpiry != 0 {
		fmt.Fprintf(w, "TTL horizon: first key expires %s, last %s\n", when(inv.EarliestExpiry, inv.Now), when(inv.LatestExpiry, inv.Now))
	}
	d := inv.Disk
	fmt.Fprintf(w, "disk: %s in %d files (sstables %s, WAL %s, manifest %s, other %s)\n",
		humanBytes(d.Total), d.Files, humanBytes(d.SSTables), humanBytes(d.WAL), humanBytes(d.Manifest), humanBytes(d.Other))
	fmt.Fprintf(w, "memtables: %d (%s, the replayed write-ahead log)\n", inv.MemTables, humanBytes(int64(inv.MemTableBytes)))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "LSM level\tfiles\tsize\tsublevels\tscore\t")
	for _, l := range inv.LSM {
		fmt.Fprintf(tw, "L%d\t%d\t%s\t%d\t%.2f\t\n", l.Level, l.Files, humanBytes(l.Bytes), l.Sublevels, l.Score)
	}
	tw.Flush()
	if c.Bool("pebble") {
		fmt.Fprintln(w, inv.PebbleMetrics)
	}
	return nil
}

// when formats a Unix-ms deadline relative to now.
func when(ms int64, now time.Time) string {
	t := time.UnixMilli(ms)
	return fmt.Sprintf("%s (in %s)", t.UTC().Format(time.RFC3339), t.Sub(now).Round(time.Second))
}
