package protocoltest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Adapter is the web server under a Phoenix endpoint. The two close
// sessions differently at an idle timeout and at the end of a shutdown.
type Adapter int

const (
	// Bandit is the adapter mix phx.new generates since Phoenix 1.7.11
	// (phoenix v1.8.12 installer/lib/phx_new/generator.ex).
	Bandit Adapter = iota
	// Cowboy is Phoenix.Endpoint's fallback when none is configured
	// (phoenix v1.8.12 lib/phoenix/endpoint/supervisor.ex).
	Cowboy
)

// idleCode is the close code at the idle timeout: Bandit's
// handle_timeout sends 1002 (bandit 1.12.5 lib/bandit/websocket/
// connection.ex), Cowboy's loop closes with 1000 on timeout (cowboy 2.18.0
// src/cowboy_websocket.erl websocket_send_close).
func (a Adapter) idleCode() int {
	if a == Cowboy {
		return 1000
	}
	return 1002
}

// PhoenixOptions configure a Phoenix server. The zero value is Phoenix's
// defaults.
type PhoenixOptions struct {
	// Addr is the address to listen on, host:port; default
	// "127.0.0.1:0", a port of the system's choosing. A profile that names
	// its nodes' URLs needs fixed ports.
	Addr string
	// Path is where the socket is mounted (`socket "/socket", ...`);
	// clients connect to Path + "/websocket". Default "/socket".
	Path string
	// IdleTimeout closes a session that has sent nothing for this long:
	// the websocket transport's :timeout, 60 s by default (phoenix
	// v1.8.12 lib/phoenix/transports/websocket.ex). phoenix.js heartbeats
	// every 30 s to stay under it.
	IdleTimeout time.Duration
	// Adapter picks how sessions close at the idle timeout and at the end
	// of a shutdown. Default Bandit.
	Adapter Adapter
	// DrainBatchSize and DrainBatchInterval are the socket drainer's
	// :batch_size (10000) and :batch_interval (2 s) (phoenix v1.8.12
	// lib/phoenix/endpoint.ex, socket/3 :drainer).
	DrainBatchSize     int
	DrainBatchInterval time.Duration
	// Channels are the topic patterns the socket routes (`channel
	// "room:*", ...`): a pattern ending in "*" matches by prefix. A join
	// of any other topic gets the error "unmatched topic". Nil routes all.
	Channels []string
	// Connect, when set, is the socket's connect/3: false refuses the
	// handshake with HTTP 403.
	Connect func(params url.Values) bool
	// Join, when set, is the channel's join/3: a non-nil response rejects
	// the join with it, as {:error, response} does.
	Join func(topic string, payload map[string]any) (errorResponse map[string]any)
}

// Phoenix is a Phoenix Channels server speaking the V2 JSON serializer.
// Each joined channel echoes what it is pushed, as a handle_in returning
// {:reply, {:ok, payload}, socket}.
type Phoenix struct {
	h    *hub
	opts PhoenixOptions

	mu       sync.Mutex
	refused  map[string]bool // clients connect/3 refuses from now on
	sessions map[*session]*phoenixSession
}

// NewPhoenix starts a Phoenix server on 127.0.0.1.
func NewPhoenix(opts PhoenixOptions) (*Phoenix, error) {
	if opts.Path == "" {
		opts.Path = "/socket"
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	if opts.DrainBatchSize <= 0 {
		opts.DrainBatchSize = 10000
	}
	if opts.DrainBatchInterval <= 0 {
		opts.DrainBatchInterval = 2 * time.Second
	}
	p := &Phoenix{opts: opts, refused: map[string]bool{}, sessions: map[*session]*phoenixSession{}}
	p.h = newHub(http.HandlerFunc(p.handle), nil)
	if err := p.h.listen(listenAddr(opts.Addr)); err != nil {
		return nil, err
	}
	return p, nil
}

// URL is the socket's address as phoenix.js takes it (ws://host/socket);
// the client adds "/websocket" and the query.
func (p *Phoenix) URL() string { return p.h.url(p.opts.Path) }

// Close stops the server and drops every session without a close frame.
func (p *Phoenix) Close() { p.h.close() }

// Events returns the server's log so far.
func (p *Phoenix) Events() []Event { e, _ := p.h.snapshot(); return e }

// Counters returns the server's totals so far.
func (p *Phoenix) Counters() Counters { _, c := p.h.snapshot(); return c }

// WaitFor returns once cond holds for the counters, or ctx is done.
func (p *Phoenix) WaitFor(ctx context.Context, cond func(Counters) bool) error {
	return p.h.waitFor(ctx, cond)
}

// Shutdown ends the sessions as a Phoenix endpoint stopping does, and
// closes the port until Resume. First the socket drainer: it snapshots the
// joined sessions and, batch by batch, sends each channel "phx_drain",
// whose transport stops with {:shutdown, :restart}, which Bandit and
// websock_adapter's Cowboy adapter send as close 1012 (phoenix v1.8.12
// lib/phoenix/socket/pool_supervisor.ex PoolDrainer, channel/server.ex,
// socket.ex; bandit 1.12.5 lib/bandit/websocket/connection.ex;
// websock_adapter 0.6.0 lib/websock_adapter/cowboy_adapter.ex). The port
// stays open meanwhile, since the drainer stops before the HTTP server
// (phoenix v1.8.12 lib/phoenix/endpoint/supervisor.ex child order): a
// client that reconnects quickly gets in again. Then the HTTP server stops:
// Bandit closes what is left with 1000 (handle_shutdown), Cowboy's
// processes exit without a close frame. Shutdown returns once every
// session has ended, or ctx is done.
func (p *Phoenix) Shutdown(ctx context.Context) error {
	var joined []*session
	for _, s := range p.h.open(0) {
		if p.joinedAny(s) {
			joined = append(joined, s)
		}
	}
	for i := 0; i < len(joined); i += p.opts.DrainBatchSize {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(p.opts.DrainBatchInterval):
			}
		}
		for _, s := range joined[i:min(i+p.opts.DrainBatchSize, len(joined))] {
			s.end(1012, "drain", false)
		}
	}
	p.h.stopListening()
	for _, s := range p.h.open(0) {
		if p.opts.Adapter == Cowboy {
			s.drop("shutdown")
		} else {
			s.end(1000, "shutdown", false)
		}
	}
	return p.h.wait(ctx)
}

