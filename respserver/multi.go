package respserver

import (
	"errors"

	"github.com/rustypotato/rustypotato/kv"
)

var errNotInMulti = errors.New("ERR Command not allowed inside a transaction")

func init() {
	register("multi", fNoMulti, func(c *client, args [][]byte) (fn, error) {
		if c.multi {
			return nil, errMultiNested
		}
		return func(c *client, _ *kv.Tx) error {
			c.multi, c.multiErr, c.queued = true, false, c.queued[:0]
			c.w.SimpleString("OK")
			return nil
		}, nil
	})
	register("discard", fNoMulti, func(c *client, args [][]byte) (fn, error) {
		if !c.multi {
			return nil, errDiscNoMulti
		}
		return func(c *client, _ *kv.Tx) error {
			c.endMulti()
			c.w.SimpleString("OK")
			return nil
		}, nil
	})
	// EXEC runs the queued commands atomically, inside the transaction of
	// its batch (it is flagged as a write so that the batch runs in Update).
	register("exec", fWrite|fNoMulti|fNoStats, func(c *client, args [][]byte) (fn, error) {
		if !c.multi {
			return nil, errExecNoMulti
		}
		return func(c *client, tx *kv.Tx) error {
			queued, aborted := c.queued, c.multiErr
			c.multi = false
			defer c.endMulti()
			if aborted {
				return errExecAbort
			}
			c.w.ArrayLen(len(queued))
			for _, args := range queued {
				c.call(tx, args)
			}
			return nil
		}, nil
	})
}

func (c *client) endMulti() {
	c.multi, c.multiErr = false, false
	for i := range c.queued {
		c.queued[i] = nil
	}
	c.queued = c.queued[:0]
}

// queue adds a command to the MULTI queue, copying its arguments.
func (c *client) queue(args [][]byte) {
	cmd := lookup(args[0])
	if cmd.flags&fNoTx != 0 {
		c.multiErr = true
		c.w.Error(errNotInMulti.Error())
		return
	}
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append(make([]byte, 0, len(a)), a...) // non-nil even when empty
	}
	c.queued = append(c.queued, cp)
	c.w.SimpleString("QUEUED")
}
