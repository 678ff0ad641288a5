package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// node is one server of the target: it upgrades, welcomes and echoes, and
// keeps the set of its open connections for restarts and closes.
type node struct {
	t          *Target
	index      int // its number: Options.FirstNode + its place in Target.nodes
	welcome    *websocket.PreparedMessage
	limiter    *rate.Limiter // nil: unlimited
	maxConns   int           // 0: unlimited
	delay      time.Duration
	retryAfter string // Retry-After header value, whole seconds

	conns    atomic.Int64 // open connections, not yet sent a close
	accepted atomic.Int64
	rejected atomic.Int64
	restarts atomic.Int64 // times taken out of service (stop)
	upFlag   atomic.Bool  // mirrors up for Stats and the dispatcher

	// gate holds the node's traffic while it is frozen (see freeze.go).
	gate action.Gate

	mu       sync.Mutex
	up       bool
	refusing bool // between Refuse and Accept
	// relistening is set while an Accept listens again, outside mu: a
	// second Accept meanwhile (a lease that expired as its driver came
	// back) must not start a second server.
	relistening bool
	ending      int // Ends under way on the node's connections
	shut        bool
	reserved    int                  // handshakes admitted but not yet registered
	live        map[*wsConn]struct{} // every upgraded connection whose goroutine runs
	srv         *http.Server         // nil while down
	queue       *connQueue           // dispatch balancer: where the dispatcher hands connections
	down        action.Ending        // how connections upgraded while down end
	late        int                  // connections ended that way while the node refused
	wg          sync.WaitGroup       // serve loop and admitted handlers
}

// wsConn is one upgraded client connection.
type wsConn struct {
	ws      *websocket.Conn
	n       *node
	id      uint64
	closing bool // guarded by n.mu: a close frame was sent, or the client went away
}

func newNode(t *Target, index int, c profile.Capacity) (*node, error) {
	welcome, err := websocket.NewPreparedMessage(websocket.TextMessage,
		fmt.Appendf(nil, `{"type":"welcome","node":%d}`, index))
	if err != nil {
		return nil, fmt.Errorf("node %d: prepare welcome: %w", index, err)
	}
	n := &node{
		t:          t,
		index:      index,
		welcome:    welcome,
		maxConns:   c.MaxConns,
		delay:      c.HandshakeDelay.D(),
		retryAfter: strconv.FormatInt(RetryAfterSeconds(c.RetryAfter.D()), 10),
		limiter:    AcceptLimiter(c),
		live:       make(map[*wsConn]struct{}),
	}
	return n, nil
}

// AcceptLimiter is a node's limit on handshakes under capacity c: accept_rate
// per second with a burst of accept_burst (0: one second's worth); nil when
// accept_rate is 0 (no limit). Its caller gives it the times.
func AcceptLimiter(c profile.Capacity) *rate.Limiter {
	if c.AcceptRate <= 0 {
		return nil
	}
	burst := c.AcceptBurst
	if burst == 0 {
		burst = int(math.Ceil(c.AcceptRate))
	}
	return rate.NewLimiter(rate.Limit(c.AcceptRate), burst)
}

// RetryAfterSeconds is the Retry-After a node sends with a 503 under
// retry_after d: d rounded up to whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// start serves on ln (a reuseport listener or a dispatch queue) and marks the
// node up. It reports false if the target is shutting down; ln is closed
// then. The node must be down (relisten sees to it).
func (n *node) start(ln net.Listener) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.shut {
		ln.Close()
		return false
	}
	srv := &http.Server{
		Handler:           n,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          n.t.errorLog,
	}
	n.srv = srv
	if q, ok := ln.(*connQueue); ok {
		n.queue = q
	}
	n.up = true
	n.upFlag.Store(true)
	n.wg.Go(func() { srv.Serve(gatedListener{Listener: ln, n: n}) })
	return true
}

