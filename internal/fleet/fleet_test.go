package fleet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// harness runs a fleet against an embedded target on loopback.
type harness struct {
	t     *testing.T
	tgt   *target.Target
	rec   *stats.Recorder
	start time.Time
	stop  context.CancelFunc
	done  chan struct{}
}

func baseConfig() Config {
	return Config{
		Clients:          20,
		MaxDialing:       16,
		HandshakeTimeout: 5 * time.Second,
		Rules: Rules{
			Backoff: constant(50 * time.Millisecond),
			Policy:  mustPolicy(profile.Reconnect{}),
		},
		Seed: 1,
	}
}

func constant(d time.Duration) backoff.Backoff {
	b, err := NewBackoff(profile.Reconnect{Strategy: "constant", Base: profile.Dur(d)})
	if err != nil {
		panic(err)
	}
	return b
}

func mustPolicy(r profile.Reconnect) *Policy {
	p, err := NewPolicy(r, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func startHarness(t *testing.T, nodes int, capacity profile.Capacity, cfg Config, events []stats.EventPlan) *harness {
	t.Helper()
	tgt, err := target.Start(context.Background(), target.Options{Nodes: nodes, Listen: "127.0.0.1:0", Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	})
	if cfg.URL == "" {
		cfg.URL = tgt.URL()
	}
	return runFleet(t, tgt, cfg, events)
}

func runFleet(t *testing.T, tgt *target.Target, cfg Config, events []stats.EventPlan) *harness {
	t.Helper()
	return runRecorded(t, tgt, cfg, stats.Config{Horizon: time.Minute, Events: events})
}

// runRecorded runs a fleet of cfg against tgt into a recorder of scfg,
// which starts now.
func runRecorded(t *testing.T, tgt *target.Target, cfg Config, scfg stats.Config) *harness {
	t.Helper()
	start := time.Now()
	scfg.Start = start
	rec := stats.New(scfg)
	f, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, tgt: tgt, rec: rec, start: start, stop: cancel, done: make(chan struct{})}
	go func() { defer close(h.done); f.Run(ctx) }()
	t.Cleanup(h.finish)
	return h
}

// finish stops the fleet and waits for every client, bounded.
func (h *harness) finish() {
	h.stop()
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		h.t.Fatal("fleet did not stop within 15s of cancellation")
	}
}

func (h *harness) results() *stats.Results {
	h.finish()
	return h.rec.Results(time.Now(), time.Since(h.start))
}

// waitFor polls cond until it holds or the timeout ends.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reconnects is the number of reconnects recorded so far.
func (h *harness) reconnects() int64 {
	return h.rec.Results(time.Now(), time.Second).Counters.Reconnects
}

func connectedTo(h *harness, n int64) func() bool {
	return func() bool { return h.rec.Connected() == n }
}

// TestConstantBackoffReconnectLatency is the instrument's calibration: with a
// constant backoff of D on an idle target, reconnect latency is just above D.
func TestConstantBackoffReconnectLatency(t *testing.T) {
	const D = 200 * time.Millisecond
	cfg := baseConfig()
	cfg.Clients = 30
	cfg.Backoff = constant(D)
	h := startHarness(t, 3, profile.Capacity{}, cfg, []stats.EventPlan{{Action: "restart", Node: 0, Code: 1012}})
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 30))

	h.rec.BeginEvent(0, time.Now())
	closed, err := action.RestartNode(context.Background(), h.tgt, 0, action.RestartParams{Code: 1012, Downtime: 50 * time.Millisecond})
	if err != nil || closed == 0 {
		t.Fatalf("restart closed %d, err %v", closed, err)
	}
	waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == int64(closed) && h.rec.Connected() == 30 })
	res := h.results()
	rc := res.Histograms[stats.Reconnect]
	if rc.TotalCount() != int64(closed) {
		t.Fatalf("reconnects recorded %d, want %d (every closed client)", rc.TotalCount(), closed)
	}
	t.Logf("closed %d; failures %v; reconnect p50 %v max %v", closed, res.Counters.ConnectFailures, time.Duration(rc.ValueAtPercentile(50))*time.Microsecond, time.Duration(rc.Max())*time.Microsecond)
	p50 := time.Duration(rc.ValueAtPercentile(50)) * time.Microsecond
	if p50 < D || p50 >= D+50*time.Millisecond {
		t.Fatalf("reconnect p50 = %v, want in [%v, %v)", p50, D, D+50*time.Millisecond)
	}
	ev := res.Events[0]
	if ev.Affected != int64(closed) || ev.Reconnected != ev.Affected || ev.NeverReconnected != 0 {
		t.Fatalf("event: affected %d reconnected %d never %d; target closed %d", ev.Affected, ev.Reconnected, ev.NeverReconnected, closed)
	}
	if ev.T100 == nil || *ev.T100 < D {
		t.Fatalf("t100 = %v, want ≥ %v", ev.T100, D)
	}
	if got := res.Counters.Closes[1012]; got != int64(closed) {
		t.Fatalf("closes[1012] = %d, want %d", got, closed)
	}
	if rv := res.Histograms[stats.Recovery].TotalCount(); rv != int64(closed) {
		t.Fatalf("recoveries = %d, want %d", rv, closed)
	}
}

