package fleet

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/protocol"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// keepAliveServer pings each connection with "2" every interval and drops
// it, without a close frame, when a ping's "3" has not come within timeout,
// as an Engine.IO server does. It counts the connections it dropped, and
// sends "41" to a connection on its stop channel.
type keepAliveServer struct {
	*testServer
	dropped atomic.Int64
	pongs   atomic.Int64
	mu      sync.Mutex
	conns   []*websocket.Conn
}

func newKeepAliveServer(t *testing.T, interval, timeout time.Duration) *keepAliveServer {
	k := &keepAliveServer{}
	k.testServer = newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		k.mu.Lock()
		k.conns = append(k.conns, c)
		k.mu.Unlock()
		pong := make(chan struct{}, 1)
		go func() {
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if string(msg) == "3" {
					k.pongs.Add(1)
					select {
					case pong <- struct{}{}:
					default:
					}
				}
			}
		}()
		for {
			time.Sleep(interval)
			k.mu.Lock()
			err := c.WriteMessage(websocket.TextMessage, []byte("2"))
			k.mu.Unlock()
			if err != nil {
				return
			}
			select {
			case <-pong:
			case <-time.After(timeout):
				k.dropped.Add(1)
				c.NetConn().Close()
				return
			}
		}
	})
	return k
}

// send writes msg to every connection the server holds.
func (k *keepAliveServer) send(msg string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		_ = c.WriteMessage(websocket.TextMessage, []byte(msg))
	}
}

func pingRule() Reply { return Reply{Name: "ping", Equals: []byte("2"), Send: "3"} }

// TestReplyKeepsSessionAlive: a server that drops clients which do not
// answer its pings keeps the clients whose rule answers them, and drops
// those without, at its timeout.
func TestReplyKeepsSessionAlive(t *testing.T) {
	const (
		clients  = 5
		interval = 100 * time.Millisecond
		// An answering client must not lose its session to a stall of the
		// loaded machine under -race: 1 s. One that does not answer is
		// dropped at 100 ms, which the second case holds.
		answeredIn = time.Second
		timeout    = 100 * time.Millisecond
	)
	for _, answer := range []bool{true, false} {
		wait := timeout
		if answer {
			wait = answeredIn
		}
		srv := newKeepAliveServer(t, interval, wait)
		cfg := baseConfig()
		cfg.Clients = clients
		cfg.URL = srv.url
		cfg.Backoff = constant(10 * time.Second) // a dropped client stays out
		if answer {
			cfg.Replies = []Reply{pingRule()}
		}
		h := runFleet(t, nil, cfg, nil)
		waitFor(t, "clients connected", 10*time.Second, func() bool { return h.rec.Results(time.Now(), time.Second).Counters.Connects == clients })
		time.Sleep(2 * time.Second) // 20 pings each; a silent client is dropped in the first 200 ms
		res := h.results()
		c := res.Counters
		if answer {
			if srv.dropped.Load() != 0 || c.Closes[1006] != 0 || srv.pongs.Load() < 5*clients {
				t.Errorf("answering: server dropped %d, closes %v, %d pongs; want none dropped and at least %d pongs", srv.dropped.Load(), c.Closes, srv.pongs.Load(), 5*clients)
			}
			if c.MessagesSent != srv.pongs.Load() {
				t.Errorf("messages sent %d, server got %d pongs: each answer is a message sent", c.MessagesSent, srv.pongs.Load())
			}
			continue
		}
		if srv.dropped.Load() != clients || c.Closes[1006] != clients {
			t.Errorf("not answering: server dropped %d, clients saw closes %v; want %d dropped, seen as 1006", srv.dropped.Load(), c.Closes, clients)
		}
	}
}

