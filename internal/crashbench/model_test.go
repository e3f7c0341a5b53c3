package crashbench

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func str(s string) *string { return &s }

func obsAt(at time.Time, v *string, pttl int64) observation {
	return observation{value: v, pttl: pttl, t0: at, t1: at.Add(ms(2))}
}

func TestStrKeyCheck(t *testing.T) {
	end := t0.Add(ms(100))
	later := t0.Add(time.Second)
	set := func(v string) op { return op{kind: opSet, value: v, sent: t0} }
	del := op{kind: opDel, sent: t0}
	expire := func(secs int) op { return op{kind: opExpire, ttl: time.Duration(secs) * time.Second, sent: t0} }
	withTTL := keyState{exists: true, value: "a", ttl: true, dlMin: t0.Add(2 * time.Second), dlMax: t0.Add(ms(2050))}

	tests := []struct {
		name     string
		acked    keyState
		inflight []op
		obs      observation
		ok       bool
	}{
		{"acked value present", keyState{exists: true, value: "a"}, nil, obsAt(later, str("a"), -1), true},
		{"acked value lost", keyState{exists: true, value: "a"}, nil, obsAt(later, nil, -2), false},
		{"older value came back", keyState{exists: true, value: "b"}, nil, obsAt(later, str("a"), -1), false},
		{"in-flight SET landed", keyState{exists: true, value: "a"}, []op{set("b")}, obsAt(later, str("b"), -1), true},
		{"in-flight SET did not land", keyState{exists: true, value: "a"}, []op{set("b")}, obsAt(later, str("a"), -1), true},
		{"unknown value", keyState{exists: true, value: "a"}, []op{set("b")}, obsAt(later, str("c"), -1), false},
		{"acked DEL, key back", keyState{}, nil, obsAt(later, str("a"), -1), false},
		{"acked DEL, absent", keyState{}, nil, obsAt(later, nil, -2), true},
		{"acked DEL, in-flight SET landed", keyState{}, []op{set("b")}, obsAt(later, str("b"), -1), true},
		{"in-flight SET then DEL: middle state", keyState{exists: true, value: "a"}, []op{set("b"), del}, obsAt(later, str("b"), -1), true},
		{"in-flight SET then DEL: all landed", keyState{exists: true, value: "a"}, []op{set("b"), del}, obsAt(later, nil, -2), true},
		{"acked TTL present in window", withTTL, nil, obsAt(later, str("a"), 1000), true},
		{"acked TTL lost", withTTL, nil, obsAt(later, str("a"), -1), false},
		{"acked TTL, deadline far off", withTTL, nil, obsAt(later, str("a"), 100000), false},
		{"acked TTL, expired after deadline", withTTL, nil, obsAt(t0.Add(3*time.Second), nil, -2), true},
		{"acked TTL, gone before deadline", withTTL, nil, obsAt(later, nil, -2), false},
		{"acked TTL, served after deadline", withTTL, nil, obsAt(t0.Add(3*time.Second), str("a"), 5), false},
		{"acked TTL, expired between GET and PTTL", withTTL, nil, obsAt(t0.Add(ms(2000)), str("a"), -2), true},
		{"TTL where none was set", keyState{exists: true, value: "a"}, nil, obsAt(later, str("a"), 500), false},
		{"in-flight EXPIRE landed", keyState{exists: true, value: "a"}, []op{expire(5)}, obsAt(later, str("a"), 4000), true},
		{"in-flight EXPIRE not landed", keyState{exists: true, value: "a"}, []op{expire(5)}, obsAt(later, str("a"), -1), true},
		{"in-flight EXPIRE, wrong deadline", keyState{exists: true, value: "a"}, []op{expire(5)}, obsAt(later, str("a"), 9000), false},
		{"in-flight EXPIRE on absent key", keyState{}, []op{expire(5)}, obsAt(later, str("a"), 4000), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &strKey{name: "k", acked: tc.acked, inflight: tc.inflight}
			msg := k.check(tc.obs, end)
			if (msg == "") != tc.ok {
				t.Fatalf("check = %q, want ok=%v", msg, tc.ok)
			}
			if msg != "" && !strings.Contains(msg, "key k:") {
				t.Fatalf("violation %q does not name the key", msg)
			}
		})
	}
}

