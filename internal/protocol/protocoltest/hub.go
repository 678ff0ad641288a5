// Package protocoltest runs small Phoenix Channels and ActionCable servers
// on loopback for tests. Neither real server can be installed where
// wsstorm's tests run (hex is unreachable, Debian's ActionCable is 6.1),
// so these speak each protocol as the real servers' source says, cited
// where it matters, and their tests run the real JS clients from npm
// against them to show it. Each server keeps a log of what it saw and did,
// on one monotonic clock, and offers the server-side actions of the real
// one: shutdown, disconnect, rejection.
package protocoltest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// EventKind names what happened in an Event.
type EventKind string

// The kinds of events the servers log.
const (
	EventConnect    EventKind = "connect"    // a WebSocket session began
	EventRefuse     EventKind = "refuse"     // a handshake was refused (HTTP 403)
	EventJoin       EventKind = "join"       // a Phoenix join or ActionCable subscription was confirmed
	EventReject     EventKind = "reject"     // a Phoenix join or ActionCable subscription was rejected
	EventLeave      EventKind = "leave"      // a Phoenix channel was left or an ActionCable subscription removed
	EventHeartbeat  EventKind = "heartbeat"  // a Phoenix heartbeat was answered
	EventDisconnect EventKind = "disconnect" // a session ended
)

// CodeNoClose is the close code logged for a session that ended without a
// close frame, as a client's WebSocket reports it.
const CodeNoClose = 1006

// Event is one thing a server saw or did.
type Event struct {
	At     time.Duration // since the server started, on the monotonic clock
	Kind   EventKind
	Conn   int64      // the session's number on this server, from 1
	Client string     // the session's "client" query parameter
	Query  url.Values // the handshake's query parameters (connect and refuse only)
	Topic  string     // the Phoenix topic or the ActionCable channel
	// Params are the Phoenix join payload or the ActionCable subscription's
	// identifier, decoded.
	Params map[string]any
	// Code is a disconnect's close code: the one the server sent, else
	// the client's, else CodeNoClose.
	Code int
	// Reason says why: a rejection's reason, or a disconnect's cause
	// ("client", "lost", "idle timeout", "drain", "shutdown",
	// "disconnect", "server_restart", "remote", "unauthorized").
	Reason string
	// Stop is true on a disconnect that told the client not to come back:
	// ActionCable's disconnect message with reconnect false, or a Phoenix
	// client refused from then on.
	Stop bool
	// Sent is, on a disconnect the server began with a close frame, when
	// the server began it (ActionCable: its disconnect message, then the
	// frame), on At's clock; At is the close handshake's end, once the
	// client answered. Zero otherwise.
	Sent time.Duration
}

// Counters are a server's totals since it started.
type Counters struct {
	Connects    int // WebSocket sessions begun
	Refused     int // handshakes refused with HTTP 403
	Open        int // sessions open now
	Joins       int // Phoenix joins and ActionCable subscriptions confirmed
	Rejects     int // Phoenix join errors and ActionCable reject_subscription
	Heartbeats  int // Phoenix heartbeats answered
	Pings       int // ActionCable pings sent
	Disconnects int // sessions ended
	Stops       int // sessions ended with the advice not to come back
	// ClosesByCode counts ended sessions by their Event.Code.
	ClosesByCode map[int]int
}

// closeGrace bounds how long a session the server closed waits for the
// client's close frame before the connection is dropped.
const closeGrace = time.Second

// writeWait bounds one write to a client, so a stuck client cannot hold up
// the server's other work.
const writeWait = 5 * time.Second

// hub is what both servers share: the listener, the sessions, the log.
type hub struct {
	start    time.Time
	addr     string
	upgrader websocket.Upgrader
	handler  http.Handler

	mu       sync.Mutex
	srv      *http.Server // nil while down
	closed   bool
	sessions map[int64]*session
	nextID   int64
	events   []Event
	counts   Counters
	wg       sync.WaitGroup
}

// session is one WebSocket connection.
type session struct {
	h      *hub
	id     int64
	client string
	ws     *websocket.Conn
	wmu    sync.Mutex // one writer at a time, as gorilla/websocket requires

	// guarded by h.mu
	endCode   int // the close code the server sent; 0 while it sent none
	endReason string
	endStop   bool
	endSent   time.Duration
}

