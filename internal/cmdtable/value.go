package cmdtable

import "strconv"

// Kind is the RESP3 type of a Value. Its numeric value is the RESP3 type
// prefix byte.
type Kind byte

// Value kinds. The replies of COMMAND INFO and COMMAND DOCS only use these.
const (
	KindSimple Kind = '+' // simple string, e.g. a command flag such as +readonly
	KindBulk   Kind = '$' // bulk string
	KindInt    Kind = ':' // integer
	KindNull   Kind = '_' // null
	KindArray  Kind = '*' // array
	KindSet    Kind = '~' // set (RESP3); an array in RESP2
	KindMap    Kind = '%' // map (RESP3); a flat key/value array in RESP2
)

// Value is a node of a RESP reply tree, as Redis 7.0 produces it over RESP3.
//
// Str holds the payload of KindSimple and KindBulk, Int that of KindInt, and
// Arr the elements of KindArray and KindSet. For KindMap, Arr holds the keys
// and values alternately (Arr[0] is the first key, Arr[1] its value, ...), so
// len(Arr) is twice the number of pairs and the Redis field order is kept.
//
// RESP2 versus RESP3: Redis writes the same tree for both protocols, but a
// RESP2 client has no map, set or null types. When writing for RESP2 a map of
// n pairs is sent as a flat array of 2n elements ("*2n"), a set as an array
// ("*n"), and a null as the null bulk string "$-1". For example COMMAND DOCS
// returns a map (name => docs map) in RESP3 and a flat array
// [name1, [k1, v1, ...], name2, ...] in RESP2, and the flags of COMMAND INFO
// are a set of simple strings in RESP3 and an array of simple strings in
// RESP2. Simple strings, bulk strings and integers are the same in both.
// AppendRESP implements exactly these rules.
//
// Values in the command table are shared and must be treated as read-only.
type Value struct {
	Kind Kind
	Str  string
	Int  int64
	Arr  []Value
}

// Len returns the number of elements of an aggregate: the number of pairs of
// a map, the number of elements of an array or set, and 0 otherwise.
func (v Value) Len() int {
	if v.Kind == KindMap {
		return len(v.Arr) / 2
	}
	return len(v.Arr)
}

// Get returns the value stored under key in a map Value. Keys are compared
// with their string payload. It reports false if v is not a map or has no
// such key.
func (v Value) Get(key string) (Value, bool) {
	if v.Kind != KindMap {
		return Value{}, false
	}
	for i := 0; i+1 < len(v.Arr); i += 2 {
		if v.Arr[i].Str == key {
			return v.Arr[i+1], true
		}
	}
	return Value{}, false
}

// AppendRESP appends the RESP encoding of v to dst and returns the extended
// buffer. With resp3 false, maps, sets and nulls are downgraded to their RESP2
// forms as described on Value.
func (v Value) AppendRESP(dst []byte, resp3 bool) []byte {
	switch v.Kind {
	case KindSimple:
		dst = append(dst, '+')
		dst = append(dst, v.Str...)
		return append(dst, '\r', '\n')
	case KindBulk:
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(v.Str)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, v.Str...)
		return append(dst, '\r', '\n')
	case KindInt:
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, v.Int, 10)
		return append(dst, '\r', '\n')
	case KindNull:
		if resp3 {
			return append(dst, '_', '\r', '\n')
		}
		return append(dst, "$-1\r\n"...)
	case KindArray, KindSet, KindMap:
		prefix, n := byte(v.Kind), len(v.Arr)
		if !resp3 {
			prefix = '*'
		} else if v.Kind == KindMap {
			n /= 2
		}
		dst = append(dst, prefix)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '\r', '\n')
		for _, e := range v.Arr {
			dst = e.AppendRESP(dst, resp3)
		}
		return dst
	}
	panic("cmdtable: invalid Value kind " + strconv.Quote(string(rune(v.Kind))))
}

// Constructors used by table_gen.go.

func vSimple(s string) Value  { return Value{Kind: KindSimple, Str: s} }
func vBulk(s string) Value    { return Value{Kind: KindBulk, Str: s} }
func vInt(n int64) Value      { return Value{Kind: KindInt, Int: n} }
func vNull() Value            { return Value{Kind: KindNull} }
func vArr(vs ...Value) Value  { return Value{Kind: KindArray, Arr: vs} }
func vSet(vs ...Value) Value  { return Value{Kind: KindSet, Arr: vs} }
func vMap(kvs ...Value) Value { return Value{Kind: KindMap, Arr: kvs} }
