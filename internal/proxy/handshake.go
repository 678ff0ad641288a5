package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/dialabort"
)

// handshake assigns a client's handshake to a node that is up, opens the
// upstream connection and only then completes the client's upgrade, then
// relays until both sides have ended.
func (p *Proxy) handshake(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this is a WebSocket proxy", http.StatusUpgradeRequired)
		return
	}
	if r.Method != http.MethodGet || r.Header.Get("Sec-Websocket-Version") != "13" || r.Header.Get("Sec-Websocket-Key") == "" {
		// Not a handshake the upgrader would take: it answers why.
		p.upgrader.Upgrade(w, r, nil)
		return
	}
	n, retry := p.admit()
	if n == nil {
		refuse(w, -1, retry, "no proxy node is up")
		return
	}
	defer p.conns.Done()
	if !n.gate.Wait(r.Context().Done()) {
		return // the client gave up on a frozen node
	}

	up, resp, err := p.dialUpstream(r)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left; nobody to answer
		}
		n.rejected.Add(1)
		if p.closing() {
			refuse(w, n.index, time.Second, "the proxy is shutting down")
			return
		}
		answerDialError(w, n.index, resp, err)
		return
	}
	if ok, retry := p.stillUp(n); !ok {
		n.rejected.Add(1)
		refuse(w, n.index, retry, "proxy node is down")
		sendClose(up, websocket.CloseGoingAway, reasonRestart)
		up.Close()
		return
	}

	h := responseHeader(resp.Header, skipResponse)
	h.Set(NodeHeader, strconv.Itoa(n.index))
	if sp := up.Subprotocol(); sp != "" {
		h.Set("Sec-Websocket-Protocol", sp)
	}
	down, err := p.upgrader.Upgrade(w, r, h)
	if err != nil {
		// The upgrader has answered the client, if it could.
		sendClose(up, websocket.CloseGoingAway, reasonClientLost)
		up.Close()
		return
	}
	c := &conn{p: p, n: n, down: down, up: up}
	if open, e := p.register(c); !open {
		// The node went down during the handshake: end the connection
		// as the node's others were ended.
		c.end(e, reasonRestart)
	}
	c.relay()
	p.unregister(c)
}

// dialUpstream opens the upstream connection of the client's request r. The
// client leaving, the handshake timeout and Shutdown each end the dial at
// once, at any stage of it.
func (p *Proxy) dialUpstream(r *http.Request) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), p.dialer.HandshakeTimeout)
	defer cancel()
	stopShutdown := context.AfterFunc(p.dials, cancel)
	defer stopShutdown()
	abort := &dialabort.Abort{}
	stopAbort := context.AfterFunc(ctx, abort.Abort)

	d := p.dialer
	d.Subprotocols = websocket.Subprotocols(r)
	up, resp, err := d.DialContext(abort.Context(ctx), upstreamURL(p.upstream, r.URL), p.upstreamHeader(r))
	if !stopAbort() && err == nil {
		// Ended just as the handshake completed: abort closed the connection.
		up.Close()
		return nil, nil, ctx.Err()
	}
	if err != nil && ctx.Err() != nil {
		// Say why the dial ended rather than "use of closed connection".
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return up, resp, err
}

// admit picks the next node that is up and counts a handshake in flight on
// the proxy. With no node up it returns nil, counts the refusal on the node
// whose turn it was and says when a node is due back.
func (p *Proxy) admit() (*node, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return nil, time.Second
	}
	for range len(p.nodes) {
		n := p.nodes[p.next]
		p.next = (p.next + 1) % len(p.nodes)
		if !n.refusing {
			p.conns.Add(1)
			return n, 0
		}
	}
	turn := p.nodes[p.next]
	p.next = (p.next + 1) % len(p.nodes)
	turn.rejected.Add(1)
	// The first node due back; one refused with no known return (a zero
	// back) says nothing of when, and the Retry-After is then 1 s.
	var first time.Time
	for _, n := range p.nodes {
		if !n.back.IsZero() && (first.IsZero() || n.back.Before(first)) {
			first = n.back
		}
	}
	if first.IsZero() {
		return nil, time.Second
	}
	return nil, time.Until(first)
}

// stillUp reports whether n is still in rotation after the upstream
// handshake, and if not, how long until it is due back.
func (p *Proxy) stillUp(n *node) (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return false, time.Second
	}
	return !n.refusing, time.Until(n.back)
}

// register adds an upgraded connection to its node. If the node went down
// (or the proxy shut down) during the handshake, the connection is
// registered as already closing and register returns false with how to end
// it.
func (p *Proxy) register(c *conn) (open bool, e action.Ending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := c.n
	p.nextID++
	c.id = p.nextID
	n.accepted.Add(1)
	n.live[c] = struct{}{}
	switch {
	case p.shut:
		c.closing = true
		return false, action.Ending{Code: websocket.CloseGoingAway, Reason: "going away"}
	case n.refusing:
		c.closing = true
		n.late++
		return false, n.down
	}
	n.conns.Add(1)
	return true, action.Ending{}
}

