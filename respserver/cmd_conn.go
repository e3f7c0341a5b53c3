package respserver

import (
	"crypto/subtle"
	"errors"
	"strconv"

	"github.com/rustypotato/rustypotato/kv"
)

// Connection commands: PING, ECHO, SELECT, QUIT, RESET, AUTH, HELLO.

func init() {
	register("ping", 0, parsePing)
	register("echo", 0, func(c *client, args [][]byte) (fn, error) {
		msg := args[1]
		return func(c *client, _ *kv.Tx) error { c.w.Bulk(msg); return nil }, nil
	})
	register("select", 0, parseSelect)
	register("quit", fNoAuth|fNoMulti, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.w.SimpleString("OK")
			c.closeAfter = true
			return nil
		}, nil
	})
	register("reset", fNoAuth|fNoMulti, func(c *client, args [][]byte) (fn, error) {
		return func(c *client, _ *kv.Tx) error {
			c.reset()
			c.w.SimpleString("RESET")
			return nil
		}, nil
	})
	register("auth", fNoAuth, parseAuth)
	register("hello", fNoAuth, parseHello)
}

// PING [message]
type pingCmd struct{ msg []byte }

func parsePing(c *client, args [][]byte) (pingCmd, error) {
	if len(args) > 2 {
		return pingCmd{}, errArity("ping")
	}
	if len(args) == 2 {
		return pingCmd{msg: args[1]}, nil
	}
	return pingCmd{}, nil
}

func (p pingCmd) run(c *client, _ *kv.Tx) error {
	if p.msg != nil {
		c.w.Bulk(p.msg)
	} else {
		c.w.SimpleString("PONG")
	}
	return nil
}

// SELECT index
type selectCmd struct{ db int }

func parseSelect(c *client, args [][]byte) (selectCmd, error) {
	n, err := parseDB(args[1])
	if err != nil {
		return selectCmd{}, err
	}
	return selectCmd{db: n}, nil
}

func (s selectCmd) run(c *client, _ *kv.Tx) error {
	c.db = s.db
	c.w.SimpleString("OK")
	return nil
}

// reset restores the connection's defaults (RESET).
func (c *client) reset() {
	c.endMulti()
	c.db = 0
	c.name = ""
	c.w.SetProto(2)
	c.noEvict, c.noTouch = false, false
	if c.monitor {
		c.srv.mu.Lock()
		delete(c.srv.monitors, c.id)
		c.srv.mu.Unlock()
		c.srv.nmonitors.Add(-1)
		c.monitor = false
	}
	c.setAuthed(c.srv.settings.requirePass() == "")
}

func (c *client) setAuthed(ok bool) {
	c.authed = ok
	c.r.SetAuthenticated(ok)
}

// checkPassword compares in constant time.
func (c *client) checkPassword(user, pass []byte) error {
	want := c.srv.settings.requirePass()
	if user != nil && string(user) != "default" {
		return errWrongPass
	}
	if want == "" {
		if user == nil {
			return errNoPassSet
		}
		// "AUTH default anything" with no password: the default user has
		// nopass, so any password is accepted.
		return nil
	}
	if subtle.ConstantTimeCompare(pass, []byte(want)) != 1 {
		return errWrongPass
	}
	return nil
}

// AUTH [username] password
type authCmd struct{ user, pass []byte }

func parseAuth(c *client, args [][]byte) (authCmd, error) {
	switch len(args) {
	case 2:
		return authCmd{pass: args[1]}, nil
	case 3:
		return authCmd{user: args[1], pass: args[2]}, nil
	}
	return authCmd{}, errSyntax
}

func (a authCmd) run(c *client, _ *kv.Tx) error {
	if err := c.checkPassword(a.user, a.pass); err != nil {
		return err
	}
	c.setAuthed(true)
	c.w.SimpleString("OK")
	return nil
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
type helloCmd struct {
	proto      int
	user, pass []byte
	auth       bool
	name       []byte
	setName    bool
}

func parseHello(c *client, args [][]byte) (helloCmd, error) {
	h := helloCmd{}
	if len(args) >= 2 {
		v, err := parseInt(args[1])
		if err != nil {
			return h, errors.New("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return h, errors.New("NOPROTO unsupported protocol version")
		}
		h.proto = int(v)
	}
	for i := 2; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case eq(args[i], "auth") && more >= 2:
			h.auth, h.user, h.pass = true, args[i+1], args[i+2]
			i += 2
		case eq(args[i], "setname") && more >= 1:
			h.setName, h.name = true, args[i+1]
			i++
		default:
			return h, errors.New("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
		}
	}
	return h, nil
}

func (h helloCmd) run(c *client, _ *kv.Tx) error {
	if h.auth {
		if err := c.checkPassword(h.user, h.pass); err != nil {
			return err
		}
		c.setAuthed(true)
	}
	if !c.authed {
		return errors.New("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	}
	if h.setName {
		if err := validClientName(h.name); err != nil {
			return err
		}
		c.name = string(h.name)
	}
	if h.proto != 0 {
		c.w.SetProto(h.proto)
	}
	w := c.w
	w.MapLen(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(w.Proto()))
	w.BulkString("id")
	w.Int(c.id)
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.ArrayLen(0)
	return nil
}

// validClientName applies Redis's rule: no spaces, newlines or other
// special characters.
func validClientName(name []byte) error {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return errors.New("ERR Client names cannot contain spaces, newlines or special characters.")
		}
	}
	return nil
}

var _ = strconv.Itoa
