package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// testServer is a WebSocket server on loopback that keeps its connections,
// so a test can close them all with a code, as a restart would.
type testServer struct {
	url   string
	mu    sync.Mutex
	conns map[*websocket.Conn]bool
}

// newTestServer serves each connection with serve, upgraded by up with
// header in the response; the connection is closed when serve returns.
func newTestServer(t *testing.T, up websocket.Upgrader, header http.Header, serve func(c *websocket.Conn, r *http.Request)) *testServer {
	t.Helper()
	s := &testServer{conns: map[*websocket.Conn]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, header)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
		serve(c, r)
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

// closeAll sends a close frame with code to every connection and returns
// how many it closed.
func (s *testServer) closeAll(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	}
	return len(s.conns)
}

// drain reads until the connection ends.
func drain(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

var subscribe = regexp.MustCompile(`^\{"op":"subscribe","topic":"user-(\d+)"\}$`)

// subscribeServer serves a protocol that needs a subscription: it sends
// nothing until it gets {"op":"subscribe","topic":"user-<client>"}, where
// <client> is the client query parameter, and then, when ack is true,
// answers {"op":"ack","topic":"user-<client>"} after ackDelay. It counts
// subscriptions for the wrong topic in wrongTopic.
func subscribeServer(t *testing.T, ack bool, ackDelay time.Duration, wrongTopic *atomic.Int64) *testServer {
	return newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		client := r.URL.Query().Get("client")
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			m := subscribe.FindSubmatch(msg)
			if m == nil {
				continue // not a subscription: not for this server
			}
			if string(m[1]) != client {
				wrongTopic.Add(1)
				continue
			}
			if ack {
				time.Sleep(ackDelay)
				if c.WriteMessage(websocket.TextMessage, []byte(`{"op":"ack","topic":"user-`+client+`"}`)) != nil {
					return
				}
			}
		}
	})
}

// subscribeScript is the script for subscribeServer.
func subscribeScript(timeout time.Duration) []ScriptStep {
	return []ScriptStep{{
		Send:    `{"op":"subscribe","topic":"user-{{client}}"}`,
		Expect:  `{"op":"ack","topic":"user-{{ client }}"}`,
		Timeout: timeout,
	}}
}

