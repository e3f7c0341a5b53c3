package crashbench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Workload shape: each writer owns its keys, so the expected state of
// every key follows from that writer's own acknowledgements.
const (
	strKeysPerWriter = 500
	ctrKeysPerWriter = 50
	ioTimeout        = 30 * time.Second
	preloadBatch     = 1000 // keys per MSET
	preloadWindow    = 8    // MSETs in flight
	verifyChunk      = 256  // keys per pipelined verification round trip
	preloadSample    = 1000 // preloaded keys checked after each restart
)

// expireTTLs are the EXPIRE times used: short ones expire across restarts,
// long ones do not.
var expireTTLs = []int{1, 2, 3, 5, 30, 1000}

// writer drives one connection and owns the keys it writes.
type writer struct {
	id    int
	rng   *rand.Rand
	strs  []*strKey
	ctrs  []*ctrKey
	seq   int64
	acked int64 // acknowledged writes, over all cycles
	viol  []string
}

func newWriter(id int, seed uint64) *writer {
	w := &writer{id: id, rng: rand.New(rand.NewPCG(seed, uint64(id)))}
	for i := range strKeysPerWriter {
		w.strs = append(w.strs, &strKey{name: fmt.Sprintf("cb:%d:%d", id, i)})
	}
	for i := range ctrKeysPerWriter {
		w.ctrs = append(w.ctrs, &ctrKey{name: fmt.Sprintf("cbc:%d:%d", id, i)})
	}
	return w
}

// pending is a sent write waiting for its reply.
type pending struct {
	str *strKey
	ctr *ctrKey
}

// next buffers one random write on c and records it as in flight.
func (w *writer) next(c *conn, now time.Time) pending {
	r := w.rng.IntN(100)
	if r >= 75 {
		k := w.ctrs[w.rng.IntN(len(w.ctrs))]
		k.inflight++
		c.send("INCR", k.name)
		return pending{ctr: k}
	}
	k := w.strs[w.rng.IntN(len(w.strs))]
	o := op{sent: now}
	switch {
	case r < 40:
		w.seq++
		o.kind, o.value = opSet, "w"+strconv.Itoa(w.id)+"-"+strconv.FormatInt(w.seq, 10)
		c.send("SET", k.name, o.value)
	case r < 55:
		o.kind = opDel
		c.send("DEL", k.name)
	default:
		secs := expireTTLs[w.rng.IntN(len(expireTTLs))]
		o.kind, o.ttl = opExpire, time.Duration(secs)*time.Second
		c.send("EXPIRE", k.name, strconv.Itoa(secs))
	}
	k.inflight = append(k.inflight, o)
	return pending{str: k}
}

// run sends writes in batches of depth until the connection fails (the
// server was killed). Every write is recorded as in flight before it is
// written to the socket and as acknowledged when its reply is read.
func (w *writer) run(c *conn, depth int, start <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	defer c.close()
	<-start
	pend := make([]pending, 0, depth)
	for {
		pend = pend[:0]
		now := time.Now()
		for range depth {
			pend = append(pend, w.next(c, now))
		}
		c.deadline(ioTimeout)
		if err := c.flush(); err != nil {
			return
		}
		for _, p := range pend {
			rep, err := c.read()
			if err != nil {
				return
			}
			var v string
			if p.ctr != nil {
				v = p.ctr.ack(rep)
			} else {
				v = p.str.ack(rep, time.Now())
			}
			w.acked++
			if v != "" {
				w.viol = append(w.viol, v)
			}
		}
	}
}

// preloadValue is the value of preloaded key i: valueSize bytes.
func preloadValue(i, valueSize int) string {
	s := strconv.Itoa(i)
	b := make([]byte, valueSize)
	for j := range b {
		b[j] = 'v'
	}
	copy(b[max(valueSize-len(s), 0):], s)
	return string(b)
}

func preloadKey(i int) string { return "pre:" + strconv.Itoa(i) }