// stop marks the node down and stops its server: no new connections, and
// handshakes in flight are dropped. Upgraded connections stay open; those
// that complete their upgrade while it is down end as e says.
func (n *node) stop(e action.Ending) error {
	n.mu.Lock()
	if n.shut {
		n.mu.Unlock()
		return errShutdown()
	}
	if n.refusing || n.relistening {
		n.mu.Unlock()
		return fmt.Errorf("node %d is already down or coming back up", n.index)
	}
	// A node that failed to listen again is down but not refusing; an
	// Accept may bring it back (and a Refuse leaves it down).
	n.up, n.refusing = false, true
	n.upFlag.Store(false)
	n.restarts.Add(1)
	srv := n.srv
	n.srv, n.queue = nil, nil
	n.down, n.late = e, 0
	n.mu.Unlock()

	if srv != nil {
		srv.Close()
	}
	return nil
}

// shutdown marks the node shut and down, stops its server and returns its
// open connections.
func (n *node) shutdown() []*wsConn {
	n.mu.Lock()
	n.shut = true
	n.up = false
	n.upFlag.Store(false)
	srv := n.srv
	n.srv, n.queue = nil, nil
	n.down = action.Ending{Code: websocket.CloseGoingAway, Reason: "going away"}
	open := n.openLocked()
	n.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	n.gate.Thaw() // a frozen connection must see its close
	return open
}

// state says whether the node is up, frozen, draining or down.
func (n *node) state() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.up && n.gate.Frozen():
		return nodes.StateFrozen
	case n.up:
		return nodes.StateUp
	case n.refusing && n.ending > 0:
		return nodes.StateDraining
	default:
		return nodes.StateDown
	}
}

// dropAll closes every live connection's TCP connection at once.
func (n *node) dropAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.live {
		c.ws.Close()
	}
}

// openLocked returns the connections that have not been sent a close.
func (n *node) openLocked() []*wsConn {
	open := make([]*wsConn, 0, len(n.live))
	for c := range n.live {
		if !c.closing {
			open = append(open, c)
		}
	}
	return open
}

// dispatchQueue returns where the dispatcher hands this node's connections,
// or nil while the node is down.
func (n *node) dispatchQueue() *connQueue {
	if !n.upFlag.Load() {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.queue
}

// ServeHTTP admits a handshake under the capacity model, upgrades it, sends
// the welcome and echoes until the connection ends.
func (n *node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this is a WebSocket endpoint", http.StatusUpgradeRequired)
		return
	}
	if !n.admit() {
		n.reject(w)
		return
	}
	defer n.wg.Done()
	if n.limiter != nil && !n.limiter.Allow() {
		n.release()
		n.reject(w)
		return
	}
	if n.delay > 0 && !sleepCtx(r.Context(), n.delay) {
		n.release()
		return
	}
	ws, err := n.t.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the client.
		n.release()
		return
	}
	n.serve(ws, r)
}

// admit reserves a connection slot for a handshake. It fails when the node is
// down or full.
func (n *node) admit() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.up || n.shut {
		return false
	}
	if n.maxConns > 0 && int(n.conns.Load())+n.reserved >= n.maxConns {
		return false
	}
	n.reserved++
	n.wg.Add(1)
	return true
}

// release gives back a slot reserved by admit for a handshake that failed.
func (n *node) release() {
	n.mu.Lock()
	n.reserved--
	n.mu.Unlock()
}

// reject answers a handshake with 503 and Retry-After.
func (n *node) reject(w http.ResponseWriter) {
	n.rejected.Add(1)
	h := w.Header()
	h.Set("Retry-After", n.retryAfter)
	h.Set("Connection", "close")
	http.Error(w, "node at capacity", http.StatusServiceUnavailable)
	if l := n.t.log; l != nil {
		l.Rejected(n.index, http.StatusServiceUnavailable)
	}
}

// serve runs one upgraded connection, whose handshake request was r, to its
// end.
func (n *node) serve(ws *websocket.Conn, r *http.Request) {
	c := &wsConn{ws: ws, n: n, id: n.t.nextID.Add(1)}
	elog := n.t.log
	if elog != nil {
		// Before register: nothing can close c until it is registered, so
		// its accept is logged before its end.
		elog.Accepted(n.index, c.id, r)
	}
	open, end, by := n.register(c)
	if open {
		ws.WritePreparedMessage(n.welcome)
	} else {
		// Upgraded just as the node went down: end it as the node's
		// other connections end.
		c.end(end, by)
	}
	err := echo(ws)
	if n.unregister(c) && elog != nil {
		elog.Disconnected(n.index, c.id, peerCloseCode(err))
	}
	ws.Close()
}