func ms(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// TestScriptRecoveryToAck: against a server that needs a subscribe message
// and answers it with an ack after D, recovery is measured to the ack: each
// recovery percentile is at least D above the reconnect percentile, and
// every reconnect has its recovery.
func TestScriptRecoveryToAck(t *testing.T) {
	const (
		clients = 12
		D       = 150 * time.Millisecond
	)
	var wrong atomic.Int64
	srv := subscribeServer(t, true, D, &wrong)
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url + "/ws?client={{client}}"
	cfg.Script = subscribeScript(5 * time.Second)
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients subscribed", 15*time.Second, connectedTo(h, clients))
	if n := srv.closeAll(websocket.CloseServiceRestart); n != clients {
		t.Fatalf("server closed %d connections, want %d", n, clients)
	}
	waitFor(t, "clients back and subscribed", 15*time.Second, func() bool {
		r := h.rec.Results(time.Now(), time.Second)
		return r.Histograms[stats.Recovery].TotalCount() == clients && h.rec.Connected() == clients
	})
	res := h.results()
	if wrong.Load() != 0 {
		t.Fatalf("%d subscriptions for another client's topic", wrong.Load())
	}
	c := res.Counters
	if c.Closes[1012] != clients || c.Reconnects != clients || c.Connects != 2*clients || c.ConnectAttempts != c.Connects+sumFailures(c.ConnectFailures) {
		t.Fatalf("counters: closes %v, reconnects %d, connects %d of %d attempts, failures %v; want %d closes and reconnects, %d connects",
			c.Closes, c.Reconnects, c.Connects, c.ConnectAttempts, c.ConnectFailures, clients, 2*clients)
	}
	rc, rv := res.Histograms[stats.Reconnect], res.Histograms[stats.Recovery]
	if rv.TotalCount() != rc.TotalCount() {
		t.Fatalf("recoveries %d, reconnects %d: want one recovery per reconnect", rv.TotalCount(), rc.TotalCount())
	}
	// The histograms keep 3 significant digits: allow their resolution.
	const resolution = time.Millisecond
	for _, q := range []float64{0, 50, 90, 99, 100} {
		rec, recon := ms(rv.ValueAtPercentile(q)), ms(rc.ValueAtPercentile(q))
		t.Logf("p%v: reconnect %v, recovery %v", q, recon, rec)
		if rec-recon < D-resolution {
			t.Errorf("p%v: recovery %v − reconnect %v = %v, want ≥ %v (the ack's delay)", q, rec, recon, rec-recon, D)
		}
	}
	if sent := c.MessagesSent; sent != 2*clients {
		t.Errorf("messages sent %d, want %d subscriptions", sent, 2*clients)
	}
}

func sumFailures(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestScriptTimeout: a server that never acks makes each attempt fail with
// script_timeout after the step's timeout; the client closes with 1008,
// backs off, retries and gives up after max_attempts. No connect is
// recorded, so attempts = connects + failures still holds.
func TestScriptTimeout(t *testing.T) {
	const (
		clients = 3
		timeout = 200 * time.Millisecond
	)
	codes := make(chan int, 2*clients)
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		_, _, err := c.ReadMessage() // the subscription, never answered
		for err == nil {
			_, _, err = c.ReadMessage()
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			codes <- ce.Code
		} else {
			codes <- -1
		}
	})
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url + "/ws?client={{client}}"
	cfg.Script = subscribeScript(timeout)
	cfg.MaxAttempts = 2
	start := time.Now()
	h := runFleet(t, nil, cfg, nil)
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		t.Fatal("clients did not give up")
	}
	if took := time.Since(start); took < 2*timeout {
		t.Errorf("gave up after %v, before two timeouts of %v", took, timeout)
	}
	res := h.results()
	c := res.Counters
	if c.ConnectFailures["script_timeout"] != 2*clients || c.Connects != 0 || c.ConnectAttempts != 2*clients || c.GaveUp != clients {
		t.Fatalf("counters: %+v; want %d script_timeout failures of %d attempts, no connect, %d gave up", c, 2*clients, 2*clients, clients)
	}
	if rv := res.Histograms[stats.Recovery].TotalCount(); rv != 0 {
		t.Errorf("%d recoveries recorded without an ack", rv)
	}
	for range 2 * clients {
		select {
		case code := <-codes:
			if code != CloseScriptTimeout {
				t.Errorf("server saw close %d, want %d", code, CloseScriptTimeout)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("server did not see every client's close")
		}
	}
}

// TestScriptSendFileAndOtherMessages: a step sends a file's bytes as a
// binary message; messages that do not match what a step expects are
// counted and let go.
func TestScriptSendFileAndOtherMessages(t *testing.T) {
	hello := []byte{0xde, 0xad, 0xbe, 0xef}
	got := make(chan []byte, 4)
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		_ = c.WriteMessage(websocket.TextMessage, []byte("news 1"))
		typ, msg, err := c.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage {
			return
		}
		got <- msg
		_ = c.WriteMessage(websocket.TextMessage, []byte("news 2"))
		_ = c.WriteMessage(websocket.TextMessage, []byte("ready 7"))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = srv.url
	cfg.Script = []ScriptStep{{SendBinary: hello, ExpectRegex: regexp.MustCompile(`^ready \d+$`), Timeout: 5 * time.Second}}
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "client connected", 10*time.Second, connectedTo(h, 1))
	res := h.results()
	select {
	case msg := <-got:
		if !bytes.Equal(msg, hello) {
			t.Errorf("server got % x, want % x", msg, hello)
		}
	default:
		t.Fatal("server got no binary message")
	}
	if c := res.Counters; c.MessagesReceived != 3 || c.Connects != 1 {
		t.Errorf("received %d, connects %d; want 3 (news, news, ready) and 1", c.MessagesReceived, c.Connects)
	}
}

