package target

import (
	"context"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// TestFirstNodeNumbersEverything: with FirstNode 5 the welcome, Stats,
// NodeStatus, the event log and Restart's errors name the nodes 5 and 6,
// while Restart takes 0 and 1.
func TestFirstNodeNumbersEverything(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			log := &recordingLog{}
			tg := startTarget(t, Options{Nodes: 2, FirstNode: 5, Balancer: b, Log: log})
			if tg.FirstNode() != 5 || tg.Nodes() != 2 {
				t.Fatalf("FirstNode() %d, Nodes() %d; want 5 and 2", tg.FirstNode(), tg.Nodes())
			}
			var clients []*client
			count := map[int]int{}
			for range 200 {
				c := dial(t, tg.URL())
				if c.node != 5 && c.node != 6 {
					t.Fatalf("welcome names node %d, want 5 or 6", c.node)
				}
				clients = append(clients, c)
				count[c.node]++
				if count[5] > 0 && count[6] > 0 {
					break
				}
			}
			if count[5] == 0 || count[6] == 0 {
				t.Fatalf("clients per node %v, want some on 5 and 6", count)
			}
			for i, s := range tg.Stats() {
				if s.Index != 5+i || s.Conns != int64(count[5+i]) {
					t.Errorf("Stats()[%d] = %+v, want index %d with %d connections", i, s, 5+i, count[5+i])
				}
			}
			for i, s := range tg.NodeStatus() {
				if s.Index != 5+i || s.State != nodes.StateUp {
					t.Errorf("NodeStatus()[%d] = %+v, want index %d, up", i, s, 5+i)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			closed, err := action.RestartNode(ctx, tg, 1, restartSpec(0, 0))
			if err != nil || closed != count[6] {
				t.Fatalf("Restart(1) = (%d, %v), want (%d, nil)", closed, err, count[6])
			}
			for _, c := range clients {
				if c.node == 6 {
					c.closedWith(t, websocket.CloseServiceRestart, "restart")
				} else if !c.isOpen() {
					t.Errorf("a client of node 5 was closed by the restart of node 6")
				}
			}
			for _, e := range log.snapshot() {
				if e.node != 5 && e.node != 6 {
					t.Errorf("the log names node %d: %+v", e.node, e)
				}
				if e.event == "close" && e.node != 6 {
					t.Errorf("the log has a close on node %d, want only node 6's", e.node)
				}
			}
			if _, err := action.RestartNode(ctx, tg, 2, restartSpec(0, 0)); err == nil {
				t.Error("Restart(2) of a 2-node target succeeded, want an error")
			}
		})
	}
}

// TestSharePortJoinsAnotherTarget: a target with SharePort joins the
// explicit address of a running one (as a second wsstorm serve process
// would), the kernel spreads clients over both, and a restart of one
// target's node leaves the other's clients alone.
func TestSharePortJoinsAnotherTarget(t *testing.T) {
	t.Parallel()
	if !reusePortSupported {
		t.Skip("sharing a port needs SO_REUSEPORT (Linux)")
	}
	first := startTarget(t, Options{Nodes: 2, Balancer: BalancerReusePort})
	second := startTarget(t, Options{Nodes: 2, FirstNode: 2, Listen: first.Addr(), SharePort: true})
	if second.Addr() != first.Addr() || second.URL() != first.URL() {
		t.Fatalf("the second target is at %s, want %s", second.URL(), first.URL())
	}
	var clients []*client
	count := make([]int, 4)
	for range 200 {
		c := dial(t, first.URL())
		clients = append(clients, c)
		count[c.node]++
	}
	for _, n := range count {
		if n == 0 {
			t.Fatalf("200 clients per node %v, want some on every node of both targets", count)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	closed, err := action.RestartNode(ctx, second, 1, restartSpec(0, 0))
	if err != nil || closed != count[3] {
		t.Fatalf("restart of node 3 = (%d, %v), want (%d, nil)", closed, err, count[3])
	}
	for _, c := range clients {
		if c.node == 3 {
			c.closedWith(t, websocket.CloseServiceRestart, "restart")
		}
	}
	for _, c := range clients {
		if c.node != 3 && !c.isOpen() {
			t.Errorf("a client of node %d was closed by the restart of node 3", c.node)
		}
	}
}

// TestSharePortOptions: SharePort needs the reuseport balancer; FirstNode
// is not negative.
func TestSharePortOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Nodes: 1, FirstNode: -1}, "first node is -1"},
		{Options{Nodes: 1, SharePort: true, Balancer: BalancerDispatch}, `needs the "reuseport" balancer`},
	} {
		tg, err := Start(context.Background(), tc.opts)
		if err == nil {
			tg.Shutdown(context.Background())
			t.Errorf("Start(%+v) succeeded, want an error", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %v, want it to mention %q", tc.opts, err, tc.want)
		}
	}
	if !reusePortSupported {
		_, err := Start(context.Background(), Options{Nodes: 1, SharePort: true})
		if err == nil || !strings.Contains(err.Error(), "needs Linux") {
			t.Errorf("SharePort without SO_REUSEPORT: %v, want it to say it needs Linux", err)
		}
	}
}