// TestNormalClosureStops checks the default policy: a client closed with 1000
// makes no further attempt; one closed with 1012 comes back.
func TestNormalClosureStops(t *testing.T) {
	cfg := baseConfig()
	h := startHarness(t, 2, profile.Capacity{}, cfg, []stats.EventPlan{{Action: "close", Node: -1, Code: 1000}})
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 20))
	h.rec.BeginEvent(0, time.Now())
	closed, err := action.CloseShare(context.Background(), h.tgt, action.CloseParams{Fraction: 0.5, Code: 1000}, 3)
	if err != nil || closed != 10 {
		t.Fatalf("close: %d, %v; want 10 closed", closed, err)
	}
	waitFor(t, "closes observed", 5*time.Second, connectedTo(h, 10))
	time.Sleep(300 * time.Millisecond) // several backoffs' worth: nobody may come back
	res := h.results()
	ev := res.Events[0]
	if ev.Affected != 10 || ev.Reconnected != 0 || ev.NeverReconnected != 10 {
		t.Fatalf("event = affected %d reconnected %d never %d; want 10/0/10", ev.Affected, ev.Reconnected, ev.NeverReconnected)
	}
	if ev.AttemptsPerClient != 0 {
		t.Fatalf("clients closed with 1000 made %.2f attempts each, want 0", ev.AttemptsPerClient)
	}
	if res.Counters.ConnectAttempts != 20 {
		t.Fatalf("attempts = %d, want 20 (the initial connects only)", res.Counters.ConnectAttempts)
	}
}

// TestPolicyOverrideAppCode: a server announcing a restart with 3001 is
// reconnected to when the profile says so.
func TestPolicyOverrideAppCode(t *testing.T) {
	cfg := baseConfig()
	cfg.Clients = 10
	cfg.Policy = mustPolicy(profile.Reconnect{OnClose: map[string]string{"3001": "reconnect"}, OnCloseDefault: "stop"})
	h := startHarness(t, 1, profile.Capacity{}, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 10))
	if _, err := action.CloseShare(context.Background(), h.tgt, action.CloseParams{Fraction: 1, Code: 3001}, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == 10 && h.rec.Connected() == 10 })
	if _, err := action.CloseShare(context.Background(), h.tgt, action.CloseParams{Fraction: 1, Code: 4000}, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clients gone", 5*time.Second, connectedTo(h, 0))
	time.Sleep(200 * time.Millisecond)
	res := h.results()
	if res.Counters.Closes[3001] != 10 || res.Counters.Closes[4000] != 10 || res.Counters.Reconnects != 10 {
		t.Fatalf("closes %v, reconnects %d; want 10×3001 then 10 reconnects, 10×4000 and stop", res.Counters.Closes, res.Counters.Reconnects)
	}
}

// TestBadGatewayRecordedAs1014: gorilla/websocket rejects a received 1014;
// the fleet still records it as 1014 and reconnects.
func TestBadGatewayRecordedAs1014(t *testing.T) {
	cfg := baseConfig()
	cfg.Clients = 5
	h := startHarness(t, 1, profile.Capacity{}, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 5))
	if _, err := action.CloseShare(context.Background(), h.tgt, action.CloseParams{Fraction: 1, Code: 1014}, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == 5 && h.rec.Connected() == 5 })
	res := h.results()
	if res.Counters.Closes[1014] != 5 || len(res.Counters.Closes) != 1 {
		t.Fatalf("closes = %v, want 5×1014", res.Counters.Closes)
	}
}

