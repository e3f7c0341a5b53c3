package kv

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rustypotato/rustypotato/internal/format"
)

// Tx is a transaction: a consistent view of the store and, inside Update,
// a set of writes that commit atomically as one Pebble batch. A Tx is valid
// only inside the function given to Update or View.
//
// Byte slices passed to a Tx's methods are copied; byte slices it returns
// must not be modified, and stay valid after the transaction ends.
type Tx struct {
	s     *Store
	write bool
	now   int64 // Unix ms, fixed for the transaction (like Redis's command time)

	batch   *pebble.Batch
	pending []pendingWrite
	index   map[pkey]int // pending index, built once pending grows

	counts     [format.NumDBs]int64
	dbmap      [format.NumDBs]uint8
	countDirty uint32
	dbmapDirty bool
	flushed    uint32 // bit per physical db flushed in this tx

	kbuf []byte
}

type pkey struct {
	phys uint8
	key  string
}

type pendingWrite struct {
	phys uint8
	key  []byte
	e    *entry // nil: deleted
}

var txPool = sync.Pool{New: func() any { return new(Tx) }}

// Now returns the transaction's clock in Unix milliseconds.
func (tx *Tx) Now() int64 { return tx.now }

// Update runs fn with exclusive access to the store and commits its writes
// atomically. If fn returns an error, none of its writes are applied. Update
// returns once the writes are as durable as the store's Durability promises;
// it holds no lock while it waits for the disk, so concurrent writers share
// fsyncs.
func (s *Store) Update(fn func(tx *Tx) error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if err := s.Err(); err != nil {
		return err
	}
	tx := txPool.Get().(*Tx)
	s.mu.Lock()
	locked := true
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if locked {
				s.mu.Unlock()
			}
			if !ok {
				panic(r)
			}
			s.fail(errors.New(fe.msg))
			err = s.Err()
		}
	}()
	if s.closed.Load() {
		s.mu.Unlock()
		txPool.Put(tx)
		return ErrClosed
	}
	tx.begin(s, true)
	err = fn(tx)
	if err != nil || tx.batch == nil {
		seen := s.commits
		s.mu.Unlock()
		locked = false
		tx.release()
		// fn's results may reflect commits still waiting for their sync.
		if werr := s.waitSynced(seen); werr != nil && err == nil {
			err = werr
		}
		return err
	}
	tx.writeMeta()
	b := tx.batch
	if s.writeOp.Sync {
		err = s.db.ApplyNoSyncWait(b, s.writeOp)
	} else {
		err = s.db.Apply(b, s.writeOp)
	}
	if err != nil {
		s.mu.Unlock()
		locked = false
		s.fail(err)
		tx.release()
		return s.Err()
	}
	tx.publish()
	s.stats.WriteBatches.Add(1)
	s.commits++
	commit := s.commits
	s.mu.Unlock()
	locked = false
	tx.batch = nil
	tx.release()
	if s.writeOp.Sync {
		if err := b.SyncWait(); err != nil {
			s.fail(err)
			return s.Err()
		}
	}
	s.markSynced(commit)
	_ = b.Close()
	return nil
}

// View runs fn with a consistent read-only view; writes inside it fail
// with ErrReadOnly. Views run concurrently with each other.
func (s *Store) View(fn func(tx *Tx) error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	tx := txPool.Get().(*Tx)
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		txPool.Put(tx)
		return ErrClosed
	}
	tx.begin(s, false)
	locked := true
	defer func() {
		if r := recover(); r != nil {
			if locked {
				s.mu.RUnlock()
			}
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w: %s", ErrPebbleFatal, firstLine(fe.msg))
		}
	}()
	err = fn(tx)
	seen := s.commits
	s.mu.RUnlock()
	locked = false
	tx.release()
	// fn's results may reflect commits still waiting for their sync.
	if werr := s.waitSynced(seen); werr != nil && err == nil {
		err = werr
	}
	return err
}

func (tx *Tx) begin(s *Store, write bool) {
	tx.s = s
	tx.write = write
	tx.now = s.nowMs()
	tx.counts = s.counts
	tx.dbmap = s.dbmap
}

func (tx *Tx) release() {
	if tx.batch != nil {
		_ = tx.batch.Close()
		tx.batch = nil
	}
	for i := range tx.pending {
		tx.pending[i] = pendingWrite{}
	}
	tx.pending = tx.pending[:0]
	tx.index = nil
	tx.countDirty = 0
	tx.dbmapDirty = false
	tx.flushed = 0
	tx.s = nil
	if cap(tx.kbuf) > 64<<10 {
		tx.kbuf = nil
	}
	txPool.Put(tx)
}

// writeMeta adds the changed key counts and database map to the batch.
func (tx *Tx) writeMeta() {
	for i := 0; i < format.NumDBs; i++ {
		if tx.countDirty&(1<<i) != 0 {
			_ = tx.batch.Set(format.CountKey(uint8(i)), format.EncodeCount(tx.counts[i]), nil)
		}
	}
	if tx.dbmapDirty {
		_ = tx.batch.Set(format.KeyDBMap, tx.dbmap[:], nil)
	}
}

