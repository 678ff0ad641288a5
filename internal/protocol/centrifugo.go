package protocol

import (
	"encoding/json"
	"strconv"
	"strings"
)

// centrifugo speaks Centrifugo's JSON client protocol (protocol v2) over
// WebSocket, as centrifuge-js 5 does. From centrifuge-js 5.7.0
// (src/centrifuge.ts, subscription.ts, json.ts), and the centrifuge library
// Centrifugo v6.9.1 is built with (github.com/centrifugal/centrifuge
// v0.38.1-0.20260711082514-84d40cc4dbf6: client.go, disconnect.go,
// handler_websocket.go) with github.com/centrifugal/protocol v0.19.2
// (encode.go):
//   - the endpoint is /connection/websocket, JSON with no subprotocol;
//   - once open, the client sends its connect command and a subscribe
//     command per channel in one frame, one JSON command a line, numbered
//     from 1: {"connect":{"token":...,"data":...,"name":"js"},"id":1}
//     (_constructConnectCommand, _call, startBatching), then
//     {"subscribe":{"channel":...,"flag":1},"id":2} (_buildSubscribeCommand:
//     flag 1 asks for channel compaction);
//   - the server answers each command with a reply of its id,
//     {"id":1,"connect":{...,"ping":25,"pong":true}} and
//     {"id":2,"subscribe":{}}, or {"id":N,"error":{"code":...,"message":...}},
//     which fails the connect (_connectError) or the subscription; it may
//     join several replies and pushes in one frame, a line each
//     (JSONDataEncoder), or send them apart;
//   - the server pings every ping seconds of the connect reply with an
//     empty reply, {}, and closes with 3012 "no pong" if no {} came back
//     within its pong timeout; centrifuge-js answers when the connect reply
//     says pong: true (_handleServerPing). Answering regardless is safe: the
//     server refuses only a pong before any ping or a second pong to one
//     ping (client.go dispatchCommand);
//   - on WebSocket the server sends no disconnect push: its transport
//     disables it (DisabledPushFlags) and ends a session with a close frame
//     instead, whose code tells the client what to do (disconnect.go;
//     centrifuge-js onClose and _handleDisconnect): 3000–3499 and 4000–4499
//     reconnect (3001 "shutdown" on a server's shutdown), 3500–3999 and
//     4500–4999 are terminal. So the preset has close-code meanings and no
//     reply rule that ends a session. Below 3000, centrifuge-js reconnects
//     on every code but 1009: that is the client library's, and the RFC
//     6455 defaults stay.
type centrifugo struct{}

// CentrifugoOptions are the centrifugo preset's options, named as
// centrifuge-js names them.
type CentrifugoOptions struct {
	Path     string   `toml:"path" doc:"the server's WebSocket endpoint, used when target.url has none"`
	Token    string   `toml:"token" secret:"true" doc:"the connection token (a JWT) sent in the connect command, e.g. \"${CENTRIFUGO_TOKEN}\"; \"\": none (an anonymous or insecure server)"`
	Data     string   `toml:"data" secret:"true" doc:"custom data sent in the connect command, as JSON (a template); \"\": none"`
	Name     string   `toml:"name" doc:"the client's name sent in the connect command"`
	Version  string   `toml:"version" doc:"the client's version sent in the connect command; \"\": none"`
	Channels []string `toml:"channels" doc:"channels subscribed to after connecting; recovery ends when the last subscription is confirmed ([]: when the connect is)"`
}

func (centrifugo) Name() string { return "centrifugo" }

func (centrifugo) About() string {
	return "Centrifugo's JSON protocol over WebSocket: connect command and reply, channel subscriptions, server ping → pong, close codes with their reconnect advice"
}

func (centrifugo) Source() string {
	return "centrifuge-js 5.7.0 src/centrifuge.ts, subscription.ts and json.ts; github.com/centrifugal/centrifuge v0.38.1-0.20260711082514-84d40cc4dbf6 (Centrifugo v6.9.1) client.go, disconnect.go and handler_websocket.go; github.com/centrifugal/protocol v0.19.2 encode.go"
}

