package wire

import "errors"

// ProtocolError is a malformed request. Error returns the message Redis 7.0
// puts in its reply (for example "Protocol error: invalid bulk length"), and
// Reply the whole error line as Redis sends it, without the leading '-' and
// the trailing CRLF ("ERR Protocol error: invalid bulk length"), ready for
// Writer.Error. After a ProtocolError Redis sends the reply and closes the
// connection; the Reader is unusable after one.
type ProtocolError struct {
	msg   string
	reply string
}

func newProtocolError(msg string) *ProtocolError {
	msg = "Protocol error: " + msg
	return &ProtocolError{msg: msg, reply: "ERR " + msg}
}

// Error returns the message, e.g. "Protocol error: invalid multibulk length".
func (e *ProtocolError) Error() string { return e.msg }

// Reply returns the error line Redis sends for e, without '-' and CRLF.
func (e *ProtocolError) Reply() string { return e.reply }

// The protocol errors of Redis 7.0. ReadCommand returns these exact values, so
// callers may compare with ==. The "expected '$', got 'x'" error depends on
// the offending byte and is a fresh *ProtocolError; see IsExpectedDollar.
var (
	// ErrInvalidMultibulkLength: the count after '*' is not a Redis integer
	// (string2ll) or exceeds Limits.MaxMultibulkLen.
	ErrInvalidMultibulkLength = newProtocolError("invalid multibulk length")
	// ErrInvalidBulkLength: the length after '$' is not a Redis integer,
	// is negative, or exceeds Limits.MaxBulkLen.
	ErrInvalidBulkLength = newProtocolError("invalid bulk length")
	// ErrUnbalancedQuotes: an inline command that sdssplitargs rejects.
	ErrUnbalancedQuotes = newProtocolError("unbalanced quotes in request")
	// ErrTooBigInline: an inline request line longer than Limits.MaxInline.
	ErrTooBigInline = newProtocolError("too big inline request")
	// ErrTooBigMbulkCount: a '*' header line longer than Limits.MaxInline.
	ErrTooBigMbulkCount = newProtocolError("too big mbulk count string")
	// ErrTooBigBulkCount: a '$' header line longer than Limits.MaxInline.
	ErrTooBigBulkCount = newProtocolError("too big bulk count string")
	// ErrUnauthMultibulkLength: more than 10 arguments before
	// authentication.
	ErrUnauthMultibulkLength = newProtocolError("unauthenticated multibulk length")
	// ErrUnauthBulkLength: an argument longer than 16384 bytes before
	// authentication.
	ErrUnauthBulkLength = newProtocolError("unauthenticated bulk length")
)

// ErrQueryBufferLimit is returned when one command's arguments would hold
// more than Limits.MaxQueryBuffer bytes. Like Redis when a client exceeds
// client-query-buffer-limit, the server should close the connection without
// a reply. It is not a *ProtocolError.
var ErrQueryBufferLimit = errors.New("wire: client query buffer limit exceeded")

// expectedDollar returns Redis's error for a bulk header that does not start
// with '$'. Redis formats the byte with %c and then replaces '\r' and '\n'
// with spaces (addReplyErrorFormat).
func expectedDollar(c byte) *ProtocolError {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return newProtocolError("expected '$', got '" + string([]byte{c}) + "'")
}

// IsExpectedDollar reports whether err is the "expected '$', got 'x'" protocol
// error.
func IsExpectedDollar(err error) bool {
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		return false
	}
	const prefix = "Protocol error: expected '$', got '"
	return len(pe.msg) == len(prefix)+2 && pe.msg[:len(prefix)] == prefix
}
