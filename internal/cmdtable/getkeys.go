package cmdtable

import (
	"errors"
	"strconv"

	"github.com/rustypotato/rustypotato/internal/ascii"
)

// Errors returned by GetKeys, with the exact text of Redis's COMMAND GETKEYS
// error replies.
var (
	// ErrInvalidCommand: the argument vector names no known command or
	// subcommand.
	ErrInvalidCommand = errors.New("ERR Invalid command specified")
	// ErrNoKeyArguments: the command never takes keys.
	ErrNoKeyArguments = errors.New("ERR The command has no key arguments")
	// ErrInvalidNumberOfArguments: the argument count violates the arity.
	ErrInvalidNumberOfArguments = errors.New("ERR Invalid number of arguments specified for command")
	// ErrInvalidArguments: no keys could be extracted from the arguments.
	ErrInvalidArguments = errors.New("ERR Invalid arguments specified for command")
)

// getKeysProcs are the command-specific key extraction functions Redis uses
// when the key specs are not sufficient (flagged variable_flags or
// incomplete). Only those needed by the table are implemented.
var getKeysProcs = map[string]func(args [][]byte) []int{
	// setGetKeys: the key is always at position 1; only its flags vary.
	"set": func(args [][]byte) []int { return []int{1} },
}

// GetKeys implements COMMAND GETKEYS: args is the full command to inspect
// (args[0] is the command name, args[1] the subcommand name for container
// commands) and the result holds the positions in args of its key arguments.
// Errors are ErrInvalidCommand, ErrNoKeyArguments,
// ErrInvalidNumberOfArguments and ErrInvalidArguments.
func GetKeys(args [][]byte) ([]int, error) {
	c := LookupArgs(args)
	if c == nil {
		return nil, ErrInvalidCommand
	}
	return c.GetKeys(args)
}

// HasKeys reports whether c may take key arguments (Redis's
// doesCommandHaveKeys): it has a key-extraction function or at least one key
// spec not flagged not_key.
func (c *Command) HasKeys() bool {
	if getKeysProcs[c.Name] != nil {
		return true
	}
	for i := range c.KeySpecs {
		if !c.KeySpecs[i].hasFlag("not_key") {
			return true
		}
	}
	return false
}

// GetKeys returns the positions of the key arguments in args, the full
// argument vector of an invocation of c (args[0] is the command name), the
// way COMMAND GETKEYS computes them in Redis 7.0: the arity is checked, the
// key specs are applied (not_key specs are skipped) and, if they fail or are
// unreliable, the command's own key extraction is used. A command flagged
// no_mandatory_keys for which no key is found yields an empty, non-nil
// slice. Errors are ErrNoKeyArguments, ErrInvalidNumberOfArguments and
// ErrInvalidArguments.
func (c *Command) GetKeys(args [][]byte) ([]int, error) {
	if !c.HasKeys() {
		return nil, ErrNoKeyArguments
	}
	if !c.ArityOK(len(args)) {
		return nil, ErrInvalidNumberOfArguments
	}
	keys := c.keys(args)
	if len(keys) == 0 {
		if c.flagSet&flagNoMandatoryKeys != 0 {
			return []int{}, nil
		}
		return nil, ErrInvalidArguments
	}
	return keys, nil
}

// keys mirrors Redis's getKeysFromCommandWithSpecs.
func (c *Command) keys(args [][]byte) []int {
	hasKeySpec, hasVarFlags := false, false
	for i := range c.KeySpecs {
		if !c.KeySpecs[i].hasFlag("not_key") {
			hasKeySpec = true
		}
		if c.KeySpecs[i].hasFlag("variable_flags") {
			hasVarFlags = true
		}
	}
	if hasKeySpec && !hasVarFlags {
		if keys, ok := c.keysFromSpecs(args); ok {
			return keys
		}
	}
	if proc := getKeysProcs[c.Name]; proc != nil {
		return proc(args)
	}
	return nil
}

// keysFromSpecs mirrors Redis's getKeysUsingKeySpecs with
// GET_KEYSPEC_DEFAULT. It reports false for an invalid or incomplete spec.
func (c *Command) keysFromSpecs(args [][]byte) ([]int, bool) {
	argc := len(args)
	var keys []int
	for i := range c.KeySpecs {
		spec := &c.KeySpecs[i]
		if spec.hasFlag("not_key") {
			continue
		}
		first := 0
		switch spec.BeginSearch.Type {
		case "index":
			first = spec.BeginSearch.Index
		case "keyword":
			sf := spec.BeginSearch.StartFrom
			start, end := argc+sf, 1
			if sf > 0 {
				start, end = sf, argc-1
			}
			for j := start; j != end; {
				if j >= argc || j < 1 {
					break
				}
				if equalFold(args[j], spec.BeginSearch.Keyword) {
					first = j + 1
					break
				}
				if start <= end {
					j++
				} else {
					j--
				}
			}
			if first == 0 {
				continue // keyword not found
			}
		default:
			return nil, false
		}

		var last, step int
		switch spec.FindKeys.Type {
		case "range":
			fk := spec.FindKeys
			step = fk.KeyStep
			switch {
			case fk.LastKey >= 0:
				last = first + fk.LastKey
			case fk.Limit == 0:
				last = argc + fk.LastKey
			default:
				last = first + ((argc-first)/fk.Limit + fk.LastKey)
			}
		case "keynum":
			fk := spec.FindKeys
			step = fk.KeyStep
			idx := first + fk.KeyNumIdx
			if idx >= argc {
				return nil, false
			}
			numkeys, ok := parseStrictInt(args[idx])
			if !ok || numkeys < 0 || numkeys > int64(argc) {
				return nil, false
			}
			first += fk.FirstKey
			last = first + int(numkeys) - 1
		default:
			return nil, false
		}

		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		if step <= 0 {
			return nil, false
		}
		for j := first; j <= last; j += step {
			keys = append(keys, j)
		}
		if spec.hasFlag("incomplete") {
			return nil, false
		}
	}
	return keys, true
}

func (ks *KeySpec) hasFlag(f string) bool {
	for _, x := range ks.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// equalFold compares an argument with an ASCII keyword case-insensitively.
func equalFold(b []byte, s string) bool { return ascii.EqualFold(b, s) }

// parseStrictInt parses b like Redis's string2ll: an optional minus sign and
// decimal digits without leading zeros, spaces or a plus sign.
func parseStrictInt(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(b) {
		return 0, false
	}
	return n, true
}
