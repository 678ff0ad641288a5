package fleet

import (
	"context"
	"net"
	"sync"
)

// netDialer is a websocket.Dialer's NetDialContext.
type netDialer = func(ctx context.Context, network, addr string) (net.Conn, error)

// gatherRequests wraps the connections dial opens in requestConns.
func gatherRequests(dial netDialer) netDialer {
	bufs := &sync.Pool{New: func() any { return &requestBuf{b: make([]byte, 0, 512)} }}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &requestConn{Conn: c, req: bufs.Get().(*requestBuf), bufs: bufs}, nil
	}
}

// requestBuf holds a handshake request until it is sent.
type requestBuf struct{ b []byte }

// requestConn is a dialed connection that gathers what is written to it
// until its first read, then sends it in one write: the handshake request.
// net/http writes a request through a new 4 KiB bufio.Writer unless its
// writer has a WriteByte method, as this one has: that buffer was the
// larger part of the garbage each handshake left.
type requestConn struct {
	net.Conn
	// req is the request written so far, from bufs; both are nil once it is
	// sent (during the handshake: read-only after).
	req  *requestBuf
	bufs *sync.Pool
}

func (c *requestConn) Write(p []byte) (int, error) {
	if c.req == nil {
		return c.Conn.Write(p)
	}
	c.req.b = append(c.req.b, p...)
	return len(p), nil
}

func (c *requestConn) WriteString(s string) (int, error) {
	if c.req == nil {
		return c.Conn.Write([]byte(s))
	}
	c.req.b = append(c.req.b, s...)
	return len(s), nil
}

func (c *requestConn) WriteByte(b byte) error {
	if c.req == nil {
		_, err := c.Conn.Write([]byte{b})
		return err
	}
	c.req.b = append(c.req.b, b)
	return nil
}

func (c *requestConn) Read(p []byte) (int, error) {
	if c.req != nil {
		if err := c.sendRequest(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// sendRequest sends what was gathered. It is not part of Read, whose frame
// sits under every parked read loop.
func (c *requestConn) sendRequest() error {
	req, bufs := c.req, c.bufs
	c.req, c.bufs = nil, nil
	_, err := c.Conn.Write(req.b)
	req.b = req.b[:0]
	bufs.Put(req)
	return err
}

// NetConn returns the connection underneath.
func (c *requestConn) NetConn() net.Conn { return c.Conn }