func TestStrKeyAck(t *testing.T) {
	k := &strKey{name: "k"}
	k.inflight = []op{{kind: opSet, value: "a", sent: t0}, {kind: opExpire, ttl: 10 * time.Second, sent: t0}, {kind: opDel, sent: t0}}
	if v := k.ack(reply{kind: '+', str: "OK"}, t0.Add(ms(1))); v != "" {
		t.Fatal(v)
	}
	if !k.acked.exists || k.acked.value != "a" || k.acked.ttl {
		t.Fatalf("after SET: %v", k.acked)
	}
	if v := k.ack(reply{kind: ':', num: 1}, t0.Add(ms(2))); v != "" {
		t.Fatal(v)
	}
	if !k.acked.ttl || !k.acked.dlMin.Equal(t0.Add(10*time.Second)) || !k.acked.dlMax.Equal(t0.Add(ms(10002))) {
		t.Fatalf("after EXPIRE: %v", k.acked)
	}
	if v := k.ack(reply{kind: ':', num: 1}, t0.Add(ms(3))); v != "" {
		t.Fatal(v)
	}
	if k.acked.exists || len(k.inflight) != 0 {
		t.Fatalf("after DEL: %v, %d in flight", k.acked, len(k.inflight))
	}

	// Replies that contradict the acknowledged state are violations.
	k = &strKey{name: "k", acked: keyState{exists: true, value: "a"}, inflight: []op{{kind: opDel, sent: t0}}}
	if v := k.ack(reply{kind: ':', num: 0}, t0); !strings.Contains(v, "lost") {
		t.Fatalf("DEL found nothing where a key must be: %q", v)
	}
	k = &strKey{name: "k", inflight: []op{{kind: opExpire, ttl: time.Second, sent: t0}}}
	if v := k.ack(reply{kind: ':', num: 1}, t0); v == "" {
		t.Fatal("EXPIRE found a key that must be absent: no violation")
	}
	k = &strKey{name: "k", inflight: []op{{kind: opSet, value: "x", sent: t0}}}
	if v := k.ack(reply{kind: '-', str: "ERR oops"}, t0); v == "" || k.acked.exists {
		t.Fatalf("SET error reply: violation %q, state %v", v, k.acked)
	}
	// An EXPIRE of 0 on a key whose TTL may have run out is fine.
	k = &strKey{name: "k", acked: keyState{exists: true, value: "a", ttl: true, dlMin: t0, dlMax: t0.Add(ms(5))},
		inflight: []op{{kind: opExpire, ttl: time.Second, sent: t0.Add(ms(10))}}}
	if v := k.ack(reply{kind: ':', num: 0}, t0.Add(ms(11))); v != "" || k.acked.exists {
		t.Fatalf("EXPIRE after expiry: violation %q, state %v", v, k.acked)
	}
}

func TestCtrKey(t *testing.T) {
	k := &ctrKey{name: "c", acked: 10, inflight: 2}
	for v, ok := range map[int64]bool{9: false, 10: true, 11: true, 12: true, 13: false} {
		if got := k.check(v) == ""; got != ok {
			t.Errorf("check(%d) ok=%v, want %v", v, got, ok)
		}
	}
	if v := k.ack(reply{kind: ':', num: 11}); v != "" || k.acked != 11 || k.inflight != 1 {
		t.Fatalf("ack 11: %q, acked %d, inflight %d", v, k.acked, k.inflight)
	}
	if v := k.ack(reply{kind: ':', num: 5}); v == "" {
		t.Fatal("INCR going backwards: no violation")
	}
}

func TestObservedRoundTrip(t *testing.T) {
	o := obsAt(t0, str("a"), 1500)
	s := o.observed()
	if !s.exists || !s.ttl || s.value != "a" {
		t.Fatalf("observed: %v", s)
	}
	if !s.matches(obsAt(t0.Add(ms(500)), str("a"), 1000)) {
		t.Fatal("the state read back does not match a later read of the same key")
	}
	if s := obsAt(t0, nil, -2).observed(); s.exists {
		t.Fatalf("absent observed as %v", s)
	}
	if s := obsAt(t0, str("b"), -1).observed(); !s.exists || s.ttl {
		t.Fatalf("persistent key observed as %v", s)
	}
}

func TestParseKeys(t *testing.T) {
	got, err := ParseKeys("100000, 1m,10k,1_000")
	if err != nil {
		t.Fatal(err)
	}
	want := []int{100000, 1000000, 10000, 1000}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"", "x", "-5", ","} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q): no error", bad)
		}
	}
}
