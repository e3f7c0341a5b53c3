package format

import (
	"bytes"
	"errors"
	"testing"
)

func TestDataKeyRoundTrip(t *testing.T) {
	for _, key := range [][]byte{{}, []byte("a"), []byte("user:1000"), {0, 1, 2, 0xff}} {
		k := AppendDataKey(nil, 7, key)
		if len(k) != DataKeyLen(len(key)) {
			t.Fatalf("len %d, want %d", len(k), DataKeyLen(len(key)))
		}
		phys, h, got, err := DecodeDataKey(k)
		if err != nil || phys != 7 || h != Hash(key) || !bytes.Equal(got, key) {
			t.Fatalf("decode %q: %d %x %q %v", key, phys, h, got, err)
		}
		if bytes.Compare(k, DataSeek(7, h)) < 0 || bytes.Compare(k, DataUpper(7)) >= 0 || bytes.Compare(k, DataPrefix(7)) < 0 {
			t.Fatalf("key %x outside its database's bounds", k)
		}
	}
}

func TestExpireKeyOrder(t *testing.T) {
	a := AppendExpireKey(nil, 3, 1000, []byte("zzz"))
	b := AppendExpireKey(nil, 3, 2000, []byte("aaa"))
	if bytes.Compare(a, b) >= 0 {
		t.Fatal("expiry keys must order by deadline first")
	}
	if bytes.Compare(b, ExpireUpper(3, 1999)) < 0 || bytes.Compare(b, ExpireUpper(3, 2000)) >= 0 {
		t.Fatal("ExpireUpper must bound deadlines <= at")
	}
	phys, at, key, err := DecodeExpireKey(b)
	if err != nil || phys != 3 || at != 2000 || string(key) != "aaa" {
		t.Fatalf("decode: %d %d %q %v", phys, at, key, err)
	}
}

func TestValueRoundTripAndCorruption(t *testing.T) {
	v := AppendValue(nil, TypeString, 1234, []byte("payload"))
	typ, exp, p, err := DecodeValue(v)
	if err != nil || typ != TypeString || exp != 1234 || string(p) != "payload" {
		t.Fatalf("decode: %d %d %q %v", typ, exp, p, err)
	}
	bad := [][]byte{
		v[:5],                                   // short header
		append([]byte{99}, v[1:]...),            // unknown type
		append([]byte{TypeString, 1}, v[2:]...), // unknown flags
	}
	for _, b := range bad {
		if _, _, _, err := DecodeValue(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeValue(%x) = %v, want ErrCorrupt", b, err)
		}
	}
	k := AppendDataKey(nil, 1, []byte("key"))
	k[len(k)-1] = 'x' // hash no longer matches
	if _, _, _, err := DecodeDataKey(k); !errors.Is(err, ErrCorrupt) {
		t.Errorf("hash mismatch not detected: %v", err)
	}
}

func TestDBMapAndCounts(t *testing.T) {
	m := IdentityDBMap()
	m[0], m[5] = m[5], m[0]
	got, err := DecodeDBMap(m[:])
	if err != nil || got != m {
		t.Fatalf("db map: %v %v", got, err)
	}
	dup := m
	dup[1] = dup[2]
	if _, err := DecodeDBMap(dup[:]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("duplicate entry accepted: %v", err)
	}
	n, err := DecodeCount(EncodeCount(42))
	if err != nil || n != 42 {
		t.Fatalf("count: %d %v", n, err)
	}
	if _, err := DecodeCount([]byte{1}); !errors.Is(err, ErrCorrupt) {
		t.Fatal("short count accepted")
	}
	for ty := TypeString; ty <= TypeStream; ty++ {
		if b, ok := TypeByName(TypeName(ty)); !ok || b != ty {
			t.Fatalf("type name round trip for %d", ty)
		}
	}
}