// TestURLTemplates: each client's URL carries its index, the number of the
// session and of the attempt, and a key and UUID that stay the same across
// its sessions and differ between clients.
func TestURLTemplates(t *testing.T) {
	const clients = 4
	type visit struct{ client, session, attempt, key, uuid string }
	var mu sync.Mutex
	var visits []visit
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		visits = append(visits, visit{q.Get("c"), q.Get("s"), q.Get("a"), q.Get("k"), q.Get("u")})
		mu.Unlock()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = clients
	cfg.URL = srv.url + "/ws?c={{client}}&s={{session}}&a={{seq}}&k={{key}}&u={{ uuid }}"
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, clients))
	srv.closeAll(websocket.CloseServiceRestart)
	waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == clients && h.rec.Connected() == clients })
	h.finish()

	mu.Lock()
	defer mu.Unlock()
	if len(visits) != 2*clients {
		t.Fatalf("%d handshakes, want %d", len(visits), 2*clients)
	}
	hexKey := regexp.MustCompile(`^[0-9a-f]{16}$`)
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	first := map[string]visit{}
	keys := map[string]string{}
	for _, v := range visits {
		if !hexKey.MatchString(v.key) || !uuid4.MatchString(v.uuid) {
			t.Fatalf("client %s: key %q, uuid %q; want 16 hex digits and a v4 UUID", v.client, v.key, v.uuid)
		}
		f, seen := first[v.client]
		if !seen {
			first[v.client] = v
			if v.session != "1" || v.attempt != "1" {
				t.Errorf("client %s's first handshake: session %s, attempt %s; want 1 and 1", v.client, v.session, v.attempt)
			}
			if other, dup := keys[v.key]; dup {
				t.Errorf("clients %s and %s share the key %s", other, v.client, v.key)
			}
			keys[v.key] = v.client
			continue
		}
		if v.session != "2" || v.attempt != "2" || v.key != f.key || v.uuid != f.uuid {
			t.Errorf("client %s's second handshake %+v after %+v: want session 2, attempt 2, the same key and uuid", v.client, v, f)
		}
	}
	if len(first) != clients {
		t.Errorf("clients seen: %v", first)
	}
}

// TestURLsSpread: client i connects to URLs[i % len(URLs)], each with its
// own credentials.
func TestURLsSpread(t *testing.T) {
	type hit struct{ server, client, auth string }
	hits := make(chan hit, 8)
	server := func(name string) *testServer {
		return newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
			hits <- hit{name, r.URL.Query().Get("c"), r.Header.Get("Authorization")}
			drain(c)
		})
	}
	a, b := server("a"), server("b")
	withUser := func(u, user string) string { return strings.Replace(u, "ws://", "ws://"+user+":pw@", 1) }
	cfg := baseConfig()
	cfg.Clients = 4
	cfg.URLs = []string{withUser(a.url, "alice") + "/?c={{client}}", withUser(b.url, "bob") + "/?c={{client}}"}
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 4))
	h.finish()
	for range 4 {
		x := <-hits
		want, user := "a", "alice"
		if x.client == "1" || x.client == "3" {
			want, user = "b", "bob"
		}
		if wantAuth := basicAuth(user, "pw"); x.server != want || x.auth != wantAuth {
			t.Errorf("client %s reached %s with %q; want %s with %q", x.client, x.server, x.auth, want, wantAuth)
		}
	}
}

func basicAuth(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// TestSubprotocolAndNodeHeader: the client offers its subprotocols in
// order and the server picks one; behind wsstorm's proxy (NodeFromHeader),
// a node named by the handshake's X-Wsstorm-Node header wins over the
// welcome's for attribution, and elsewhere the welcome's node stands.
func TestSubprotocolAndNodeHeader(t *testing.T) {
	for _, fromHeader := range []bool{true, false} {
		t.Run(fmt.Sprintf("NodeFromHeader=%v", fromHeader), func(t *testing.T) { subprotocolAndNodeHeader(t, fromHeader) })
	}
}

func subprotocolAndNodeHeader(t *testing.T, fromHeader bool) {
	offered := make(chan string, 8)
	chosen := make(chan string, 8)
	up := websocket.Upgrader{Subprotocols: []string{"v2.json", "v1.json"}}
	srv := newTestServer(t, up, http.Header{NodeHeader: {"2"}}, func(c *websocket.Conn, r *http.Request) {
		offered <- r.Header.Get("Sec-WebSocket-Protocol")
		chosen <- c.Subprotocol()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = 3
	cfg.URL = srv.url
	cfg.Subprotocols = []string{"v1.json", "v2.json"}
	cfg.NodeFromHeader = fromHeader
	h := runFleet(t, nil, cfg, []stats.EventPlan{{Action: "restart", Node: 2, Code: 1012}})
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 3))
	h.rec.BeginEvent(0, time.Now())
	srv.closeAll(websocket.CloseServiceRestart)
	waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == 3 && h.rec.Connected() == 3 })
	res := h.results()
	// gorilla's server picks by its own order of preference.
	if o, c := <-offered, <-chosen; o != "v1.json, v2.json" || c != "v2.json" {
		t.Errorf("offered %q, server chose %q; want \"v1.json, v2.json\" and v2.json", o, c)
	}
	want := int64(3) // the header's node 2 is the event's
	if !fromHeader {
		want = 0 // the welcome's node 0 is not
	}
	if ev := res.Events[0]; ev.Affected != want || ev.Reconnected != want {
		t.Errorf("event on node 2: affected %d, reconnected %d; want %d", ev.Affected, ev.Reconnected, want)
	}
}

