package protocoltest_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/protocol/protocoltest"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// These tests run wsstorm's fleet, built from a profile that names the
// phoenix or actioncable preset, against the test servers, whose own tests
// show that the real npm clients (phoenix, @rails/actioncable) talk to them.

// fleetRun is a fleet running against a test server.
type fleetRun struct {
	t     *testing.T
	rec   *stats.Recorder
	start time.Time
	stop  context.CancelFunc
	done  chan struct{}
}

// runProfile starts the fleet of a profile's text.
func runProfile(t *testing.T, text string) *fleetRun {
	t.Helper()
	p, err := profile.Parse([]byte(text), "presets.toml", nil)
	if err != nil {
		t.Fatalf("profile: %v\n%s", err, text)
	}
	cfg, err := fleet.FromProfile(p, p.Target.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &fleetRun{t: t, start: time.Now(), done: make(chan struct{})}
	r.rec = stats.New(stats.Config{Start: r.start, Horizon: p.Duration.D()})
	f, err := fleet.New(cfg, r.rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { defer close(r.done); f.Run(ctx) }()
	t.Cleanup(r.finish)
	return r
}

// finish stops the fleet and waits for its clients, bounded.
func (r *fleetRun) finish() {
	r.stop()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the fleet did not stop within 10s")
	}
}

// results are the run's results so far.
func (r *fleetRun) results() *stats.Results {
	return r.rec.Results(time.Now(), time.Since(r.start))
}

// waitFor polls cond until it holds, or fails the test after timeout.
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

// fleetProfile is a profile of clients that send nothing of their own and
// reconnect 100 ms after a close, against url with protocol and its
// options.
func fleetProfile(url string, clients int, protocol, options string) string {
	return fmt.Sprintf(`duration = "1m"
[target]
mode = "external"
url = %q
[fleet]
clients = %d
ramp = "0s"
protocol = %q
[fleet.protocol_options]
%s
[fleet.session]
send_interval = "0s"
[fleet.reconnect]
strategy = "constant"
base = "100ms"
`, url, clients, protocol, options)
}

// hostOf is a test server's ws://host:port, with no path: the preset's path
// is then taken.
func hostOf(url string) string {
	rest := strings.TrimPrefix(url, "ws://")
	host, _, _ := strings.Cut(rest, "/")
	return "ws://" + host
}

// TestPhoenixPreset: clients join their channel with the socket's and the
// join's params, their heartbeat holds them past the server's idle
// timeout, and a shutdown's drain (1012) brings them back to join again,
// their recovery ended by the join's reply.
func TestPhoenixPreset(t *testing.T) {
	const clients = 20
	// A 1 s idle timeout over 100 ms heartbeats: a loaded machine under
	// -race may stall a heartbeat for a few hundred ms, not for 900.
	const idle = time.Second
	srv, err := protocoltest.NewPhoenix(protocoltest.PhoenixOptions{IdleTimeout: idle, Channels: []string{"room:*"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	r := runProfile(t, fleetProfile(hostOf(srv.URL()), clients, "phoenix", `params = '{"client":"{{client}}"}'
topic = "room:lobby"
chanParams = '{"user":"{{client}}","prefs":{"lang":"en"}}'
heartbeatIntervalMs = 100`))
	joined := func(n int) func() bool {
		return func() bool { return srv.Counters().Joins == n && r.rec.Connected() == clients }
	}
	waitFor(t, "clients joined", 10*time.Second, joined(clients))
	for _, e := range srv.Events() {
		switch e.Kind {
		case protocoltest.EventConnect:
			if e.Query.Get("vsn") != "2.0.0" || e.Client == "" {
				t.Errorf("connect query %v: want vsn=2.0.0 and the client", e.Query)
			}
		case protocoltest.EventJoin:
			if e.Topic != "room:lobby" || e.Params["user"] != e.Client || fmt.Sprint(e.Params["prefs"]) != "map[lang:en]" {
				t.Errorf("join of %q with %v by client %q", e.Topic, e.Params, e.Client)
			}
		}
	}

	time.Sleep(2 * idle)
	c := srv.Counters()
	if c.Disconnects != 0 || c.Heartbeats < clients*2 || r.rec.Connected() != clients {
		t.Fatalf("after 2 idle timeouts: server %+v, %d connected: want no disconnect, the heartbeats answered", c, r.rec.Connected())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.Counters().ClosesByCode[1012]; got != clients {
		t.Errorf("drained with 1012: %d sessions, want %d", got, clients)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clients joined again", 10*time.Second, joined(2*clients))
	res := r.results()
	rc := res.Counters
	if rc.Closes[1012] != clients || rc.Reconnects != clients || len(rc.ProtocolStops) != 0 || rc.ConnectFailures["rejected"] != 0 || rc.ConnectFailures["script_timeout"] != 0 {
		t.Errorf("counters %+v: want %d closes 1012 and reconnects, no stop nor failed join", rc, clients)
	}
	if n := res.Histograms[stats.Recovery].TotalCount(); n != clients {
		t.Errorf("recoveries %d, want %d", n, clients)
	}
}

// TestPhoenixIdleTimeout: without a heartbeat in time, the server closes
// the clients at its idle timeout (Bandit's 1002): the heartbeat is what
// holds them in TestPhoenixPreset.
func TestPhoenixIdleTimeout(t *testing.T) {
	const clients = 5
	srv, err := protocoltest.NewPhoenix(protocoltest.PhoenixOptions{IdleTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	r := runProfile(t, fleetProfile(hostOf(srv.URL()), clients, "phoenix", `topic = "room:lobby"
heartbeatIntervalMs = 60000`))
	waitFor(t, "the idle timeout's closes", 10*time.Second, func() bool {
		return srv.Counters().ClosesByCode[1002] >= clients && r.results().Counters.Closes[1002] >= clients
	})
	if c := srv.Counters(); c.Heartbeats != 0 {
		t.Errorf("server %+v: want no heartbeat", c)
	}
}

// TestPhoenixRejectedJoin: a join the channel refuses, or that no channel
// routes, fails the connect attempt as "rejected".
func TestPhoenixRejectedJoin(t *testing.T) {
	const clients = 3
	refuse := func(topic string, _ map[string]any) map[string]any {
		if topic == "room:closed" {
			return map[string]any{"reason": "unauthorized"}
		}
		return nil
	}
	for _, topic := range []string{"room:closed", "other:1"} {
		t.Run(topic, func(t *testing.T) {
			srv, err := protocoltest.NewPhoenix(protocoltest.PhoenixOptions{Channels: []string{"room:*"}, Join: refuse})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			r := runProfile(t, fleetProfile(hostOf(srv.URL()), clients, "phoenix", "topic = "+strconv.Quote(topic)))
			waitFor(t, "rejected joins", 10*time.Second, func() bool {
				return r.results().Counters.ConnectFailures["rejected"] >= 2*clients
			})
			if c := r.results().Counters; c.Connects != 0 || srv.Counters().Joins != 0 {
				t.Errorf("counters %+v: want no connect", c)
			}
		})
	}
}

// TestActionCablePreset: clients subscribe with the identifier's params,
// the server's pings need no answer, a restart's disconnect (reconnect
// true) brings them back to subscribe again, their recovery ended by the
// confirmation, and a remote disconnect with reconnect false stops them.
func TestActionCablePreset(t *testing.T) {
	const clients = 20
	srv, err := protocoltest.NewActionCable(protocoltest.ActionCableOptions{PingInterval: 100 * time.Millisecond, Channels: []string{"ChatChannel"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	r := runProfile(t, fleetProfile(hostOf(srv.URL())+"/?client={{client}}", clients, "actioncable", `channel = "ChatChannel"
params = '{"room":"lobby","user":"{{client}}"}'`))
	subscribed := func(n int) func() bool {
		return func() bool { return srv.Counters().Joins == n && r.rec.Connected() == clients }
	}
	waitFor(t, "clients subscribed", 10*time.Second, subscribed(clients))
	for _, e := range srv.Events() {
		if e.Kind == protocoltest.EventJoin && (e.Topic != "ChatChannel" || e.Params["room"] != "lobby" || e.Params["user"] != e.Client) {
			t.Errorf("subscription to %q with %v by client %q", e.Topic, e.Params, e.Client)
		}
	}
	pings := srv.Counters().Pings
	waitFor(t, "pings", 5*time.Second, func() bool { return srv.Counters().Pings >= pings+3*clients })
	if c := srv.Counters(); c.Disconnects != 0 {
		t.Fatalf("server %+v: want no disconnect while pinging", c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "clients subscribed again", 10*time.Second, subscribed(2*clients))
	res := r.results()
	c := res.Counters
	if c.ProtocolReconnects["actioncable disconnect: server_restart"] != clients || c.Reconnects != clients || len(c.Closes) != 0 || len(c.ProtocolStops) != 0 {
		t.Errorf("counters %+v: want %d protocol reconnects of server_restart and reconnects, no close", c, clients)
	}
	if n := res.Histograms[stats.Recovery].TotalCount(); n != clients {
		t.Errorf("recoveries %d, want %d", n, clients)
	}

	connects := srv.Counters().Connects
	if n := srv.Disconnect(0, false); n != clients {
		t.Fatalf("disconnected %d, want %d", n, clients)
	}
	waitFor(t, "clients stopped", 5*time.Second, func() bool { return r.rec.Connected() == 0 })
	time.Sleep(500 * time.Millisecond) // five reconnect delays: none comes back
	c = r.results().Counters
	if c.ProtocolStops["actioncable disconnect: remote"] != clients || srv.Counters().Connects != connects {
		t.Errorf("counters %+v, server connects %d then %d: want %d stops of remote, none back", c, connects, srv.Counters().Connects, clients)
	}
}

// TestActionCableRefusals: a rejected subscription fails the connect
// attempt as "rejected"; an unauthorized connection, which the server
// tells not to come back, stops the client.
func TestActionCableRefusals(t *testing.T) {
	const clients = 3
	t.Run("reject_subscription", func(t *testing.T) {
		srv, err := protocoltest.NewActionCable(protocoltest.ActionCableOptions{
			Reject: func(channel string, _ map[string]any) bool { return channel == "SecretChannel" },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		r := runProfile(t, fleetProfile(hostOf(srv.URL()), clients, "actioncable", `channel = "SecretChannel"`))
		waitFor(t, "rejected subscriptions", 10*time.Second, func() bool {
			return r.results().Counters.ConnectFailures["rejected"] >= 2*clients
		})
		if c := r.results().Counters; c.Connects != 0 {
			t.Errorf("counters %+v: want no connect", c)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		srv, err := protocoltest.NewActionCable(protocoltest.ActionCableOptions{Connect: func(url.Values) bool { return false }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		r := runProfile(t, fleetProfile(hostOf(srv.URL()), clients, "actioncable", `channel = "ChatChannel"`))
		waitFor(t, "clients stopped", 10*time.Second, func() bool {
			return r.results().Counters.ProtocolStops["actioncable disconnect: unauthorized"] == clients
		})
		time.Sleep(300 * time.Millisecond) // three reconnect delays: none comes back
		if c := srv.Counters(); c.Connects != clients || c.Stops != clients {
			t.Errorf("server %+v: want %d connects, each told to stay away", c, clients)
		}
	})
}