// publish makes the committed writes visible in the hot tier and the
// store's in-memory metadata. Called with s.mu held exclusively.
func (tx *Tx) publish() {
	s := tx.s
	for i := 0; i < format.NumDBs; i++ {
		if tx.flushed&(1<<i) != 0 {
			s.hot.clear(uint8(i))
		}
	}
	for _, p := range tx.pending {
		if p.e == nil {
			s.hot.del(p.phys, p.key)
		} else {
			s.hot.put(p.phys, p.key, p.e)
		}
	}
	s.counts = tx.counts
	s.dbmap = tx.dbmap
}

// physOf maps a logical database to its physical one as this tx sees it.
func (tx *Tx) physOf(db int) (uint8, error) {
	if db < 0 || db >= format.NumDBs {
		return 0, ErrDBIndex
	}
	return tx.dbmap[db], nil
}

func (tx *Tx) findPending(phys uint8, key []byte) (int, bool) {
	if tx.index != nil {
		i, ok := tx.index[pkey{phys, string(key)}]
		return i, ok
	}
	for i := len(tx.pending) - 1; i >= 0; i-- {
		p := &tx.pending[i]
		if p.phys == phys && bytes.Equal(p.key, key) {
			return i, true
		}
	}
	return 0, false
}

func (tx *Tx) setPending(phys uint8, key []byte, e *entry) {
	if i, ok := tx.findPending(phys, key); ok {
		tx.pending[i].e = e
		return
	}
	k := bytes.Clone(key)
	if k == nil {
		k = []byte{}
	}
	tx.pending = append(tx.pending, pendingWrite{phys: phys, key: k, e: e})
	if tx.index != nil {
		tx.index[pkey{phys, string(k)}] = len(tx.pending) - 1
	} else if len(tx.pending) > 16 {
		tx.index = make(map[pkey]int, 64)
		for i, p := range tx.pending {
			tx.index[pkey{p.phys, string(p.key)}] = i
		}
	}
}

// load returns key's physical record as this transaction sees it (nil if
// absent), including a record past its deadline that the expirer has not
// removed yet.
func (tx *Tx) load(phys uint8, key []byte) (*entry, error) {
	if len(tx.pending) > 0 {
		if i, ok := tx.findPending(phys, key); ok {
			return tx.pending[i].e, nil
		}
	}
	if tx.flushed&(1<<phys) != 0 {
		return nil, nil
	}
	s := tx.s
	if e := s.hot.get(phys, key); e != nil {
		s.stats.HotHits.Add(1)
		if e == absent {
			return nil, nil
		}
		return e, nil
	}
	if s.hot.complete.Load() {
		s.stats.HotHits.Add(1)
		return nil, nil
	}
	s.stats.HotMisses.Add(1)
	tx.kbuf = format.AppendDataKey(tx.kbuf[:0], phys, key)
	v, closer, err := s.db.Get(tx.kbuf)
	if errors.Is(err, pebble.ErrNotFound) {
		s.hot.put(phys, key, absent)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kv: read %q: %w", key, err)
	}
	typ, exp, payload, err := format.DecodeValue(v)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("kv: key %q: %w (run 'rustypotato check')", key, err)
	}
	e := &entry{typ: typ, expireAt: exp, val: bytes.Clone(payload)}
	if e.val == nil {
		e.val = []byte{}
	}
	closer.Close()
	s.hot.put(phys, key, e)
	return e, nil
}

// live is load that hides records past their deadline.
func (tx *Tx) live(phys uint8, key []byte) (*entry, error) {
	e, err := tx.load(phys, key)
	if err != nil || e == nil {
		return nil, err
	}
	if e.expireAt != 0 && e.expireAt <= tx.now {
		return nil, nil
	}
	return e, nil
}

// liveDB is live addressed by logical database.
func (tx *Tx) liveDB(db int, key []byte) (uint8, *entry, error) {
	phys, err := tx.physOf(db)
	if err != nil {
		return 0, nil, err
	}
	e, err := tx.live(phys, key)
	return phys, e, err
}

func (tx *Tx) batchFor() (*pebble.Batch, error) {
	if !tx.write {
		return nil, ErrReadOnly
	}
	if tx.batch == nil {
		tx.batch = tx.s.db.NewBatch()
	}
	return tx.batch, nil
}

// put writes e as key's record, keeping the key count and the expiry index
// in step.
func (tx *Tx) put(phys uint8, key []byte, e *entry) error {
	old, err := tx.load(phys, key)
	if err != nil {
		return err
	}
	b, err := tx.batchFor()
	if err != nil {
		return err
	}
	if old == nil {
		tx.counts[phys]++
		tx.countDirty |= 1 << phys
	} else if old.expireAt != 0 && old.expireAt != e.expireAt {
		tx.kbuf = format.AppendExpireKey(tx.kbuf[:0], phys, old.expireAt, key)
		_ = b.Delete(tx.kbuf, nil)
	}
	if e.expireAt != 0 && (old == nil || old.expireAt != e.expireAt) {
		tx.kbuf = format.AppendExpireKey(tx.kbuf[:0], phys, e.expireAt, key)
		_ = b.Set(tx.kbuf, nil, nil)
	}
	op := b.SetDeferred(format.DataKeyLen(len(key)), format.HeaderLen+len(e.val))
	format.AppendDataKey(op.Key[:0], phys, key)
	format.AppendValue(op.Value[:0], e.typ, e.expireAt, e.val)
	if err := op.Finish(); err != nil {
		return err
	}
	tx.setPending(phys, key, e)
	return nil
}