// TestPings: a client pings every ping_interval; a server that stops
// answering pings has its connections closed as dead (1006) once a ping
// went unanswered for the handshake timeout.
func TestPings(t *testing.T) {
	var pings atomic.Int64
	var answer atomic.Bool
	answer.Store(true)
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		c.SetPingHandler(func(data string) error {
			pings.Add(1)
			if !answer.Load() {
				return nil
			}
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		drain(c)
	})
	cfg := baseConfig()
	cfg.Clients = 2
	cfg.URL = srv.url
	cfg.PingInterval = 50 * time.Millisecond
	// The pong timeout: 1 s, so a pong a loaded machine delays is not
	// taken for a dead server while the server answers.
	cfg.HandshakeTimeout = time.Second
	cfg.Policy = mustPolicy(profile.Reconnect{OnClose: map[string]string{"1006": "stop"}})
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 2))
	waitFor(t, "pings", 10*time.Second, func() bool { return pings.Load() >= 10 })
	if r := h.rec.Results(time.Now(), time.Second); len(r.Counters.Closes) != 0 {
		t.Fatalf("closes %v while pongs came", r.Counters.Closes)
	}
	answer.Store(false)
	stopped := time.Now()
	waitFor(t, "connections found dead", 10*time.Second, connectedTo(h, 0))
	// A ping sent before the pongs stopped, and read by the server after,
	// may be the first one left unanswered: the bound leaves it room.
	if took, least := time.Since(stopped), cfg.HandshakeTimeout/2; took < least {
		t.Errorf("connections closed %v after the pongs stopped, before %v (the %v timeout)", took, least, cfg.HandshakeTimeout)
	}
	res := h.results()
	if got := res.Counters.Closes[1006]; got != 2 {
		t.Errorf("closes %v, want 2×1006", res.Counters.Closes)
	}
}

// TestPongTimeoutEqualToPingInterval: with pong_timeout equal to
// ping_interval the pong timeout of one ping is due as the next ping goes
// out; a server that answers every ping must lose no connection to it.
func TestPongTimeoutEqualToPingInterval(t *testing.T) {
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		drain(c) // gorilla answers each ping with a pong as it reads
	})
	cfg := baseConfig()
	cfg.Clients = 100
	cfg.URL = srv.url
	// 1 s: the two timers fall due together at any interval, so the bug
	// shows at 1 s too (without its fix, 2 of 100 clients lost in 5 s),
	// while a pong that really takes 250 ms on a loaded machine under
	// -race no longer fails the test for the wrong reason.
	cfg.PingInterval = time.Second
	cfg.PongTimeout = time.Second
	cfg.Policy = mustPolicy(profile.Reconnect{OnClose: map[string]string{"1006": "stop"}})
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 100))
	time.Sleep(5 * time.Second) // 5 pings each, each pong's timeout due as the next ping goes out
	if r := h.rec.Results(time.Now(), time.Second); len(r.Counters.Closes) != 0 {
		t.Errorf("closes %v: a server that answers every ping lost connections to the pong timeout", r.Counters.Closes)
	}
}

// TestNoEcho: with echo off, a server's echoes are messages received and
// message_rtt has no values (absent, not zero).
func TestNoEcho(t *testing.T) {
	for _, message := range []string{"", `{"n":{{seq}}}`} {
		t.Run(fmt.Sprintf("message %q", message), func(t *testing.T) {
			srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
				for {
					typ, msg, err := c.ReadMessage()
					if err != nil || c.WriteMessage(typ, msg) != nil {
						return
					}
				}
			})
			cfg := baseConfig()
			cfg.Clients = 2
			cfg.URL = srv.url
			cfg.SendInterval = 20 * time.Millisecond
			cfg.PayloadBytes = 16
			cfg.Message = message
			cfg.NoEcho = true
			h := runFleet(t, nil, cfg, nil)
			waitFor(t, "messages back", 10*time.Second, func() bool {
				return h.rec.Results(time.Now(), time.Second).Counters.MessagesReceived >= 10
			})
			res := h.results()
			if n := res.Histograms[stats.MessageRTT].TotalCount(); n != 0 {
				t.Errorf("message_rtt has %d values with echo off", n)
			}
		})
	}
}

