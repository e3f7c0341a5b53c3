package respserver

import (
	"errors"
	"strings"

	"github.com/rustypotato/rustypotato/internal/wire"
	"github.com/rustypotato/rustypotato/kv"
)

// Parse-step errors, as Redis words them.
var (
	errSyntax       = errors.New("ERR syntax error")
	errNotInteger   = kv.ErrNotInteger
	errNotFloat     = kv.ErrNotFloat
	errDBIndex      = kv.ErrDBIndex
	errNoAuth       = errors.New("NOAUTH Authentication required.")
	errWrongPass    = errors.New("WRONGPASS invalid username-password pair or user is disabled.")
	errNoPassSet    = errors.New("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	errMaxClients   = errors.New("ERR max number of clients reached")
	errTimeout      = errors.New("ERR timeout is out of range")
	errMultiNested  = errors.New("ERR MULTI calls can not be nested")
	errExecNoMulti  = errors.New("ERR EXEC without MULTI")
	errDiscNoMulti  = errors.New("ERR DISCARD without MULTI")
	errExecAbort    = errors.New("EXECABORT Transaction discarded because of previous errors.")
	errWatchInMulti = errors.New("ERR WATCH inside MULTI is not allowed")
)

// errInvalidExpire is kv.ErrInvalidExpire with the command's name, as
// Redis words it.
func errInvalidExpire(cmd string) error {
	return errors.New("ERR invalid expire time in '" + cmd + "' command")
}

// writeError writes err as a Redis error reply. This is the one place where
// store and parse errors become error strings: errors whose text already
// starts with a Redis error code (ERR, WRONGTYPE, ...) are sent as they
// are; any other error is an internal failure and is prefixed with "ERR ".
func writeError(w *wire.Writer, cmd string, err error) {
	switch {
	case errors.Is(err, kv.ErrInvalidExpire):
		err = errInvalidExpire(cmd)
	case errors.Is(err, kv.ErrWriteFailed):
		err = kv.ErrWriteFailed
	}
	msg := err.Error()
	if !hasErrorCode(msg) {
		msg = "ERR " + msg
	}
	w.Error(msg)
}

// hasErrorCode reports whether msg starts with an upper-case error code
// followed by a space, like "ERR ..." or "WRONGTYPE ...".
func hasErrorCode(msg string) bool {
	i := strings.IndexByte(msg, ' ')
	if i <= 0 {
		return false
	}
	for _, c := range msg[:i] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// errArity is Redis's wrong-number-of-arguments error for cmd.
func errArity(cmd string) error {
	return errors.New("ERR wrong number of arguments for '" + cmd + "' command")
}