// unregister removes a connection whose relays have ended.
func (p *Proxy) unregister(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !c.closing {
		c.closing = true
		c.n.conns.Add(-1)
	}
	delete(c.n.live, c)
}

// markClosing takes an open connection out of its node's count; false if it
// was closing already.
func (p *Proxy) markClosing(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.closing {
		return false
	}
	c.closing = true
	c.n.conns.Add(-1)
	return true
}

// openLocked returns the node's connections that are not closing.
func (n *node) openLocked() []*conn {
	open := make([]*conn, 0, len(n.live))
	for c := range n.live {
		if !c.closing {
			open = append(open, c)
		}
	}
	return open
}

// refuse answers a handshake with 503 and Retry-After, as the embedded
// target refuses one; node < 0 leaves out the node header.
func refuse(w http.ResponseWriter, node int, retry time.Duration, msg string) {
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(retryAfterSeconds(retry), 10))
	h.Set("Connection", "close")
	if node >= 0 {
		h.Set(NodeHeader, strconv.Itoa(node))
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// answerDialError answers the client when the upstream handshake failed:
// the upstream's own status, headers and (first KiB of) body when it
// answered with one, 504 when it did not answer in time, 502 otherwise.
func answerDialError(w http.ResponseWriter, node int, resp *http.Response, err error) {
	h := w.Header()
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		for k, vs := range responseHeader(resp.Header, skipRefusal) {
			h[k] = vs
		}
		h.Set(NodeHeader, strconv.Itoa(node))
		h.Set("Connection", "close")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body) // gorilla kept at most 1 KiB of it
		return
	}
	h.Set(NodeHeader, strconv.Itoa(node))
	h.Set("Connection", "close")
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		http.Error(w, "the upstream did not complete the WebSocket handshake in time", http.StatusGatewayTimeout)
		return
	}
	http.Error(w, "the upstream could not be reached or did not complete the WebSocket handshake", http.StatusBadGateway)
}

// upstreamURL is the upstream URL with the client's request path appended
// to its path (a request for "/" keeps the upstream's path as it is) and
// the client's query appended to its query.
func upstreamURL(base, req *url.URL) string {
	u := *base
	path := base.EscapedPath()
	if rp := req.EscapedPath(); rp != "" && rp != "/" {
		path = strings.TrimSuffix(path, "/") + rp
	}
	if p, err := url.PathUnescape(path); err == nil {
		u.Path, u.RawPath = p, path
	}
	switch {
	case base.RawQuery == "":
		u.RawQuery = req.RawQuery
	case req.RawQuery != "":
		u.RawQuery = base.RawQuery + "&" + req.RawQuery
	}
	return u.String()
}

// skipRequest are the client's request headers the upstream handshake does
// not get: hop-by-hop headers (RFC 9110 §7.6.1), Host (the upstream's own
// is used) and the WebSocket handshake's, which the proxy's dialer makes
// (the client's subprotocols are offered through it).
var skipRequest = headerSet(
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
	"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions",
	"Sec-Websocket-Protocol", "Sec-Websocket-Accept",
)

// skipResponse are the upstream's 101 headers the client's 101 does not
// get: hop-by-hop headers and those the upgrader writes itself.
var skipResponse = headerSet(
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
	"Sec-Websocket-Accept", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol", NodeHeader,
)

// skipRefusal are the upstream refusal's headers the client's does not get.
var skipRefusal = headerSet(
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", NodeHeader,
)

func headerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[textproto.CanonicalMIMEHeaderKey(n)] = true
	}
	return m
}

// upstreamHeader is the header of the upstream handshake: the client's
// end-to-end headers (Authorization, Cookie, Origin, X-...), then the
// proxy's own Header, Basic authorization from the upstream URL's
// user:password@ when neither sets Authorization, and the client's address
// added to X-Forwarded-For.
func (p *Proxy) upstreamHeader(r *http.Request) http.Header {
	named := connectionTokens(r.Header)
	h := make(http.Header, len(r.Header)+len(p.header)+1)
	for k, vs := range r.Header {
		if skipRequest[k] || named[k] {
			continue
		}
		h[k] = vs
	}
	for k, vs := range p.header {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if skipRequest[k] {
			continue
		}
		h[k] = vs
	}
	if p.auth != "" && h.Get("Authorization") == "" {
		h.Set("Authorization", p.auth)
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := h.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	return h
}

// connectionTokens returns the headers a Connection header names as
// hop-by-hop.
func connectionTokens(h http.Header) map[string]bool {
	var m map[string]bool
	for _, v := range h.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				if m == nil {
					m = make(map[string]bool)
				}
				m[textproto.CanonicalMIMEHeaderKey(tok)] = true
			}
		}
	}
	return m
}

// responseHeader copies h without the headers in skip and those its
// Connection header names.
func responseHeader(h http.Header, skip map[string]bool) http.Header {
	named := connectionTokens(h)
	out := make(http.Header, len(h)+2)
	for k, vs := range h {
		if skip[k] || named[k] {
			continue
		}
		out[k] = vs
	}
	return out
}
