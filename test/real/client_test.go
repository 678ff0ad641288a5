package real_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// fleet is a few clients that hold sessions through the stack's nginx,
// speaking just enough of each protocol to stay connected, and reconnecting
// at once whenever the server closes.
type fleet struct {
	stack  *realtest.Stack
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	opened map[int]int   // client → sessions established
	closes map[int][]int // client → the close code each session ended with
	conns  map[int]*websocket.Conn
	errs   []error
}

func startFleet(t *testing.T, s *realtest.Stack, clients int) *fleet {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{stack: s, cancel: cancel, opened: map[int]int{}, closes: map[int][]int{}, conns: map[int]*websocket.Conn{}}
	for c := range clients {
		f.wg.Add(1)
		go f.client(ctx, c)
	}
	t.Cleanup(f.stop)
	return f
}

// client holds client c's sessions until ctx ends.
func (f *fleet) client(ctx context.Context, c int) {
	defer f.wg.Done()
	for ctx.Err() == nil {
		conn, err := f.session(ctx, c)
		if err != nil {
			f.fail(fmt.Errorf("client %d: %w", c, err))
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		code := f.hold(conn)
		f.mu.Lock()
		f.closes[c] = append(f.closes[c], code)
		delete(f.conns, c)
		f.mu.Unlock()
	}
}

// session dials and shakes hands.
func (f *fleet) session(ctx context.Context, c int) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if f.stack.Kind == realtest.GraphQLWS {
		d.Subprotocols = []string{"graphql-transport-ws"}
	}
	conn, _, err := d.DialContext(ctx, f.stack.ClientURL(c), nil)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := handshake(f.stack, conn, c); err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	f.mu.Lock()
	f.opened[c]++
	f.conns[c] = conn
	f.mu.Unlock()
	return conn, nil
}

// hold answers the server's pings until the session ends, and returns
// its close code (1006 without a close frame).
func (f *fleet) hold(conn *websocket.Conn) int {
	defer conn.Close()
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return websocket.CloseAbnormalClosure
		}
		if r := pong(f.stack.Kind, msg); r != nil {
			_ = conn.WriteMessage(websocket.TextMessage, r)
		}
	}
}

func (f *fleet) fail(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

// stop closes every session with 1000 and waits for the clients to end.
func (f *fleet) stop() {
	f.cancel()
	f.mu.Lock()
	for _, conn := range f.conns {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		f.mu.Lock()
		for _, conn := range f.conns {
			conn.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	}
}

// waitFor waits until cond holds over the clients' session counts.
func (f *fleet) waitFor(t *testing.T, what string, cond func(opened map[int]int) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		f.mu.Lock()
		ok := cond(f.opened)
		errs := append([]error(nil), f.errs...)
		f.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s; client errors: %v", what, errs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// handshake does the few steps of the kind's protocol that open a session:
// socket.io 4 (Engine.IO 4 open packet, namespace connect), graphql-ws
// (connection_init, ack, a subscription) or Centrifugo's JSON protocol
// (connect with a token, subscribe to the client's own channel).
func handshake(s *realtest.Stack, conn *websocket.Conn, c int) error {
	switch s.Kind {
	case realtest.SocketIO:
		if err := expect(conn, "0{"); err != nil {
			return err
		}
		if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			return err
		}
		return expect(conn, "40{")
	case realtest.GraphQLWS:
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init"}`)); err != nil {
			return err
		}
		if err := expect(conn, `{"type":"connection_ack"`); err != nil {
			return err
		}
		sub := `{"id":"1","type":"subscribe","payload":{"query":"subscription { ticks(everyMs: 1000) }"}}`
		return conn.WriteMessage(websocket.TextMessage, []byte(sub))
	default:
		connect, _ := json.Marshal(map[string]any{"id": 1, "connect": map[string]any{
			"token": s.ConnectionToken(fmt.Sprintf("client-%d", c)), "name": "realtest"}})
		if err := conn.WriteMessage(websocket.TextMessage, connect); err != nil {
			return err
		}
		if err := expect(conn, `{"id":1,"connect":`); err != nil {
			return err
		}
		sub := fmt.Sprintf(`{"id":2,"subscribe":{"channel":"client-%d"}}`, c)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
			return err
		}
		return expect(conn, `{"id":2,"subscribe":`)
	}
}

// expect reads one message and checks how it begins.
func expect(conn *websocket.Conn, prefix string) error {
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(msg), prefix) {
		return fmt.Errorf("got %q, want %s...", msg, prefix)
	}
	return nil
}

// pong is the answer to a server's ping, or nil.
func pong(kind realtest.Kind, msg []byte) []byte {
	switch {
	case kind == realtest.SocketIO && string(msg) == "2":
		return []byte("3")
	case kind == realtest.GraphQLWS && strings.HasPrefix(string(msg), `{"type":"ping"`):
		return []byte(`{"type":"pong"}`)
	case kind == realtest.Centrifugo && string(msg) == "{}":
		return []byte("{}")
	}
	return nil
}
