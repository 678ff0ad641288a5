package protocol

import (
	"regexp"
	"strings"
)

// socketIO speaks Socket.IO 5 (the protocol of socket.io 4) over Engine.IO
// 4, on the WebSocket transport alone, as socket.io-client does with
// transports: ["websocket"]. From socket.io-client 4.8.4 and engine.io-client
// 6.6.8 (build/cjs), engine.io-parser 5 (commons.js) and socket.io-parser 4
// (index.js):
//   - the URL is /socket.io/?EIO=4&transport=websocket;
//   - the server opens with the Engine.IO open packet, 0{"sid":...,
//     "pingInterval":...,"pingTimeout":...};
//   - the client connects its namespace with a CONNECT packet, "40", then
//     the namespace and a comma unless it is "/", then the auth object as
//     JSON if any (socket.js _sendConnectPacket); the server answers
//     40[ns,]{"sid":...}, or CONNECT_ERROR, 44[ns,]{"message":...};
//   - the server pings, "2", and the client answers "3" at once
//     (engine.io-client socket.js, case "ping"); a client that does not is
//     dropped after pingInterval + pingTimeout;
//   - a DISCONNECT packet from the server, 41[ns,], ends the session:
//     socket.js ondisconnect gives "io server disconnect", and the client
//     does not reconnect (the manager's _close sets skipReconnect);
//   - an event is 42[ns,]["name",...args].
//
// What the preset does not do as the client does: socket.io-client takes a
// CONNECT_ERROR (44) as final, and the app must connect again
// (socket.js onpacket: destroy()); here the attempt fails as "rejected"
// and the client tries again after its reconnect delay, which is the
// reconnect behaviour's to decide, not the protocol's.
type socketIO struct{}

// SocketIOOptions are the socket.io preset's options, named as
// socket.io-client names them.
type SocketIOOptions struct {
	Path      string `toml:"path" doc:"the server's Socket.IO path, used when target.url has none"`
	Namespace string `toml:"namespace" doc:"the namespace connected to, \"/\" or \"/name\""`
	Auth      string `toml:"auth" secret:"true" doc:"the auth object sent with the namespace CONNECT packet, as JSON (a template; ${NAME} from the environment); \"\": none"`
	Event     string `toml:"event" doc:"the event name that carries fleet.session.message (the server echoes it for message_rtt)"`
}

func (socketIO) Name() string { return "socket.io" }

func (socketIO) About() string {
	return "Socket.IO 4 (Engine.IO 4) over WebSocket alone: open packet, namespace connect, ping → pong, events, the server's disconnect"
}

func (socketIO) Source() string {
	return "socket.io-client 4.8.4 build/cjs/socket.js and manager.js; engine.io-client 6.6.8 build/cjs/socket.js; engine.io-parser 5.2 commons.js; socket.io-parser 4.2 index.js"
}

func (socketIO) Options() any {
	return &SocketIOOptions{Path: "/socket.io/", Namespace: "/", Event: "message"}
}

// nsPrefix is what follows a packet's type for namespace ns: nothing for
// "/", else the namespace and a comma (socket.io-parser's encodeAsString).
func nsPrefix(ns string) string {
	if ns == "/" {
		return ""
	}
	return ns + ","
}

func (socketIO) Build(opts any) (Spec, error) {
	o := opts.(*SocketIOOptions)
	if !strings.HasPrefix(o.Namespace, "/") || strings.ContainsAny(o.Namespace, ",?#") {
		return Spec{}, badOption("namespace", "%q is not a namespace: write \"/\" or \"/name\", without commas", o.Namespace)
	}
	if !strings.HasPrefix(o.Path, "/") {
		return Spec{}, badOption("path", "%q must start with /", o.Path)
	}
	o.Auth = strings.TrimSpace(o.Auth)
	if o.Auth != "" && !jsonObjectTemplate(o.Auth) {
		return Spec{}, badOption("auth", "must be a JSON object, e.g. '{\"token\":\"${TOKEN}\"}'")
	}
	if o.Event == "" {
		return Spec{}, badOption("event", "is empty: name the event that carries fleet.session.message, e.g. \"message\"")
	}
	ns := nsPrefix(o.Namespace)
	q := regexp.QuoteMeta(ns)
	event := jsonString(o.Event)
	return Spec{
		Path:  o.Path,
		Query: []Param{{"EIO", "4"}, {"transport", "websocket"}},
		Script: []Step{
			{ExpectRegex: `^0\{`},
			{Send: "40" + ns + o.Auth, ExpectRegex: `^40` + q + `\{`, RejectRegex: `^44` + q},
		},
		Replies: []Reply{
			{Name: "engine.io ping", Equals: "2", Send: "3"},
			{Name: "io server disconnect", Regex: `^41` + q + `$`, Then: Stop},
		},
		Frame: func(message string) string {
			return "42" + ns + "[" + event + "," + jsonString(message) + "]"
		},
	}, nil
}
