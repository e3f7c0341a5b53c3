package kv

import (
	"bytes"
	"errors"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// warmChunk is how many records the background warm-up loads per hold of
// the store's read lock.
const warmChunk = 256

// warmLoop loads every key into the hot tier in the background, in chunks,
// while the store serves. If everything fits without eviction, the hot tier
// becomes complete (see hotTier.complete). Restart cost is unaffected: the
// store serves from Pebble until the warm-up is done.
func (s *Store) warmLoop() {
	defer s.wg.Done()
	start := time.Now()
	keys := 0
	for phys := uint8(0); phys < format.NumDBs; phys++ {
		var from []byte // resume after this data key
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			n, _, last, ok, err := s.warmChunk(phys, from, s.opts.HotTierBytes)
			keys += n
			if err != nil {
				if !errors.Is(err, ErrClosed) {
					s.log.Warn("background warm-up of the hot tier stopped", "err", err)
				}
				return
			}
			if !ok {
				s.hot.evicted.Store(true) // did not fit: never complete
			}
			if !ok || s.hot.evicted.Load() {
				s.log.Info("hot tier is smaller than the data: keys beyond it are served from disk",
					"warmed_keys", keys, "duration", time.Since(start).Round(time.Millisecond).String())
				return
			}
			if last == nil {
				break
			}
			from = last
		}
	}
	if !s.hot.evicted.Load() {
		s.hot.complete.Store(true)
	}
	s.log.Debug("hot tier warmed", "keys", keys, "duration", time.Since(start).Round(time.Millisecond).String())
}

// warmChunk loads up to warmChunk records of phys after data key from,
// while the hot tier holds at most budget bytes. It holds the read lock,
// so no write interleaves between reading a record and caching it. n and
// bytes are what it cached; last is the last data key read (nil when phys
// is done); ok is false when the budget is full.
func (s *Store) warmChunk(phys uint8, from []byte, budget int64) (n int, cached int64, last []byte, ok bool, err error) {
	defer CatchFatal(&err)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return 0, 0, nil, false, ErrClosed
	}
	lower := format.DataPrefix(phys)
	if from != nil {
		lower = append(bytes.Clone(from), 0) // the next key after from
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: format.DataUpper(phys)})
	if err != nil {
		return 0, 0, nil, false, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		if n == warmChunk {
			return n, cached, last, true, nil
		}
		k := it.Key()
		_, _, key, err := format.DecodeDataKey(k)
		if err != nil {
			continue // check and repair report it; reading it fails anyway
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return n, cached, nil, false, err
		}
		typ, exp, payload, err := format.DecodeValue(v)
		if err != nil {
			continue
		}
		e := &entry{typ: typ, expireAt: exp, val: bytes.Clone(payload)}
		if e.val == nil {
			e.val = []byte{}
		}
		sz, fits := s.hot.putIfAbsent(phys, key, e, budget)
		if !fits {
			return n, cached, nil, false, nil
		}
		cached += sz
		last = append(last[:0], k...)
		n++
	}
	return n, cached, nil, true, it.Error()
}

// HotTierUsage returns the bytes the hot tier accounts for, its number of
// entries, and whether it currently holds every key of the store.
func (s *Store) HotTierUsage() (bytes int64, keys int, complete bool) {
	b, k := s.hot.size()
	return b, k, s.hot.complete.Load()
}