// peerCloseCode is the close code a client ended its connection with: the
// code of its close frame, or 1006 when the connection ended without one.
func peerCloseCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return websocket.CloseAbnormalClosure
}

// register adds an upgraded connection to the node. If the node went down
// during the handshake, the connection is registered as already closing and
// register returns false with how to end it, and why.
func (n *node) register(c *wsConn) (open bool, e action.Ending, by string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reserved--
	n.accepted.Add(1)
	n.live[c] = struct{}{}
	if n.up && !n.shut {
		n.conns.Add(1)
		return true, action.Ending{}, ""
	}
	c.closing = true
	if n.shut {
		return false, n.down, ByShutdown
	}
	n.late++
	by = ByRestart
	if n.down.Drop {
		by = ByDrop
	}
	return false, n.down, by
}

// unregister removes a connection whose goroutine is ending. It reports
// whether the connection was still open: no close frame had been sent.
func (n *node) unregister(c *wsConn) (wasOpen bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !c.closing {
		c.closing = true
		n.conns.Add(-1)
		wasOpen = true
	}
	delete(n.live, c)
	return wasOpen
}

// markClosing takes an open connection out of the node's count. It reports
// false if the connection was already closing.
func (n *node) markClosing(c *wsConn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.closing {
		return false
	}
	c.closing = true
	n.conns.Add(-1)
	return true
}

// close ends the connection as e says unless it is already closing, and
// reports whether it did. by says why, for the event log.
func (c *wsConn) close(e action.Ending, by string) bool {
	if !c.n.markClosing(c) {
		return false
	}
	c.end(e, by)
	return true
}

// end sends the close frame e says, or drops the connection without one,
// frozen node or not.
func (c *wsConn) end(e action.Ending, by string) {
	if g, ok := c.ws.NetConn().(*gatedConn); ok {
		g.release()
	}
	if !e.Drop {
		c.sendClose(e.Code, e.Reason, by)
		return
	}
	c.ws.Close()
	if l := c.n.t.log; l != nil {
		l.Closed(c.n.index, c.id, websocket.CloseAbnormalClosure, by)
	}
}

// sendClose starts the closing handshake from the server side: the close
// frame, then a read deadline so the read loop sees the client's reply or
// gives up; the read loop then closes TCP. by says why, for the event log.
func (c *wsConn) sendClose(code int, reason, by string) {
	now := time.Now()
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, now.Add(closeWriteTimeout)); err != nil {
		c.ws.Close()
		if l := c.n.t.log; l != nil {
			// The frame never left: the connection was already broken.
			l.Disconnected(c.n.index, c.id, websocket.CloseAbnormalClosure)
		}
		return
	}
	c.ws.NetConn().SetReadDeadline(now.Add(closeReplyTimeout))
	if l := c.n.t.log; l != nil {
		l.Closed(c.n.index, c.id, code, by)
	}
}

// echo sends every data message back with its type until reading fails,
// and returns the error that ended reading. Once writing fails (a close was
// sent, or the client stopped reading) it keeps reading and discards, so the
// client's close reply is seen.
func echo(ws *websocket.Conn) error {
	writing := true
	for {
		typ, r, err := ws.NextReader()
		if err != nil {
			return err
		}
		if !writing {
			continue // NextReader discards the unread message
		}
		ws.SetWriteDeadline(time.Now().Add(echoWriteTimeout))
		w, err := ws.NextWriter(typ)
		if err == nil {
			_, err = io.Copy(w, r)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			writing = false
		}
	}
}

// closeConns ends conns as e says, a bounded number at a time, and returns
// how many it ended (the others were closing already). by says why, for the
// event log.
func closeConns(conns []*wsConn, e action.Ending, by string) int {
	return action.CloseEach(conns, func(c *wsConn) bool { return c.close(e, by) })
}

// sleepCtx waits for d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