// TestLifetimeAndEcho: sessions end by the client after their lifetime and
// restart after the pause; echoes are timed.
func TestLifetimeAndEcho(t *testing.T) {
	cfg := baseConfig()
	cfg.Clients = 5
	cfg.SendInterval = 20 * time.Millisecond
	cfg.PayloadBytes = 32
	cfg.Lifetime = 150 * time.Millisecond
	cfg.Pause = 20 * time.Millisecond
	h := startHarness(t, 1, profile.Capacity{}, cfg, nil)
	// About 350 ms on an idle machine; waited for, so a loaded one only
	// takes longer.
	waitFor(t, "ten sessions ended and fifty echoes", 10*time.Second, func() bool {
		r := h.rec.Results(time.Now(), time.Since(h.start))
		return r.Counters.ClientCloses >= 10 && r.Histograms[stats.MessageRTT].TotalCount() >= 50
	})
	res := h.results()
	c := res.Counters
	if c.ClientCloses < 10 {
		t.Fatalf("client closes = %d, want ≥ 10 (5 clients, 150ms lifetime)", c.ClientCloses)
	}
	// A session lives 150 ms, about 7 sends at 20 ms: a lifetime ignored
	// or much too long shows as many more per session.
	if sessions := c.ClientCloses + int64(cfg.Clients); c.MessagesSent > 15*sessions {
		t.Fatalf("%d messages in %d sessions: want at most 15 each (150 ms lifetime, a send per 20 ms)", c.MessagesSent, sessions)
	}
	if c.Reconnects != 0 || len(c.Closes) != 0 {
		t.Fatalf("client-ended sessions counted as server closes: reconnects %d, closes %v", c.Reconnects, c.Closes)
	}
	rtt := res.Histograms[stats.MessageRTT]
	if rtt.TotalCount() < 50 || c.MessagesSent < rtt.TotalCount() {
		t.Fatalf("echoes %d, sent %d: want ≥ 50 echoes, never more than sent", rtt.TotalCount(), c.MessagesSent)
	}
	// p90, not p99: a late send counts from when it was due, so one stall
	// of a loaded machine lifts the top few of ~80 echoes; a broken echo
	// clock lifts them all.
	if p90 := time.Duration(rtt.ValueAtPercentile(90)) * time.Microsecond; p90 > 200*time.Millisecond {
		t.Fatalf("echo p90 = %v on loopback", p90)
	}
	// Every received message is a welcome or an echo.
	if c.MessagesReceived != rtt.TotalCount()+c.Connects {
		t.Fatalf("received %d, want echoes %d + welcomes %d", c.MessagesReceived, rtt.TotalCount(), c.Connects)
	}
}

// TestRetryAfterHonoured: a 503 with Retry-After: 1 holds the client back at
// least a second, although its own backoff is 10 ms.
func TestRetryAfterHonoured(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	cfg.Backoff = constant(10 * time.Millisecond)
	cfg.HonorRetryAfter = true
	cfg.MaxAttempts = 2
	h := runFleet(t, nil, cfg, nil)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not give up after 2 attempts")
	}
	res := h.results()
	if len(times) != 2 || times[1].Sub(times[0]) < time.Second {
		t.Fatalf("attempts at %v: want 2, at least 1s apart", times)
	}
	if res.Counters.ConnectFailures["http_503"] != 2 || res.Counters.GaveUp != 1 {
		t.Fatalf("failures %v, gave up %d", res.Counters.ConnectFailures, res.Counters.GaveUp)
	}
}

// TestRefusedAndGiveUp: nothing listens; the client fails with "refused" and
// gives up after max_attempts.
func TestRefusedAndGiveUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := baseConfig()
	cfg.Clients = 3
	cfg.URL = "ws://" + addr + "/"
	cfg.Backoff = constant(time.Millisecond)
	cfg.MaxAttempts = 4
	h := runFleet(t, nil, cfg, nil)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("clients did not give up")
	}
	res := h.results()
	if res.Counters.ConnectFailures["refused"] != 12 || res.Counters.GaveUp != 3 || res.Counters.ConnectAttempts != 12 {
		t.Fatalf("counters = %+v", res.Counters)
	}
}

