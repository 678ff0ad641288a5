package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/protocol"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// scriptedLib is a library whose loop the test writes: it stops on 1000
// with a reason, waits code ms after any other close, 40 ms after a failed
// attempt until its second in a row, then gives up; Away waits 70 ms, or
// 0 when asked for at once. It records every call, so the test sees what
// the rules report to a library, and when.
type scriptedLib struct{ calls *[]string }

func (l scriptedLib) ConnectTimeout() time.Duration { return 0 }
func (l scriptedLib) Unsimulable() string           { return "" }
func (l scriptedLib) NewClient(*rand.Rand) clientlib.Client {
	return &scriptedClient{calls: l.calls}
}

type scriptedClient struct {
	calls  *[]string
	failed int
}

func (c *scriptedClient) note(format string, args ...any) {
	*c.calls = append(*c.calls, fmt.Sprintf(format, args...))
}
func (c *scriptedClient) Attempt(at time.Duration) { c.note("attempt %v", at) }
func (c *scriptedClient) Opened(at time.Duration)  { c.failed = 0; c.note("opened %v", at) }
func (c *scriptedClient) Failed(at time.Duration, status int, _ *rand.Rand) clientlib.Next {
	c.note("failed %v %d", at, status)
	if c.failed++; c.failed >= 2 {
		return clientlib.GivenUp("scripted: 2 failures")
	}
	return clientlib.After(40 * time.Millisecond)
}
func (c *scriptedClient) Closed(at time.Duration, code int, _ *rand.Rand) clientlib.Next {
	c.note("closed %v %d", at, code)
	if code == 1000 {
		return clientlib.Stopped("scripted: 1000 ends it")
	}
	return clientlib.After(time.Duration(code) * time.Millisecond)
}
func (c *scriptedClient) Away(at time.Duration, now bool, _ *rand.Rand) clientlib.Next {
	c.note("away %v %t", at, now)
	if now {
		return clientlib.After(0)
	}
	return clientlib.After(70 * time.Millisecond)
}

// TestRulesClientPreset: with a client preset, the rules report every
// attempt, opening, failure (with its status) and close (with its code) to
// the library at its time, and do what it says; Retry-After and the
// protocol's close codes have no say; on_close entries layer over the
// library code by code.
func TestRulesClientPreset(t *testing.T) {
	var calls []string
	codes := []protocol.CodeRange{{From: 4000, To: 4000, Then: "stop", Reason: "protocol: 4000"}}
	pol, err := NewPolicy(profile.Reconnect{OnClose: map[string]string{"1000": "reconnect", "1012": "stop"}}, codes)
	if err != nil {
		t.Fatal(err)
	}
	rl := Rules{Backoff: constant(time.Second), Policy: pol, HonorRetryAfter: true, Client: scriptedLib{&calls}}
	rng := ClientRand(1, 0)
	r := rl.NewRetry(rng)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	r.Attempt(ms(10))
	if d := rl.AfterFailure(&r, ms(20), 503, time.Hour, rng); d != (Decision{Wait: ms(40)}) {
		t.Errorf("after a 503 with Retry-After 1h: %+v; want the library's 40ms", d)
	}
	r.Attempt(ms(60))
	r.Connected(ms(65))
	if d := rl.AfterClose(&r, ms(100), 4000, rng); d != (Decision{Wait: ms(4000)}) {
		t.Errorf("after 4000, which the protocol ends: %+v; want the library's wait", d)
	}
	r.Attempt(ms(4100))
	r.Connected(ms(4105))
	if d := rl.AfterClose(&r, ms(5000), 1000, rng); d != (Decision{Wait: ms(70)}) {
		t.Errorf("after 1000, which on_close brings back and the library stops on: %+v; want Away's 70ms", d)
	}
	r.Attempt(ms(5070))
	r.Connected(ms(5075))
	if d := rl.AfterClose(&r, ms(6000), 1012, rng); d != (Decision{Stop: true}) {
		t.Errorf("after 1012, which on_close stops: %+v; want a stop without the library's reason", d)
	}
	r.Attempt(ms(7000))
	r.Connected(ms(7005))
	if w := rl.AfterMessage(&r, ms(7100), true, rng); w != 0 {
		t.Errorf("sent away at once: waited %v", w)
	}
	r.Attempt(ms(7100))
	rl.AfterFailure(&r, ms(7110), 0, 0, rng)
	r.Attempt(ms(7150))
	if d := rl.AfterFailure(&r, ms(7160), 0, 0, rng); d != (Decision{Stop: true, GaveUp: true, Reason: "scripted: 2 failures"}) {
		t.Errorf("after the second failure in a row: %+v; want a give-up", d)
	}
	want := []string{
		"attempt 10ms", "failed 20ms 503", "attempt 60ms", "opened 65ms", "closed 100ms 4000",
		"attempt 4.1s", "opened 4.105s", "closed 5s 1000", "away 5s false",
		"attempt 5.07s", "opened 5.075s", // 1012: on_close stops, the library is not asked
		"attempt 7s", "opened 7.005s", "away 7.1s true",
		"attempt 7.1s", "failed 7.11s 0", "attempt 7.15s", "failed 7.16s 0",
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("the library was told\n%q\nwant\n%q", calls, want)
	}
	if rl.ReconnectsAfter(1001) != true || rl.ReconnectsAfter(1012) != false || rl.ReconnectsAfter(1000) != true {
		t.Error("ReconnectsAfter: want the library's answer under on_close's")
	}
	delete(pol.user, 1000)
	if rl.ReconnectsAfter(1000) {
		t.Error("ReconnectsAfter(1000): the library stops on it")
	}
}

