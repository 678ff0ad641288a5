package target

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
)

func restartSpec(drain, downtime time.Duration) action.RestartParams {
	return action.RestartParams{Code: websocket.CloseServiceRestart, Reason: "restart", Drain: drain, Downtime: downtime}
}

func closeSpec(fraction float64, code int, seed uint64) closeParams {
	return closeParams{Fraction: fraction, Code: code, Reason: "bye", Seed: seed}
}

type restartResult struct {
	closed int
	err    error
}

// restartAsync runs Restart in the background.
func restartAsync(ctx context.Context, tg *Target, node int, spec action.RestartParams) <-chan restartResult {
	out := make(chan restartResult, 1)
	go func() {
		closed, err := action.RestartNode(ctx, tg, node, spec)
		out <- restartResult{closed, err}
	}()
	return out
}

func (r restartResult) String() string { return fmt.Sprintf("(%d, %v)", r.closed, r.err) }

func waitRestart(t *testing.T, ch <-chan restartResult) restartResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * testTimeout):
		t.Fatal("Restart did not return")
		return restartResult{}
	}
}

func TestRestartClosesOneNodeAndComesBack(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			const victim = 1
			tg := startTarget(t, Options{Nodes: 3, Balancer: b})
			clients := dialUntil(t, tg, 2)
			before := perNode(clients, 3)

			done := restartAsync(context.Background(), tg, victim, restartSpec(200*time.Millisecond, 800*time.Millisecond))
			waitFor(t, "the node to go down", func() bool { return !tg.Stats()[victim].Up })

			// While it is down, new clients land on its siblings.
			landed := 0
			for range 6 {
				c, _, err := tryDial(tg.URL())
				if err != nil {
					continue // dialled as the listener closed
				}
				t.Cleanup(func() { c.conn.Close() })
				if !tg.Stats()[victim].Up && c.node == victim {
					t.Errorf("a client landed on node %d while it was down", victim)
				}
				landed++
			}
			if landed < 3 {
				t.Errorf("only %d of 6 dials succeeded while one node was down", landed)
			}

			r := waitRestart(t, done)
			if r.err != nil || int64(r.closed) != before[victim] {
				t.Errorf("Restart = %v, want (%d, nil)", r, before[victim])
			}
			for _, c := range clients {
				if c.node == victim {
					c.closedWith(t, websocket.CloseServiceRestart, "restart")
				} else if !c.isOpen() {
					t.Errorf("client of node %d ended with %v, want it open", c.node, c.err)
				} else {
					c.echo(t, websocket.TextMessage, []byte("still here"))
				}
			}
			if s := tg.Stats()[victim]; !s.Up {
				t.Errorf("after Restart Stats()[%d] = %+v, want Up", victim, s)
			}

			// Back up: it takes new clients again.
			for range 100 {
				if c := dial(t, tg.URL()); c.node == victim {
					return
				}
			}
			t.Errorf("no client landed on node %d after it came back", victim)
		})
	}
}

func TestRestartSpreadsClosesOverDrain(t *testing.T) {
	t.Parallel()
	const drain = 400 * time.Millisecond
	tg := startTarget(t, Options{Nodes: 1})
	var clients []*client
	for range 5 {
		clients = append(clients, dial(t, tg.URL()))
	}
	closed, err := action.RestartNode(context.Background(), tg, 0, restartSpec(drain, 0))
	if err != nil || closed != len(clients) {
		t.Fatalf("Restart = (%d, %v), want (%d, nil)", closed, err, len(clients))
	}
	var times []time.Time
	for _, c := range clients {
		c.closedWith(t, websocket.CloseServiceRestart, "restart")
		times = append(times, c.at)
	}
	first := slices.MinFunc(times, time.Time.Compare)
	last := slices.MaxFunc(times, time.Time.Compare)
	if spread := last.Sub(first); spread < drain*3/4 || spread > drain+time.Second {
		t.Errorf("closes spread over %v, want about %v", spread, drain)
	}
}

func TestRestartWithEveryNodeDownRefuses(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 1, Balancer: b})
			c := dial(t, tg.URL())
			done := restartAsync(context.Background(), tg, 0, restartSpec(0, 600*time.Millisecond))
			c.closedWith(t, websocket.CloseServiceRestart, "restart")
			if nc, resp, err := tryDial(tg.URL()); err == nil {
				nc.conn.Close()
				t.Error("dial with every node down succeeded, want it refused")
			} else if resp != nil {
				t.Errorf("dial with every node down got HTTP %d, want the connection refused or reset", resp.StatusCode)
			}
			if r := waitRestart(t, done); r.err != nil || r.closed != 1 {
				t.Errorf("Restart = %v, want (1, nil)", r)
			}
			dial(t, tg.URL()).echo(t, websocket.TextMessage, []byte("back"))
		})
	}
}

