package clientlibs_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The server side of each library's protocol, as little of it as makes the
// library consider itself connected and keeps it so: the opening exchange,
// the replies its heartbeat waits for, the server's pings. Nothing else:
// what the harness measures is the reconnect loop around it.

// protocol is one protocol's server side.
type protocol struct {
	subprotocols []string
	// open runs once the upgrade is done; it says whether the client is
	// connected by then (a protocol with no opening exchange).
	open func(ss *session) bool
	// handle takes one message of the client's; it says whether the
	// message completed the opening exchange.
	handle func(ss *session, msg []byte) bool
	// ping, every pingEvery, is the server's keep-alive; beat: on the
	// server-wide beat (ActionCable's), not from the session's start.
	ping      func() string
	pingEvery time.Duration
	beat      bool
}

// protocolOf returns the server side of the protocol named name.
func protocolOf(name string) (protocol, bool) {
	switch name {
	case "socket.io":
		// Engine.IO 4's open packet, then the namespace's CONNECT answered
		// (engine.io-client 6.6.8, socket.io-client 4.8.4 socket.js onpacket).
		return protocol{open: socketioOpen, handle: socketioHandle, ping: fixed("2"), pingEvery: 25 * time.Second}, true
	case "phoenix":
		// phoenix.js is connected when its socket opens (socket.js
		// onConnOpen); its heartbeat and a join want a phx_reply.
		return protocol{open: connectedAtOpen, handle: phoenixHandle}, true
	case "signalr":
		// The JSON hub protocol's handshake: {"protocol":"json","version":1}
		// answered by {} (@microsoft/signalr 10.0.11 HandshakeProtocol.ts);
		// the server's pings keep its 30 s serverTimeout away.
		return protocol{open: notYet, handle: signalrHandle, ping: fixed(`{"type":6}` + "\x1e"), pingEvery: 15 * time.Second}, true
	case "centrifuge":
		// The JSON protocol's connect command and its reply with ping and
		// pong (centrifuge 5.8.0 build/index.js _connectResponse); a ping
		// is an empty object, answered by one.
		return protocol{open: notYet, handle: centrifugeHandle, ping: fixed("{}"), pingEvery: 25 * time.Second}, true
	case "graphql-ws":
		// graphql-transport-ws: connection_init, connection_ack (graphql-ws
		// 6.4.2 PROTOCOL.md); a subscription is kept open, never answered.
		return protocol{subprotocols: []string{"graphql-transport-ws"}, open: notYet, handle: graphqlwsHandle}, true
	case "actioncable":
		// The welcome on connect and a ping every 3 s to every connection
		// at once, as Rails' heartbeat timer (action_cable/server/connections.rb
		// BEAT_INTERVAL) sends them; the client's ConnectionMonitor reads
		// staleness from them.
		return protocol{subprotocols: []string{"actioncable-v1-json"}, open: actioncableOpen, handle: actioncableHandle, ping: actioncablePing, pingEvery: 3 * time.Second, beat: true}, true
	case "plain":
		return protocol{open: connectedAtOpen, handle: func(*session, []byte) bool { return false }}, true
	}
	return protocol{}, false
}

func fixed(msg string) func() string { return func() string { return msg } }
func connectedAtOpen(*session) bool  { return true }
func notYet(*session) bool           { return false }
func actioncablePing() string {
	return `{"type":"ping","message":` + strconv.FormatInt(time.Now().Unix(), 10) + `}`
}
func actioncableOpen(ss *session) bool { ss.send(`{"type":"welcome"}`); return true }
func socketioOpen(ss *session) bool {
	ss.send(`0{"sid":"e` + ss.name() + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	return false
}
func jsonString(s string) string                 { b, _ := json.Marshal(s); return string(b) }
func graphqlwsHandle(ss *session, m []byte) bool { return graphqlws(ss, m) }

// session is one upgraded connection of a client.
type session struct {
	srv   *server
	c     *client
	conn  *websocket.Conn
	proto protocol
	id    int

	wmu       sync.Mutex
	connected bool // only run's goroutine touches it
}

// name is a session id the protocols hand out.
func (ss *session) name() string { return strconv.Itoa(ss.id) }

// run serves the connection until it ends.
func (ss *session) run() {
	done := make(chan struct{})
	defer close(done)
	// The server's close frame went first; the client's answer ends the
	// read below, which closes TCP: no second close frame.
	ss.conn.SetCloseHandler(func(int, string) error { return nil })
	if ss.proto.ping != nil {
		go ss.pinger(done)
	}
	if ss.proto.open(ss) {
		ss.becameConnected()
	}
	for {
		_, msg, err := ss.conn.ReadMessage()
		if err != nil {
			ss.srv.ended(ss, err)
			_ = ss.conn.Close()
			return
		}
		if ss.proto.handle(ss, msg) {
			ss.becameConnected()
		}
	}
}

func (ss *session) becameConnected() {
	if !ss.connected {
		ss.connected = true
		ss.srv.connected(ss)
	}
}

// send writes one text message; a failure ends the read loop by itself.
func (ss *session) send(msg string) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	_ = ss.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = ss.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// pinger sends the protocol's pings until done.
func (ss *session) pinger(done <-chan struct{}) {
	every := ss.proto.pingEvery
	first := every
	if ss.proto.beat {
		first = every - time.Since(ss.srv.start)%every
	}
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			ss.send(ss.proto.ping())
			t.Reset(every)
		}
	}
}

