package target

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestWelcomeAndEchoOnEveryNode(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 3, Balancer: b})
			if got := tg.Balancer(); got != b {
				t.Fatalf("Balancer() = %q, want %q", got, b)
			}
			if !strings.HasPrefix(tg.URL(), "ws://127.0.0.1:") || !strings.HasSuffix(tg.URL(), "/") {
				t.Errorf("URL() = %q, want ws://127.0.0.1:PORT/", tg.URL())
			}
			seen := map[int]bool{}
			for _, c := range dialUntil(t, tg, 1) {
				if seen[c.node] {
					continue
				}
				seen[c.node] = true
				c.echo(t, websocket.TextMessage, []byte("hello"))
				c.echo(t, websocket.BinaryMessage, []byte{0, 1, 2, 0xff})
				c.echo(t, websocket.TextMessage, []byte(strings.Repeat("x", 5000)))
			}
		})
	}
}

func TestConnectionsSpreadAndStatsMatch(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 3, Balancer: b})
			var clients []*client
			for range 30 {
				clients = append(clients, dial(t, tg.URL()))
			}
			want := perNode(clients, 3)
			used := 0
			for _, n := range want {
				if n > 0 {
					used++
				}
			}
			if used < 2 {
				t.Errorf("30 clients per node: %v, want them on more than one node", want)
			}
			for i, s := range tg.Stats() {
				if s.Index != i || s.Conns != want[i] || s.Accepted != want[i] || s.Rejected != 0 || !s.Up {
					t.Errorf("Stats()[%d] = %+v, want Conns = Accepted = %d, Rejected 0, Up", i, s, want[i])
				}
			}

			// A client that leaves is no longer counted.
			gone := clients[0]
			gone.conn.Close()
			waitFor(t, "the node to count the client gone", func() bool {
				return tg.Stats()[gone.node].Conns == want[gone.node]-1
			})
			if got := tg.Stats()[gone.node].Accepted; got != want[gone.node] {
				t.Errorf("Accepted after a client left = %d, want %d", got, want[gone.node])
			}
		})
	}
}

func TestShutdownClosesEveryoneWithGoingAway(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg, err := Start(context.Background(), Options{Nodes: 3, Listen: "127.0.0.1:0", Balancer: b})
			if err != nil {
				t.Fatal(err)
			}
			clients := dialUntil(t, tg, 2)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := tg.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			for _, c := range clients {
				c.closedWith(t, websocket.CloseGoingAway, "going away")
			}
			for _, s := range tg.Stats() {
				if s.Conns != 0 || s.Up {
					t.Errorf("after Shutdown Stats()[%d] = %+v, want no conns and down", s.Index, s)
				}
			}
			if c, _, err := tryDial(tg.URL()); err == nil {
				c.conn.Close()
				t.Errorf("dial after Shutdown reached node %d, want an error", c.node)
			}
			if err := tg.Shutdown(ctx); err != nil {
				t.Errorf("second Shutdown: %v", err)
			}
			if _, err := closeShare(ctx, tg, closeSpec(1, 1000, 1)); err == nil {
				t.Error("Close after Shutdown succeeded, want an error")
			}
			if _, err := action.RestartNode(ctx, tg, 0, restartSpec(0, 0)); err == nil {
				t.Error("Restart after Shutdown succeeded, want an error")
			}
		})
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no nodes", Options{Nodes: 0}, "nodes is 0"},
		{"unknown balancer", Options{Nodes: 1, Balancer: "haproxy"}, "unknown balancer"},
		{"negative rate", Options{Nodes: 1, Capacity: profile.Capacity{AcceptRate: -1}}, "accept_rate"},
		{"negative max_conns", Options{Nodes: 1, Capacity: profile.Capacity{MaxConns: -1}}, "max_conns"},
		{"bad address", Options{Nodes: 1, Listen: "127.0.0.1:notaport"}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := Start(context.Background(), tt.opts)
			if err == nil {
				tg.Shutdown(context.Background())
				t.Fatalf("Start(%+v) succeeded, want an error", tt.opts)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start(%+v) = %v, want it to mention %q", tt.opts, err, tt.want)
			}
		})
	}
}

func TestPlainHTTPGetsUpgradeRequired(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1})
	resp, err := http.Get("http://" + tg.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: status %d, want %d", resp.StatusCode, http.StatusUpgradeRequired)
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	t.Parallel()
	tg, err := Start(context.Background(), Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	// A client that never reads does not answer the close, so the node
	// would wait for its reply.
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	conn, _, err := d.Dial(tg.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, "the connection to count", func() bool { return tg.Stats()[0].Conns == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tg.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a short ctx = %v, want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(start); took > closeReplyTimeout {
		t.Errorf("Shutdown took %v, want it to give up when ctx ends", took)
	}
}

// TestExplicitAddressTaken: a second target given the address of a running
// one fails, rather than share it through SO_REUSEPORT and split its
// clients; once the first is gone, the address is free again.
func TestExplicitAddressTaken(t *testing.T) {
	t.Parallel()
	for _, b := range []string{BalancerReusePort, BalancerDispatch} {
		t.Run(b, func(t *testing.T) {
			if b == BalancerReusePort && !reusePortSupported {
				t.Skip("SO_REUSEPORT balancing needs Linux")
			}
			first, err := Start(context.Background(), Options{Nodes: 2, Listen: "127.0.0.1:0", Balancer: b})
			if err != nil {
				t.Fatal(err)
			}
			addr := first.Addr()
			for _, second := range []string{BalancerReusePort, BalancerDispatch} {
				if second == BalancerReusePort && !reusePortSupported {
					continue
				}
				tg, err := Start(context.Background(), Options{Nodes: 2, Listen: addr, Balancer: second})
				if err == nil {
					tg.Shutdown(context.Background())
					t.Fatalf("a %s target started on %s, which a %s target holds", second, addr, b)
				}
				if !strings.Contains(err.Error(), "address already in use") {
					t.Errorf("a %s target on %s, which a %s target holds: %v, want \"address already in use\"", second, addr, b, err)
				}
			}
			if err := first.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			tg, err := Start(context.Background(), Options{Nodes: 2, Listen: addr, Balancer: b})
			if err != nil {
				t.Fatalf("start on %s once the first target is gone: %v", addr, err)
			}
			if tg.Addr() != addr {
				t.Errorf("listening on %s, want %s", tg.Addr(), addr)
			}
			tg.Shutdown(context.Background())
		})
	}
}
