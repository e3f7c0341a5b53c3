package kv

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/record"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/wal"
)

// isTornWAL reports whether a Pebble open error is a damaged chunk found
// while replaying the write-ahead log.
func isTornWAL(err error) bool {
	return errors.Is(err, record.ErrZeroedChunk) || errors.Is(err, record.ErrInvalidChunk) ||
		strings.Contains(err.Error(), "pebble/record: zeroed chunk") ||
		strings.Contains(err.Error(), "pebble/record: invalid chunk")
}

// WALTailRepair describes a torn write cut from the end of the newest WAL.
type WALTailRepair struct {
	WAL        string // the WAL file that was cut
	Offset     int64  // its new length: the end of its last intact record
	Dropped    int64  // bytes removed after Offset
	Quarantine string // the original file, kept beside the data
}

// repairWALTail cuts a torn write from the end of the newest write-ahead
// log. A power loss can persist a later block of a file that was being
// written while losing an earlier one; Pebble then finds a zeroed or
// invalid chunk followed by valid data and refuses to open. Every record
// from the damaged chunk on was written after the last completed fsync, so
// no acknowledged write (in always mode) and nothing older than the last
// fsync (in everysec mode) is lost by cutting there: the store opens at the
// last durable prefix, as Redis does for a truncated append-only file. The
// original WAL is kept as a .bad file beside the data. It returns nil if
// the newest WAL has no damaged chunk.
func repairWALTail(fs vfs.FS, dir string) (*WALTailRepair, error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	newest, found := "", false
	var newestNum wal.NumWAL
	for _, n := range names {
		num, idx, ok := wal.ParseLogFilename(n)
		if !ok || idx != 0 {
			continue
		}
		if !found || num > newestNum {
			newest, newestNum, found = n, num, true
		}
	}
	if !found {
		return nil, nil
	}
	path := filepath.Join(dir, newest)
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := newRecordReader(f, uint64(newestNum))
	cut := int64(-1)
	for {
		off := r.Offset()
		rec, err := r.Next()
		if err == nil {
			_, err = io.Copy(io.Discard, rec)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, record.ErrZeroedChunk) || errors.Is(err, record.ErrInvalidChunk) {
			cut = off
		}
		break // io.EOF or an unclean end, which Pebble tolerates
	}
	if cut < 0 {
		return nil, nil
	}
	// Write the intact prefix to a new file, then swap it in.
	tmp := path + ".tmp"
	out, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(out, io.NewSectionReader(f, 0, cut)); err != nil {
		out.Close()
		return nil, err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	bad := filepath.Join(dir, fmt.Sprintf("quarantine-wal-%s-%d.bad", strings.TrimSuffix(newest, ".log"), time.Now().Unix()))
	if err := fs.Rename(path, bad); err != nil {
		return nil, err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return nil, err
	}
	if d, err := fs.OpenDir(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return &WALTailRepair{WAL: path, Offset: cut, Dropped: st.Size() - cut, Quarantine: bad}, nil
}

// newRecordReader calls record.NewReader, whose log-number parameter has a
// type from Pebble's internal packages that cannot be named here.
func newRecordReader(r io.Reader, logNum uint64) *record.Reader {
	fn := reflect.ValueOf(record.NewReader)
	num := reflect.ValueOf(logNum).Convert(fn.Type().In(1))
	return fn.Call([]reflect.Value{reflect.ValueOf(&r).Elem(), num})[0].Interface().(*record.Reader)
}