// TestTemplateEcho: text messages from a template are matched to their
// echoes by content and timed from their scheduled send time; a server's
// other messages are received, not timed.
func TestTemplateEcho(t *testing.T) {
	const D = 40 * time.Millisecond
	var bodies sync.Map
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			bodies.Store(string(msg), true)
			time.Sleep(D)
			if c.WriteMessage(websocket.TextMessage, []byte(`{"type":"news"}`)) != nil || c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.Clients = 2
	cfg.URL = srv.url
	cfg.SendInterval = 100 * time.Millisecond
	cfg.Message = `{"op":"ping","client":{{client}},"session":{{session}},"id":{{seq}},"pad":"` + strings.Repeat("x", 80) + `"}`
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "echoes", 10*time.Second, func() bool {
		return h.rec.Results(time.Now(), time.Second).Histograms[stats.MessageRTT].TotalCount() >= 8
	})
	res := h.results()
	rtt := res.Histograms[stats.MessageRTT]
	if lo := ms(rtt.Min()); lo < D-time.Millisecond {
		t.Errorf("message_rtt min %v, want ≥ %v (the server's delay)", lo, D)
	}
	c := res.Counters
	if news := c.MessagesReceived - rtt.TotalCount(); news < rtt.TotalCount() {
		t.Errorf("received %d, %d of them timed echoes: the news messages were timed", c.MessagesReceived, rtt.TotalCount())
	}
	for _, want := range []string{`{"op":"ping","client":0,"session":1,"id":1,`, `{"op":"ping","client":1,"session":1,"id":2,`} {
		found := false
		bodies.Range(func(k, _ any) bool { found = found || strings.HasPrefix(k.(string), want); return !found })
		if !found {
			t.Errorf("no message starting %s", want)
		}
	}
}

func TestTextEchoesBounded(t *testing.T) {
	var q textEchoes
	t0 := time.Now()
	for i := range maxAwaitedEchoes + 5 {
		q.add(fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)))
	}
	if _, ok := q.match([]byte("m0")); ok {
		t.Error("the oldest message is still awaited past the bound")
	}
	at, ok := q.match([]byte("m7"))
	if !ok || !at.Equal(t0.Add(7)) {
		t.Errorf("m7: %v %v", at, ok)
	}
	if _, ok := q.match([]byte("m7")); ok {
		t.Error("one echo matched twice")
	}
	if len(q.awaited) != maxAwaitedEchoes-1 {
		t.Errorf("%d awaited, want %d", len(q.awaited), maxAwaitedEchoes-1)
	}
}

func TestTemplate(t *testing.T) {
	tm, err := parseTemplate("/s?c={{client}}&s={{ session }}&n={{seq}}&k={{key}}")
	if err != nil {
		t.Fatal(err)
	}
	vals := tmplValues{seed: 1, client: 7, session: 3, seq: 12}
	got := string(tm.append(nil, vals))
	key := string(appendClientKey(nil, 1, 7))
	if want := "/s?c=7&s=3&n=12&k=" + key; got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
	if k2 := string(appendClientKey(nil, 2, 7)); k2 == key {
		t.Error("another seed gives the same key")
	}
	if _, ok := tm.Static(); ok {
		t.Error("a template with variables is static")
	}
	if s, ok := mustTemplate(t, "plain {x}").Static(); !ok || s != "plain {x}" {
		t.Errorf("static = %q, %v", s, ok)
	}
	if _, err := parseTemplate("{{node}}"); err == nil {
		t.Error("{{node}} is not a client variable")
	}
	if u, err := url.Parse("ws://h/?u=" + string(appendClientUUID(nil, 1, 7))); err != nil || len(u.Query().Get("u")) != 36 {
		t.Errorf("uuid in a URL: %v %v", u, err)
	}
}

