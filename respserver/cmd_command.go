package respserver

import (
	"strings"
	"sync"

	"github.com/rustypotato/rustypotato/internal/cmdtable"
	"github.com/rustypotato/rustypotato/internal/glob"
	"github.com/rustypotato/rustypotato/kv"
)

// COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP]. The server
// advertises exactly the commands and subcommands it registers, with their
// Redis 7.0 command-table entries.

func init() {
	cmd := registerContainer("command", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error { writeCommandInfos(c, advertised().top); return nil }, nil
	})
	registerHelp(cmd, commandHelp)
	registerSub(cmd, "count", 0, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error { c.w.Int(int64(len(advertised().top))); return nil }, nil
	})
	registerSub(cmd, "info", 0, func(c *client, args [][]byte) (fn, error) {
		names := args[2:]
		return func(c *client, _ *kv.Tx) error {
			adv := advertised()
			if len(names) == 0 {
				writeCommandInfos(c, adv.top)
				return nil
			}
			c.w.ArrayLen(len(names))
			for _, n := range names {
				if ci := adv.lookup(string(n)); ci != nil {
					c.w.Raw(adv.info[ci].AppendRESP(nil, c.w.Proto() == 3))
				} else {
					c.w.Null()
				}
			}
			return nil
		}, nil
	})
	registerSub(cmd, "docs", 0, func(c *client, args [][]byte) (fn, error) {
		names := args[2:]
		return func(c *client, _ *kv.Tx) error {
			adv := advertised()
			var found []*cmdtable.Command
			if len(names) == 0 {
				found = adv.top
			} else {
				for _, n := range names {
					if ci := adv.lookup(string(n)); ci != nil {
						found = append(found, ci)
					}
				}
			}
			resp3 := c.w.Proto() == 3
			c.w.MapLen(len(found))
			for _, ci := range found {
				c.w.BulkString(ci.Name)
				c.w.Raw(adv.docs[ci].AppendRESP(nil, resp3))
			}
			return nil
		}, nil
	})
	registerSub(cmd, "list", 0, parseCommandList)
	registerSub(cmd, "getkeys", 0, func(c *client, args [][]byte) (fn, error) {
		target := args[2:]
		return func(c *client, _ *kv.Tx) error {
			ci := cmdtable.LookupArgs(target)
			if ci == nil || advertised().info[ci].Kind == 0 {
				return cmdtable.ErrInvalidCommand
			}
			keys, err := ci.GetKeys(target)
			if err != nil {
				return err
			}
			c.w.ArrayLen(len(keys))
			for _, k := range keys {
				c.w.Bulk(target[k])
			}
			return nil
		}, nil
	})
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
}

// advertisedTable is the part of the command table the server implements.
type advertisedTable struct {
	top  []*cmdtable.Command                  // registered top-level commands, by name
	all  []*cmdtable.Command                  // and their registered subcommands, COMMAND LIST order
	info map[*cmdtable.Command]cmdtable.Value // COMMAND INFO entry, subcommands filtered
	docs map[*cmdtable.Command]cmdtable.Value // COMMAND DOCS value, subcommands filtered
}

var (
	advOnce sync.Once
	adv     *advertisedTable
)

// advertised returns the advertised table, built on first use (after every
// init has registered its commands).
func advertised() *advertisedTable {
	advOnce.Do(func() {
		a := &advertisedTable{info: map[*cmdtable.Command]cmdtable.Value{}, docs: map[*cmdtable.Command]cmdtable.Value{}}
		for _, ci := range cmdtable.All() {
			reg := registry[ci.Name]
			if reg == nil {
				continue
			}
			a.top = append(a.top, ci)
			a.all = append(a.all, ci)
			var subs []*cmdtable.Command
			for _, sc := range ci.Subcommands {
				if reg.subs != nil && reg.subs[sc.Name[len(ci.Name)+1:]] != nil {
					subs = append(subs, sc)
				}
			}
			a.all = append(a.all, subs...)
			a.info[ci], a.docs[ci] = ci.RawInfo, ci.RawDocs
			if ci.IsContainer() {
				a.info[ci], a.docs[ci] = filterSubs(ci, subs)
			}
			for _, sc := range subs {
				a.info[sc], a.docs[sc] = sc.RawInfo, sc.RawDocs
			}
		}
		adv = a
	})
	return adv
}

// filterSubs returns ci's COMMAND INFO and DOCS values listing only subs.
func filterSubs(ci *cmdtable.Command, subs []*cmdtable.Command) (info, docs cmdtable.Value) {
	keep := map[string]bool{}
	for _, sc := range subs {
		keep[sc.Name] = true
	}
	info = ci.RawInfo
	info.Arr = append([]cmdtable.Value(nil), info.Arr...)
	last := info.Arr[len(info.Arr)-1]
	kept := cmdtable.Value{Kind: last.Kind}
	for _, e := range last.Arr {
		if len(e.Arr) > 0 && keep[e.Arr[0].Str] {
			kept.Arr = append(kept.Arr, e)
		}
	}
	info.Arr[len(info.Arr)-1] = kept
	docs = ci.RawDocs
	docs.Arr = append([]cmdtable.Value(nil), docs.Arr...)
	for i := 0; i+1 < len(docs.Arr); i += 2 {
		if docs.Arr[i].Str != "subcommands" {
			continue
		}
		m := cmdtable.Value{Kind: docs.Arr[i+1].Kind}
		for j := 0; j+1 < len(docs.Arr[i+1].Arr); j += 2 {
			if keep[docs.Arr[i+1].Arr[j].Str] {
				m.Arr = append(m.Arr, docs.Arr[i+1].Arr[j], docs.Arr[i+1].Arr[j+1])
			}
		}
		docs.Arr[i+1] = m
	}
	return info, docs
}

// lookup resolves a full command name ("get", "client|list") among the
// advertised commands.
func (a *advertisedTable) lookup(name string) *cmdtable.Command {
	ci := cmdtable.LookupFullName(name)
	if ci == nil || a.info[ci].Kind == 0 {
		return nil
	}
	return ci
}

func writeCommandInfos(c *client, cmds []*cmdtable.Command) {
	a := advertised()
	resp3 := c.w.Proto() == 3
	c.w.ArrayLen(len(cmds))
	var buf []byte
	for _, ci := range cmds {
		buf = a.info[ci].AppendRESP(buf[:0], resp3)
		c.w.Raw(buf)
	}
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
type commandListCmd struct {
	filter string // "", "module", "aclcat" or "pattern"
	arg    string
}

func parseCommandList(c *client, args [][]byte) (commandListCmd, error) {
	switch {
	case len(args) == 2:
		return commandListCmd{}, nil
	case len(args) == 5 && eq(args[2], "filterby"):
		for _, f := range []string{"module", "aclcat", "pattern"} {
			if eq(args[3], f) {
				return commandListCmd{filter: f, arg: string(args[4])}, nil
			}
		}
	}
	return commandListCmd{}, errSyntax
}

func (l commandListCmd) run(c *client, _ *kv.Tx) error {
	var out []string
	for _, ci := range advertised().all {
		switch l.filter {
		case "module":
			continue // no modules
		case "aclcat":
			found := false
			for _, cat := range ci.ACLCategories {
				if strings.EqualFold(strings.TrimPrefix(cat, "@"), l.arg) {
					found = true
				}
			}
			if !found {
				continue
			}
		case "pattern":
			if !glob.String(l.arg, ci.Name, true) {
				continue
			}
		}
		out = append(out, ci.Name)
	}
	c.w.ArrayLen(len(out))
	for _, n := range out {
		c.w.BulkString(n)
	}
	return nil
}