// TestReplyStopAndReconnect: a server message a rule names as a stop ends
// the session for good, counted as a protocol stop by the rule's name, not
// as a close; one named as a reconnect sends the client away to come back,
// its reconnect measured from the message.
func TestReplyStopAndReconnect(t *testing.T) {
	const clients = 4
	for _, tc := range []struct {
		then Then
		want string
	}{{StopSession, "stop"}, {ReconnectAfter, "reconnect"}, {ReconnectNow, "reconnect_now"}} {
		t.Run(tc.want, func(t *testing.T) {
			srv := newKeepAliveServer(t, time.Hour, time.Hour)
			cfg := baseConfig()
			cfg.Clients = clients
			cfg.URL = srv.url
			cfg.Backoff = constant(200 * time.Millisecond)
			cfg.Replies = []Reply{{Name: "io server disconnect", Regex: regexp.MustCompile(`^41$`), Then: tc.then}}
			h := runFleet(t, nil, cfg, nil)
			waitFor(t, "clients connected", 10*time.Second, connectedTo(h, clients))
			sent := time.Now()
			srv.send("41")
			if tc.then == StopSession {
				waitFor(t, "clients stopped", 10*time.Second, connectedTo(h, 0))
				time.Sleep(400 * time.Millisecond) // longer than the backoff: none comes back
			} else {
				waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == clients })
			}
			took := time.Since(sent)
			res := h.results()
			c := res.Counters
			if len(c.Closes) != 0 {
				t.Errorf("closes %v: a protocol's ending is not a close the server made", c.Closes)
			}
			if tc.then == StopSession {
				if c.ProtocolStops["io server disconnect"] != clients || c.Connects != clients || c.Reconnects != 0 || len(c.ProtocolReconnects) != 0 {
					t.Errorf("counters %+v: want %d protocol stops, no reconnect", c, clients)
				}
				return
			}
			if c.ProtocolReconnects["io server disconnect"] != clients || c.Reconnects != clients || len(c.ProtocolStops) != 0 {
				t.Errorf("counters %+v: want %d protocol reconnects and reconnects", c, clients)
			}
			rc := res.Histograms[stats.Reconnect]
			lo, hi := 200*time.Millisecond, took
			if tc.then == ReconnectNow {
				lo = 0
				if ms(rc.Max()) > 150*time.Millisecond {
					t.Errorf("reconnect_now: longest reconnect %v, want at once", ms(rc.Max()))
				}
			}
			if got := ms(rc.Min()); got < lo || got > hi {
				t.Errorf("shortest reconnect %v, want between the backoff %v and %v", got, lo, hi)
			}
		})
	}
}

// TestProtocolCloseCodeStop: a close code the protocol says forbids
// reconnecting stops the client, counted both as the close it is and as a
// protocol stop by the protocol's reason; the profile's on_close wins over
// the protocol's meaning.
func TestProtocolCloseCodeStop(t *testing.T) {
	codes := []protocol.CodeRange{{From: 3500, To: 3999, Then: protocol.Stop, Reason: "disconnect, no reconnect"}}
	for _, override := range []bool{false, true} {
		srv := newKeepAliveServer(t, time.Hour, time.Hour)
		cfg := baseConfig()
		cfg.Clients = 3
		cfg.URL = srv.url
		r := profile.Reconnect{}
		if override {
			r.OnClose = map[string]string{"3501": "reconnect"}
		}
		pol, err := NewPolicy(r, codes)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Policy = pol
		h := runFleet(t, nil, cfg, nil)
		waitFor(t, "clients connected", 10*time.Second, connectedTo(h, 3))
		srv.closeAll(3501)
		if override {
			waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == 3 })
		} else {
			waitFor(t, "clients stopped", 10*time.Second, connectedTo(h, 0))
		}
		c := h.results().Counters
		if c.Closes[3501] != 3 {
			t.Errorf("closes %v, want 3 of 3501", c.Closes)
		}
		if want := map[string]int64{"disconnect, no reconnect": 3}; !override && !equalCounts(c.ProtocolStops, want) || override && len(c.ProtocolStops) != 0 {
			t.Errorf("on_close override %v: protocol stops %v", override, c.ProtocolStops)
		}
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestScriptReject: a script step's reject ends the attempt as a failure,
// "rejected", which the backoff follows; the server's pings during the
// script are answered.
func TestScriptReject(t *testing.T) {
	var attempts atomic.Int64
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		n := attempts.Add(1)
		if _, _, err := c.ReadMessage(); err != nil { // the connect
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte("2")) // a ping before the answer
		if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "3" {
			t.Errorf("server read %q, %v during the script, want the pong", msg, err)
			return
		}
		answer := `44{"message":"not authorized"}`
		if n > 2 {
			answer = `40{"sid":"x"}`
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(answer))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = srv.url
	cfg.Replies = []Reply{pingRule()}
	cfg.Script = []ScriptStep{{Send: "40", ExpectRegex: regexp.MustCompile(`^40\{`), RejectRegex: regexp.MustCompile(`^44`), Timeout: 5 * time.Second}}
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "client connected", 10*time.Second, connectedTo(h, 1))
	c := h.results().Counters
	if c.ConnectFailures["rejected"] != 2 || c.Connects != 1 || c.ConnectAttempts != 3 {
		t.Errorf("counters %+v: want 2 rejected attempts, then a connect", c)
	}
}

// TestHeartbeat: a connected client sends its heartbeat every interval,
// numbered as the session's messages.
func TestHeartbeat(t *testing.T) {
	got := make(chan string, 100)
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			got <- string(msg)
		}
	})
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = srv.url
	cfg.Heartbeat = Heartbeat{Interval: 50 * time.Millisecond, Send: `[null,"{{seq}}","phoenix","heartbeat",{}]`}
	h := runFleet(t, nil, cfg, nil)
	start := time.Now()
	var msgs []string
	for len(msgs) < 4 {
		select {
		case m := <-got:
			msgs = append(msgs, m)
		case <-time.After(5 * time.Second):
			t.Fatalf("heartbeats: %q after %v", msgs, time.Since(start))
		}
	}
	h.finish()
	for i, m := range msgs {
		if want := `[null,"` + string(rune('1'+i)) + `","phoenix","heartbeat",{}]`; m != want {
			t.Errorf("heartbeat %d: %q, want %q", i, m, want)
		}
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("4 heartbeats within %v: want one per 50ms", took)
	}
}

