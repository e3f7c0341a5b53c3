package wire

import (
	"bytes"
	"io"
	"math"
	"slices"

	"github.com/rustypotato/rustypotato/internal/rnum"
)

// Default limits, as in Redis 7.0.
const (
	// DefaultMaxBulkLen is proto-max-bulk-len (512 MiB).
	DefaultMaxBulkLen = 512 << 20
	// DefaultMaxQueryBuffer is client-query-buffer-limit (1 GiB).
	DefaultMaxQueryBuffer = 1 << 30
	// DefaultMaxInline is PROTO_INLINE_MAX_SIZE (64 KiB).
	DefaultMaxInline = 64 << 10
	// DefaultMaxMultibulkLen is INT_MAX, the largest count Redis accepts.
	DefaultMaxMultibulkLen = math.MaxInt32

	// UnauthMaxMultibulkLen is the largest argument count Redis accepts
	// from a connection that still has to authenticate.
	UnauthMaxMultibulkLen = 10
	// UnauthMaxBulkLen is the largest argument Redis accepts from a
	// connection that still has to authenticate.
	UnauthMaxBulkLen = 16384
)

const (
	// readBufSize is Redis's PROTO_IOBUF_LEN.
	readBufSize = 16 << 10
	// argOverhead is what each argument is charged, beyond its bytes,
	// against Limits.MaxQueryBuffer: a slice header plus its end offset.
	argOverhead = 32
	// maxRetainArena and maxRetainArgs bound the buffers kept between
	// commands; larger ones are dropped after the command that needed them.
	maxRetainArena = 1 << 20
	maxRetainArgs  = 1 << 14
	// minArenaChunk is the smallest step by which the argument arena
	// grows while a large bulk is read straight from the connection.
	minArenaChunk = 32 << 10
)

// Limits bounds what a Reader accepts. Zero fields take the defaults.
type Limits struct {
	// MaxBulkLen is the longest accepted argument (proto-max-bulk-len);
	// longer ones get "Protocol error: invalid bulk length".
	MaxBulkLen int64
	// MaxQueryBuffer bounds the memory one command may hold: the sum of
	// its argument lengths plus 32 bytes per argument. It is checked as
	// each bulk header is read, before that bulk's data; going over it
	// returns ErrQueryBufferLimit. (Redis applies client-query-buffer-limit
	// to its unparsed input buffer; this is the equivalent bound for a
	// reader that moves arguments out of its buffer.)
	MaxQueryBuffer int64
	// MaxInline is the longest accepted inline request line and '*'/'$'
	// header line (PROTO_INLINE_MAX_SIZE).
	MaxInline int
	// MaxMultibulkLen is the largest accepted argument count; larger ones
	// get "Protocol error: invalid multibulk length".
	MaxMultibulkLen int64
	// AuthRequired makes a new (or Reset) Reader start unauthenticated, so
	// that Redis's limits for such connections apply (at most
	// UnauthMaxMultibulkLen arguments of at most UnauthMaxBulkLen bytes)
	// until SetAuthenticated(true).
	AuthRequired bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxQueryBuffer <= 0 {
		l.MaxQueryBuffer = DefaultMaxQueryBuffer
	}
	if l.MaxInline <= 0 {
		l.MaxInline = DefaultMaxInline
	}
	if l.MaxMultibulkLen <= 0 {
		l.MaxMultibulkLen = DefaultMaxMultibulkLen
	}
	return l
}

// Reader reads client requests. It is not safe for concurrent use.
type Reader struct {
	rd  io.Reader
	lim Limits

	authenticated bool
	beforeRead    func() error

	buf  []byte // unconsumed input is buf[r:w]
	r, w int
	rerr error // error from rd, returned once buf[r:w] is consumed
	err  error // sticky error returned by ReadCommand

	arena []byte   // argument bytes of the current command
	ends  []int    // end offset in arena of each argument
	args  [][]byte // returned arguments, slices of arena
}

// NewReader returns a Reader reading requests from rd under lim.
func NewReader(rd io.Reader, lim Limits) *Reader {
	r := &Reader{
		lim:   lim.withDefaults(),
		buf:   make([]byte, readBufSize),
		arena: make([]byte, 0, 512),
		ends:  make([]int, 0, 16),
		args:  make([][]byte, 0, 16),
	}
	r.Reset(rd)
	return r
}

// Reset discards all state, including any SetBeforeRead hook, and makes r
// read from rd, keeping its buffers and limits. The connection starts
// unauthenticated if Limits.AuthRequired.
func (r *Reader) Reset(rd io.Reader) {
	r.rd = rd
	r.r, r.w = 0, 0
	r.rerr, r.err = nil, nil
	r.authenticated = !r.lim.AuthRequired
	r.beforeRead = nil
	r.arena = r.arena[:0]
	r.ends = r.ends[:0]
	r.args = r.args[:0]
}

