package respserver

import (
	"math"

	"github.com/rustypotato/rustypotato/internal/ascii"
	"github.com/rustypotato/rustypotato/internal/format"
	"github.com/rustypotato/rustypotato/internal/rnum"
	"github.com/rustypotato/rustypotato/kv"
)

// Argument parsing shared by the commands' parse steps.

func parseInt(b []byte) (int64, error) {
	v, ok := rnum.ParseInt(b)
	if !ok {
		return 0, errNotInteger
	}
	return v, nil
}

// parseDB parses a database index: an integer ("ERR value is not an
// integer or out of range") within 0..15 ("ERR DB index is out of range").
func parseDB(b []byte) (int, error) {
	n, err := parseInt(b)
	if err != nil {
		return 0, err
	}
	if !validDB(n) {
		return 0, errDBIndex
	}
	return int(n), nil
}

func validDB(n int64) bool { return n >= 0 && n < format.NumDBs }

func parseFloat(b []byte) (float64, error) {
	v, ok := rnum.ParseFloat(b)
	if !ok || math.IsNaN(v) {
		return 0, errNotFloat
	}
	return v, nil
}

// eq reports whether arg equals the option name, ignoring ASCII case.
func eq(arg []byte, opt string) bool { return ascii.EqualFold(arg, opt) }

// expireArg is a parsed EX/PX/EXAT/PXAT option.
type expireArg struct {
	set      bool
	raw      []byte // the amount as given; parsed after the options
	amount   int64
	seconds  bool
	absolute bool
}

// parseAmount parses the raw amount (after all options were checked for
// syntax, as Redis does).
func (e *expireArg) parseAmount() error {
	if !e.set {
		return nil
	}
	v, err := parseInt(e.raw)
	e.amount = v
	return err
}

// deadline converts the option to an absolute deadline with SET's rules.
func (e expireArg) deadline(now int64) (int64, error) {
	if !e.set {
		return 0, nil
	}
	return kv.SetDeadline(now, e.amount, e.seconds, e.absolute)
}

// parseExpireOpt recognises EX, PX, EXAT and PXAT at args[i]; it returns
// ok=false if args[i] is none of them.
func parseExpireOpt(args [][]byte, i int, e *expireArg) (ok bool, next int, err error) {
	a := args[i]
	var seconds, absolute bool
	switch {
	case eq(a, "ex"):
		seconds, absolute = true, false
	case eq(a, "px"):
		seconds, absolute = false, false
	case eq(a, "exat"):
		seconds, absolute = true, true
	case eq(a, "pxat"):
		seconds, absolute = false, true
	default:
		return false, i, nil
	}
	// Redis accepts the same option again (the last amount wins), but not
	// two different ones.
	if (e.set && (e.seconds != seconds || e.absolute != absolute)) || i+1 >= len(args) {
		return true, i, errSyntax
	}
	e.seconds, e.absolute = seconds, absolute
	e.set = true
	e.raw = args[i+1]
	return true, i + 2, nil
}
