package recovery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/wire"
	"github.com/rustypotato/rustypotato/kv"
)

// DefaultImportBatch is how many keys Import commits per transaction.
const DefaultImportBatch = 1000

// maxImportErrors bounds ImportStats.Errors.
const maxImportErrors = 20

// ImportOptions configure Import.
type ImportOptions struct {
	Options
	// Format is FormatJSONL, FormatRESP, or "" to detect it from the first
	// byte ('{': JSON lines, else RESP).
	Format string
	// Batch is how many keys one transaction writes. Default:
	// DefaultImportBatch.
	Batch int
}

// ImportStats is what Import did.
type ImportStats struct {
	// Format is the input format.
	Format string
	// Commands is the number of JSON lines or RESP commands read; Keys the
	// number of key writes applied; Expired the JSON lines skipped (and
	// their keys deleted) because their deadline had passed; Batches the
	// number of committed transactions.
	Commands, Keys, Expired, Batches int64
	// Unknown counts the commands Import does not know, by name (they are
	// skipped).
	Unknown map[string]int64
	// Failed counts the lines or commands that failed (bad JSON, a
	// command error such as WRONGTYPE); Errors describes the first few.
	Failed int64
	Errors []string
	// Discarded is the number of commands of a MULTI block that the input
	// ended inside; like Redis loading a truncated AOF, Import drops it.
	Discarded int64
}

