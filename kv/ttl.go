package kv

import "math"

// Deadline computations with Redis 7.0's overflow rules. Deadlines are
// absolute Unix milliseconds.

// SetDeadline converts the argument of SET/GETEX's EX, PX, EXAT or PXAT
// option to an absolute deadline: seconds selects EX/EXAT (else PX/PXAT),
// absolute selects EXAT/PXAT. A value <= 0 or one that overflows gives
// ErrInvalidExpire, as Redis's getExpireMillisecondsOrReply does.
func SetDeadline(now, amount int64, seconds, absolute bool) (int64, error) {
	if amount <= 0 {
		return 0, ErrInvalidExpire
	}
	if seconds {
		if amount > math.MaxInt64/1000 {
			return 0, ErrInvalidExpire
		}
		amount *= 1000
	}
	if !absolute {
		if amount > math.MaxInt64-now {
			return 0, ErrInvalidExpire
		}
		amount += now
	}
	return amount, nil
}

// ExpireDeadline converts the argument of EXPIRE, PEXPIRE, EXPIREAT or
// PEXPIREAT to an absolute deadline with expireGenericCommand's rules: a
// deadline in the past is allowed (it deletes the key); overflow gives
// ErrInvalidExpire.
func ExpireDeadline(now, amount int64, seconds, absolute bool) (int64, error) {
	if seconds {
		if amount > math.MaxInt64/1000 || amount < math.MinInt64/1000 {
			return 0, ErrInvalidExpire
		}
		amount *= 1000
	}
	if !absolute {
		if amount > math.MaxInt64-now {
			return 0, ErrInvalidExpire
		}
		amount += now
	}
	return amount, nil
}