// SetAuthenticated tells r whether the connection is authenticated. Pass false
// while Redis's authRequired(c) would be true (a password is set and the
// client has not authenticated); the unauthenticated limits then apply.
func (r *Reader) SetAuthenticated(ok bool) { r.authenticated = ok }

// Authenticated reports the state set by SetAuthenticated or Limits.AuthRequired.
func (r *Reader) Authenticated() bool { return r.authenticated }

// SetBeforeRead installs fn to run each time just before r reads from its
// underlying io.Reader, which is when every complete command already
// received has been returned. Typically fn is the connection's Writer.Flush:
// replies to a pipeline are then written once, exactly when no further
// command can be parsed without waiting, even if a partial command is
// buffered. An error from fn ends reading and is returned by ReadCommand.
// fn may be nil.
func (r *Reader) SetBeforeRead(fn func() error) { r.beforeRead = fn }

// Buffered returns the number of received bytes not yet consumed. A
// non-zero value means more pipelined input is present, though it may be
// an incomplete command.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand reads the next request, a RESP array of bulk strings or an
// inline command, and returns its arguments (at least one). Empty requests
// ("*0", "*-1", blank inline lines) are skipped as Redis skips them.
//
// The returned slice and the argument bytes are owned by r and valid until
// the next ReadCommand or Reset. Each argument has its capacity clipped to
// its length, so appending to one never overwrites another.
//
// Errors: io.EOF when the input ends between requests; io.ErrUnexpectedEOF
// when it ends inside one; a *ProtocolError (one of the Err* values, or the
// "expected '$'" error) for malformed input; ErrQueryBufferLimit; or the
// error of the underlying reader or of the SetBeforeRead hook. Every error is
// final: later calls return it again.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if cap(r.arena) > maxRetainArena {
		r.arena = make([]byte, 0, 512)
	}
	if cap(r.ends) > maxRetainArgs {
		r.ends = make([]int, 0, 16)
		r.args = make([][]byte, 0, 16)
	}
	for {
		r.arena = r.arena[:0]
		r.ends = r.ends[:0]
		if r.r == r.w {
			if err := r.fill(); err != nil {
				r.err = err
				return nil, err
			}
		}
		var err error
		if r.buf[r.r] == '*' {
			err = r.readMultibulk()
		} else {
			err = r.readInline()
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
			return nil, err
		}
		if len(r.ends) > 0 {
			break
		}
	}
	args := r.args[:0]
	start := 0
	for _, end := range r.ends {
		args = append(args, r.arena[start:end:end])
		start = end
	}
	r.args = args
	return args, nil
}

// readMultibulk parses a '*' request (processMultibulkBuffer). On return
// without error r.ends is empty if the request was an empty one to skip.
func (r *Reader) readMultibulk() error {
	i, err := r.scanLine('\r', ErrTooBigMbulkCount)
	if err != nil {
		return err
	}
	n, ok := ParseInt(r.buf[r.r+1 : r.r+i])
	if !ok || n > r.lim.MaxMultibulkLen {
		return ErrInvalidMultibulkLength
	}
	if n > UnauthMaxMultibulkLen && !r.authenticated {
		return ErrUnauthMultibulkLength
	}
	r.r += i + 2 // Redis skips the byte after '\r' unchecked.
	if n <= 0 {
		return nil
	}
	var held int64
	for ; n > 0; n-- {
		i, err := r.scanLine('\r', ErrTooBigBulkCount)
		if err != nil {
			return err
		}
		if c := r.buf[r.r]; c != '$' {
			return expectedDollar(c)
		}
		size, ok := ParseInt(r.buf[r.r+1 : r.r+i])
		if !ok || size < 0 || size > r.lim.MaxBulkLen {
			return ErrInvalidBulkLength
		}
		if size > UnauthMaxBulkLen && !r.authenticated {
			return ErrUnauthBulkLength
		}
		r.r += i + 2
		held += size + argOverhead
		if held > r.lim.MaxQueryBuffer {
			return ErrQueryBufferLimit
		}
		if err := r.readBulk(int(size)); err != nil {
			return err
		}
		r.ends = append(r.ends, len(r.arena))
	}
	return nil
}

