package protocoltest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The facts below are from rails v8.1.3.1, actioncable/lib/action_cable.rb
// (INTERNAL) unless another file is named.
const (
	cablePath = "/cable"
	// cableProtocol is the subprotocol spoken; the server also lists
	// "actioncable-unsupported", which a client offering only that gets,
	// and @rails/actioncable closes on it for good (connection.js open).
	cableProtocol    = "actioncable-v1-json"
	cableUnsupported = "actioncable-unsupported"
)

// ActionCableOptions configure an ActionCable server. The zero value is
// ActionCable's defaults.
type ActionCableOptions struct {
	// Addr is the address to listen on, host:port; default
	// "127.0.0.1:0", a port of the system's choosing.
	Addr string
	// Path is where the server is mounted. Default "/cable".
	Path string
	// PingInterval is the heartbeat: every connection gets {"type":"ping",
	// "message":<unix seconds>} this often, 3 s by default (BEAT_INTERVAL,
	// server/connections.rb). @rails/actioncable counts a connection stale
	// after twice that (ConnectionMonitor.staleThreshold = 6 s).
	PingInterval time.Duration
	// Connect, when set, is the connection's connect: false rejects it as
	// reject_unauthorized_connection does, after the handshake, with
	// disconnect "unauthorized", reconnect false (connection/base.rb
	// handle_open).
	Connect func(params url.Values) bool
	// Channels are the channel class names that exist; a subscription to
	// another gets no answer, as the server only logs "Subscription class
	// not found" (connection/subscriptions.rb add). Nil means all exist.
	Channels []string
	// Reject, when set, is the channel's subscribed: true rejects the
	// subscription with reject_subscription (channel/base.rb).
	Reject func(channel string, identifier map[string]any) bool
}

// ActionCable is an ActionCable server speaking actioncable-v1-json. Its
// channels echo what a subscription sends: a "message" command's data
// comes back as {"identifier": ..., "message": data}, as a channel's
// transmit sends it.
type ActionCable struct {
	h    *hub
	opts ActionCableOptions

	mu       sync.Mutex
	sessions map[*session]struct{} // welcomed: the server's connections list

	stopPings chan struct{}
	pingsDone chan struct{}
}

// NewActionCable starts an ActionCable server on 127.0.0.1.
func NewActionCable(opts ActionCableOptions) (*ActionCable, error) {
	if opts.Path == "" {
		opts.Path = cablePath
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 3 * time.Second
	}
	a := &ActionCable{
		opts:      opts,
		sessions:  map[*session]struct{}{},
		stopPings: make(chan struct{}),
		pingsDone: make(chan struct{}),
	}
	a.h = newHub(http.HandlerFunc(a.handle), []string{cableProtocol, cableUnsupported})
	if err := a.h.listen(listenAddr(opts.Addr)); err != nil {
		return nil, err
	}
	go a.ping()
	return a, nil
}

// URL is the server's address (ws://host/cable).
func (a *ActionCable) URL() string { return a.h.url(a.opts.Path) }

// Close stops the server and drops every session without a close frame.
func (a *ActionCable) Close() {
	select {
	case <-a.stopPings:
	default:
		close(a.stopPings)
	}
	<-a.pingsDone
	a.h.close()
}

// Events returns the server's log so far.
func (a *ActionCable) Events() []Event { e, _ := a.h.snapshot(); return e }

// Counters returns the server's totals so far.
func (a *ActionCable) Counters() Counters { _, c := a.h.snapshot(); return c }

// WaitFor returns once cond holds for the counters, or ctx is done.
func (a *ActionCable) WaitFor(ctx context.Context, cond func(Counters) bool) error {
	return a.h.waitFor(ctx, cond)
}

// Shutdown ends the sessions as ActionCable.server.restart does, which
// the Rails reloader calls and applications call on shutdown: each
// connection gets {"type":"disconnect","reason":"server_restart",
// "reconnect":true} and a close 1000 (server/base.rb restart,
// connection/base.rb close; connection/client_socket.rb close defaults to
// 1000). Then the port closes until Resume, and sessions still open (not
// yet welcomed) are dropped, as the process goes. Shutdown returns once
// every session has ended, or ctx is done.
func (a *ActionCable) Shutdown(ctx context.Context) error {
	for _, s := range a.welcomed(0) {
		a.end(s, "server_restart", true)
	}
	a.h.stopListening()
	for _, s := range a.h.open(0) {
		s.drop("shutdown")
	}
	return a.h.wait(ctx)
}

// Resume opens the port again after Shutdown, as a restarted server.
func (a *ActionCable) Resume() error { return a.h.resume() }

// Disconnect ends the first n welcomed sessions (all if n <= 0) as
// ActionCable.server.remote_connections.where(...).disconnect(reconnect:)
// does: {"type":"disconnect","reason":"remote","reconnect":...} and a
// close 1000 (remote_connections.rb, connection/internal_channel.rb).
// With reconnect false, @rails/actioncable stops its connection monitor
// and does not come back (connection.js). It returns how many it ended.
func (a *ActionCable) Disconnect(n int, reconnect bool) int {
	pick := a.welcomed(n)
	for _, s := range pick {
		a.end(s, "remote", reconnect)
	}
	return len(pick)
}

// DisconnectClient is Disconnect for the sessions of one client.
func (a *ActionCable) DisconnectClient(client string, reconnect bool) int {
	var pick []*session
	for _, s := range a.welcomed(0) {
		if s.client == client {
			pick = append(pick, s)
		}
	}
	for _, s := range pick {
		a.end(s, "remote", reconnect)
	}
	return len(pick)
}

// end sends the disconnect message and closes with 1000.
func (a *ActionCable) end(s *session, reason string, reconnect bool) {
	if s.ending() {
		return
	}
	a.forget(s)
	msg, _ := json.Marshal(cableDisconnect{Type: "disconnect", Reason: reason, Reconnect: reconnect})
	s.endAfter(msg, 1000, reason, !reconnect)
}

type cableDisconnect struct {
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	Reconnect bool   `json:"reconnect"`
}

// welcomed returns up to n welcomed sessions (all if n <= 0) in the order
// they connected.
func (a *ActionCable) welcomed(n int) []*session {
	var out []*session
	for _, s := range a.h.open(0) {
		if n > 0 && len(out) == n {
			break
		}
		a.mu.Lock()
		_, ok := a.sessions[s]
		a.mu.Unlock()
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func (a *ActionCable) forget(s *session) {
	a.mu.Lock()
	delete(a.sessions, s)
	a.mu.Unlock()
}

// ping sends every welcomed session a ping each PingInterval, from one
// timer, as the server's heartbeat timer does.
func (a *ActionCable) ping() {
	defer close(a.pingsDone)
	t := time.NewTicker(a.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stopPings:
			return
		case <-t.C:
		}
		msg, _ := json.Marshal(struct {
			Type    string `json:"type"`
			Message int64  `json:"message"`
		}{"ping", time.Now().Unix()})
		for _, s := range a.welcomed(0) {
			if s.send(msg) == nil {
				a.h.mu.Lock()
				a.h.counts.Pings++
				a.h.mu.Unlock()
			}
		}
	}
}
