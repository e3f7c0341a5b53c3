package crashbench

import (
	"fmt"
	"time"
)

// ttlTolerance absorbs clock granularity when a TTL deadline observed after
// a restart is compared with the window the client knows it must lie in.
const ttlTolerance = 50 * time.Millisecond

// opKind is a write the workload sends.
type opKind uint8

const (
	opSet opKind = iota
	opDel
	opExpire
	opIncr
)

func (k opKind) String() string {
	return [...]string{"SET", "DEL", "EXPIRE", "INCR"}[k]
}

// op is one write sent to the server.
type op struct {
	kind  opKind
	value string        // SET
	ttl   time.Duration // EXPIRE
	sent  time.Time     // just before the command was written to the socket
}

// keyState is what a string key holds: absent, or a value with or without
// a TTL. A TTL deadline is known to lie in [dlMin, dlMax]: the server
// computed it between the moment the command was sent and the moment its
// reply arrived (or the server was killed).
type keyState struct {
	exists bool
	value  string
	ttl    bool
	dlMin  time.Time
	dlMax  time.Time
}

func (s keyState) String() string {
	switch {
	case !s.exists:
		return "absent"
	case s.ttl:
		return fmt.Sprintf("%q with a TTL ending in [%s, %s]", s.value,
			s.dlMin.Format("15:04:05.000"), s.dlMax.Format("15:04:05.000"))
	}
	return fmt.Sprintf("%q without TTL", s.value)
}

// mayBeExpired reports whether the key may have expired by time t.
func (s keyState) mayBeExpired(t time.Time) bool {
	return s.exists && s.ttl && !t.Before(s.dlMin.Add(-ttlTolerance))
}

// mustBeExpired reports whether the key must have expired by time t.
func (s keyState) mustBeExpired(t time.Time) bool {
	return s.exists && s.ttl && t.After(s.dlMax.Add(ttlTolerance))
}

// apply returns the state after o is executed, given the reply when the
// write was acknowledged (acked) or not (then the server ran it at some
// moment before end, if at all).
func (s keyState) apply(o op, rep reply, acked bool, end time.Time) keyState {
	switch o.kind {
	case opSet:
		return keyState{exists: true, value: o.value}
	case opDel:
		return keyState{}
	case opExpire:
		if acked && rep.kind == ':' && rep.num == 0 {
			return keyState{} // the key was absent (or had just expired)
		}
		if !s.exists {
			return s
		}
		return keyState{exists: true, value: s.value, ttl: true, dlMin: o.sent.Add(o.ttl), dlMax: end.Add(o.ttl)}
	}
	return s
}

// observation is a string key as read back after a restart: GET and PTTL,
// sent between t0 and t1.
type observation struct {
	value  *string
	pttl   int64
	t0, t1 time.Time
}

func (o observation) String() string {
	if o.value == nil {
		return fmt.Sprintf("absent (PTTL %d)", o.pttl)
	}
	return fmt.Sprintf("%q (PTTL %d)", *o.value, o.pttl)
}

// matches reports whether the observation is consistent with state s.
func (s keyState) matches(o observation) bool {
	if !s.exists {
		return o.value == nil
	}
	if o.value == nil {
		return s.mayBeExpired(o.t1)
	}
	if *o.value != s.value {
		return false
	}
	pttl := o.pttl
	if pttl == -2 {
		pttl = 0 // expired between GET and PTTL
	}
	if !s.ttl {
		return pttl == -1
	}
	if pttl < 0 {
		return false
	}
	// The deadline the server holds lies in [t0+pttl, t1+pttl] (± 1 ms of
	// rounding); it must overlap the window the client knows.
	lo := o.t0.Add(time.Duration(pttl-1) * time.Millisecond)
	hi := o.t1.Add(time.Duration(pttl+1) * time.Millisecond)
	return !hi.Before(s.dlMin.Add(-ttlTolerance)) && !lo.After(s.dlMax.Add(ttlTolerance))
}