// TestFleetFollowsClientPreset: real clients with reconnecting-websocket's
// loop come back after a 1000 close, which ends a generic client's session
// (the library reconnects after every close), no sooner than its delay;
// with maxRetries 0 they give up at the next close instead.
func TestFleetFollowsClientPreset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRetries float64
	}{{"reconnects", 5}, {"gives up", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			lib, _ := clientlib.Lookup("reconnecting-websocket@4")
			opts := lib.Options().(*clientlib.ReconnectingWebSocketOptions)
			opts.MinReconnectionDelay, opts.MaxRetries = 300, tc.maxRetries
			pr, err := lib.Build(opts)
			if err != nil {
				t.Fatal(err)
			}
			const clients = 10
			cfg := baseConfig()
			cfg.Clients = clients
			cfg.Client = pr
			h := startHarness(t, 1, profile.Capacity{}, cfg, []stats.EventPlan{{Action: "close", Node: -1, Code: 1000}})
			waitFor(t, "all clients connected", 10*time.Second, connectedTo(h, clients))
			h.rec.BeginEvent(0, time.Now())
			closed, err := action.CloseShare(context.Background(), h.tgt, action.CloseParams{Fraction: 1, Code: 1000}, 1)
			if err != nil || closed != clients {
				t.Fatalf("close closed %d, err %v", closed, err)
			}
			if tc.maxRetries == 0 {
				waitFor(t, "clients gave up", 10*time.Second, func() bool {
					return h.rec.Results(time.Now(), time.Second).Counters.GaveUp == clients
				})
				if res := h.results(); res.Counters.Reconnects != 0 {
					t.Errorf("%d reconnects after giving up", res.Counters.Reconnects)
				}
				return
			}
			waitFor(t, "clients back", 10*time.Second, func() bool { return h.reconnects() == clients && h.rec.Connected() == clients })
			rc := h.results().Histograms[stats.Reconnect]
			if min := time.Duration(rc.Min()) * time.Microsecond; min < 300*time.Millisecond {
				t.Errorf("a client came back %v after its close: the library waits 300ms", min)
			}
		})
	}
}

// TestClosedBeforeAckIsNoConnection: a graphql-ws server that accepts the
// upgrade and closes with 4499 (terminated) before its connection_ack, as
// one shutting down does, never connects a graphql-ws client, which resets
// its retries only on the ack: with retryAttempts 2, each client connects
// three times, is closed three times and gives up, as the library does;
// told "opened" at each handshake, it would retry for ever.
func TestClosedBeforeAckIsNoConnection(t *testing.T) {
	var upgrades atomic.Int64
	up := websocket.Upgrader{Subprotocols: []string{"graphql-transport-ws"}}
	srv := newTestServer(t, up, nil, func(c *websocket.Conn, _ *http.Request) {
		upgrades.Add(1)
		if _, _, err := c.ReadMessage(); err != nil { // connection_init
			return
		}
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4499, "terminated"), time.Now().Add(time.Second))
		drain(c)
	})
	const clients = 3
	text := fmt.Sprintf(`
[target]
mode = "external"
url = %q
[fleet]
clients = %d
ramp = "0s"
protocol = "graphql-ws"
client = "graphql-ws@6"
[fleet.client_options]
retryAttempts = 2
`, srv.url+"/graphql", clients)
	p, err := profile.Parse([]byte(text), "gql.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := FromProfile(p, p.Target.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := runFleet(t, nil, cfg, nil)
	// Two retries wait 1.3–4 s and 2.3–5 s (2^n s + 300–2999 ms).
	waitFor(t, "clients gave up", 20*time.Second, func() bool {
		return h.rec.Results(time.Now(), time.Second).Counters.GaveUp == clients
	})
	res := h.results()
	if n := upgrades.Load(); n != clients*3 {
		t.Errorf("%d upgrades, want 3 per client (the first connect and 2 retries)", n)
	}
	if c := res.Counters.Closes[4499]; c != clients*3 {
		t.Errorf("%d 4499 closes recorded, want %d", c, clients*3)
	}
}

// TestUpgradedIsNotOpened: a connection closed before the protocol's reply
// is no connection to a library, which hears its close alone; to the
// generic rules it ends the sequence as any connection does.
func TestUpgradedIsNotOpened(t *testing.T) {
	var calls []string
	rl := Rules{Backoff: constant(time.Second), Policy: mustPolicy(profile.Reconnect{}), Client: scriptedLib{&calls}}
	rng := ClientRand(1, 0)
	r := rl.NewRetry(rng)
	r.Attempt(10 * time.Millisecond)
	r.Upgraded(15 * time.Millisecond)
	rl.AfterClose(&r, 20*time.Millisecond, 4499, rng)
	if want := []string{"attempt 10ms", "closed 20ms 4499"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("the library was told %q, want %q", calls, want)
	}
	generic := Rules{Backoff: constant(time.Second), Policy: mustPolicy(profile.Reconnect{}), MaxAttempts: 2}
	g := generic.NewRetry(rng)
	g.Attempt(0)
	g.Upgraded(time.Millisecond)
	g.Attempt(2 * time.Millisecond)
	if d := generic.AfterFailure(&g, 3*time.Millisecond, 0, 0, rng); d.Stop {
		t.Errorf("max_attempts 2: the first failure after an upgrade gave up (%+v); the upgrade ended the sequence", d)
	}
}
