// Package proxy is the chaos proxy: it listens on one address, forwards each
// WebSocket connection to an upstream server, relays messages, pings and
// close frames both ways, and acts as N proxy nodes behind a load balancer,
// which the chaos controller restarts (the node's clients get the restart's
// close code, their upstream connections 1001) or whose clients it closes.
package proxy

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/dialabort"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// NodeHeader is the response header of a proxied handshake that names the
// proxy node (its index) the connection belongs to.
const NodeHeader = "X-Wsstorm-Node"

const (
	defaultListen           = "127.0.0.1:0"
	defaultHandshakeTimeout = 10 * time.Second

	// closeWriteTimeout bounds writing a close frame.
	closeWriteTimeout = time.Second
	// closeReplyTimeout is how long the proxy waits for a peer's close reply
	// (and for the upstream to close TCP) before it closes TCP itself.
	closeReplyTimeout = 2 * time.Second
	// stallTimeout is how long a peer may accept no bytes of a relayed
	// message before the proxy gives it up.
	stallTimeout = 10 * time.Second
	// bufferSize is the read and write buffer of each side of a connection.
	bufferSize = 4096
)

var (
	_ action.Refuser = (*Proxy)(nil)
	_ action.Ender   = (*Proxy)(nil)
	_ action.Freezer = (*Proxy)(nil)
)

// Options configures a proxy.
type Options struct {
	Listen   string // address to listen on ("127.0.0.1:0" when empty)
	Nodes    int    // proxy nodes sharing the address (1 when 0)
	Upstream string // ws:// or wss:// URL of the server to forward to

	// Header holds request headers added to every upstream handshake; they
	// replace the client's headers of the same name.
	Header http.Header
	// TLS configures wss:// upstream connections (nil: the defaults, which
	// verify the certificate).
	TLS *tls.Config
	// HandshakeTimeout bounds the upstream TCP connect, TLS and WebSocket
	// handshake (10s when 0); a handshake that takes longer gets 504.
	HandshakeTimeout time.Duration
}

// Proxy is a running chaos proxy. Its methods are safe for concurrent use.
type Proxy struct {
	url      string
	upstream *url.URL // without user:password@
	auth     string   // Authorization from the upstream URL's user:password@, if any
	header   http.Header
	dialer   websocket.Dialer
	upgrader websocket.Upgrader
	srv      *http.Server
	nodes    []*node

	mu     sync.Mutex
	next   int    // round-robin position
	nextID uint64 // connection ids, in registration order
	shut   bool

	done     chan struct{}   // closed when Shutdown starts
	dials    context.Context // upstream handshakes; ended when Shutdown starts
	endDials context.CancelFunc
	shutOnce sync.Once
	conns    sync.WaitGroup // admitted handshakes and their relays
	serving  sync.WaitGroup // the HTTP server
}

// node is one logical proxy node: a share of the connections and a state.
type node struct {
	index int

	conns    atomic.Int64 // open, not yet closing
	accepted atomic.Int64
	rejected atomic.Int64

	// gate holds the node's relays while it is frozen.
	gate action.Gate

	// Guarded by Proxy.mu.
	refusing bool          // out of rotation, between Refuse and Accept
	restarts int64         // times taken out of rotation
	ending   int           // Ends under way on its connections
	back     time.Time     // when a refusing node is due back (zero: unknown)
	down     action.Ending // how connections registered while it refuses end
	late     int           // connections ended that way while it refused
	live     map[*conn]struct{}
}

// stateLocked is the node's state, under Proxy.mu.
func (n *node) stateLocked(shut bool) string {
	switch {
	case shut:
		return nodes.StateDown
	case n.refusing && n.ending > 0:
		return nodes.StateDraining
	case n.refusing:
		return nodes.StateDown
	case n.gate.Frozen():
		return nodes.StateFrozen
	}
	return nodes.StateUp
}

// Start validates opts, listens and serves until Shutdown. ctx bounds the
// start only.
func Start(ctx context.Context, opts Options) (*Proxy, error) {
	up, err := parseUpstream(opts.Upstream)
	if err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	nodes := opts.Nodes
	switch {
	case nodes == 0:
		nodes = 1
	case nodes < 0:
		return nil, fmt.Errorf("start proxy: nodes is %d, want at least 1", nodes)
	}
	if opts.HandshakeTimeout < 0 {
		return nil, fmt.Errorf("start proxy: handshake timeout %v is negative", opts.HandshakeTimeout)
	}
	timeout := opts.HandshakeTimeout
	if timeout == 0 {
		timeout = defaultHandshakeTimeout
	}
	listen := opts.Listen
	if listen == "" {
		listen = defaultListen
	}

	var auth string
	if up.User != nil {
		// WebSocket URIs have no credentials and gorilla/websocket refuses
		// them: send them as Basic authorization, as the fleet does.
		pass, _ := up.User.Password()
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(up.User.Username()+":"+pass))
		up.User = nil
	}
	p := &Proxy{
		upstream: up,
		auth:     auth,
		header:   opts.Header.Clone(),
		dialer: websocket.Dialer{
			HandshakeTimeout: timeout,
			NetDialContext:   dialabort.NetDial,
			TLSClientConfig:  opts.TLS,
			ReadBufferSize:   bufferSize,
			WriteBufferSize:  bufferSize,
			WriteBufferPool:  &sync.Pool{},
		},
		upgrader: websocket.Upgrader{
			// ReadBufferSize 0 keeps the HTTP server's 4 KiB read buffer.
			WriteBufferSize: bufferSize,
			WriteBufferPool: &sync.Pool{},
			// The upstream judges the Origin, which is passed on.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		done: make(chan struct{}),
	}
	p.dials, p.endDials = context.WithCancel(context.Background())
	p.nodes = make([]*node, nodes)
	for i := range p.nodes {
		p.nodes[i] = &node{index: i, live: make(map[*conn]struct{})}
	}

	// A plain listener, without SO_REUSEPORT: an address someone holds is
	// refused, not shared.
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		p.endDials()
		return nil, fmt.Errorf("start proxy: listen on %s: %w", listen, err)
	}
	p.url = wsURL(ln.Addr())
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.handshake),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	p.serving.Go(func() { p.srv.Serve(ln) })
	return p, nil
}

