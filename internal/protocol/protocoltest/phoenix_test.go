package protocoltest

import (
	"context"
	"testing"
	"time"
)

func newPhoenix(t *testing.T, opts PhoenixOptions) *Phoenix {
	t.Helper()
	p, err := NewPhoenix(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// serverDisconnects are the server's disconnect events, by client.
func serverDisconnects(events []Event) map[string][]Event {
	out := map[string][]Event{}
	for _, e := range events {
		if e.Kind == EventDisconnect {
			out[e.Client] = append(out[e.Client], e)
		}
	}
	return out
}

// The real phoenix.js clients join and, heartbeating faster than the
// server's idle timeout, stay connected past it; a client that heartbeats
// too slowly is closed at the timeout (Bandit's 1002) and reconnects.
// phoenix.js waits one heartbeat interval for each reply before it closes
// and reconnects (socket.js, sendHeartbeat, 1.8.17): 700 ms, so a reply a
// loaded machine delays is not taken for a dead server.
func TestPhoenixClientsJoinAndHeartbeatPastTheIdleTimeout(t *testing.T) {
	t.Parallel()
	p := newPhoenix(t, PhoenixOptions{IdleTimeout: 2 * time.Second})
	fast := runClients(t, "phoenix-client.js", "--url", p.URL(), "--clients", "3",
		"--topic", "room:lobby", "--payload", `{"user":"u1"}`, "--heartbeat-ms", "700", "--duration-ms", "5000")
	slow := runClients(t, "phoenix-client.js", "--url", p.URL(), "--prefix", "slow",
		"--heartbeat-ms", "10000", "--duration-ms", "5000")

	events := fast.wait(10 * time.Second)
	for _, c := range []string{"c1", "c2", "c3"} {
		if n := len(of(events, c, "joined")); n != 1 {
			t.Errorf("%s joined %d times, want 1", c, n)
		}
		if n := len(of(events, c, "heartbeat")); n < 5 {
			t.Errorf("%s got %d heartbeat replies in 5 s at 700 ms, want at least 5", c, n)
		}
		if r := of(events, c, "reconnect"); len(r) > 0 {
			t.Errorf("%s reconnected though it heartbeated: %+v", c, r)
		}
	}
	slowEvents := slow.wait(10 * time.Second)
	if cl := of(slowEvents, "slow1", "close"); len(cl) == 0 || cl[0].Code != 1002 {
		t.Errorf("the client heartbeating every 10 s saw closes %+v, want first 1002 at the 2 s idle timeout", cl)
	}
	if len(of(slowEvents, "slow1", "reconnect")) == 0 {
		t.Errorf("the client closed at the idle timeout did not reconnect:\n%s", slow.dump())
	}

	drops := serverDisconnects(p.Events())
	for _, c := range []string{"c1", "c2", "c3"} {
		for _, e := range drops[c] {
			if e.Reason != "client" || e.At < 5*time.Second {
				t.Errorf("%s: the server ended a heartbeating session: %+v", c, e)
			}
		}
	}
	if d := drops["slow1"]; len(d) == 0 || d[0].Reason != "idle timeout" || d[0].Code != 1002 {
		t.Errorf("server's disconnects of slow1 = %+v, want first an idle timeout with 1002", d)
	}
	if c := p.Counters(); c.Heartbeats < 15 || c.Joins < 4 {
		t.Errorf("server counted %d heartbeats and %d joins, want at least 15 and 4", c.Heartbeats, c.Joins)
	}
	checkJoinParams(t, p.Events())
}

// checkJoinParams checks the server saw the topic, the join payload and
// the client parameter as the client sent them.
func checkJoinParams(t *testing.T, events []Event) {
	t.Helper()
	for _, e := range events {
		if e.Kind == EventJoin && e.Client == "c1" {
			if e.Topic != "room:lobby" || e.Params["user"] != "u1" {
				t.Errorf("join seen as topic %q params %v", e.Topic, e.Params)
			}
			return
		}
	}
	t.Error("no join of c1 in the server's log")
}

// On Shutdown the real clients see the drainer's 1012, reconnect as
// phoenix.js does, and rejoin once the server is back.
func TestPhoenixShutdownDrainsWith1012AndClientsRejoin(t *testing.T) {
	t.Parallel()
	p := newPhoenix(t, PhoenixOptions{})
	cl := runClients(t, "phoenix-client.js", "--url", p.URL(), "--clients", "3", "--duration-ms", "6000")
	names := []string{"c1", "c2", "c3"}
	cl.waitFor("joins", 5*time.Second, func(e []clientEvent) bool { return everyClient(e, "joined", 1, names...) })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	cl.waitFor("rejoins", 5*time.Second, func(e []clientEvent) bool { return everyClient(e, "joined", 2, names...) })

	events := cl.all()
	for _, c := range names {
		if closes := of(events, c, "close"); len(closes) == 0 || closes[0].Code != 1012 {
			t.Errorf("%s saw closes %+v, want first 1012", c, closes)
		}
		if len(of(events, c, "reconnect")) == 0 {
			t.Errorf("%s rejoined without a reconnect", c)
		}
	}
	drops := serverDisconnects(p.Events())
	for _, c := range names {
		if d := drops[c]; len(d) == 0 || d[0].Code != 1012 || d[0].Reason != "drain" {
			t.Errorf("server's disconnects of %s = %+v, want first a drain with 1012", c, d)
		}
	}
}

// A "disconnect" broadcast closes with 1001 and phoenix.js reconnects;
// a client the application then refuses keeps trying and stays out.
func TestPhoenixDisconnect(t *testing.T) {
	t.Parallel()
	p := newPhoenix(t, PhoenixOptions{})
	cl := runClients(t, "phoenix-client.js", "--url", p.URL(), "--clients", "2", "--duration-ms", "3000")
	cl.waitFor("joins", 5*time.Second, func(e []clientEvent) bool { return everyClient(e, "joined", 1, "c1", "c2") })

	if n := p.DisconnectClient("c1", true); n != 1 {
		t.Fatalf("DisconnectClient(c1) ended %d sessions", n)
	}
	if n := p.DisconnectClient("c2", false); n != 1 {
		t.Fatalf("DisconnectClient(c2) ended %d sessions", n)
	}
	cl.waitFor("c1's rejoin", 3*time.Second, func(e []clientEvent) bool { return len(of(e, "c1", "joined")) == 2 })
	events := cl.wait(5 * time.Second)
	for _, c := range []string{"c1", "c2"} {
		if closes := of(events, c, "close"); len(closes) == 0 || closes[0].Code != 1001 {
			t.Errorf("%s saw closes %+v, want first 1001", c, closes)
		}
	}
	if len(of(events, "c2", "reconnect")) == 0 || len(of(events, "c2", "open")) != 1 || len(of(events, "c2", "joined")) != 1 {
		t.Errorf("c2, refused after its disconnect, should retry and never get in again:\n%s", cl.dump())
	}
	c := p.Counters()
	if c.Refused == 0 || c.Stops != 1 || c.ClosesByCode[1001] != 2 {
		t.Errorf("server counters = %+v, want refusals, 1 stop and 2 closes with 1001", c)
	}
}

// Rejected joins reach the real client as join errors with their reason:
// the channel's {:error, reply} and a topic no channel routes.
func TestPhoenixJoinRejected(t *testing.T) {
	t.Parallel()
	p := newPhoenix(t, PhoenixOptions{
		Channels: []string{"room:*"},
		Join: func(topic string, _ map[string]any) map[string]any {
			if topic == "room:secret" {
				return map[string]any{"reason": "unauthorized"}
			}
			return nil
		},
	})
	secret := runClients(t, "phoenix-client.js", "--url", p.URL(), "--prefix", "secret", "--topic", "room:secret", "--duration-ms", "1500")
	other := runClients(t, "phoenix-client.js", "--url", p.URL(), "--prefix", "other", "--topic", "other:x", "--duration-ms", "1500")
	for _, tc := range []struct {
		cl     *clients
		client string
		reason string
	}{{secret, "secret1", "unauthorized"}, {other, "other1", "unmatched topic"}} {
		events := tc.cl.wait(5 * time.Second)
		errs := of(events, tc.client, "join_error")
		if len(errs) == 0 || errs[0].Response["reason"] != tc.reason {
			t.Errorf("%s: join errors %+v, want reason %q", tc.client, errs, tc.reason)
		}
		if j := of(events, tc.client, "joined"); len(j) > 0 {
			t.Errorf("%s joined: %+v", tc.client, j)
		}
	}
	if c := p.Counters(); c.Rejects < 2 || c.Joins != 0 {
		t.Errorf("server counted %d rejects and %d joins, want at least 2 and 0", c.Rejects, c.Joins)
	}
}
