package proxy

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// TestCrashDropsBothSides: a crashed proxy node ends its clients'
// connections without a close frame (1006), and its upstream connections
// too, as a load balancer that dies does; it is out of rotation for the
// downtime.
func TestCrashDropsBothSides(t *testing.T) {
	u := newUpstream(t)
	p := startProxy(t, Options{Upstream: u.url("/"), Nodes: 1})
	ws, _ := dial(t, p.URL(), nil)
	eventually(t, "the connection counted", func() bool { return openConns(p) == 1 })
	ev := action.Event{Action: "crash", Node: 0, Code: action.CloseAbnormal, Params: &action.CrashParams{Node: 0, Downtime: 100 * time.Millisecond}}
	eff, err := action.Carry(context.Background(), p, ev)
	if err != nil || eff.Closed != 1 {
		t.Fatalf("crash = %+v, %v; want 1 closed", eff, err)
	}
	if code, _ := readClose(t, ws); code != websocket.CloseAbnormalClosure {
		t.Errorf("the client got %d, want 1006 (no close frame)", code)
	}
	if c := u.nextClose(t); c.code != websocket.CloseAbnormalClosure {
		t.Errorf("the upstream got %+v, want its connection dropped (1006)", c)
	}
	if st := p.NodeStatus()[0]; st.State != nodes.StateUp {
		t.Errorf("node 0 after the crash's downtime: %+v", st)
	}
}

// TestFreezeStopsRelaying: a frozen proxy node relays neither messages nor
// pings in either direction, and stalls a handshake assigned to it; after
// the thaw what waited goes through.
func TestFreezeStopsRelaying(t *testing.T) {
	u := newUpstream(t)
	p := startProxy(t, Options{Upstream: u.url("/"), Nodes: 1})
	ws, _ := dial(t, p.URL(), nil)
	eventually(t, "the connection counted", func() bool { return openConns(p) == 1 })
	pongs := make(chan struct{}, 4)
	ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	msgs := make(chan string, 4)
	go func() {
		for {
			_, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			msgs <- string(m)
		}
	}()
	if n, err := p.Freeze(context.Background(), 0, time.Time{}); err != nil || n != 1 {
		t.Fatalf("Freeze = %d, %v; want 1", n, err)
	}
	if st := p.NodeStatus()[0]; st.State != nodes.StateFrozen {
		t.Errorf("status %+v, want frozen", st)
	}
	ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
	ws.WriteMessage(websocket.TextMessage, []byte("held"))
	stalled := make(chan error, 1)
	go func() {
		d := websocket.Dialer{HandshakeTimeout: waitFor}
		c, _, err := d.Dial(p.URL(), nil)
		if err == nil {
			c.Close()
		}
		stalled <- err
	}()
	select {
	case <-pongs:
		t.Fatal("a pong came through a frozen node")
	case m := <-msgs:
		t.Fatalf("%q came through a frozen node", m)
	case err := <-stalled:
		t.Fatalf("a handshake with a frozen node ended: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := p.Thaw(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pongs:
	case <-time.After(waitFor):
		t.Error("no pong after the thaw")
	}
	select {
	case m := <-msgs:
		if m != "held" {
			t.Errorf("echo %q after the thaw", m)
		}
	case <-time.After(waitFor):
		t.Error("no echo after the thaw")
	}
	if err := <-stalled; err != nil {
		t.Errorf("the stalled handshake after the thaw: %v", err)
	}
}

// TestAcceptOfANodeInRotation: Accept of a node that is in rotation is an
// error, as on the embedded target, and leaves it as it is; after a Refuse
// it succeeds once, and the node's status counts the one time it was out.
func TestAcceptOfANodeInRotation(t *testing.T) {
	u := newUpstream(t)
	p := startProxy(t, Options{Upstream: u.url("/"), Nodes: 1})
	ctx := context.Background()
	if _, err := p.Accept(ctx, 0); err == nil {
		t.Error("Accept of a node in rotation succeeded")
	}
	if err := p.Refuse(ctx, 0, action.Ending{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Accept(ctx, 0); err != nil {
		t.Errorf("Accept after Refuse: %v", err)
	}
	if _, err := p.Accept(ctx, 0); err == nil {
		t.Error("a second Accept succeeded")
	}
	if st := p.Stats()[0]; !st.Up {
		t.Errorf("node 0 %+v, want up", st)
	}
	if st := p.NodeStatus()[0]; st.Restarts != 1 {
		t.Errorf("node 0 %+v, want one restart counted", st)
	}
}

// TestRetryAfterFirstDueBack: with no node in rotation, the Retry-After is
// the time until the first node due back, whatever the order of the nodes
// and though one of them has no known return.
func TestRetryAfterFirstDueBack(t *testing.T) {
	u := newUpstream(t)
	p := startProxy(t, Options{Upstream: u.url("/"), Nodes: 3})
	ctx := context.Background()
	now := time.Now()
	for node, back := range []time.Time{now.Add(2 * time.Second), {}, now.Add(9 * time.Second)} {
		if err := p.Refuse(ctx, node, action.Ending{}, back); err != nil {
			t.Fatal(err)
		}
	}
	resp := refused(t, p.URL())
	if ra := resp.Header.Get("Retry-After"); resp.StatusCode != 503 || ra != "2" {
		t.Errorf("status %d, Retry-After %q; want 503 and 2, node 0's", resp.StatusCode, ra)
	}
}
