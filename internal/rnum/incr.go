package rnum

// IncrByFloat performs the arithmetic of Redis 7.0's INCRBYFLOAT: cur is
// the stored string (ignored when exists is false, which counts as 0), incr
// the increment argument. It returns the new value, which Redis both
// replies (as a bulk string) and stores, or ErrNotFloat when either input
// is not a valid long double (see ParseLongDouble), or ErrNaNOrInfinity
// when the sum is NaN or infinite (including an "inf" increment).
//
// HINCRBYFLOAT differs only in its checks and messages: an infinite
// increment is ErrValueNaNOrInfinity before the hash is read, and a bad
// stored value is ErrHashNotFloat; compose it from ParseLongDouble, Add and
// AppendHuman.
func IncrByFloat(cur []byte, exists bool, incr []byte) ([]byte, error) {
	var value LongDouble
	if exists {
		v, ok := ParseLongDouble(cur)
		if !ok {
			return nil, ErrNotFloat
		}
		value = v
	}
	inc, ok := ParseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	sum := value.Add(inc)
	if sum.IsInf() || sum.IsNaN() {
		return nil, ErrNaNOrInfinity
	}
	return sum.AppendHuman(nil), nil
}