// del removes key's record if there is one; it reports whether there was.
func (tx *Tx) del(phys uint8, key []byte) (bool, error) {
	old, err := tx.load(phys, key)
	if err != nil || old == nil {
		return false, err
	}
	b, err := tx.batchFor()
	if err != nil {
		return false, err
	}
	tx.counts[phys]--
	tx.countDirty |= 1 << phys
	if old.expireAt != 0 {
		tx.kbuf = format.AppendExpireKey(tx.kbuf[:0], phys, old.expireAt, key)
		_ = b.Delete(tx.kbuf, nil)
	}
	tx.kbuf = format.AppendDataKey(tx.kbuf[:0], phys, key)
	_ = b.Delete(tx.kbuf, nil)
	tx.setPending(phys, key, nil)
	return true, nil
}

// flush removes every record of physical database phys.
func (tx *Tx) flush(phys uint8) error {
	b, err := tx.batchFor()
	if err != nil {
		return err
	}
	_ = b.DeleteRange(format.DataPrefix(phys), format.DataUpper(phys), nil)
	_ = b.DeleteRange(format.ExpirePrefix(phys), format.ExpireEnd(phys), nil)
	_ = b.DeleteRange([]byte{format.PrefixSub, phys}, []byte{format.PrefixSub, phys + 1}, nil)
	tx.counts[phys] = 0
	tx.countDirty |= 1 << phys
	tx.flushed |= 1 << phys
	// Forget pending writes to phys: they are flushed too.
	kept := tx.pending[:0]
	for _, p := range tx.pending {
		if p.phys != phys {
			kept = append(kept, p)
		}
	}
	tx.pending = kept
	if tx.index != nil {
		tx.index = make(map[pkey]int, len(kept))
		for i, p := range kept {
			tx.index[pkey{p.phys, string(p.key)}] = i
		}
	}
	return nil
}

// scanPhys calls fn for every record of phys whose hash is >= from, in hash
// order (then key order), as this transaction sees them, including records
// past their deadline. fn's key is only valid during the call; e carries
// the record's type and expiry but no value. fn returns false to stop.
func (tx *Tx) scanPhys(phys uint8, from uint64, fn func(hash uint64, key []byte, e *entry) bool) error {
	// Pending writes of phys, sorted by (hash, key).
	var pend []pendingWrite
	for _, p := range tx.pending {
		if p.phys == phys && format.Hash(p.key) >= from {
			pend = append(pend, p)
		}
	}
	sort.Slice(pend, func(i, j int) bool { return lessHK(pend[i].key, pend[j].key) })
	emitPending := func(upToKey []byte, inclusive bool) bool {
		for len(pend) > 0 {
			p := pend[0]
			if upToKey != nil {
				if !lessHK(p.key, upToKey) && !(inclusive && bytes.Equal(p.key, upToKey)) {
					return true
				}
			}
			pend = pend[1:]
			if p.e != nil && !fn(format.Hash(p.key), p.key, p.e) {
				return false
			}
		}
		return true
	}
	if tx.flushed&(1<<phys) == 0 {
		it, err := tx.s.db.NewIter(&pebble.IterOptions{
			LowerBound: format.DataSeek(phys, from),
			UpperBound: format.DataUpper(phys),
		})
		if err != nil {
			return err
		}
		defer it.Close()
		var hdr entry
		for ok := it.First(); ok; ok = it.Next() {
			_, h, key, err := format.DecodeDataKey(it.Key())
			if err != nil {
				return fmt.Errorf("kv: %w (run 'rustypotato check')", err)
			}
			// Pending writes that sort before this key come first.
			if !emitPending(key, false) {
				return nil
			}
			if len(pend) > 0 && bytes.Equal(pend[0].key, key) {
				p := pend[0]
				pend = pend[1:]
				if p.e != nil && !fn(h, key, p.e) {
					return nil
				}
				continue
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			typ, exp, _, err := format.DecodeValue(v)
			if err != nil {
				return fmt.Errorf("kv: key %q: %w (run 'rustypotato check')", key, err)
			}
			hdr = entry{typ: typ, expireAt: exp}
			if !fn(h, key, &hdr) {
				return nil
			}
		}
		if err := it.Error(); err != nil {
			return err
		}
	}
	emitPending(nil, false)
	return nil
}

// lessHK orders keys as the data records do: by hash, then by key.
func lessHK(a, b []byte) bool {
	ha, hb := format.Hash(a), format.Hash(b)
	if ha != hb {
		return ha < hb
	}
	return bytes.Compare(a, b) < 0
}