// UnknownCommands returns the unknown command names, sorted.
func (s *ImportStats) UnknownCommands() []string {
	var out []string
	for k := range s.Unknown {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Import errors.
var (
	// ErrRDBPreamble: the input is (or starts with) an RDB file.
	ErrRDBPreamble = errors.New("recovery: the input starts with an RDB preamble, which import cannot read")
	// ErrInterrupted: the import was canceled; every committed batch is
	// complete and the store is consistent.
	ErrInterrupted = errors.New("recovery: import interrupted")
)

// Import loads keys into the store in dir (creating it if needed) from r:
// JSON lines as Export writes them, or a RESP command stream (Export's, or
// a Redis AOF without an RDB preamble) applied command by command with the
// store's transactions. It commits every Batch keys; a MULTI/EXEC block is
// applied whole. Relative deadlines (EXPIRE, SET EX, SETEX) count from
// the time of the import; Redis 7 writes absolute ones (PEXPIREAT, SET
// PXAT) to its AOF. It fails at once with kv.ErrLocked if a server holds
// dir.
func Import(ctx context.Context, dir string, r io.Reader, o *ImportOptions) (ImportStats, error) {
	var iopts ImportOptions
	if o != nil {
		iopts = *o
	}
	opts := iopts.Options.withDefaults()
	if iopts.Batch <= 0 {
		iopts.Batch = DefaultImportBatch
	}
	st := ImportStats{Unknown: map[string]int64{}}
	br := bufio.NewReaderSize(r, 256<<10)
	peek, _ := br.Peek(512)
	first := bytes.TrimLeft(peek, " \t\r\n")
	if bytes.HasPrefix(first, []byte("REDIS")) {
		return st, fmt.Errorf("%w: rewrite the AOF without it (CONFIG SET aof-use-rdb-preamble no, then BGREWRITEAOF) and import the .aof file", ErrRDBPreamble)
	}
	st.Format = iopts.Format
	if st.Format == "" {
		st.Format = FormatRESP
		if len(first) > 0 && first[0] == '{' {
			st.Format = FormatJSONL
		}
	}
	if st.Format != FormatJSONL && st.Format != FormatRESP {
		return st, fmt.Errorf("recovery: unknown import format %q (want %s or %s)", st.Format, FormatJSONL, FormatRESP)
	}
	s, err := kv.Open(dir, &kv.Options{Logger: opts.Logger, Now: opts.Now})
	if err != nil {
		return st, openError(err)
	}
	im := &importer{ctx: ctx, s: s, o: opts, batch: iopts.Batch, st: &st}
	if st.Format == FormatJSONL {
		err = im.jsonl(br)
	} else {
		err = im.resp(br)
	}
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("recovery: close the store after import: %w", cerr)
	}
	return st, err
}

type importer struct {
	ctx   context.Context
	s     *kv.Store
	o     *Options
	batch int
	st    *ImportStats
	db    int
	n     int64 // commands/lines read
}

func (im *importer) fail(what string, err error) {
	im.st.Failed++
	if len(im.st.Errors) < maxImportErrors {
		im.st.Errors = append(im.st.Errors, what+": "+err.Error())
	}
}

func (im *importer) interrupted(err error) error {
	return fmt.Errorf("%w after %d keys in %d committed batches (%v): the store is consistent", ErrInterrupted, im.st.Keys, im.st.Batches, err)
}

// jsonRecord is one line of FormatJSONL.
type jsonRecord struct {
	DB         *int            `json:"db"`
	Key        json.RawMessage `json:"key"`
	Type       string          `json:"type"`
	Value      json.RawMessage `json:"value"`
	ExpireAtMs int64           `json:"expire_at_ms"`
}

// decodeBlob decodes a JSON string or {"base64": "..."}.
func decodeBlob(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	var b struct {
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Base64 == nil {
		return nil, errors.New(`want a string or {"base64": "..."}`)
	}
	return base64.StdEncoding.DecodeString(*b.Base64)
}

func (im *importer) jsonl(br *bufio.Reader) error {
	eof := false
	for !eof {
		if err := canceled(im.ctx); err != nil {
			return im.interrupted(err)
		}
		var keys, expired, lines int64
		var readErr error
		err := im.s.Update(func(tx *kv.Tx) error {
			keys, expired, lines = 0, 0, 0
			for n := 0; n < im.batch; {
				line, err := br.ReadBytes('\n')
				if err == io.EOF {
					eof = true
				} else if err != nil {
					readErr = err
					return nil
				}
				line = bytes.TrimSpace(line)
				if len(line) == 0 {
					if eof {
						return nil
					}
					continue
				}
				lines++
				lineNo := im.n + lines
				var rec jsonRecord
				if err := json.Unmarshal(line, &rec); err != nil {
					im.fail(fmt.Sprintf("line %d", lineNo), err)
					continue
				}
				key, err := decodeBlob(rec.Key)
				if err != nil {
					im.fail(fmt.Sprintf("line %d", lineNo), fmt.Errorf("key: %v", err))
					continue
				}
				val, err := decodeBlob(rec.Value)
				if err != nil {
					im.fail(fmt.Sprintf("line %d", lineNo), fmt.Errorf("value: %v", err))
					continue
				}
				if rec.Type != "" && rec.Type != "string" {
					im.fail(fmt.Sprintf("line %d", lineNo), fmt.Errorf("type %q cannot be imported yet", rec.Type))
					continue
				}
				db := 0
				if rec.DB != nil {
					db = *rec.DB
				}
				if db < 0 || db >= format.NumDBs || rec.ExpireAtMs < 0 {
					im.fail(fmt.Sprintf("line %d", lineNo), fmt.Errorf("db %d or expire_at_ms %d out of range", db, rec.ExpireAtMs))
					continue
				}
				if rec.ExpireAtMs != 0 && rec.ExpireAtMs <= tx.Now() {
					if _, err := tx.Del(db, key); err != nil {
						return err
					}
					expired++
				} else {
					if _, err := tx.Set(db, key, val, kv.SetOptions{Expire: rec.ExpireAtMs}); err != nil {
						return err
					}
					keys++
				}
				n++
				if eof {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("recovery: import stopped after %d keys (the store is consistent): %w", im.st.Keys, err)
		}
		im.n += lines
		im.st.Commands += lines
		im.st.Keys += keys
		im.st.Expired += expired
		if keys+expired > 0 {
			im.st.Batches++
		}
		im.o.Progress("import", im.st.Commands, 0)
		if readErr != nil {
			if err := canceled(im.ctx); err != nil {
				return im.interrupted(err)
			}
			return fmt.Errorf("recovery: read the input after line %d: %w", im.n, readErr)
		}
	}
	return nil
}

var errIncompleteMulti = errors.New("incomplete MULTI")

func (im *importer) resp(br *bufio.Reader) error {
	rd := wire.NewReader(br, wire.Limits{})
	eof, pendingMulti := false, false
	for !eof {
		if err := canceled(im.ctx); err != nil {
			return im.interrupted(err)
		}
		startDB := im.db
		var keys, cmds int64
		var readErr error
		inMulti := false
		failed, errs := im.st.Failed, len(im.st.Errors)
		unknown := map[string]int64{}
		err := im.s.Update(func(tx *kv.Tx) error {
			keys, cmds = 0, 0
			if pendingMulti {
				// The MULTI read at the end of the previous batch.
				inMulti, pendingMulti, cmds = true, false, 1
			}
			for n := int64(0); inMulti || n < int64(im.batch); {
				args, err := rd.ReadCommand()
				if err == io.EOF {
					eof = true
					break
				}
				if err != nil {
					readErr = err
					break
				}
				name := strings.ToLower(string(args[0]))
				if name == "multi" {
					if inMulti {
						im.fail(fmt.Sprintf("command %d (MULTI)", im.n+cmds+1), errors.New("ERR MULTI calls can not be nested"))
						cmds++
						continue
					}
					if cmds > 0 {
						// A transaction starts its own batch.
						pendingMulti = true
						return nil
					}
					inMulti = true
					cmds++
					continue
				}
				cmds++
				if name == "exec" {
					if !inMulti {
						im.fail(fmt.Sprintf("command %d (EXEC)", im.n+cmds), errors.New("ERR EXEC without MULTI"))
					}
					inMulti = false
					continue
				}
				k, err := im.apply(tx, name, args)
				switch {
				case errors.Is(err, errUnknownCommand):
					unknown[name]++
				case err != nil:
					im.fail(fmt.Sprintf("command %d (%s)", im.n+cmds, strings.ToUpper(name)), err)
				}
				keys += int64(k)
				n += int64(max(k, 1))
			}
			if inMulti {
				return errIncompleteMulti
			}
			return nil
		})
		switch {
		case errors.Is(err, errIncompleteMulti):
			// The input ended (or broke) inside MULTI: drop the
			// transaction, as Redis does with a truncated AOF.
			im.db = startDB
			im.st.Failed, im.st.Errors = failed, im.st.Errors[:errs]
			im.st.Discarded += cmds
			im.n += cmds
			im.st.Commands += cmds
			unknown = nil
			keys = 0
		case err != nil:
			im.db = startDB
			return fmt.Errorf("recovery: import stopped after %d keys (the store is consistent): %w", im.st.Keys, err)
		default:
			im.n += cmds
			im.st.Commands += cmds
			im.st.Keys += keys
			if cmds > 0 {
				im.st.Batches++
			}
		}
		for k, v := range unknown {
			im.st.Unknown[k] += v
		}
		im.o.Progress("import", im.st.Commands, 0)
		if readErr != nil {
			if err := canceled(im.ctx); err != nil {
				return im.interrupted(err)
			}
			return fmt.Errorf("recovery: the input is not a valid RESP stream after command %d: %w", im.n, readErr)
		}
	}
	return nil
}

var (
	errUnknownCommand = errors.New("unknown command")
	errSyntax         = errors.New("ERR syntax error")
	errNotInt         = kv.ErrNotInteger
)

func wrongArgs(name string) error {
	return fmt.Errorf("ERR wrong number of arguments for '%s' command", name)
}

func parseInt(b []byte) (int64, error) {
	n, ok := wire.ParseInt(b)
	if !ok {
		return 0, errNotInt
	}
	return n, nil
}

// apply runs one command against tx and returns how many keys it wrote.
func (im *importer) apply(tx *kv.Tx, name string, args [][]byte) (int, error) {
	argc := len(args)
	need := func(ok bool) error {
		if !ok {
			return wrongArgs(name)
		}
		return nil
	}
	db := im.db
	switch name {
	case "select":
		if err := need(argc == 2); err != nil {
			return 0, err
		}
		n, err := parseInt(args[1])
		if err != nil {
			return 0, err
		}
		if n < 0 || n >= format.NumDBs {
			return 0, kv.ErrDBIndex
		}
		im.db = int(n)
		return 0, nil
	case "set":
		if err := need(argc >= 3); err != nil {
			return 0, err
		}
		var o kv.SetOptions
		hasExp := false
		for i := 3; i < argc; i++ {
			opt := strings.ToUpper(string(args[i]))
			switch {
			case opt == "NX" && !o.XX:
				o.NX = true
			case opt == "XX" && !o.NX:
				o.XX = true
			case opt == "GET":
				o.Get = true
			case opt == "KEEPTTL" && !hasExp:
				o.KeepTTL = true
			case (opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !hasExp && !o.KeepTTL && i+1 < argc:
				n, err := parseInt(args[i+1])
				if err != nil {
					return 0, err
				}
				exp, err := kv.SetDeadline(tx.Now(), n, opt == "EX" || opt == "EXAT", opt == "EXAT" || opt == "PXAT")
				if err != nil {
					return 0, fmt.Errorf("ERR invalid expire time in 'set' command")
				}
				o.Expire, hasExp = exp, true
				i++
			default:
				return 0, errSyntax
			}
		}
		r, err := tx.Set(db, args[1], args[2], o)
		return b2i(r.Written), err
	case "setnx":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		ok, err := tx.SetNX(db, args[1], args[2])
		return b2i(ok), err
	case "setex", "psetex":
		if err := need(argc == 4); err != nil {
			return 0, err
		}
		n, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		exp, err := kv.SetDeadline(tx.Now(), n, name == "setex", false)
		if err != nil {
			return 0, fmt.Errorf("ERR invalid expire time in '%s' command", name)
		}
		_, err = tx.Set(db, args[1], args[3], kv.SetOptions{Expire: exp})
		return 1, err
	case "getset":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		_, _, err := tx.GetSet(db, args[1], args[2])
		return 1, err
	case "getdel":
		if err := need(argc == 2); err != nil {
			return 0, err
		}
		_, ok, err := tx.GetDel(db, args[1])
		return b2i(ok), err
	case "getex":
		if err := need(argc >= 2); err != nil {
			return 0, err
		}
		var o kv.GetExOptions
		switch {
		case argc == 2:
		case argc == 3 && strings.EqualFold(string(args[2]), "PERSIST"):
			o.Persist = true
		case argc == 4:
			opt := strings.ToUpper(string(args[2]))
			if opt != "EX" && opt != "PX" && opt != "EXAT" && opt != "PXAT" {
				return 0, errSyntax
			}
			n, err := parseInt(args[3])
			if err != nil {
				return 0, err
			}
			exp, err := kv.SetDeadline(tx.Now(), n, opt == "EX" || opt == "EXAT", opt == "EXAT" || opt == "PXAT")
			if err != nil {
				return 0, fmt.Errorf("ERR invalid expire time in 'getex' command")
			}
			o.Expire = exp
		default:
			return 0, errSyntax
		}
		_, ok, err := tx.GetEx(db, args[1], o)
		return b2i(ok), err
	case "mset", "msetnx":
		if err := need(argc >= 3 && argc%2 == 1); err != nil {
			return 0, err
		}
		if name == "msetnx" {
			ok, err := tx.MSetNX(db, args[1:]...)
			if !ok {
				return 0, err
			}
			return (argc - 1) / 2, err
		}
		return (argc - 1) / 2, tx.MSet(db, args[1:]...)
	case "del", "unlink":
		if err := need(argc >= 2); err != nil {
			return 0, err
		}
		n, err := tx.Del(db, args[1:]...)
		return n, err
	case "expire", "pexpire", "expireat", "pexpireat":
		if err := need(argc >= 3); err != nil {
			return 0, err
		}
		n, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		var cond kv.ExpireCond
		for _, a := range args[3:] {
			switch strings.ToUpper(string(a)) {
			case "NX":
				cond |= kv.ExpireNX
			case "XX":
				cond |= kv.ExpireXX
			case "GT":
				cond |= kv.ExpireGT
			case "LT":
				cond |= kv.ExpireLT
			default:
				return 0, fmt.Errorf("ERR Unsupported option %s", a)
			}
		}
		if cond&kv.ExpireNX != 0 && cond != kv.ExpireNX {
			return 0, errors.New("ERR NX and XX, GT or LT options at the same time are not compatible")
		}
		if cond&kv.ExpireGT != 0 && cond&kv.ExpireLT != 0 {
			return 0, errors.New("ERR GT and LT options at the same time are not compatible")
		}
		seconds := name == "expire" || name == "expireat"
		absolute := name == "expireat" || name == "pexpireat"
		deadline, err := kv.ExpireDeadline(tx.Now(), n, seconds, absolute)
		if err != nil {
			return 0, fmt.Errorf("ERR invalid expire time in '%s' command", name)
		}
		ok, err := tx.Expire(db, args[1], deadline, cond)
		return b2i(ok), err
	case "persist":
		if err := need(argc == 2); err != nil {
			return 0, err
		}
		ok, err := tx.Persist(db, args[1])
		return b2i(ok), err
	case "incr", "decr":
		if err := need(argc == 2); err != nil {
			return 0, err
		}
		d := int64(1)
		if name == "decr" {
			d = -1
		}
		_, err := tx.IncrBy(db, args[1], d)
		return 1, err
	case "incrby", "decrby":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		d, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		if name == "decrby" {
			if d == math.MinInt64 {
				return 0, kv.ErrDecrOverflow
			}
			d = -d
		}
		_, err = tx.IncrBy(db, args[1], d)
		return 1, err
	case "incrbyfloat":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		_, err := tx.IncrByFloat(db, args[1], args[2])
		return 1, err
	case "append":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		_, err := tx.Append(db, args[1], args[2])
		return 1, err
	case "setrange":
		if err := need(argc == 4); err != nil {
			return 0, err
		}
		off, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		_, err = tx.SetRange(db, args[1], off, args[3])
		return 1, err
	case "rename", "renamenx":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		if name == "rename" {
			return 1, tx.Rename(db, args[1], args[2])
		}
		ok, err := tx.RenameNX(db, args[1], args[2])
		return b2i(ok), err
	case "copy":
		if err := need(argc >= 3); err != nil {
			return 0, err
		}
		dst, replace := db, false
		for i := 3; i < argc; i++ {
			switch opt := strings.ToUpper(string(args[i])); {
			case opt == "REPLACE":
				replace = true
			case opt == "DB" && i+1 < argc:
				n, err := parseInt(args[i+1])
				if err != nil {
					return 0, err
				}
				if n < 0 || n >= format.NumDBs {
					return 0, kv.ErrDBIndex
				}
				dst = int(n)
				i++
			default:
				return 0, errSyntax
			}
		}
		ok, err := tx.Copy(db, args[1], dst, args[2], replace)
		return b2i(ok), err
	case "move":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		n, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		if n < 0 || n >= format.NumDBs {
			return 0, kv.ErrDBIndex
		}
		ok, err := tx.Move(db, args[1], int(n))
		return b2i(ok), err
	case "swapdb":
		if err := need(argc == 3); err != nil {
			return 0, err
		}
		a, err := parseInt(args[1])
		if err != nil {
			return 0, err
		}
		b, err := parseInt(args[2])
		if err != nil {
			return 0, err
		}
		if a < 0 || a >= format.NumDBs || b < 0 || b >= format.NumDBs {
			return 0, kv.ErrDBIndex
		}
		return 0, tx.SwapDB(int(a), int(b))
	case "flushdb", "flushall":
		if err := need(argc <= 2); err != nil {
			return 0, err
		}
		if argc == 2 && !strings.EqualFold(string(args[1]), "ASYNC") && !strings.EqualFold(string(args[1]), "SYNC") {
			return 0, errSyntax
		}
		if name == "flushdb" {
			return 1, tx.FlushDB(db)
		}
		return 1, tx.FlushAll()
	}
	return 0, errUnknownCommand
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
