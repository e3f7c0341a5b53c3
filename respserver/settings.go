package respserver

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// settings are the server's runtime-changeable configuration (CONFIG SET).
type settings struct {
	mu       sync.RWMutex
	pass     string
	maxConns int
	extra    map[string]string // other CONFIG GET/SET parameters, by name

	// Read on every command or batch, so kept outside mu.
	idle      atomic.Int64 // time.Duration
	slowAfter atomic.Int64 // time.Duration; negative: the slowlog is disabled
}

func newSettings(cfg Config) *settings {
	st := &settings{
		pass:     cfg.RequirePass,
		maxConns: cfg.MaxClients,
		extra:    map[string]string{},
	}
	st.idle.Store(int64(cfg.Timeout))
	st.slowAfter.Store(int64(cfg.SlowlogThreshold))
	for k, v := range cfg.Extra {
		st.extra[k] = v
	}
	return st
}

func (st *settings) requirePass() string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.pass
}

func (st *settings) maxClients() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.maxConns
}

func (st *settings) timeout() time.Duration { return time.Duration(st.idle.Load()) }

// slowlogThreshold is the duration from which a command is logged in the
// SLOWLOG; when the slowlog is disabled (slowlog-log-slower-than -1) no
// duration reaches it.
func (st *settings) slowlogThreshold() time.Duration {
	d := time.Duration(st.slowAfter.Load())
	if d < 0 {
		return math.MaxInt64
	}
	return d
}

// slowlogMicros is slowlog-log-slower-than as CONFIG GET reports it:
// microseconds, -1 when disabled.
func (st *settings) slowlogMicros() int64 {
	d := time.Duration(st.slowAfter.Load())
	if d < 0 {
		return -1
	}
	return d.Microseconds()
}

func (st *settings) setRequirePass(p string) {
	st.mu.Lock()
	st.pass = p
	st.mu.Unlock()
}

func (st *settings) setMaxClients(n int) {
	st.mu.Lock()
	st.maxConns = n
	st.mu.Unlock()
}

func (st *settings) setTimeout(d time.Duration) { st.idle.Store(int64(d)) }

// setSlowlogMicros sets slowlog-log-slower-than; a negative value disables
// the slowlog.
func (st *settings) setSlowlogMicros(us int64) {
	if us < 0 {
		st.slowAfter.Store(-1)
	} else {
		st.slowAfter.Store(int64(time.Duration(us) * time.Microsecond))
	}
}

// getExtra returns the value of a parameter kept in extra.
func (st *settings) getExtra(name string) (string, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	v, ok := st.extra[name]
	return v, ok
}

func (st *settings) setExtra(name, value string) {
	st.mu.Lock()
	st.extra[name] = value
	st.mu.Unlock()
}