// closeWith sends a close frame with code; the client's answer ends the
// connection (or, without one, the read deadline does).
func (ss *session) closeWith(code int) {
	deadline := time.Now().Add(3 * time.Second)
	_ = ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason), deadline)
	_ = ss.conn.SetReadDeadline(deadline)
}

// drop closes the TCP connection without a close frame.
func (ss *session) drop() { _ = ss.conn.Close() }

// socketioHandle answers a namespace CONNECT ("40", or "40/nsp," with an
// auth object) with its sid; pongs ("3") need nothing.
func socketioHandle(ss *session, m []byte) bool {
	msg := string(m)
	if !strings.HasPrefix(msg, "40") {
		return false
	}
	nsp := ""
	if strings.HasPrefix(msg, "40/") {
		if i := strings.IndexByte(msg, ','); i > 0 {
			nsp = msg[2 : i+1]
		}
	}
	ss.send("40" + nsp + `{"sid":"n` + ss.name() + `"}`)
	return true
}

// phoenixHandle replies ok to a V2 message that wants a reply: the
// heartbeat, a join, a leave.
func phoenixHandle(ss *session, m []byte) bool {
	var msg []json.RawMessage
	if json.Unmarshal(m, &msg) != nil || len(msg) != 5 {
		return false
	}
	var event string
	_ = json.Unmarshal(msg[3], &event)
	switch event {
	case "heartbeat", "phx_join", "phx_leave":
		ss.send("[" + string(msg[0]) + "," + string(msg[1]) + "," + string(msg[2]) + `,"phx_reply",{"status":"ok","response":{}}]`)
	}
	return false
}

// signalrHandle answers the handshake, the connection's first record.
func signalrHandle(ss *session, m []byte) bool {
	if ss.connected {
		return false // pings and invocations: nothing to answer
	}
	rec, _, _ := bytes.Cut(m, []byte{0x1e})
	var hs struct {
		Protocol string `json:"protocol"`
	}
	if json.Unmarshal(rec, &hs) != nil || hs.Protocol != "json" {
		ss.send(`{"error":"the harness speaks the json protocol only"}` + "\x1e")
		return false
	}
	ss.send("{}\x1e")
	return true
}

// centrifugeHandle answers connect and subscribe commands, one JSON object
// a line.
func centrifugeHandle(ss *session, m []byte) bool {
	connected := false
	for line := range bytes.SplitSeq(m, []byte{'\n'}) {
		var cmd struct {
			ID        int             `json:"id"`
			Connect   json.RawMessage `json:"connect"`
			Subscribe json.RawMessage `json:"subscribe"`
		}
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &cmd) != nil || cmd.ID == 0 {
			continue // a pong, or nothing to answer
		}
		id := strconv.Itoa(cmd.ID)
		switch {
		case cmd.Connect != nil:
			ss.send(`{"id":` + id + `,"connect":{"client":"c` + ss.name() + `","version":"0.0.0","ping":25,"pong":true}}`)
			connected = true
		case cmd.Subscribe != nil:
			ss.send(`{"id":` + id + `,"subscribe":{}}`)
		}
	}
	return connected
}

// graphqlws acknowledges connection_init and answers pings.
func graphqlws(ss *session, m []byte) bool {
	var msg struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(m, &msg)
	switch msg.Type {
	case "connection_init":
		ss.send(`{"type":"connection_ack"}`)
		return true
	case "ping":
		ss.send(`{"type":"pong"}`)
	}
	return false
}

// actioncableHandle confirms a subscription.
func actioncableHandle(ss *session, m []byte) bool {
	var msg struct {
		Command    string `json:"command"`
		Identifier string `json:"identifier"`
	}
	if json.Unmarshal(m, &msg) == nil && msg.Command == "subscribe" {
		ss.send(`{"identifier":` + jsonString(msg.Identifier) + `,"type":"confirm_subscription"}`)
	}
	return false
}