// TestTemplateVarsFollowProfile: the fleet numbers the variables by their
// place in profile.ClientVars; each renders its own value.
func TestTemplateVarsFollowProfile(t *testing.T) {
	vals := tmplValues{seed: 1, client: 7, session: 3, seq: 12}
	want := map[string]string{
		"client": "7", "session": "3", "seq": "12",
		"key":  string(appendClientKey(nil, 1, 7)),
		"uuid": string(appendClientUUID(nil, 1, 7)),
	}
	names := profile.ClientVars()
	if len(names) != len(want) {
		t.Fatalf("profile.ClientVars() = %v, want the %d variables the fleet renders", names, len(want))
	}
	for _, name := range names {
		if got := string(mustTemplate(t, "{{"+name+"}}").append(nil, vals)); got != want[name] {
			t.Errorf("{{%s}} renders %q, want %q", name, got, want[name])
		}
	}
}

func mustTemplate(t testing.TB, s string) template {
	t.Helper()
	tm, err := parseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestScriptRequestIDs: {{seq}} numbers the script's messages from 1, and
// in an expect names the message just sent, so each step waits for the
// reply to its own request.
func TestScriptRequestIDs(t *testing.T) {
	ids := make(chan string, 4)
	request := regexp.MustCompile(`^\{"id":(\d+),`)
	srv := newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			m := request.FindSubmatch(msg)
			if m == nil {
				continue
			}
			ids <- string(m[1])
			// An answer to another request first: not the one awaited.
			if c.WriteMessage(websocket.TextMessage, []byte(`{"id":99,"ok":true}`)) != nil ||
				c.WriteMessage(websocket.TextMessage, []byte(`{"id":`+string(m[1])+`,"ok":true}`)) != nil {
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = srv.url
	cfg.Script = []ScriptStep{
		{Send: `{"id":{{seq}},"method":"auth"}`, Expect: `{"id":{{seq}},"ok":true}`, Timeout: 5 * time.Second},
		{Send: `{"id":{{seq}},"method":"subscribe"}`, Expect: `{"id":{{seq}},"ok":true}`, Timeout: 5 * time.Second},
	}
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "client connected", 10*time.Second, connectedTo(h, 1))
	res := h.results()
	if a, b := <-ids, <-ids; a != "1" || b != "2" {
		t.Errorf("request ids %s, %s; want 1, 2", a, b)
	}
	if c := res.Counters; c.Connects != 1 || c.MessagesReceived != 4 {
		t.Errorf("connects %d, received %d; want 1 and 4", c.Connects, c.MessagesReceived)
	}
}

// TestCloseDuringScript: a client whose new connection is closed again
// while it re-subscribes has not recovered: its recovery runs from the first
// close to the ack on the connection after, so recovery counts the whole
// outage, and there is one recovery for the two reconnects.
func TestCloseDuringScript(t *testing.T) {
	const D = 300 * time.Millisecond
	var conns atomic.Int64
	var srv *testServer
	srv = newTestServer(t, websocket.Upgrader{}, nil, func(c *websocket.Conn, r *http.Request) {
		n := conns.Add(1)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if !subscribe.Match(msg) {
				continue
			}
			if n == 2 {
				// The second connection is restarted before its ack.
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseServiceRestart, ""), time.Now().Add(time.Second))
				drain(c)
				return
			}
			time.Sleep(D)
			if c.WriteMessage(websocket.TextMessage, []byte(`{"op":"ack","topic":"user-0"}`)) != nil {
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = srv.url + "/ws?client={{client}}"
	cfg.Script = subscribeScript(5 * time.Second)
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "subscribed", 15*time.Second, connectedTo(h, 1))
	first := time.Now()
	srv.closeAll(websocket.CloseServiceRestart)
	waitFor(t, "back for good", 15*time.Second, func() bool {
		r := h.rec.Results(time.Now(), time.Second)
		return r.Histograms[stats.Recovery].TotalCount() == 1 && conns.Load() >= 3
	})
	whole := time.Since(first)
	res := h.results()
	rc, rv := res.Histograms[stats.Reconnect], res.Histograms[stats.Recovery]
	if rc.TotalCount() != 2 || rv.TotalCount() != 1 {
		t.Fatalf("reconnects %d, recoveries %d; want 2 and 1", rc.TotalCount(), rv.TotalCount())
	}
	// The recovery spans both reconnects and the ack's delay: more than the
	// two reconnects together (each at least its backoff), at least D more.
	got := ms(rv.Max())
	if both := ms(rc.ValueAtPercentile(100)) + ms(rc.Min()); got < both+D-time.Millisecond || got > whole+time.Millisecond {
		t.Errorf("recovery %v, want ≥ reconnects %v + ack %v and ≤ the whole outage %v", got, both, D, whole)
	}
}