// CheckUpstream reports why raw cannot be a proxy's Options.Upstream, or nil
// if it is an absolute ws:// or wss:// URL without a #fragment. The error
// never quotes raw, which may hold a secret.
func CheckUpstream(raw string) error {
	_, err := parseUpstream(raw)
	return err
}

// parseUpstream checks that raw is an absolute ws:// or wss:// URL.
func parseUpstream(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("no upstream URL: want ws://HOST[:PORT]/PATH or wss://...")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, which may hold a secret.
		return nil, fmt.Errorf("upstream URL is not a URL: want ws://HOST[:PORT]/PATH or wss://...")
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("upstream URL has scheme %q: want ws or wss", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("upstream URL has no host: want ws://HOST[:PORT]/PATH")
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("upstream URL has a #fragment, which a WebSocket URL must not have")
	}
	return u, nil
}

// wsURL is the ws:// URL of a listener's address, with 127.0.0.1 for an
// unspecified host.
func wsURL(a net.Addr) string {
	host, port := "127.0.0.1", ""
	if tcp, ok := a.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	return "ws://" + net.JoinHostPort(host, port) + "/"
}

// URL returns the WebSocket URL clients dial, such as "ws://127.0.0.1:8080/".
// A request's path and query are passed on to the upstream (see the
// package's README section).
func (p *Proxy) URL() string { return p.url }

// Nodes returns the number of proxy nodes.
func (p *Proxy) Nodes() int { return len(p.nodes) }

// Stats returns a snapshot of every node's counters, by node index.
func (p *Proxy) Stats() []nodes.Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]nodes.Stats, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = nodes.Stats{
			Index:    i,
			Conns:    n.conns.Load(),
			Accepted: n.accepted.Load(),
			Rejected: n.rejected.Load(),
			Up:       !n.refusing && !p.shut,
		}
	}
	return out
}

// NodeStatus returns every node's state and counters, by node index, for
// the admin API.
func (p *Proxy) NodeStatus() []nodes.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]nodes.Status, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = nodes.Status{
			Index:    i,
			State:    n.stateLocked(p.shut),
			Conns:    n.conns.Load(),
			Accepted: n.accepted.Load(),
			Rejected: n.rejected.Load(),
			Restarts: n.restarts,
		}
	}
	return out
}

// Shutdown stops accepting, closes every client with 1001 (going away) and
// its upstream connection with 1001, and waits for the proxy's goroutines.
// If ctx ends first, it drops the remaining connections without waiting for
// close replies, waits for the goroutines to notice and returns ctx.Err().
// Calling it again waits again and otherwise does nothing.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.shutOnce.Do(func() {
		close(p.done)
		p.mu.Lock()
		p.shut = true
		var open []*conn
		for _, n := range p.nodes {
			open = append(open, n.openLocked()...)
		}
		p.mu.Unlock()
		// Handshakes under way are dropped, upstream dials included;
		// upgraded connections are the proxy's own, closed below.
		p.endDials()
		p.srv.Close()
		for _, n := range p.nodes {
			n.gate.Thaw() // a frozen connection must see its close
		}
		closeConns(open, action.Ending{Code: websocket.CloseGoingAway, Reason: "going away"}, reasonShutdown)
	})

	finished := make(chan struct{})
	go func() {
		p.serving.Wait()
		p.conns.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		p.dropAll()
		<-finished
		return ctx.Err()
	}
}

// dropAll closes both TCP connections of every live connection.
func (p *Proxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.nodes {
		for c := range n.live {
			c.down.Close()
			c.up.Close()
		}
	}
}

// Stopped is closed once Shutdown starts: an action waiting on the proxy
// (a restart's downtime, a freeze) ends then.
func (p *Proxy) Stopped() <-chan struct{} { return p.done }

// closing reports whether Shutdown has started.
func (p *Proxy) closing() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// errShutdown reports a call on a proxy that is shutting down.
func errShutdown() error { return shutdownError{} }

// shutdownError says the proxy is shut down; it matches net.ErrClosed.
type shutdownError struct{}

func (shutdownError) Error() string        { return "proxy is shut down" }
func (shutdownError) Is(target error) bool { return target == net.ErrClosed }