// preload writes n keys with pipelined MSETs.
func preload(addr string, n, valueSize int) error {
	c, err := dial(addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.close()
	inWindow := 0
	readOne := func() error {
		rep, err := c.read()
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		if rep.kind != '+' {
			return fmt.Errorf("preload: MSET got %s", rep)
		}
		inWindow--
		return nil
	}
	args := make([]string, 0, 1+2*preloadBatch)
	for i := 0; i < n; {
		args = append(args[:0], "MSET")
		for ; i < n && len(args) < 1+2*preloadBatch; i++ {
			args = append(args, preloadKey(i), preloadValue(i, valueSize))
		}
		c.send(args...)
		inWindow++
		if inWindow == preloadWindow {
			c.deadline(ioTimeout)
			if err := c.flush(); err != nil {
				return fmt.Errorf("preload: %w", err)
			}
			for inWindow > preloadWindow/2 {
				if err := readOne(); err != nil {
					return err
				}
			}
		}
	}
	c.deadline(ioTimeout)
	if err := c.flush(); err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	for inWindow > 0 {
		if err := readOne(); err != nil {
			return err
		}
	}
	return nil
}

// verification is the outcome of reading every key back after a restart.
type verification struct {
	keys       int
	preloaded  int
	violations []string
}

// verify reads back every key the writers own and the preloaded keys in
// idx, checks each against what was acknowledged, and makes what it found
// the starting state of the next cycle. end is when the server was killed.
func verify(addr string, writers []*writer, end time.Time, idx []int, valueSize int) (verification, error) {
	var res verification
	c, err := dial(addr, 5*time.Second)
	if err != nil {
		return res, err
	}
	defer c.close()
	var strs []*strKey
	var ctrs []*ctrKey
	for _, w := range writers {
		strs = append(strs, w.strs...)
		ctrs = append(ctrs, w.ctrs...)
	}
	for len(strs) > 0 {
		chunk := strs[:min(verifyChunk, len(strs))]
		strs = strs[len(chunk):]
		t0 := time.Now()
		for _, k := range chunk {
			c.send("GET", k.name)
			c.send("PTTL", k.name)
		}
		c.deadline(ioTimeout)
		if err := c.flush(); err != nil {
			return res, err
		}
		obs := make([]observation, len(chunk))
		for i := range chunk {
			g, err := c.read()
			if err != nil {
				return res, err
			}
			t, err := c.read()
			if err != nil {
				return res, err
			}
			if g.kind != '$' || t.kind != ':' {
				return res, fmt.Errorf("verify %s: GET got %s, PTTL got %s", chunk[i].name, g, t)
			}
			if !g.null {
				s := g.str
				obs[i].value = &s
			}
			obs[i].pttl = t.num
		}
		t1 := time.Now()
		for i, k := range chunk {
			obs[i].t0, obs[i].t1 = t0, t1
			if v := k.check(obs[i], end); v != "" {
				res.violations = append(res.violations, v)
			}
			k.acked, k.inflight = obs[i].observed(), nil
			res.keys++
		}
	}
	for len(ctrs) > 0 {
		chunk := ctrs[:min(verifyChunk, len(ctrs))]
		ctrs = ctrs[len(chunk):]
		for _, k := range chunk {
			c.send("GET", k.name)
		}
		c.deadline(ioTimeout)
		if err := c.flush(); err != nil {
			return res, err
		}
		for _, k := range chunk {
			g, err := c.read()
			if err != nil {
				return res, err
			}
			var v int64
			if g.kind != '$' {
				return res, fmt.Errorf("verify %s: GET got %s", k.name, g)
			}
			if !g.null {
				if v, err = strconv.ParseInt(g.str, 10, 64); err != nil {
					return res, fmt.Errorf("verify %s: GET got %s, not an integer", k.name, g)
				}
			}
			if msg := k.check(v); msg != "" {
				res.violations = append(res.violations, msg)
			}
			k.acked, k.inflight = v, 0
			res.keys++
		}
	}
	for len(idx) > 0 {
		chunk := idx[:min(preloadBatch, len(idx))]
		idx = idx[len(chunk):]
		for _, i := range chunk {
			c.send("GET", preloadKey(i))
		}
		c.deadline(ioTimeout)
		if err := c.flush(); err != nil {
			return res, err
		}
		for _, i := range chunk {
			g, err := c.read()
			if err != nil {
				return res, err
			}
			if want := preloadValue(i, valueSize); g.kind != '$' || g.null || g.str != want {
				res.violations = append(res.violations, fmt.Sprintf("preloaded key %s: found %s, want %q", preloadKey(i), g, want))
			}
			res.preloaded++
		}
	}
	return res, nil
}
