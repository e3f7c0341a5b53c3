package respserver

import (
	"math"
	"sync"
	"time"
)

// settings are the server's runtime-changeable configuration (CONFIG SET).
type settings struct {
	mu        sync.RWMutex
	pass      string
	maxConns  int
	idle      time.Duration
	slowAfter time.Duration     // negative: the slowlog is disabled
	extra     map[string]string // other CONFIG GET/SET parameters, by name
}

func newSettings(cfg Config) *settings {
	st := &settings{
		pass:      cfg.RequirePass,
		maxConns:  cfg.MaxClients,
		idle:      cfg.Timeout,
		slowAfter: cfg.SlowlogThreshold,
		extra:     map[string]string{},
	}
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

func (st *settings) timeout() time.Duration {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.idle
}

// slowlogThreshold is the duration from which a command is logged in the
// SLOWLOG; when the slowlog is disabled (slowlog-log-slower-than -1) no
// duration reaches it.
func (st *settings) slowlogThreshold() time.Duration {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.slowAfter < 0 {
		return math.MaxInt64
	}
	return st.slowAfter
}

// slowlogMicros is slowlog-log-slower-than as CONFIG GET reports it:
// microseconds, -1 when disabled.
func (st *settings) slowlogMicros() int64 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.slowAfter < 0 {
		return -1
	}
	return st.slowAfter.Microseconds()
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

func (st *settings) setTimeout(d time.Duration) {
	st.mu.Lock()
	st.idle = d
	st.mu.Unlock()
}

// setSlowlogMicros sets slowlog-log-slower-than; a negative value disables
// the slowlog.
func (st *settings) setSlowlogMicros(us int64) {
	st.mu.Lock()
	if us < 0 {
		st.slowAfter = -1
	} else {
		st.slowAfter = time.Duration(us) * time.Microsecond
	}
	st.mu.Unlock()
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
