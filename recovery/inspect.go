package recovery

import (
	"context"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/kv"
)

// DBStats describes one logical database.
type DBStats struct {
	DB int
	// Keys is the recorded key count (DBSIZE); Records the number of
	// records read (they differ only if the store needs repair).
	Keys, Records int64
	// ByType counts the live keys by type name.
	ByType map[string]int64
	// WithTTL counts the live keys with a deadline; Expired the records
	// past their deadline that the expirer has not removed yet.
	WithTTL, Expired int64
	// KeyBytes and ValueBytes sum the live keys' and values' lengths.
	KeyBytes, ValueBytes int64
}

// SizeBucket is one bucket of a size histogram: Count values of Lower to
// Upper-1 bytes.
type SizeBucket struct {
	Lower, Upper int64
	Count        int64
}

// DiskUsage is the data directory's size by kind of file.
type DiskUsage struct {
	SSTables, WAL, Manifest, Other, Total int64
	Files                                 int
}

// LevelStats is one level of Pebble's LSM tree.
type LevelStats struct {
	Level     int
	Files     int64
	Bytes     int64
	Sublevels int32
	Score     float64
}

// Inventory is what Inspect reports.
type Inventory struct {
	Dir           string
	FormatVersion int
	// DBs lists the databases that hold records; Total sums them (its DB
	// is -1).
	DBs   []DBStats
	Total DBStats
	// ValueSizes is the histogram of live values' sizes (power-of-two
	// buckets, empty buckets left out).
	ValueSizes []SizeBucket
	// EarliestExpiry and LatestExpiry bound the live keys' deadlines (Unix
	// ms), 0 if no key has one.
	EarliestExpiry, LatestExpiry int64
	Disk                         DiskUsage
	// LSM describes the levels of Pebble's LSM tree; MemTables and
	// MemTableBytes its memtables (the replayed WAL).
	LSM           []LevelStats
	MemTables     int64
	MemTableBytes uint64
	// PebbleMetrics is Pebble's own metrics table.
	PebbleMetrics string
	// Now is the time live and expired keys were told apart with.
	Now time.Time
}

// Inspect describes the store in dir: keys per database and type, value
// sizes, TTLs, disk usage and the LSM's shape. It opens the store
// read-only; it fails at once with kv.ErrLocked if a server holds dir.
func Inspect(ctx context.Context, dir string, o *Options) (Inventory, error) {
	o = o.withDefaults()
	inv := Inventory{Dir: dir, Now: o.Now(), Total: DBStats{DB: -1, ByType: map[string]int64{}}}
	s, err := kv.Open(dir, &kv.Options{ReadOnly: true, Logger: o.Logger, Now: o.Now})
	if err != nil {
		return inv, openError(err)
	}
	defer s.Close()
	inv.FormatVersion = readVersion(s.Pebble())
	now := inv.Now.UnixMilli()
	var total int64
	for db := 0; db < format.NumDBs; db++ {
		n, _ := s.CountRecords(db)
		total += n
	}
	hist := make([]int64, 65)
	var done int64
	for db := 0; db < format.NumDBs; db++ {
		st := DBStats{DB: db, ByType: map[string]int64{}}
		st.Keys, _ = s.CountRecords(db)
		err := s.Records(db, func(r *kv.Record) error {
			st.Records++
			done++
			if done%ProgressEvery == 0 {
				o.Progress("inspect", done, total)
				if err := canceled(ctx); err != nil {
					return err
				}
			}
			if r.Expired(now) {
				st.Expired++
				return nil
			}
			st.ByType[format.TypeName(r.Type)]++
			st.KeyBytes += int64(len(r.Key))
			st.ValueBytes += int64(len(r.Value))
			hist[bits.Len64(uint64(len(r.Value)))]++
			if r.ExpireAt != 0 {
				st.WithTTL++
				if inv.EarliestExpiry == 0 || r.ExpireAt < inv.EarliestExpiry {
					inv.EarliestExpiry = r.ExpireAt
				}
				if r.ExpireAt > inv.LatestExpiry {
					inv.LatestExpiry = r.ExpireAt
				}
			}
			return nil
		})
		if err != nil {
			return inv, err
		}
		if st.Keys != 0 || st.Records != 0 {
			inv.DBs = append(inv.DBs, st)
		}
		inv.Total.Keys += st.Keys
		inv.Total.Records += st.Records
		inv.Total.WithTTL += st.WithTTL
		inv.Total.Expired += st.Expired
		inv.Total.KeyBytes += st.KeyBytes
		inv.Total.ValueBytes += st.ValueBytes
		for t, n := range st.ByType {
			inv.Total.ByType[t] += n
		}
	}
	o.Progress("inspect", done, total)
	for i, n := range hist {
		if n == 0 {
			continue
		}
		b := SizeBucket{Count: n}
		if i > 0 {
			b.Lower, b.Upper = int64(1)<<(i-1), int64(1)<<i
		} else {
			b.Upper = 1
		}
		inv.ValueSizes = append(inv.ValueSizes, b)
	}
	m := s.Pebble().Metrics()
	inv.LSM = lsm(m.Levels[:])
	inv.MemTables = m.MemTable.Count
	inv.MemTableBytes = m.MemTable.Size
	inv.PebbleMetrics = m.String()
	inv.Disk, err = diskUsage(dir)
	return inv, err
}

// diskUsage sums the sizes of the files in dir by kind.
func diskUsage(dir string) (DiskUsage, error) {
	var u DiskUsage
	ents, err := os.ReadDir(dir)
	if err != nil {
		return u, err
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		n := fi.Size()
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob"):
			u.SSTables += n
		case strings.HasSuffix(name, ".log"):
			u.WAL += n
		case strings.HasPrefix(name, "MANIFEST-"):
			u.Manifest += n
		default:
			u.Other += n
		}
		u.Total += n
		u.Files++
	}
	return u, nil
}

// hasStore reports whether dir holds a Pebble database.
func hasStore(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	return len(m) > 0
}

func lsm(levels []pebble.LevelMetrics) []LevelStats {
	var out []LevelStats
	for i, l := range levels {
		out = append(out, LevelStats{Level: i, Files: l.TablesCount, Bytes: l.TablesSize, Sublevels: l.Sublevels, Score: l.Score})
	}
	return out
}
