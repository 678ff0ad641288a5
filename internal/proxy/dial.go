package proxy

import (
	"context"
	"net"
	"sync"
)

// dialAbortKey carries an upstream dial's *dialAbort to netDial through the
// context.
type dialAbortKey struct{}

// dialAbort lets an upstream handshake be cut short. gorilla/websocket
// honours its context only while it connects; after that it relies on
// deadlines, so a hung upstream would hold the handshake (and Shutdown)
// until the handshake timeout. abort closes the connection instead.
type dialAbort struct {
	mu      sync.Mutex
	conn    net.Conn
	aborted bool
}

// attach records the dial's connection; false if the dial was aborted first.
func (a *dialAbort) attach(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
	return !a.aborted
}

// abort closes the dial's connection, or the one it is about to attach.
func (a *dialAbort) abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.aborted = true
	if a.conn != nil {
		_ = a.conn.Close()
	}
}

// netDial opens the TCP connection of an upstream handshake and hands it to
// the dial's dialAbort.
func netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if a, ok := ctx.Value(dialAbortKey{}).(*dialAbort); ok && !a.attach(c) {
		c.Close()
		return nil, context.Canceled
	}
	return c, nil
}
