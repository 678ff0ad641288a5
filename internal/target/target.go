// Package target is the embedded WebSocket target: N nodes in one process
// that share one TCP address, as behind a load balancer. Each node sends a
// welcome message, echoes data messages, enforces a capacity model and can be
// restarted or have its clients closed by the chaos controller.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// Balancer names accepted in Options.Balancer.
const (
	// BalancerReusePort gives each node its own SO_REUSEPORT listener on the
	// shared address; the kernel spreads connections over the listening nodes.
	BalancerReusePort = "reuseport"
	// BalancerDispatch uses one listener and hands connections round-robin
	// to the nodes that are up.
	BalancerDispatch = "dispatch"
)

const (
	defaultListen = "127.0.0.1:0"

	// closeWriteTimeout bounds writing a close frame.
	closeWriteTimeout = time.Second
	// closeReplyTimeout is how long a node waits for the client's close reply
	// before it closes the TCP connection anyway.
	closeReplyTimeout = 2 * time.Second
	// echoWriteTimeout bounds one echoed message, so a client that does not
	// read cannot hold a connection's writer forever.
	echoWriteTimeout = 10 * time.Second
)

var (
	_ action.Refuser = (*Target)(nil)
	_ action.Ender   = (*Target)(nil)
	_ action.Freezer = (*Target)(nil)
)

// Why a node ended a connection, as EventLog.Closed reports it.
const (
	ByRestart  = "restart"  // the node was taken down (Refuse) and ended its connections
	ByClose    = "close"    // End picked the connection of a node in service
	ByShutdown = "shutdown" // Shutdown closed every connection
	ByDrop     = "drop"     // the connection was dropped without a close frame (a crash)
)

// EventLog receives the target's connection events as they happen. Its
// methods are called concurrently from the nodes' goroutines, which wait
// for them: they must return quickly. For each accepted connection, exactly
// one of Closed and Disconnected follows its Accepted.
type EventLog interface {
	// Accepted reports an upgraded connection, with its handshake request;
	// r is valid only during the call.
	Accepted(node int, conn uint64, r *http.Request)
	// Closed reports a close frame the node sent, with its code, and by
	// (ByRestart, ByClose or ByShutdown) why; or, with code 1006 and by
	// ByDrop, a connection it dropped without a close frame.
	Closed(node int, conn uint64, code int, by string)
	// Disconnected reports a connection that ended without the node sending
	// a close frame: the client closed it (code is the code of its close
	// frame) or the connection broke (code is 1006).
	Disconnected(node int, conn uint64, code int)
	// Rejected reports a handshake the node refused with an HTTP status (503
	// when it is at capacity).
	Rejected(node int, status int)
}

// Options configures an embedded target.
type Options struct {
	Nodes    int    // number of nodes, at least 1
	Listen   string // address the nodes share; port 0 picks one port for all ("127.0.0.1:0" when empty)
	Capacity profile.Capacity
	// Balancer is BalancerReusePort, BalancerDispatch, or "" for reuseport
	// where the platform supports it and dispatch elsewhere.
	Balancer string
	// Log, if not nil, receives every connection event.
	Log EventLog
	// FirstNode is the number of the first node, for a target that is one
	// part of a larger one (several wsstorm serve processes on one address):
	// the welcome message, Stats, NodeStatus and the event log number
	// the nodes FirstNode to FirstNode+Nodes-1. The chaos capabilities
	// (Refuse, End, Freeze...) still take 0 to Nodes-1. Default 0.
	FirstNode int
	// SharePort lets the nodes join an explicit address that other targets
	// (other wsstorm serve processes of the same user) already listen on with
	// SO_REUSEPORT: the check that the address is free is skipped and the
	// kernel spreads clients over every listener of every process. It needs
	// the reuseport balancer, so Linux.
	SharePort bool
}

// Target is a running embedded target. Its methods are safe for concurrent
// use.
type Target struct {
	addr     string // host:port every node listens on
	url      string
	balancer string
	first    int // Options.FirstNode
	share    bool
	nodes    []*node
	upgrader websocket.Upgrader
	errorLog *log.Logger
	log      EventLog      // nil: no event log
	nextID   atomic.Uint64 // stable connection ids, in upgrade order

	shutOnce sync.Once
	done     chan struct{} // closed when Shutdown starts

	dispatchLn net.Listener   // dispatch balancer only
	wg         sync.WaitGroup // the dispatcher
}

