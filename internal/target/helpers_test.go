package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsstorm/wsstorm/internal/action"
)

// balancers are the balancers every spread-sensitive test runs with.
var balancers = []string{BalancerReusePort, BalancerDispatch}

// testTimeout bounds every wait in these tests.
const testTimeout = 5 * time.Second

// startTarget starts a target and shuts it down when the test ends.
func startTarget(t *testing.T, opts Options) *Target {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	tg, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start(%+v): %v", opts, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := tg.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tg
}

type message struct {
	typ  int
	data []byte
}

// client is a test client that has read its welcome and reads on in the
// background until the connection ends.
type client struct {
	conn *websocket.Conn
	node int
	msgs chan message
	done chan struct{}
	err  error     // why reading ended; set before done is closed
	at   time.Time // when reading ended
}

// tryDial connects and reads the welcome. On a failed handshake it returns
// the HTTP response, if there was one.
func tryDial(url string) (*client, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	conn, resp, err := d.Dial(url, nil)
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadDeadline(time.Now().Add(testTimeout))
	typ, data, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("read welcome: %w", err)
	}
	var w struct {
		Type string `json:"type"`
		Node *int   `json:"node"`
	}
	if err := json.Unmarshal(data, &w); err != nil || typ != websocket.TextMessage || w.Type != "welcome" || w.Node == nil {
		conn.Close()
		return nil, nil, fmt.Errorf("welcome is %q (type %d), want a text {\"type\":\"welcome\",\"node\":N}", data, typ)
	}
	conn.SetReadDeadline(time.Time{})
	c := &client{conn: conn, node: *w.Node, msgs: make(chan message, 64), done: make(chan struct{})}
	go func() {
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				c.err, c.at = err, time.Now()
				close(c.done)
				return
			}
			c.msgs <- message{typ, data}
		}
	}()
	return c, nil, nil
}

// dial connects a client that is closed when the test ends.
func dial(t *testing.T, url string) *client {
	t.Helper()
	c, _, err := tryDial(url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// dialUntil dials until every node has at least perNode clients.
func dialUntil(t *testing.T, tg *Target, perNode int) []*client {
	t.Helper()
	var clients []*client
	count := make([]int, tg.Nodes())
	for range 100 * tg.Nodes() * perNode {
		c := dial(t, tg.URL())
		clients = append(clients, c)
		count[c.node]++
		if slices.Min(count) >= perNode {
			return clients
		}
	}
	t.Fatalf("after %d dials clients per node are %v, want at least %d each", len(clients), count, perNode)
	return nil
}

// ended waits for the client's connection to end and returns the error that
// ended it.
func (c *client) ended(t *testing.T) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(testTimeout):
		t.Fatalf("client of node %d still open after %v", c.node, testTimeout)
		return nil
	}
}

// closedWith waits for the connection to end and checks the close frame.
func (c *client) closedWith(t *testing.T, code int, reason string) {
	t.Helper()
	err := c.ended(t)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != code || ce.Text != reason {
		t.Errorf("client of node %d ended with %v, want close %d %q", c.node, err, code, reason)
	}
}

// isOpen reports whether the connection is still open.
func (c *client) isOpen() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// echo sends a message and checks that the same comes back.
func (c *client) echo(t *testing.T, typ int, data []byte) {
	t.Helper()
	if err := c.conn.WriteMessage(typ, data); err != nil {
		t.Fatalf("node %d: write: %v", c.node, err)
	}
	select {
	case m := <-c.msgs:
		if m.typ != typ || string(m.data) != string(data) {
			t.Errorf("node %d echoed (%d, %q), want (%d, %q)", c.node, m.typ, m.data, typ, data)
		}
	case <-c.done:
		t.Fatalf("node %d: connection ended before the echo: %v", c.node, c.err)
	case <-time.After(testTimeout):
		t.Fatalf("node %d: no echo after %v", c.node, testTimeout)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// perNode counts clients by node.
func perNode(clients []*client, nodes int) []int64 {
	count := make([]int64, nodes)
	for _, c := range clients {
		if c.isOpen() {
			count[c.node]++
		}
	}
	return count
}

// closeParams are a close step's keys and its seed.
type closeParams struct {
	Fraction float64
	Code     int
	Reason   string
	Seed     uint64
}

// closeShare closes a share of tg's connections as a close step does.
func closeShare(ctx context.Context, tg action.Target, spec closeParams) (int, error) {
	return action.CloseShare(ctx, tg, action.CloseParams{Fraction: spec.Fraction, Code: spec.Code, Reason: spec.Reason}, spec.Seed)
}