// readBulk appends the next size bytes to the arena and skips the two bytes
// after them, which Redis does not check. Data is copied as it arrives: the
// arena grows with the bytes received, never to a declared length up front.
func (r *Reader) readBulk(size int) error {
	need := size
	for need > 0 {
		if r.r < r.w {
			k := min(need, r.w-r.r)
			r.arena = append(r.arena, r.buf[r.r:r.r+k]...)
			r.r += k
			need -= k
			continue
		}
		if need < len(r.buf) {
			if err := r.fill(); err != nil {
				return err
			}
			continue
		}
		// Large remainder: read straight into the arena, growing it
		// geometrically (never by more than is still needed).
		if cap(r.arena) == len(r.arena) {
			r.arena = slices.Grow(r.arena, min(need, max(cap(r.arena), minArenaChunk)))
		}
		spare := r.arena[len(r.arena):cap(r.arena)]
		if len(spare) > need {
			spare = spare[:need]
		}
		m, err := r.readRaw(spare)
		r.arena = r.arena[:len(r.arena)+m]
		need -= m
		if err != nil {
			return err
		}
	}
	for skip := 2; skip > 0; {
		if r.r == r.w {
			if err := r.fill(); err != nil {
				return err
			}
		}
		k := min(skip, r.w-r.r)
		r.r += k
		skip -= k
	}
	return nil
}

// readInline parses an inline request (processInlineBuffer + sdssplitargs).
func (r *Reader) readInline() error {
	i, err := r.scanLine('\n', ErrTooBigInline)
	if err != nil {
		return err
	}
	line := r.buf[r.r : r.r+i]
	if i > 0 && line[i-1] == '\r' {
		line = line[:i-1]
	}
	if !r.splitArgs(line) {
		return ErrUnbalancedQuotes
	}
	r.r += i + 1
	return nil
}

// scanLine finds the terminator term of the line starting at r.r and returns
// its offset from r.r. For '\r' (RESP headers) the byte after it must be
// buffered as well, as Redis requires, though its value is not checked.
//
// Like Redis's strchr on the query buffer, a NUL byte before the terminator
// hides it: the line then never ends and tooBig is returned once more than
// MaxInline bytes are pending. A line longer than MaxInline also gets tooBig.
func (r *Reader) scanLine(term byte, tooBig *ProtocolError) (int, error) {
	extra := 0
	if term == '\r' {
		extra = 1
	}
	// Fast path: a short line already buffered, as RESP headers are.
	if data := r.buf[r.r:r.w]; len(data) > 0 {
		for i, c := range data[:min(len(data), 32)] {
			if c == term {
				if i <= r.lim.MaxInline && i+1+extra <= len(data) {
					return i, nil
				}
				break
			}
			if c == 0 {
				break
			}
		}
	}
	scanned, blocked := 0, false
	for {
		data := r.buf[r.r:r.w]
		if !blocked {
			i := bytes.IndexByte(data[scanned:], term)
			end := len(data)
			if i >= 0 {
				i += scanned
				end = i
			}
			if bytes.IndexByte(data[scanned:end], 0) >= 0 {
				blocked = true
			} else if i >= 0 {
				if i > r.lim.MaxInline {
					return 0, tooBig
				}
				if i+1+extra <= len(data) {
					return i, nil
				}
				scanned = i // terminator found; wait for the byte after it
			} else {
				scanned = len(data)
			}
		}
		if (blocked || scanned == len(data)) && len(data) > r.lim.MaxInline {
			return 0, tooBig
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
}

// fill reads more input into buf, compacting it and, when a line fills the
// whole buffer, growing it up to what the longest line needs.
func (r *Reader) fill() error {
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		} else {
			// Only scanLine fills a full buffer, and it never needs
			// more than MaxInline+2 bytes.
			n := min(2*len(r.buf), max(r.lim.MaxInline+2, len(r.buf)+1))
			nb := make([]byte, n)
			r.w = copy(nb, r.buf[r.r:r.w])
			r.buf = nb
		}
	}
	n, err := r.readRaw(r.buf[r.w:])
	r.w += n
	if n > 0 {
		return nil
	}
	return err
}

// readRaw reads from the underlying reader into p, running the beforeRead
// hook first. It returns n > 0 or an error. An error that comes with data is
// kept and returned by the next call.
func (r *Reader) readRaw(p []byte) (int, error) {
	if r.rerr != nil {
		return 0, r.rerr
	}
	if r.beforeRead != nil {
		if err := r.beforeRead(); err != nil {
			r.rerr = err
			return 0, err
		}
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.rd.Read(p)
		if err != nil {
			r.rerr = err
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if n > 0 {
			return n, nil
		}
	}
	r.rerr = io.ErrNoProgress
	return 0, r.rerr
}

// ParseInt parses b as Redis's string2ll does: an optional '-', then decimal
// digits without a leading zero (except "0" itself), no sign '+', no spaces,
// at most 20 bytes, within int64.
func ParseInt(b []byte) (int64, bool) { return rnum.ParseInt(b) }
