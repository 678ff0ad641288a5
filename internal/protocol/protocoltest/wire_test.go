package protocoltest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// These tests hold the servers' messages to the exact bytes the real
// servers send, with a plain WebSocket client, so they run where node is
// missing too.

func dial(t *testing.T, url string, protocols ...string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func exchange(t *testing.T, ws *websocket.Conn, send, want string) {
	t.Helper()
	if send != "" {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(send)); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("after %s: %v", send, err)
	}
	if string(got) != want {
		t.Errorf("after %s got\n%s\nwant\n%s", send, got, want)
	}
}

// closeCode reads until the connection ends and returns its close code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return CodeNoClose
		}
	}
}

func TestPhoenixWire(t *testing.T) {
	p := newPhoenix(t, PhoenixOptions{Channels: []string{"room:*"}})
	if _, resp, err := websocket.DefaultDialer.Dial(p.URL()+"/websocket?client=v1", nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a client without vsn (1.0.0, the V1 serializer) was not refused with 403: %v", err)
	}
	ws := dial(t, p.URL()+"/websocket?vsn=2.0.0&client=w1")
	exchange(t, ws, `[null,"1","phoenix","heartbeat",{}]`, `[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]`)
	exchange(t, ws, `["2","2","room:a","phx_join",{"k":1}]`, `["2","2","room:a","phx_reply",{"status":"ok","response":{}}]`)
	exchange(t, ws, `["2","3","room:a","ping",{"n":7}]`, `["2","3","room:a","phx_reply",{"status":"ok","response":{"n":7}}]`)
	exchange(t, ws, `["4","4","lobby","phx_join",{}]`, `[null,"4","lobby","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]`)
	// A second join of a joined topic closes the first one.
	exchange(t, ws, `["5","5","room:a","phx_join",{}]`, `["2","2","room:a","phx_close",{}]`)
	exchange(t, ws, "", `["5","5","room:a","phx_reply",{"status":"ok","response":{}}]`)
	exchange(t, ws, `["5","6","room:a","phx_leave",{}]`, `["5","6","room:a","phx_reply",{"status":"ok","response":{}}]`)
	exchange(t, ws, "", `["5","5","room:a","phx_close",{}]`)
}

// Cowboy closes an idle session with 1000 and ends a shutdown's leftover
// sessions without a close frame; the drainer works in batches.
func TestPhoenixCowboyIdleAndDrainBatches(t *testing.T) {
	p := newPhoenix(t, PhoenixOptions{Adapter: Cowboy, IdleTimeout: 200 * time.Millisecond})
	if code := closeCode(t, dial(t, p.URL()+"/websocket?vsn=2.0.0")); code != 1000 {
		t.Errorf("Cowboy's idle timeout closed with %d, want 1000", code)
	}

	p = newPhoenix(t, PhoenixOptions{Adapter: Cowboy, DrainBatchSize: 1, DrainBatchInterval: 100 * time.Millisecond})
	var joined []*websocket.Conn
	for range 3 {
		ws := dial(t, p.URL()+"/websocket?vsn=2.0.0")
		exchange(t, ws, `["1","1","room:a","phx_join",{}]`, `["1","1","room:a","phx_reply",{"status":"ok","response":{}}]`)
		joined = append(joined, ws)
	}
	idle := dial(t, p.URL()+"/websocket?vsn=2.0.0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("3 batches of 1, 100 ms apart, drained in %v", took)
	}
	for i, ws := range joined {
		if code := closeCode(t, ws); code != 1012 {
			t.Errorf("joined session %d closed with %d, want 1012", i, code)
		}
	}
	if code := closeCode(t, idle); code != CodeNoClose {
		t.Errorf("a session without a channel closed with %d, want none under Cowboy", code)
	}
	if _, _, err := websocket.DefaultDialer.Dial(p.URL()+"/websocket?vsn=2.0.0", nil); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dial after Shutdown: %v, want connection refused", err)
	}
}

func TestActionCableWire(t *testing.T) {
	a := newActionCable(t, ActionCableOptions{PingInterval: 100 * time.Millisecond, Channels: []string{"ChatChannel"}})
	ws := dial(t, a.URL()+"?client=w1", "actioncable-v1-json", "actioncable-unsupported")
	if got := ws.Subprotocol(); got != "actioncable-v1-json" {
		t.Errorf("subprotocol %q, want actioncable-v1-json", got)
	}
	exchange(t, ws, "", `{"type":"welcome"}`)
	id := `{\"channel\":\"ChatChannel\",\"room\":\"a\"}`
	exchange(t, ws, `{"command":"subscribe","identifier":"`+id+`"}`, `{"identifier":"`+id+`","type":"confirm_subscription"}`)
	exchange(t, ws, `{"command":"message","identifier":"`+id+`","data":"{\"action\":\"speak\"}"}`, `{"identifier":"`+id+`","message":{"action":"speak"}}`)
	// A repeated subscription and one to a channel that does not exist
	// get no answer: the next message is a ping.
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"command":"subscribe","identifier":"`+id+`"}`))
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"command":"subscribe","identifier":"{\"channel\":\"Nope\"}"}`))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, got, err := ws.ReadMessage()
	if err != nil || !strings.HasPrefix(string(got), `{"type":"ping","message":1`) {
		t.Errorf("got %s, %v; want a ping with the time in unix seconds", got, err)
	}
	if n := a.Disconnect(0, false); n != 1 {
		t.Fatalf("Disconnect ended %d sessions, want 1", n)
	}
	for {
		_, got, err = ws.ReadMessage()
		if err != nil || !strings.Contains(string(got), `"ping"`) {
			break
		}
	}
	if want := `{"type":"disconnect","reason":"remote","reconnect":false}`; string(got) != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
	if code := closeCode(t, ws); code != 1000 {
		t.Errorf("closed with %d after the disconnect message, want 1000", code)
	}
}