// TestProtocolURL: a preset's path applies to a URL without one, its query
// parameters join the URL's, templates untouched.
func TestProtocolURL(t *testing.T) {
	spec := &protocol.Spec{Path: "/socket.io/", Query: []protocol.Param{{Name: "EIO", Value: "4"}, {Name: "transport", Value: "websocket"}}}
	for in, want := range map[string]string{
		"ws://h:1":                       "ws://h:1/socket.io/?EIO=4&transport=websocket",
		"ws://h:1/":                      "ws://h:1/socket.io/?EIO=4&transport=websocket",
		"ws://h:1/?client={{client}}":    "ws://h:1/socket.io/?client={{client}}&EIO=4&transport=websocket",
		"wss://h/app/socket.io/?EIO=4":   "wss://h/app/socket.io/?EIO=4&transport=websocket",
		"ws://u:p@h/x?transport=polling": "ws://u:p@h/x?transport=polling&EIO=4",
	} {
		if got := protocolURL(in, spec); got != want {
			t.Errorf("protocolURL(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.Contains(protocolURL("ws://h", &protocol.Spec{}), "ws://h") {
		t.Error("a spec without a path changed the URL")
	}
}

// TestReplyStopAttributed: sessions a server message stops during a chaos
// event are the event's: affected, and not back.
func TestReplyStopAttributed(t *testing.T) {
	const clients = 4
	srv := newKeepAliveServer(t, time.Hour, time.Hour)
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url
	cfg.Replies = []Reply{{Name: "io server disconnect", Regex: regexp.MustCompile(`^41$`), Then: StopSession}}
	h := runFleet(t, nil, cfg, []stats.EventPlan{{Action: "restart", Node: -1, Code: 1012, Window: 5 * time.Second}})
	waitFor(t, "clients connected", 10*time.Second, connectedTo(h, clients))
	h.rec.BeginEvent(0, time.Now())
	srv.send("41")
	waitFor(t, "clients stopped", 10*time.Second, connectedTo(h, 0))
	res := h.results()
	if ev := res.Events[0]; ev.Affected != clients || ev.Reconnected != 0 {
		t.Errorf("event: affected %d, reconnected %d; want %d affected, none back", ev.Affected, ev.Reconnected, clients)
	}
}

// TestScriptRuleRefuses: a message that ends the session before the
// script is through (ActionCable's unauthorized, before its welcome) is a
// refusal: a failed attempt, "rejected", never a connect; a stop rule then
// stops the client for good.
func TestScriptRuleRefuses(t *testing.T) {
	const clients = 3
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect","reason":"unauthorized","reconnect":false}`))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url
	cfg.Script = []ScriptStep{{Expect: `"type":"welcome"`, Timeout: 5 * time.Second}}
	cfg.Replies = []Reply{{Name: "unauthorized", Contains: []byte(`"reconnect":false`), Then: StopSession}}
	h := runFleet(t, nil, cfg, nil)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("clients did not stop")
	}
	c := h.results().Counters
	if c.ConnectFailures["rejected"] != clients || c.Connects != 0 || c.ConnectAttempts != clients || c.ProtocolStops["unauthorized"] != clients || c.Reconnects != 0 {
		t.Errorf("counters %+v: want %d rejected attempts, no connect, %d protocol stops", c, clients, clients)
	}
}

// TestReconnectNowBounded: a reconnect_now rule that matches what every
// session gets sends a client back at once the first time only; the next,
// within a second, waits its reconnect delay, so clients cannot loop at
// the network's speed.
func TestReconnectNowBounded(t *testing.T) {
	const clients = 2
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		_ = c.WriteMessage(websocket.TextMessage, []byte("bye"))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url
	cfg.Backoff = constant(300 * time.Millisecond)
	cfg.Replies = []Reply{{Name: "bye", Equals: []byte("bye"), Then: ReconnectNow}}
	h := runFleet(t, nil, cfg, nil)
	time.Sleep(1500 * time.Millisecond)
	res := h.results()
	c := res.Counters
	// The first reconnect_now of each client is at once.
	if first := ms(res.Histograms[stats.Reconnect].Min()); first > 100*time.Millisecond {
		t.Errorf("shortest reconnect %v: the first reconnect_now is at once", first)
	}
	// At once, then every 300 ms or so: about 6 a client in 1.5 s; a loop
	// would make hundreds.
	if n := c.ProtocolReconnects["bye"]; n < clients || n > 8*clients {
		t.Errorf("%d reconnect_now ends in 1.5 s for %d clients, want a handful each", n, clients)
	}
}