// observed turns an observation into the state the next cycle starts from.
func (o observation) observed() keyState {
	if o.value == nil {
		return keyState{}
	}
	s := keyState{exists: true, value: *o.value}
	if o.pttl >= 0 || o.pttl == -2 {
		p := max(o.pttl, 0)
		s.ttl = true
		s.dlMin = o.t0.Add(time.Duration(p-1) * time.Millisecond)
		s.dlMax = o.t1.Add(time.Duration(p+1) * time.Millisecond)
	}
	return s
}

// strKey is a string key owned by one writer: the state its acknowledged
// writes left, and the writes sent but not (yet) acknowledged, in order.
type strKey struct {
	name     string
	acked    keyState
	inflight []op
}

// candidates lists every state the key may be in after a crash: the
// acknowledged state followed by each prefix of the in-flight writes (a
// connection's commands run in order, so a later one never lands without
// the earlier ones). end is when the server was killed.
func (k *strKey) candidates(end time.Time) []keyState {
	c := make([]keyState, 0, 1+len(k.inflight))
	s := k.acked
	c = append(c, s)
	for _, o := range k.inflight {
		s = s.apply(o, reply{}, false, end)
		c = append(c, s)
	}
	return c
}

// check compares an observation with the candidates; it returns "" when
// consistent, otherwise a description of the violation.
func (k *strKey) check(o observation, end time.Time) string {
	cands := k.candidates(end)
	for _, s := range cands {
		if s.matches(o) {
			return ""
		}
	}
	msg := fmt.Sprintf("key %s: found %s, acknowledged state %s", k.name, o, k.acked)
	if len(k.inflight) > 0 {
		msg += fmt.Sprintf(" (+%d in flight", len(k.inflight))
		for _, s := range cands[1:] {
			msg += "; or " + s.String()
		}
		msg += ")"
	}
	return msg
}

// ack applies the reply to the oldest in-flight write of the key and
// returns a violation when the reply contradicts the acknowledged state
// (for example DEL finding no key that must exist), or "".
func (k *strKey) ack(rep reply, at time.Time) string {
	o := k.inflight[0]
	k.inflight = k.inflight[1:]
	prev := k.acked
	if rep.kind == '-' {
		return fmt.Sprintf("key %s: %s got %s", k.name, o.kind, rep)
	}
	k.acked = prev.apply(o, rep, true, at)
	switch o.kind {
	case opSet:
		if rep.kind != '+' || rep.str != "OK" {
			return fmt.Sprintf("key %s: SET got %s", k.name, rep)
		}
	case opDel, opExpire:
		if rep.kind != ':' || (rep.num != 0 && rep.num != 1) {
			return fmt.Sprintf("key %s: %s got %s", k.name, o.kind, rep)
		}
		// When the reply tells whether the key existed, it must agree
		// with what the acknowledged writes left (expiry aside).
		existed := rep.num == 1
		switch {
		case existed && !prev.exists:
			return fmt.Sprintf("key %s: %s found the key, but it should be absent", k.name, o.kind)
		case !existed && prev.exists && !prev.mayBeExpired(at):
			return fmt.Sprintf("key %s: %s found no key, but it should hold %s (an acknowledged write was lost)", k.name, o.kind, prev)
		case existed && prev.mustBeExpired(o.sent):
			return fmt.Sprintf("key %s: %s found the key after its TTL ended (%s)", k.name, o.kind, prev)
		}
	}
	return ""
}

// ctrKey is a counter owned by one writer, written only by INCR.
type ctrKey struct {
	name     string
	acked    int64
	inflight int
}

// check compares the value read back after a restart with the counter's
// bounds: at least the last acknowledged value, at most that plus the
// increments in flight.
func (k *ctrKey) check(v int64) string {
	if v >= k.acked && v <= k.acked+int64(k.inflight) {
		return ""
	}
	return fmt.Sprintf("counter %s: found %d, acknowledged %d (+%d in flight)", k.name, v, k.acked, k.inflight)
}

// ack applies an INCR reply.
func (k *ctrKey) ack(rep reply) string {
	k.inflight--
	if rep.kind != ':' {
		return fmt.Sprintf("counter %s: INCR got %s", k.name, rep)
	}
	want := k.acked + 1
	k.acked = rep.num
	if rep.num != want {
		return fmt.Sprintf("counter %s: INCR returned %d, want %d (an acknowledged write was lost)", k.name, rep.num, want)
	}
	return ""
}
