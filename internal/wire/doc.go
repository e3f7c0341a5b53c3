// Package wire implements the RESP protocol layer of the server: a request
// Reader that parses RESP multibulk and inline commands exactly as Redis 7.0
// does (same accepted inputs, same "Protocol error: ..." replies), and a reply
// Writer that encodes RESP2 and RESP3 replies into a buffer flushed with one
// write.
//
// # Reading requests
//
// A Reader parses one command per ReadCommand call. The returned arguments
// alias buffers owned by the Reader and are valid only until the next call to
// ReadCommand or Reset; callers that keep an argument must copy it. In steady
// state ReadCommand allocates nothing.
//
// The rules follow processMultibulkBuffer and processInlineBuffer in Redis
// 7.0's networking.c and sdssplitargs in sds.c, including their quirks:
// "*0" and negative multibulk counts are ignored, the byte after a header's
// '\r' is skipped without being checked, the two bytes after bulk data are
// skipped without being checked, empty inline lines are skipped, and a NUL
// byte before a header's or inline line's terminator hides the terminator (Redis searches
// with strchr), so the request fails with "too big ..." once more than
// MaxInline bytes are pending. Line-length limits are applied
// deterministically: a header or inline line longer than MaxInline bytes is
// rejected, where Redis rejects it only if it happened to have more than that
// buffered without the terminator.
//
// # Why github.com/tidwall/resp does not parse requests here
//
// github.com/tidwall/resp (v0.1.1) is the library the project names for RESP.
// Its Reader cannot safely be put in front of a network peer, and it cannot
// be wrapped so that it does the reading after our validation without keeping
// most of its defects:
//
//   - readBulkValue allocates the whole declared length (make([]byte, l+2))
//     before any data arrives, so a 17-byte header makes it allocate 512 MiB;
//     data is not read incrementally.
//   - readArrayValue allocates make([]Value, l) for any count up to 1<<20
//     (about 64 MiB) from an unvalidated header.
//   - readLine reads until "\r\n" with no limit, so a header without a line
//     end grows without bound (Redis answers "too big ... count string").
//   - its inline parser is not sdssplitargs: no escapes, no single quotes,
//     no tabs as separators, runs of spaces produce empty arguments, and
//     a"b" is an error instead of the argument ab.
//   - lengths are parsed with strconv.ParseInt, accepting "+5", "05" and
//     "-0" that Redis rejects; its error strings differ from Redis's; it
//     rejects a bulk whose trailing two bytes are not "\r\n", which Redis
//     accepts.
//   - every value is a fresh allocation, so the zero-allocation hot path is
//     impossible.
//
// The Reader therefore validates and reads everything itself. The package's
// tests use tidwall/resp as an independent reference: its encoder
// re-encodes every command the fuzzer parses and its reader must agree with
// ours on that well-formed encoding.
//
// # Writing replies
//
// A Writer appends replies to an internal buffer; nothing reaches the
// underlying io.Writer until Flush, which writes everything pending in one
// Write call. The server executes all pipelined commands that are already
// buffered in the Reader and then flushes once; Reader.SetBeforeRead can run
// the flush automatically just before the Reader would read from the
// connection.
package wire
