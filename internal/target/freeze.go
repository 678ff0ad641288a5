package target

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// A frozen node neither reads nor writes: every connection a node accepts
// goes through a gate that holds its reads and writes while the node is
// frozen, so its open connections go silent (pings unanswered, echoes
// held) and a new handshake stalls, as with a process stuck in a deadlock,
// until the node thaws. Data that arrives meanwhile waits in the gate and
// is read after the thaw.

// Freeze stops node's traffic until Thaw and returns how many open
// connections it holds. Freezing a frozen node is an error. back is not
// used: whoever froze the node thaws it (the action, or under wsstorm serve
// the admin API's lease).
func (t *Target) Freeze(ctx context.Context, node int, back time.Time) (int, error) {
	n, err := t.node(node)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.shut {
		return 0, fmt.Errorf("node %d: %w", n.index, errShutdown())
	}
	if !n.gate.Freeze() {
		return 0, fmt.Errorf("node %d is frozen already", n.index)
	}
	return len(n.openLocked()), nil
}

// Thaw resumes node's traffic; a node that is not frozen stays as it is.
func (t *Target) Thaw(ctx context.Context, node int) error {
	n, err := t.node(node)
	if err != nil {
		return err
	}
	n.gate.Thaw()
	return nil
}

// gatedListener hands out its node's connections behind the node's gate.
type gatedListener struct {
	net.Listener
	n *node
}

func (l gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, n: l.n, released: make(chan struct{})}, nil
}

// gatedConn is a connection whose reads and writes wait while its node is
// frozen, until the connection is released.
type gatedConn struct {
	net.Conn
	n        *node
	released chan struct{} // closed by release
	once     sync.Once
}

// release lets c's reads and writes through a frozen node's gate: chaos
// that ends a connection (a close, a restart, a crash) acts on it whatever
// its node's state, as the proxy's does, rather than wait for the thaw.
func (c *gatedConn) release() { c.once.Do(func() { close(c.released) }) }

func (c *gatedConn) Read(b []byte) (int, error) {
	c.n.gate.Wait(c.released)
	k, err := c.Conn.Read(b)
	// What arrived while the node froze is held until it thaws.
	c.n.gate.Wait(c.released)
	return k, err
}

func (c *gatedConn) Write(b []byte) (int, error) {
	c.n.gate.Wait(c.released)
	return c.Conn.Write(b)
}