// Resume opens the port again after Shutdown, as a restarted server.
func (p *Phoenix) Resume() error { return p.h.resume() }

// Disconnect ends the first n open sessions (all if n <= 0) as a broadcast
// of "disconnect" to their socket id does: close 1001, since Phoenix
// 1.8.10 (phoenix v1.8.12 lib/phoenix/socket.ex __info__, commit
// b6a4e3132; 1000 before). Phoenix has no reconnect advice: phoenix.js
// 1.8.17 reconnects after any close it did not make itself. With
// reconnect false, connect/3 refuses those clients from then on (HTTP
// 403), which is how an application keeps a disconnected user out. It
// returns how many sessions it ended.
func (p *Phoenix) Disconnect(n int, reconnect bool) int {
	return p.disconnect(p.h.open(n), reconnect)
}

// DisconnectClient is Disconnect for the sessions of one client.
func (p *Phoenix) DisconnectClient(client string, reconnect bool) int {
	var pick []*session
	for _, s := range p.h.open(0) {
		if s.client == client {
			pick = append(pick, s)
		}
	}
	return p.disconnect(pick, reconnect)
}

func (p *Phoenix) disconnect(pick []*session, reconnect bool) int {
	if !reconnect {
		p.mu.Lock()
		for _, s := range pick {
			p.refused[s.client] = true
		}
		p.mu.Unlock()
	}
	for _, s := range pick {
		s.end(1001, "disconnect", !reconnect)
	}
	return len(pick)
}

// joinedAny reports whether s has a channel joined: the drainer reaches
// sockets through their channels' processes only.
func (p *Phoenix) joinedAny(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.sessions[s]
	return ch != nil && len(ch.joined) > 0
}

// handle is the endpoint: the handshake's checks, then the session.
func (p *Phoenix) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != p.opts.Path+"/websocket" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	// Only the V2 serializer ("~> 2.0.0") is spoken here; a missing vsn
	// means 1.0.0, and a version no serializer matches makes connect
	// return :error, a 403 (phoenix v1.8.12 lib/phoenix/socket.ex
	// negotiate_serializer).
	vsn := q.Get("vsn")
	if vsn == "" {
		vsn = "1.0.0"
	}
	if !strings.HasPrefix(vsn, "2.0.") {
		p.h.refuse(w, r, "vsn "+vsn)
		return
	}
	p.mu.Lock()
	refused := p.refused[q.Get("client")]
	p.mu.Unlock()
	if refused || (p.opts.Connect != nil && !p.opts.Connect(q)) {
		p.h.refuse(w, r, "connect")
		return
	}
	s := p.h.accept(w, r)
	if s == nil {
		return
	}
	p.h.finish(s, p.serve(s))
}

// serve reads s's messages until the session ends. Any frame a client
// sends, a control frame too, restarts the idle timeout, as the adapters'
// timeouts count any data received.
func (p *Phoenix) serve(s *session) error {
	ch := &phoenixSession{s: s, p: p, joined: map[string]json.RawMessage{}}
	p.mu.Lock()
	p.sessions[s] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.sessions, s)
		p.mu.Unlock()
	}()
	idle := p.opts.IdleTimeout
	s.ws.SetPingHandler(func(data string) error {
		s.extend(idle)
		return s.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	})
	for {
		s.extend(idle)
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !s.ending() {
				s.end(p.opts.Adapter.idleCode(), "idle timeout", false)
			}
			return err
		}
		if err := ch.handle(data); err != nil {
			// The serializer's decode! raises on a malformed message and
			// the socket process dies with it, without a close frame.
			s.drop("malformed message")
			return err
		}
	}
}