// Start starts a target and returns once every node is listening. ctx bounds
// the start only; stop the target with Shutdown.
func Start(ctx context.Context, opts Options) (*Target, error) {
	if opts.Nodes < 1 {
		return nil, fmt.Errorf("start target: nodes is %d, want at least 1", opts.Nodes)
	}
	if opts.FirstNode < 0 {
		return nil, fmt.Errorf("start target: first node is %d, want 0 or more", opts.FirstNode)
	}
	if err := validateCapacity(opts.Capacity); err != nil {
		return nil, fmt.Errorf("start target: %w", err)
	}
	listen := opts.Listen
	if listen == "" {
		listen = defaultListen
	}
	balancer := opts.Balancer
	switch balancer {
	case "":
		balancer = BalancerDispatch
		if reusePortSupported {
			balancer = BalancerReusePort
		}
	case BalancerReusePort:
		if !reusePortSupported {
			return nil, fmt.Errorf("start target: balancer %q: %w", balancer, errReusePortUnsupported())
		}
	case BalancerDispatch:
	default:
		return nil, fmt.Errorf("start target: unknown balancer %q (want %q or %q)", balancer, BalancerReusePort, BalancerDispatch)
	}
	if opts.SharePort {
		switch {
		case !reusePortSupported:
			return nil, fmt.Errorf("start target: sharing %s with other processes: %w", listen, errReusePortUnsupported())
		case balancer != BalancerReusePort:
			return nil, fmt.Errorf("start target: sharing %s with other processes needs the %q balancer, not %q", listen, BalancerReusePort, balancer)
		}
	}

	t := &Target{
		balancer: balancer,
		first:    opts.FirstNode,
		share:    opts.SharePort,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     func(*http.Request) bool { return true },
		},
		errorLog: log.New(io.Discard, "", 0),
		log:      opts.Log,
		done:     make(chan struct{}),
	}
	t.nodes = make([]*node, opts.Nodes)
	for i := range t.nodes {
		n, err := newNode(t, opts.FirstNode+i, opts.Capacity)
		if err != nil {
			return nil, fmt.Errorf("start target: %w", err)
		}
		t.nodes[i] = n
	}

	listeners, err := t.listen(ctx, listen, opts.Nodes)
	if err != nil {
		return nil, fmt.Errorf("start target: %w", err)
	}
	for i, n := range t.nodes {
		if balancer == BalancerReusePort {
			n.start(listeners[i])
		} else {
			n.start(newConnQueue(t.dispatchLn.Addr()))
		}
	}
	if balancer == BalancerDispatch {
		t.wg.Go(t.dispatch)
	}
	return t, nil
}

// listen opens the reuseport listeners, one per node, or the dispatcher's
// single listener, and records the shared address.
func (t *Target) listen(ctx context.Context, addr string, nodes int) ([]net.Listener, error) {
	if t.balancer == BalancerDispatch {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		t.dispatchLn = ln
		t.setAddr(ln.Addr())
		return nil, nil
	}
	if !t.share {
		if err := probeFree(ctx, addr); err != nil {
			return nil, err
		}
	}
	listeners := make([]net.Listener, 0, nodes)
	for i := range nodes {
		ln, err := listenReusePort(ctx, addr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, fmt.Errorf("node %d: listen on %s: %w", t.first+i, addr, err)
		}
		if i == 0 {
			// Port 0 picked a port; the siblings join it.
			t.setAddr(ln.Addr())
			addr = t.addr
		}
		listeners = append(listeners, ln)
	}
	return listeners, nil
}

