package kv

import (
	"sync"
	"sync/atomic"

	"github.com/rustypotato/rustypotato/internal/format"
)

// entry is one key's state as the hot tier and transactions see it. An
// entry is immutable once published: writers replace it, never modify it,
// so a reader may keep using a value after releasing the store's lock.
type entry struct {
	typ      byte
	expireAt int64 // Unix ms; 0 = no expiry
	val      []byte
}

// entryOverhead approximates the bytes an entry costs beyond its key and
// value: the entry struct, the map slot and the key's string header.
const entryOverhead = 96

func entrySize(key string, e *entry) int64 {
	return int64(len(key)+cap(e.val)) + entryOverhead
}

// hotTier is the bounded in-memory cache of recently used keys. It is a
// write-through cache of Pebble: every entry mirrors the key's data record,
// so evicting an entry needs no write. Eviction is random (Go's randomised
// map iteration), which approximates LRU well for skewed workloads at no
// per-read cost.
type hotTier struct {
	mu     sync.Mutex
	budget int64
	used   int64
	maxVal int // values larger than this are not cached
	m      [format.NumDBs]map[string]*entry
	next   int // next database to evict from
	stats  *Stats

	// complete is true while the hot tier holds every key of the store,
	// so that a key it lacks does not exist and reads need not ask Pebble.
	// It starts true for an empty store, becomes true once the background
	// warm-up has loaded every key, and turns false for good at the first
	// eviction.
	complete atomic.Bool
	evicted  atomic.Bool
}

// absent is the hot tier's negative entry: the key is known not to exist.
// It is cached after a read missed in Pebble, and replaced by the first
// write of the key (the hot tier is write-through).
var absent = &entry{}

func newHotTier(budget int64, stats *Stats) *hotTier {
	h := &hotTier{budget: budget, stats: stats}
	h.maxVal = int(budget / 8)
	for i := range h.m {
		h.m[i] = make(map[string]*entry)
	}
	return h
}

func (h *hotTier) get(phys uint8, key []byte) *entry {
	h.mu.Lock()
	e := h.m[phys][string(key)]
	h.mu.Unlock()
	return e
}

// put caches e for key; key is copied.
func (h *hotTier) put(phys uint8, key []byte, e *entry) {
	if len(e.val) > h.maxVal {
		// Too large to cache: the hot tier no longer holds every key.
		h.evicted.Store(true)
		h.complete.Store(false)
		h.del(phys, key)
		return
	}
	h.mu.Lock()
	m := h.m[phys]
	if old, ok := m[string(key)]; ok {
		h.used -= entrySize(string(key), old)
		m[string(key)] = e
		h.used += entrySize(string(key), e)
	} else {
		k := string(key)
		m[k] = e
		h.used += entrySize(k, e)
	}
	if h.used > h.budget {
		h.evictLocked()
	}
	h.mu.Unlock()
}

func (h *hotTier) evictLocked() {
	for tries := 0; h.used > h.budget && tries < 2*format.NumDBs; {
		m := h.m[h.next]
		if len(m) == 0 {
			h.next = (h.next + 1) % format.NumDBs
			tries++
			continue
		}
		n := 0
		h.evicted.Store(true)
		h.complete.Store(false)
		for k, e := range m {
			delete(m, k)
			h.used -= entrySize(k, e)
			h.stats.EvictedKeys.Add(1)
			n++
			if h.used <= h.budget || n >= 16 {
				break
			}
		}
		h.next = (h.next + 1) % format.NumDBs
	}
}

func (h *hotTier) del(phys uint8, key []byte) {
	h.mu.Lock()
	m := h.m[phys]
	if old, ok := m[string(key)]; ok {
		h.used -= entrySize(string(key), old)
		delete(m, string(key))
	}
	h.mu.Unlock()
}

// clear drops every entry of physical database phys.
func (h *hotTier) clear(phys uint8) {
	h.mu.Lock()
	for k, e := range h.m[phys] {
		h.used -= entrySize(k, e)
	}
	h.m[phys] = make(map[string]*entry)
	h.mu.Unlock()
}

// putIfAbsent caches e for key unless the key already has an entry (which
// is newer, since writes keep the hot tier current) and returns the bytes
// it added; fits is false when e would take the hot tier past
// min(budget, its own budget).
func (h *hotTier) putIfAbsent(phys uint8, key []byte, e *entry, budget int64) (added int64, fits bool) {
	if len(e.val) > h.maxVal {
		h.evicted.Store(true)
		return 0, true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.m[phys]
	if _, ok := m[string(key)]; ok {
		return 0, true
	}
	k := string(key)
	sz := entrySize(k, e)
	if h.used+sz > min(budget, h.budget) {
		return 0, false
	}
	m[k] = e
	h.used += sz
	return sz, true
}

// Bytes returns the bytes the hot tier accounts for and its entry count.
func (h *hotTier) size() (bytes int64, keys int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.m {
		keys += len(m)
	}
	return h.used, keys
}
