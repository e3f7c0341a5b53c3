package metrics

import "time"

// Command is one command's statistics, the figures of INFO commandstats and
// latencystats. Record is lock-free and allocation-free.
type Command struct {
	// Name is the command's name, as given to NewSet.
	Name string
	// Calls counts the calls that ran, failed or not.
	Calls Counter
	// Micros is the total time of the calls, in microseconds.
	Micros Counter
	// Failed counts the calls that ran and returned an error.
	Failed Counter
	// Rejected counts the calls refused before running (arity, parse or
	// authentication errors); they are not in Calls.
	Rejected Counter
	// Latency is the distribution of the calls' durations.
	Latency Histogram
}

// Record records one call that took d; failed says it returned an error.
func (c *Command) Record(d time.Duration, failed bool) {
	c.Calls.Inc()
	c.Micros.Add(d.Microseconds())
	c.Latency.Record(d)
	if failed {
		c.Failed.Inc()
	}
}

// Set is the statistics of a server: one Command per command name, fixed
// when the Set is made, and the server-wide counters. Every method is safe
// for concurrent use; recording never locks or allocates.
type Set struct {
	// NetInput and NetOutput count the bytes read from and written to
	// clients.
	NetInput, NetOutput Counter
	// ConnectionsReceived counts accepted connections.
	ConnectionsReceived Counter
	// ConnectedClients is a gauge: Add(1) on connect, Add(-1) on close.
	ConnectedClients Counter
	// KeyspaceHits and KeyspaceMisses count key lookups that found or did
	// not find their key.
	KeyspaceHits, KeyspaceMisses Counter
	// Unknown counts requests for commands not in the Set.
	Unknown Counter

	cmds  []Command
	index map[string]int // read-only after NewSet
}

// NewSet returns a Set with one Command per name (duplicates are kept
// once).
func NewSet(names ...string) *Set {
	s := &Set{index: make(map[string]int, len(names))}
	for _, n := range names {
		if _, dup := s.index[n]; dup {
			continue
		}
		s.index[n] = len(s.cmds)
		s.cmds = append(s.cmds, Command{Name: n})
	}
	return s
}

// Command returns the statistics of the named command, or nil if the Set
// has none. It does not allocate.
func (s *Set) Command(name []byte) *Command {
	if i, ok := s.index[string(name)]; ok {
		return &s.cmds[i]
	}
	return nil
}

// Len returns the number of commands in the Set.
func (s *Set) Len() int { return len(s.cmds) }

// At returns the i-th command, in the order given to NewSet.
func (s *Set) At(i int) *Command { return &s.cmds[i] }

// Summary aggregates a Set: the server-wide counters and every command's
// statistics added together. It is a plain value.
type Summary struct {
	Calls, Micros, Failed, Rejected int64
	Unknown                         int64
	NetInputBytes, NetOutputBytes   int64
	ConnectionsReceived             int64
	ConnectedClients                int64
	KeyspaceHits, KeyspaceMisses    int64
	// Latency is the merged latency histogram of every command.
	Latency HistogramSnapshot
}

// Summary returns the aggregate of the Set's statistics. It reads every
// counter once and does not allocate.
func (s *Set) Summary() Summary {
	var sum Summary
	s.SummaryInto(&sum)
	return sum
}

// SummaryInto stores the aggregate of the Set's statistics in sum.
func (s *Set) SummaryInto(sum *Summary) {
	*sum = Summary{
		Unknown:             s.Unknown.Load(),
		NetInputBytes:       s.NetInput.Load(),
		NetOutputBytes:      s.NetOutput.Load(),
		ConnectionsReceived: s.ConnectionsReceived.Load(),
		ConnectedClients:    s.ConnectedClients.Load(),
		KeyspaceHits:        s.KeyspaceHits.Load(),
		KeyspaceMisses:      s.KeyspaceMisses.Load(),
	}
	for i := range s.cmds {
		c := &s.cmds[i]
		sum.Calls += c.Calls.Load()
		sum.Micros += c.Micros.Load()
		sum.Failed += c.Failed.Load()
		sum.Rejected += c.Rejected.Load()
		for j := range c.Latency.b {
			sum.Latency.Buckets[j] += c.Latency.b[j].Load()
		}
	}
}

// Reset zeroes every counter and histogram of the Set except the
// ConnectedClients gauge (CONFIG RESETSTAT).
func (s *Set) Reset() {
	s.NetInput.Reset()
	s.NetOutput.Reset()
	s.ConnectionsReceived.Reset()
	s.KeyspaceHits.Reset()
	s.KeyspaceMisses.Reset()
	s.Unknown.Reset()
	for i := range s.cmds {
		c := &s.cmds[i]
		c.Calls.Reset()
		c.Micros.Reset()
		c.Failed.Reset()
		c.Rejected.Reset()
		c.Latency.Reset()
	}
}

// MeanMicros returns the mean call duration in microseconds (0 without
// calls).
func (s *Summary) MeanMicros() float64 {
	if s.Calls == 0 {
		return 0
	}
	return float64(s.Micros) / float64(s.Calls)
}

// HitRatio returns KeyspaceHits / (KeyspaceHits + KeyspaceMisses), or 0
// without lookups.
func (s *Summary) HitRatio() float64 {
	n := s.KeyspaceHits + s.KeyspaceMisses
	if n == 0 {
		return 0
	}
	return float64(s.KeyspaceHits) / float64(n)
}