// probeFree checks that an explicit address (not port 0) is free before the
// nodes bind it with SO_REUSEPORT, which would otherwise share it silently
// with another process's SO_REUSEPORT listeners (another wsstorm serve, say)
// and let the kernel split the clients between them. A plain listener is
// refused wherever anyone listens on the address; it is closed at once. A
// process that binds the address between the probe and the nodes' binds
// can still join them: that window is a few system calls wide, and only
// a process using SO_REUSEPORT as the same user can join at all.
func probeFree(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err == nil && n == 0 {
		return nil // the kernel picks a free port
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	ln.Close()
	return nil
}

func (t *Target) setAddr(a net.Addr) {
	t.addr = a.String()
	host, port := "127.0.0.1", ""
	if tcp, ok := a.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	t.url = "ws://" + net.JoinHostPort(host, port) + "/"
}

// URL returns the WebSocket URL clients dial, such as "ws://127.0.0.1:8080/".
func (t *Target) URL() string { return t.url }

// Addr returns the host:port the nodes listen on.
func (t *Target) Addr() string { return t.addr }

// Balancer returns the balancer in use, BalancerReusePort or BalancerDispatch.
func (t *Target) Balancer() string { return t.balancer }

// Nodes returns the number of nodes.
func (t *Target) Nodes() int { return len(t.nodes) }

// FirstNode returns the number of the first node (Options.FirstNode): node
// i of the chaos capabilities is numbered FirstNode()+i everywhere else.
func (t *Target) FirstNode() int { return t.first }

// Stats returns a snapshot of every node's counters, in node order.
func (t *Target) Stats() []nodes.Stats {
	out := make([]nodes.Stats, len(t.nodes))
	for i, n := range t.nodes {
		out[i] = nodes.Stats{
			Index:    n.index,
			Conns:    n.conns.Load(),
			Accepted: n.accepted.Load(),
			Rejected: n.rejected.Load(),
			Up:       n.upFlag.Load(),
		}
	}
	return out
}

// NodeStatus returns every node's state and counters, in node order: "up",
// "frozen" while Freeze holds it, "draining" while it is down and still
// ending its connections, "down" while it refuses connections (a restart's
// downtime, a failed Accept, or after Shutdown).
func (t *Target) NodeStatus() []nodes.Status {
	out := make([]nodes.Status, len(t.nodes))
	for i, n := range t.nodes {
		out[i] = nodes.Status{
			Index:    n.index,
			State:    n.state(),
			Conns:    n.conns.Load(),
			Accepted: n.accepted.Load(),
			Rejected: n.rejected.Load(),
			Restarts: n.restarts.Load(),
		}
	}
	return out
}

// Shutdown closes every client with 1001 "going away", stops listening and
// waits for the target's goroutines. If ctx ends first, it drops the
// remaining connections without waiting for their close replies, waits for
// the goroutines to notice and returns ctx.Err(). Calling it again waits
// again and otherwise does nothing.
func (t *Target) Shutdown(ctx context.Context) error {
	t.shutOnce.Do(func() {
		close(t.done)
		if t.dispatchLn != nil {
			t.dispatchLn.Close()
		}
		var open []*wsConn
		for _, n := range t.nodes {
			open = append(open, n.shutdown()...)
		}
		closeConns(open, action.Ending{Code: websocket.CloseGoingAway, Reason: "going away"}, ByShutdown)
	})

	finished := make(chan struct{})
	go func() {
		t.wg.Wait()
		for _, n := range t.nodes {
			n.wg.Wait()
		}
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		for _, n := range t.nodes {
			n.dropAll()
		}
		<-finished
		return ctx.Err()
	}
}

// errShutdown reports a call on a target that is shutting down.
func errShutdown() error { return shutdownError{} }

// shutdownError says the target is shut down; it matches net.ErrClosed.
type shutdownError struct{}

func (shutdownError) Error() string        { return "target is shut down" }
func (shutdownError) Is(target error) bool { return target == net.ErrClosed }

// Stopped is closed once Shutdown starts: an action waiting on the target
// (a restart's downtime, a freeze) ends then.
func (t *Target) Stopped() <-chan struct{} { return t.done }

// closing reports whether Shutdown has started.
func (t *Target) closing() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// validateCapacity rejects capacity settings that cannot work.
func validateCapacity(c profile.Capacity) error {
	switch {
	case c.AcceptRate < 0:
		return fmt.Errorf("capacity: accept_rate is %v, want >= 0", c.AcceptRate)
	case c.AcceptBurst < 0:
		return fmt.Errorf("capacity: accept_burst is %d, want >= 0", c.AcceptBurst)
	case c.MaxConns < 0:
		return fmt.Errorf("capacity: max_conns is %d, want >= 0", c.MaxConns)
	case c.HandshakeDelay.D() < 0:
		return fmt.Errorf("capacity: handshake_delay is %v, want >= 0", c.HandshakeDelay.D())
	case c.RetryAfter.D() < 0:
		return errors.New("capacity: retry_after is negative")
	}
	return nil
}