func TestClassify(t *testing.T) {
	resp := &http.Response{StatusCode: 503}
	for _, tc := range []struct {
		name string
		err  error
		resp *http.Response
		want stats.Reason
	}{
		{"http status", websocket.ErrBadHandshake, resp, stats.HTTPStatus(503)},
		{"deadline", context.DeadlineExceeded, nil, stats.Timeout},
		{"other", net.UnknownNetworkError("x"), nil, stats.Other},
		{"bad handshake", websocket.ErrBadHandshake, &http.Response{StatusCode: 101}, stats.BadHandshake},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, nil, stats.Refused},
	} {
		if got := classify(tc.err, tc.resp, false); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCloseCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&websocket.CloseError{Code: 1012}, 1012},
		{&websocket.CloseError{Code: 3001}, 3001},
		{errStr("websocket: bad close code 1014"), 1014},
		{errStr("websocket: bad close code 1006"), 1002},
		{errStr("read tcp: connection reset by peer"), 1006},
	} {
		if got := closeCode(tc.err); got != tc.want {
			t.Errorf("closeCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

type errStr string

func (e errStr) Error() string { return string(e) }

func TestWelcomeNode(t *testing.T) {
	for msg, want := range map[string]int{
		`{"type":"welcome","node":2}`:   2,
		`{"type":"welcome","node": 17}`: 17,
		`{"type":"welcome"}`:            -1,
		`hello`:                         -1,
	} {
		if got := welcomeNode([]byte(msg)); got != want {
			t.Errorf("welcomeNode(%s) = %d, want %d", msg, got, want)
		}
	}
}

// wsServer serves WebSocket connections with serve on loopback and returns
// its ws:// URL; the connection is closed when serve returns.
func wsServer(t *testing.T, serve func(c *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestStopGoesAway: when the run ends, clients close with 1001 (going away)
// and wait for the server's reply; that exit is not a session the client
// chose to end, so client_closes stays 0.
func TestStopGoesAway(t *testing.T) {
	codes := make(chan int, 10)
	url := wsServer(t, func(c *websocket.Conn) {
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					codes <- ce.Code
				} else {
					codes <- -1
				}
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.Clients = 3
	cfg.URL = url
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 3))
	res := h.results()
	for range 3 {
		select {
		case code := <-codes:
			if code != websocket.CloseGoingAway {
				t.Errorf("server saw close %d, want 1001", code)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("server never saw the clients' close")
		}
	}
	if res.Counters.ClientCloses != 0 || h.rec.Connected() != 0 {
		t.Fatalf("client closes %d, connected %d; want 0 and 0", res.Counters.ClientCloses, h.rec.Connected())
	}
}

// TestPayloadSize: every message is payload_bytes long, and its echo is timed.
func TestPayloadSize(t *testing.T) {
	sizes := make(chan int, 100)
	url := wsServer(t, func(c *websocket.Conn) {
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			select {
			case sizes <- len(msg):
			default:
			}
			_ = c.WriteMessage(typ, msg)
		}
	})
	cfg := baseConfig()
	cfg.Clients = 2
	cfg.URL = url
	cfg.SendInterval = 10 * time.Millisecond
	cfg.PayloadBytes = 3000 // larger than the client's write buffer
	h := runFleet(t, nil, cfg, nil)
	time.Sleep(200 * time.Millisecond)
	res := h.results()
	close(sizes)
	n := 0
	for size := range sizes {
		n++
		if size != 3000 {
			t.Fatalf("message of %d bytes, want 3000", size)
		}
	}
	if n < 10 || res.Histograms[stats.MessageRTT].TotalCount() < 10 {
		t.Fatalf("%d messages, %d echoes timed", n, res.Histograms[stats.MessageRTT].TotalCount())
	}
}

// TestConnectLatencyKnownDelay: a target that takes D to accept each
// handshake shows connect latency just above D.
func TestConnectLatencyKnownDelay(t *testing.T) {
	const D = 100 * time.Millisecond
	cfg := baseConfig()
	cfg.Clients = 10
	h := startHarness(t, 1, profile.Capacity{HandshakeDelay: profile.Dur(D)}, cfg, nil)
	waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, 10))
	res := h.results()
	c := res.Histograms[stats.Connect]
	p50 := time.Duration(c.ValueAtPercentile(50)) * time.Microsecond
	if c.TotalCount() != 10 || p50 < D || p50 >= D+50*time.Millisecond {
		t.Fatalf("connect: %d recorded, p50 %v; want 10, in [%v, %v)", c.TotalCount(), p50, D, D+50*time.Millisecond)
	}
}

// TestEchoLatencyKnownDelay: a server that echoes after D shows message_rtt
// just above D; the welcome is not timed as an echo.
func TestEchoLatencyKnownDelay(t *testing.T) {
	const D = 40 * time.Millisecond
	url := wsServer(t, func(c *websocket.Conn) {
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			time.Sleep(D)
			if c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.Clients = 2
	cfg.URL = url
	cfg.SendInterval = 100 * time.Millisecond
	cfg.PayloadBytes = 16
	h := runFleet(t, nil, cfg, nil)
	time.Sleep(700 * time.Millisecond)
	res := h.results()
	rtt := res.Histograms[stats.MessageRTT]
	lo := time.Duration(rtt.Min()) * time.Microsecond
	p50 := time.Duration(rtt.ValueAtPercentile(50)) * time.Microsecond
	if rtt.TotalCount() < 8 || lo < D || p50 >= D+50*time.Millisecond {
		t.Fatalf("message_rtt: %d echoes, min %v, p50 %v; want ≥ 8, min ≥ %v, p50 < %v", rtt.TotalCount(), lo, p50, D, D+50*time.Millisecond)
	}
}

// TestLateSendNotOmitted: a client whose send timer fires 500 ms late (a
// stalled process, a GC pause) sends the overdue messages at once, each
// stamped with its scheduled time, so the stall shows in message_rtt instead
// of being omitted (no coordinated omission).
func TestLateSendNotOmitted(t *testing.T) {
	url := wsServer(t, func(c *websocket.Conn) {
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})
	cfg := baseConfig()
	cfg.URL = url
	cfg.SendInterval = 50 * time.Millisecond
	cfg.PayloadBytes = 16
	rec := stats.New(stats.Config{Start: time.Now().Add(-time.Second), Horizon: time.Minute})
	f, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(f, 0)
	hs, _, err := c.dial(context.Background(), -1)
	if err != nil {
		t.Fatal(err)
	}
	conn := hs.conn
	done := make(chan readEnd, 1)
	s := &liveSession{c: c, conn: conn, next: time.Now().Add(-500 * time.Millisecond)}
	go func() { done <- c.read(conn, &connState{node: -1}, false, time.Time{}, s) }()
	s.mu.Lock()
	s.sendTimer = time.NewTimer(time.Hour) // re-armed by sendDue; never fires here
	s.mu.Unlock()
	s.sendDue()
	time.Sleep(200 * time.Millisecond)
	s.mu.Lock()
	s.over = true
	s.sendTimer.Stop()
	s.mu.Unlock()
	conn.Close()
	<-done
	rtt := rec.Results(time.Now(), time.Second).Histograms[stats.MessageRTT]
	// Eleven messages were due, scheduled 500, 450, ..., 0 ms ago; the first
	// message read is the echo of the first sent (no welcome from this
	// server), so count from the distribution.
	var late int64
	for _, bar := range rtt.Distribution() {
		if bar.From >= int64(250*time.Millisecond/time.Microsecond) {
			late += bar.Count
		}
	}
	if rtt.TotalCount() < 10 || late < 5 {
		t.Fatalf("%d echoes, %d of them ≥ 250 ms: want ≥ 10 and ≥ 5 (the overdue ones)", rtt.TotalCount(), late)
	}
}

// A run whose context has a deadline ends every handshake in flight at it:
// those are cancelled, not timeouts, though the connection's deadline (the
// context's, as gorilla/websocket sets it) may fire before the context
// says it is done. A server that takes TCP and never answers holds every
// handshake until then.
func TestHandshakesCutByTheRunsDeadlineAreCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	cfg := baseConfig()
	cfg.Clients, cfg.MaxDialing = 400, 400
	cfg.URL = "ws://" + ln.Addr().String() + "/"
	cfg.MaxAttempts = 1 // a client that took its cut attempt for a failure would give up
	start := time.Now()
	rec := stats.New(stats.Config{Start: start, Horizon: time.Minute})
	f, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f.Run(ctx)
	c := rec.Results(time.Now(), time.Since(start)).Counters
	if c.ConnectAttempts != 400 || c.ConnectFailures["cancelled"] != 400 || len(c.ConnectFailures) != 1 || c.GaveUp != 0 {
		t.Fatalf("%d attempts ended as %v, %d clients gave up; want 400 cancelled, none given up", c.ConnectAttempts, c.ConnectFailures, c.GaveUp)
	}
}