// newHub makes a hub; it serves once listen is called, after its server
// holds it.
func newHub(handler http.Handler, subprotocols []string) *hub {
	return &hub{
		start:    time.Now(),
		handler:  handler,
		sessions: map[int64]*session{},
		counts:   Counters{ClosesByCode: map[int]int{}},
		upgrader: websocket.Upgrader{
			Subprotocols: subprotocols,
			// Browsers' origins are the real servers' business (Phoenix's
			// check_origin, ActionCable's allowed_request_origins); these
			// test servers accept any, as with those checks off.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// listen serves on addr, a new listener and HTTP server each time, since a
// real restart closes the port and opens it again.
func (h *hub) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: 5 * time.Second}
	h.mu.Lock()
	h.addr = ln.Addr().String()
	h.srv = srv
	h.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// listenAddr is addr, or a loopback port of the system's choosing.
func listenAddr(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

// stopListening closes the port: new connections are refused by the
// system, as when a real server's process is gone. Open sessions stay.
func (h *hub) stopListening() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// resume opens the port again, at the same address.
func (h *hub) resume() error {
	h.mu.Lock()
	up, closed, addr := h.srv != nil, h.closed, h.addr
	h.mu.Unlock()
	switch {
	case closed:
		return errors.New("protocoltest: server closed")
	case up:
		return nil
	}
	return h.listen(addr)
}

// close ends everything without close frames and waits for the sessions'
// goroutines.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stopListening()
	for _, s := range h.open(0) {
		s.drop("server closed")
	}
	h.wg.Wait()
}

func (h *hub) since() time.Duration { return time.Since(h.start) }

// log appends e, stamped now, and counts it.
func (h *hub) log(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logLocked(e)
}

func (h *hub) logLocked(e Event) {
	e.At = h.since()
	h.events = append(h.events, e)
	c := &h.counts
	switch e.Kind {
	case EventConnect:
		c.Connects++
		c.Open++
	case EventRefuse:
		c.Refused++
	case EventJoin:
		c.Joins++
	case EventReject:
		c.Rejects++
	case EventHeartbeat:
		c.Heartbeats++
	case EventDisconnect:
		c.Open--
		c.Disconnects++
		c.ClosesByCode[e.Code]++
		if e.Stop {
			c.Stops++
		}
	}
}

// refuse answers a handshake with 403, as Phoenix does when connect/3
// returns :error (phoenix v1.8.12 lib/phoenix/transports/websocket.ex).
func (h *hub) refuse(w http.ResponseWriter, r *http.Request, reason string) {
	q := r.URL.Query()
	h.log(Event{Kind: EventRefuse, Client: q.Get("client"), Query: q, Reason: reason})
	http.Error(w, "", http.StatusForbidden)
}

// accept upgrades the request and registers its session; nil if the
// upgrade failed (the upgrader has answered the client).
func (h *hub) accept(w http.ResponseWriter, r *http.Request) *session {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil
	}
	ws.SetReadLimit(1 << 20)
	q := r.URL.Query()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.srv == nil {
		// A handshake that was under way when the port closed: the
		// process it reached is gone.
		_ = ws.NetConn().Close()
		return nil
	}
	h.nextID++
	s := &session{h: h, id: h.nextID, client: q.Get("client"), ws: ws}
	h.sessions[s.id] = s
	h.wg.Add(1)
	h.logLocked(Event{Kind: EventConnect, Conn: s.id, Client: s.client, Query: q})
	return s
}

// finish ends s after its read loop returned err: it logs the disconnect
// with the code the server sent, else the client's, else CodeNoClose.
func (h *hub) finish(s *session, err error) {
	_ = s.ws.NetConn().Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	code, reason, sent := s.endCode, s.endReason, s.endSent
	if code == 0 {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			code, reason = ce.Code, "client"
		} else {
			code, reason = CodeNoClose, "lost"
		}
	}
	delete(h.sessions, s.id)
	h.logLocked(Event{Kind: EventDisconnect, Conn: s.id, Client: s.client, Code: code, Reason: reason, Stop: s.endStop, Sent: sent})
	h.wg.Done()
}

// open returns up to n open sessions (all if n <= 0) in the order they
// connected, leaving out those the server is already ending.
func (h *hub) open(n int) []*session {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*session
	for id := int64(1); id <= h.nextID && (n <= 0 || len(out) < n); id++ {
		if s, ok := h.sessions[id]; ok && s.endCode == 0 {
			out = append(out, s)
		}
	}
	return out
}

// wait returns once no session is open, or when ctx is done.
func (h *hub) wait(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		h.mu.Lock()
		n := len(h.sessions)
		h.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("protocoltest: %d sessions still open: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// send writes one text message to s.
func (s *session) send(msg []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return s.ws.WriteMessage(websocket.TextMessage, msg)
}

// end sends a close frame with code and lets the client answer it within
// closeGrace; the read loop then returns and finish logs code and reason.
// Only the first end of a session counts.
func (s *session) end(code int, reason string, stop bool) { s.endAfter(nil, code, reason, stop) }

// endAfter is end with msg sent before the close frame (ActionCable's
// disconnect message). The end is the server's from before msg goes out,
// so a client that answers msg by closing first has not ended the session
// itself.
func (s *session) endAfter(msg []byte, code int, reason string, stop bool) {
	s.h.mu.Lock()
	if s.endCode != 0 {
		s.h.mu.Unlock()
		return
	}
	s.endCode, s.endReason, s.endStop, s.endSent = code, reason, stop, s.h.since()
	_ = s.ws.SetReadDeadline(time.Now().Add(closeGrace))
	s.h.mu.Unlock()
	if msg != nil {
		_ = s.send(msg)
	}
	frame := websocket.FormatCloseMessage(code, "")
	_ = s.ws.WriteControl(websocket.CloseMessage, frame, time.Now().Add(writeWait))
}

// extend moves s's read deadline d ahead, unless the server is ending s,
// whose deadline is its close grace.
func (s *session) extend(d time.Duration) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.endCode == 0 {
		_ = s.ws.SetReadDeadline(time.Now().Add(d))
	}
}

// drop closes s's connection without a close frame.
func (s *session) drop(reason string) {
	s.h.mu.Lock()
	if s.endCode == 0 {
		s.endCode, s.endReason = CodeNoClose, reason
	}
	s.h.mu.Unlock()
	_ = s.ws.NetConn().Close()
}

// ending reports whether the server has begun to end s.
func (s *session) ending() bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.endCode != 0
}

// snapshot returns the log and the counters.
func (h *hub) snapshot() ([]Event, Counters) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.counts
	c.ClosesByCode = make(map[int]int, len(h.counts.ClosesByCode))
	for k, v := range h.counts.ClosesByCode {
		c.ClosesByCode[k] = v
	}
	return append([]Event(nil), h.events...), c
}

// waitFor polls the counters until cond holds or ctx is done.
func (h *hub) waitFor(ctx context.Context, cond func(Counters) bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if _, c := h.snapshot(); cond(c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("protocoltest: condition not met: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (h *hub) url(path string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return "ws://" + h.addr + path
}