func TestRestartErrors(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 2})
	ctx := context.Background()
	tests := []struct {
		name string
		node int
		spec action.RestartParams
		want string
	}{
		{"node below range", -1, restartSpec(0, 0), "nodes 0 to 1"},
		{"node above range", 2, restartSpec(0, 0), "nodes 0 to 1"},
		{"code out of range", 0, action.RestartParams{Code: 999}, "close code 999"},
		{"reason too long", 0, action.RestartParams{Reason: strings.Repeat("r", 124)}, "124 bytes"},
		{"negative drain", 0, action.RestartParams{Drain: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		if _, err := action.RestartNode(ctx, tg, tt.node, tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Restart(%d, %+v) = %v, want an error mentioning %q", tt.name, tt.node, tt.spec, err, tt.want)
		}
	}
	for _, s := range tg.Stats() {
		if !s.Up {
			t.Errorf("node %d is down after refused restarts", s.Index)
		}
	}
}

func TestRestartOfDownNodeFailsAndCancelBringsItBack(t *testing.T) {
	t.Parallel()
	for _, b := range balancers {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, Options{Nodes: 2, Balancer: b})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := restartAsync(ctx, tg, 0, restartSpec(0, time.Minute))
			waitFor(t, "the node to go down", func() bool { return !tg.Stats()[0].Up })

			if _, err := action.RestartNode(context.Background(), tg, 0, restartSpec(0, 0)); err == nil || !strings.Contains(err.Error(), "already down") {
				t.Errorf("Restart of a node that is down = %v, want an error saying so", err)
			}

			cancel()
			if r := waitRestart(t, done); !errors.Is(r.err, context.Canceled) {
				t.Errorf("cancelled Restart = %v, want %v", r, context.Canceled)
			}
			if !tg.Stats()[0].Up {
				t.Error("node is still down after its restart was cancelled")
			}
			for range 50 {
				if c := dial(t, tg.URL()); c.node == 0 {
					return
				}
			}
			t.Error("no client landed on node 0 after its restart was cancelled")
		})
	}
}

func TestCloseEndsAShareReproducibly(t *testing.T) {
	t.Parallel()
	const clients, seed = 10, 7
	run := func(t *testing.T) []int {
		tg := startTarget(t, Options{Nodes: 2, Balancer: BalancerDispatch})
		var cs []*client
		for range clients {
			cs = append(cs, dial(t, tg.URL()))
		}
		closed, err := closeShare(context.Background(), tg, closeSpec(0.5, 4000, seed))
		if err != nil || closed != clients/2 {
			t.Fatalf("Close(0.5) = (%d, %v), want (%d, nil)", closed, err, clients/2)
		}
		ended := func() int {
			n := 0
			for _, c := range cs {
				if !c.isOpen() {
					n++
				}
			}
			return n
		}
		waitFor(t, "the closed clients to see their close", func() bool { return ended() >= clients/2 })
		time.Sleep(100 * time.Millisecond) // time for any extra close to show
		var picked []int
		for i, c := range cs {
			if !c.isOpen() {
				c.closedWith(t, 4000, "bye")
				picked = append(picked, i)
			}
		}
		if len(picked) != clients/2 {
			t.Errorf("%d clients ended, want %d", len(picked), clients/2)
		}
		var open int64
		for _, s := range tg.Stats() {
			open += s.Conns
		}
		if open != clients/2 {
			t.Errorf("Stats count %d open, want %d", open, clients/2)
		}
		return picked
	}
	first, second := run(t), run(t)
	if !slices.Equal(first, second) {
		t.Errorf("same seed closed clients %v, then %v", first, second)
	}
}

func TestCloseRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1})
	tests := []struct {
		name string
		spec closeParams
	}{
		{"fraction above 1", closeParams{Fraction: 1.5}},
		{"negative fraction", closeParams{Fraction: -0.1}},
		{"code out of range", closeParams{Fraction: 0.5, Code: 5000}},
		{"reason too long", closeParams{Fraction: 0.5, Reason: strings.Repeat("r", 124)}},
	}
	for _, tt := range tests {
		if _, err := closeShare(context.Background(), tg, tt.spec); err == nil {
			t.Errorf("%s: Close(%+v) succeeded, want an error", tt.name, tt.spec)
		}
	}
}

// TestClose1014ReachesTheWire checks that a reserved code such as 1014 is
// sent as is: gorilla clients refuse it, so the raw frame is read too.
func TestClose1014ReachesTheWire(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1})

	raw, err := net.DialTimeout("tcp", tg.Addr(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(testTimeout))
	fmt.Fprintf(raw, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", tg.Addr())
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("raw handshake: %v, %v", resp, err)
	}
	if op, payload := readFrame(t, br); op != websocket.TextMessage || string(payload) != `{"type":"welcome","node":0}` {
		t.Fatalf("first frame = (%d, %q), want the welcome", op, payload)
	}

	gc := dial(t, tg.URL())
	waitFor(t, "both connections to count", func() bool { return tg.Stats()[0].Conns == 2 })
	if closed, err := closeShare(context.Background(), tg, closeParams{Fraction: 1, Code: 1014, Reason: "bad gateway"}); err != nil || closed != 2 {
		t.Fatalf("Close = (%d, %v), want (2, nil)", closed, err)
	}

	op, payload := readFrame(t, br)
	if op != websocket.CloseMessage || len(payload) < 2 {
		t.Fatalf("frame after Close = (%d, %q), want a close frame", op, payload)
	}
	if code, reason := binary.BigEndian.Uint16(payload), string(payload[2:]); code != 1014 || reason != "bad gateway" {
		t.Errorf("close frame carries (%d, %q), want (1014, %q)", code, reason, "bad gateway")
	}
	if err := gc.ended(t); err == nil || !strings.Contains(err.Error(), "bad close code 1014") {
		t.Errorf("gorilla client ended with %v, want it to report bad close code 1014", err)
	}
}

// readFrame reads one unmasked server frame with a short payload.
func readFrame(t *testing.T, r io.Reader) (opcode int, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatalf("read frame header: %v", err)
	}
	if h[1]&0x80 != 0 || h[1]&0x7f > 125 {
		t.Fatalf("frame header %x: want an unmasked frame with a short payload", h)
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatalf("read frame payload: %v", err)
	}
	return int(h[0] & 0x0f), payload
}