func (centrifugo) Options() any {
	return &CentrifugoOptions{Path: "/connection/websocket", Name: "js"}
}

// centrifugoTerminal are the terminal close codes centrifuge names, with
// its reasons (disconnect.go); the rest of 3500–3999 and 4500–4999 follow.
var centrifugoTerminal = []string{
	"invalid token", "bad request", "stale", "force disconnect", "connection limit",
	"channel limit", "inappropriate protocol", "permission denied", "not available", "too many errors",
}

// centrifugoCodes are the close codes' meanings, in the order Of tries them.
func centrifugoCodes() []CodeRange {
	codes := []CodeRange{{From: 3000, To: 3499, Then: Reconnect, Reason: "reconnect"}}
	for i, reason := range centrifugoTerminal {
		codes = append(codes, CodeRange{From: 3500 + i, To: 3500 + i, Then: Stop, Reason: reason})
	}
	return append(codes,
		CodeRange{From: 3500 + len(centrifugoTerminal), To: 3999, Then: Stop, Reason: "terminal disconnect"},
		CodeRange{From: 4000, To: 4499, Then: Reconnect, Reason: "application reconnect"},
		CodeRange{From: 4500, To: 4999, Then: Stop, Reason: "application terminal disconnect"},
	)
}

func (centrifugo) Build(opts any) (Spec, error) {
	o := opts.(*CentrifugoOptions)
	if !strings.HasPrefix(o.Path, "/") {
		return Spec{}, badOption("path", "%q must start with /", o.Path)
	}
	if o.Data != "" && !jsonTemplate(o.Data) {
		return Spec{}, badOption("data", "must be JSON, e.g. '{\"user\":\"{{client}}\"}'")
	}
	seen := map[string]bool{}
	for i, ch := range o.Channels {
		switch {
		case ch == "":
			return Spec{}, badOption("channels", "channel %d is empty: name each channel, e.g. [\"news\"]", i+1)
		case seen[ch]:
			return Spec{}, badOption("channels", "%q is listed twice: the server refuses a second subscription to a channel", ch)
		}
		seen[ch] = true
	}
	connect := []string{}
	if o.Token != "" {
		connect = append(connect, `"token":`+jsonString(o.Token))
	}
	if o.Data != "" {
		connect = append(connect, `"data":`+strings.TrimSpace(o.Data))
	}
	if o.Name != "" {
		connect = append(connect, `"name":`+jsonString(o.Name))
	}
	if o.Version != "" {
		connect = append(connect, `"version":`+jsonString(o.Version))
	}
	cmds := []string{`{"connect":{` + strings.Join(connect, ",") + `},"id":1}`}
	for i, ch := range o.Channels {
		cmds = append(cmds, `{"subscribe":{"channel":`+jsonString(ch)+`,"flag":1},"id":`+strconv.Itoa(i+2)+`}`)
	}
	last := strconv.Itoa(len(cmds))
	return Spec{
		Path: o.Path,
		Script: []Step{{
			Send: strings.Join(cmds, "\n"),
			// (?m): the reply may share its frame with others, a line each.
			ExpectRegex: `(?m)^\{"id":` + last + `,"(?:connect|subscribe)":`,
			RejectRegex: `(?m)^\{"id":\d+,"error":`,
		}},
		Replies: []Reply{
			{Name: "centrifugo ping", Regex: `(?m)^\{\}$`, Send: "{}"},
		},
		Codes: centrifugoCodes(),
	}, nil
}

// jsonTemplate says whether s, a template, is JSON once its references are
// filled in: each stands for a number, or for digits inside a string.
func jsonTemplate(s string) bool {
	return json.Valid([]byte(templateRef.ReplaceAllString(s, "0")))
}

// jsonObjectTemplate says whether s, a template, is a JSON object once its
// references are filled in.
func jsonObjectTemplate(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(templateRef.ReplaceAllString(s, "0")), &m) == nil && m != nil
}
