package recovery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// Export formats.
const (
	// FormatJSONL is one JSON object per key:
	// {"db":0,"key":K,"type":"string","value":V,"expire_at_ms":T}
	// where K and V are JSON strings if they are valid UTF-8 and
	// {"base64":"..."} otherwise, and expire_at_ms (an absolute Unix time in
	// milliseconds) is left out for keys without a TTL.
	FormatJSONL = "jsonl"
	// FormatRESP is a stream of RESP commands (SELECT, SET, PEXPIREAT)
	// that 'redis-cli --pipe' loads into Redis and Import loads back.
	FormatRESP = "resp"
)

// ExportOptions configure Export.
type ExportOptions struct {
	Options
	// Format is FormatJSONL (the default) or FormatRESP.
	Format string
	// DB selects one logical database, or AllDBs. Note that the zero
	// value selects database 0; a nil *ExportOptions exports all.
	DB int
}

// AllDBs selects every database in ExportOptions.DB.
const AllDBs = -1

// ExportStats is what Export wrote.
type ExportStats struct {
	// Keys is the number of keys written; Expired the records skipped
	// because their deadline had passed; Unsupported the keys skipped
	// because their type has no export encoding yet.
	Keys, Expired, Unsupported int64
	// Bytes is the size of the output.
	Bytes int64
}

// Export writes the live keys of the store in dir to w in the chosen
// format, database by database, from a consistent view. It opens the store
// read-only; it fails at once with kv.ErrLocked if a server holds dir.
func Export(ctx context.Context, dir string, w io.Writer, o *ExportOptions) (ExportStats, error) {
	var eo ExportOptions
	if o != nil {
		eo = *o
	} else {
		eo.DB = AllDBs
	}
	opts := eo.Options.withDefaults()
	var st ExportStats
	if eo.Format == "" {
		eo.Format = FormatJSONL
	}
	if eo.Format != FormatJSONL && eo.Format != FormatRESP {
		return st, fmt.Errorf("recovery: unknown export format %q (want %s or %s)", eo.Format, FormatJSONL, FormatRESP)
	}
	if eo.DB < AllDBs || eo.DB >= format.NumDBs {
		return st, kv.ErrDBIndex
	}
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true, Logger: opts.Logger, Now: opts.Now})
	if err != nil {
		return st, openError(err)
	}
	defer s.Close()
	now := opts.Now().UnixMilli()
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	dbs := []int{eo.DB}
	if eo.DB == AllDBs {
		dbs = dbs[:0]
		for db := 0; db < format.NumDBs; db++ {
			dbs = append(dbs, db)
		}
	}
	var total, done int64
	for _, db := range dbs {
		n, _ := s.CountRecords(db)
		total += n
	}
	var line []byte
	for _, db := range dbs {
		selected := false
		err := s.Records(db, func(r *kv.Record) error {
			done++
			if done%ProgressEvery == 0 {
				opts.Progress("export", done, total)
				if err := canceled(ctx); err != nil {
					return err
				}
			}
			if r.Expired(now) {
				st.Expired++
				return nil
			}
			if r.Type != format.TypeString {
				st.Unsupported++
				return nil
			}
			line = line[:0]
			if eo.Format == FormatJSONL {
				line = appendJSONRecord(line, r)
			} else {
				if !selected {
					line = appendCommand(line, []byte("SELECT"), []byte(strconv.Itoa(db)))
					selected = true
				}
				line = appendCommand(line, []byte("SET"), r.Key, r.Value)
				if r.ExpireAt != 0 {
					line = appendCommand(line, []byte("PEXPIREAT"), r.Key, []byte(strconv.FormatInt(r.ExpireAt, 10)))
				}
			}
			st.Keys++
			_, err := bw.Write(line)
			return err
		})
		if err != nil {
			return st, err
		}
	}
	opts.Progress("export", done, total)
	err = bw.Flush()
	st.Bytes = cw.n
	return st, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// appendJSONRecord appends r as one JSON line.
func appendJSONRecord(dst []byte, r *kv.Record) []byte {
	dst = append(dst, `{"db":`...)
	dst = strconv.AppendInt(dst, int64(r.DB), 10)
	dst = append(dst, `,"key":`...)
	dst = appendBlob(dst, r.Key)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, format.TypeName(r.Type)...)
	dst = append(dst, `","value":`...)
	dst = appendBlob(dst, r.Value)
	if r.ExpireAt != 0 {
		dst = append(dst, `,"expire_at_ms":`...)
		dst = strconv.AppendInt(dst, r.ExpireAt, 10)
	}
	return append(dst, "}\n"...)
}

// appendBlob appends b as a JSON string if it is valid UTF-8, else as
// {"base64":"..."}.
func appendBlob(dst, b []byte) []byte {
	if utf8.Valid(b) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(string(b))
		return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	dst = append(dst, `{"base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, `"}`...)
}

// appendCommand appends a RESP multibulk command.
func appendCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
