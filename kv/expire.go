package kv

import (
	"bytes"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// expireBatch is how many expired keys one expiry transaction removes.
const expireBatch = 1024

// expireLoop removes keys past their deadline in the background, walking
// the expiry index (never the whole keyspace).
func (s *Store) expireLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.ExpireCycle(); err != nil && s.Err() == nil && !s.closed.Load() {
				s.log.Warn("expiry cycle failed", "err", err)
			}
		}
	}
}

type expiring struct {
	at  int64
	key []byte
}

// ExpireCycle removes every key whose deadline has passed, in batches of
// expireBatch keys per transaction, and returns how many it removed. The
// background expirer calls it every Options.ExpireInterval.
func (s *Store) ExpireCycle() (int, error) {
	total := 0
	for phys := uint8(0); phys < format.NumDBs; phys++ {
		// from is where the next batch resumes: every index entry before
		// it was removed by an earlier batch of this cycle. Restarting at
		// the prefix would walk the tombstones of all of them again, which
		// made removing n keys cost O(n²/expireBatch).
		var from []byte
		for {
			select {
			case <-s.stop:
				return total, nil
			default:
			}
			now := s.nowMs()
			cands, err := s.dueKeys(phys, now, from)
			if err != nil || len(cands) == 0 {
				if err != nil {
					return total, err
				}
				break
			}
			n := 0
			err = s.Update(func(tx *Tx) error {
				b, err := tx.batchFor()
				if err != nil {
					return err
				}
				for _, c := range cands {
					e, err := tx.load(phys, c.key)
					if err != nil {
						return err
					}
					if e != nil && e.expireAt == c.at && c.at <= tx.now {
						if _, err := tx.del(phys, c.key); err != nil {
							return err
						}
						n++
						continue
					}
					// A stale index entry (the key changed or went away).
					tx.kbuf = format.AppendExpireKey(tx.kbuf[:0], phys, c.at, c.key)
					_ = b.Delete(tx.kbuf, nil)
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			s.stats.ExpiredKeys.Add(int64(n))
			last := cands[len(cands)-1]
			from = append(format.AppendExpireKey(from[:0], phys, last.at, last.key), 0)
			if len(cands) < expireBatch {
				break
			}
		}
	}
	return total, nil
}

// dueKeys reads up to expireBatch expiry-index entries of phys due at now,
// starting at the index key from (nil: the start of phys's index).
func (s *Store) dueKeys(phys uint8, now int64, from []byte) ([]expiring, error) {
	if from == nil {
		from = format.ExpirePrefix(phys)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: from,
		UpperBound: format.ExpireUpper(phys, now),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []expiring
	for ok := it.First(); ok && len(out) < expireBatch; ok = it.Next() {
		_, at, key, err := format.DecodeExpireKey(it.Key())
		if err != nil {
			s.log.Warn("undecodable expiry-index entry; run 'rustypotato check'", "err", err)
			continue
		}
		out = append(out, expiring{at: at, key: bytes.Clone(key)})
	}
	return out, it.Error()
}
