package target

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// TestCrashDropsWithoutCloseFrames: a crash ends the node's connections
// with no close frame at all (the client sees 1006), keeps the node down
// for the downtime, and leaves its siblings alone.
func TestCrashDropsWithoutCloseFrames(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 2, Balancer: b})
			clients := dialUntil(t, tg, 2)
			before := perNode(clients, 2)
			ev := action.Event{Action: "crash", Node: 0, Code: action.CloseAbnormal, Params: &action.CrashParams{Node: 0, Downtime: 300 * time.Millisecond}}
			done := make(chan error, 1)
			var eff action.Effect
			go func() {
				var err error
				eff, err = action.Carry(context.Background(), tg, ev)
				done <- err
			}()
			waitFor(t, "node 0 to go down", func() bool { return !tg.Stats()[0].Up })
			for _, c := range clients {
				if c.node != 0 {
					continue
				}
				err := c.ended(t)
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
					t.Errorf("a client of the crashed node ended with %v, want 1006 (no close frame)", err)
				}
			}
			select {
			case err := <-done:
				if err != nil || int64(eff.Closed) != before[0] {
					t.Errorf("crash = %+v, %v; want %d closed", eff, err, before[0])
				}
			case <-time.After(testTimeout):
				t.Fatal("the crash did not end")
			}
			for _, c := range clients {
				if c.node != 0 && !c.isOpen() {
					t.Errorf("a client of node %d ended with %v", c.node, c.err)
				}
			}
			if !tg.Stats()[0].Up {
				t.Error("node 0 still down after its downtime")
			}
		})
	}
}

// TestFreezeHoldsTrafficUntilThaw: a frozen node answers no ping and
// echoes nothing, and stalls a new handshake, without closing anything;
// once it thaws, what waited goes through.
func TestFreezeHoldsTrafficUntilThaw(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1})
	c := dial(t, tg.URL())
	pongs := make(chan struct{}, 8)
	c.conn.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	if n, err := tg.Freeze(context.Background(), 0, time.Time{}); err != nil || n != 1 {
		t.Fatalf("Freeze = %d, %v; want 1 connection held", n, err)
	}
	if _, err := tg.Freeze(context.Background(), 0, time.Time{}); err == nil {
		t.Error("freezing a frozen node succeeded")
	}
	if st := tg.NodeStatus()[0]; st.State != nodes.StateFrozen || st.Conns != 1 {
		t.Errorf("status %+v, want frozen with its connection", st)
	}
	if err := c.conn.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte("held")); err != nil {
		t.Fatal(err)
	}
	// A new handshake stalls: its TCP connect succeeds, its upgrade waits.
	stalled := make(chan error, 1)
	go func() {
		d := websocket.Dialer{HandshakeTimeout: testTimeout}
		conn, _, err := d.Dial(tg.URL(), nil)
		if err == nil {
			conn.Close()
		}
		stalled <- err
	}()
	select {
	case <-pongs:
		t.Fatal("a frozen node answered a ping")
	case m := <-c.msgs:
		t.Fatalf("a frozen node echoed %q", m.data)
	case err := <-stalled:
		t.Fatalf("a handshake with a frozen node ended: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if !c.isOpen() {
		t.Fatalf("the frozen connection ended: %v", c.err)
	}
	if err := tg.Thaw(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pongs:
	case <-time.After(testTimeout):
		t.Error("no pong after the thaw")
	}
	select {
	case m := <-c.msgs:
		if string(m.data) != "held" {
			t.Errorf("echo %q after the thaw, want the held message", m.data)
		}
	case <-time.After(testTimeout):
		t.Error("no echo after the thaw")
	}
	if err := <-stalled; err != nil {
		t.Errorf("the stalled handshake after the thaw: %v", err)
	}
	if st := tg.NodeStatus()[0]; st.State != nodes.StateUp {
		t.Errorf("status after the thaw %+v, want up", st)
	}
}

// TestShutdownThawsAFrozenNode: shutting down a target with a frozen node
// closes its connections rather than hanging on them.
func TestShutdownThawsAFrozenNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, err := Start(ctx, Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, tg.URL())
	if _, err := tg.Freeze(ctx, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	if err := tg.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown of a frozen target: %v", err)
	}
	c.closedWith(t, websocket.CloseGoingAway, "going away")
	if _, err := tg.Freeze(ctx, 0, time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Freeze after Shutdown: %v, want net.ErrClosed", err)
	}
}

// TestEndOfAFrozenNode: a close or a restart that reaches a frozen node's
// connections ends them at once, as the proxy does, rather than when the
// node thaws: its close frames go out and the clients see them.
func TestEndOfAFrozenNode(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 2, Balancer: b})
			clients := dialUntil(t, tg, 2)
			ctx := context.Background()
			if _, err := tg.Freeze(ctx, 0, time.Time{}); err != nil {
				t.Fatal(err)
			}
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := tg.End(ctx, action.All(-1), action.Ending{Code: 1000, Reason: "bye"}, 0)
				done <- result{n, err}
			}()
			select {
			case r := <-done:
				if r.err != nil || r.n != len(clients) {
					t.Fatalf("End of every node = %d, %v; want %d", r.n, r.err, len(clients))
				}
			case <-time.After(2 * time.Second):
				tg.Thaw(ctx, 0)
				t.Fatal("End of every node still waiting after 2 s: the frozen node held it")
			}
			for _, c := range clients {
				c.closedWith(t, 1000, "bye")
			}
		})
	}
}

// TestAcceptOfANodeThatIsUp: Accept leaves a node that is up as it is, and
// says so; Shutdown then ends as it should.
func TestAcceptOfANodeThatIsUp(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 2})
	if _, err := tg.Accept(context.Background(), 0); err == nil {
		t.Error("Accept of a node that is up succeeded")
	}
	if st := tg.NodeStatus()[0]; st.State != nodes.StateUp {
		t.Errorf("node 0 after the Accept: %+v", st)
	}
	// startTarget's cleanup shuts the target down within testTimeout.
}

// TestAcceptsAtOnce: of two Accepts of a refusing node at the same moment
// (a lease that expired as its driver came back), one brings the node back
// and the other is refused, so there is one server and Shutdown ends on
// time. Several rounds, since the race is a narrow one.
func TestAcceptsAtOnce(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		ctx := context.Background()
		tg, err := Start(ctx, Options{Nodes: 2, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Refuse(ctx, 0, action.Ending{}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, err := tg.Accept(ctx, 0); errs <- err }()
		}
		ok := 0
		for range 2 {
			if <-errs == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("round %d: %d of 2 Accepts succeeded, want 1", round, ok)
		}
		// A second server would keep Shutdown waiting for good: fail
		// rather than hang the suite.
		shut := make(chan error, 1)
		go func() { shut <- tg.Shutdown(ctx) }()
		select {
		case err := <-shut:
			if err != nil {
				t.Fatalf("round %d: Shutdown: %v", round, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Shutdown still waiting after 10 s: a second server outlived it", round)
		}
	}
}
