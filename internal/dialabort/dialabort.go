// Package dialabort lets a WebSocket handshake be cut short at any stage.
// gorilla/websocket honours a dial's context only while it connects; after
// that it relies on deadlines, which it resets itself, so a server that
// accepts TCP and never answers the upgrade holds the handshake until its
// timeout. An Abort closes the handshake's connection instead.
package dialabort

import (
	"context"
	"net"
	"sync"
)

// key carries a dial's *Abort to NetDial through the context.
type key struct{}

// Abort cuts one dial's handshake short. Its zero value is ready to use.
type Abort struct {
	// Dialer opens the TCP connection (a source address, socket options);
	// nil: a zero net.Dialer. Set it before the dial starts.
	Dialer *net.Dialer

	mu      sync.Mutex
	conn    net.Conn
	aborted bool
}

// Context returns ctx carrying a, for a dialer whose NetDialContext is
// NetDial.
func (a *Abort) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, a)
}

// attach records the dial's connection; false if the dial was aborted first.
func (a *Abort) attach(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
	return !a.aborted
}

// Abort closes the dial's connection, or the one it is about to open.
func (a *Abort) Abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.aborted = true
	if a.conn != nil {
		_ = a.conn.Close()
	}
}

// NetDial opens a handshake's TCP connection and hands it to the dial's
// Abort, if its context carries one: a websocket.Dialer's NetDialContext.
func NetDial(ctx context.Context, network, addr string) (net.Conn, error) {
	a, _ := ctx.Value(key{}).(*Abort)
	d := &net.Dialer{}
	if a != nil && a.Dialer != nil {
		d = a.Dialer
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if a != nil && !a.attach(c) {
		c.Close()
		return nil, context.Canceled
	}
	return c, nil
}
