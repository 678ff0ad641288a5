package protocol

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// phoenix speaks Phoenix Channels over the websocket transport with the V2
// JSON serializer, as phoenix.js 1.8.17 does (assets/js/phoenix: socket.js,
// channel.js, push.js, serializer.js, ajax.js, constants.js), to Phoenix
// 1.8 (v1.8.12 lib/phoenix/socket.ex, socket/serializers/
// v2_json_serializer.ex, transports/websocket.ex):
//   - the URL is endPoint + "/websocket", then the socket's params as query
//     parameters (Ajax.serialize), then vsn=2.0.0 (socket.js endPointURL);
//     a vsn no serializer matches is refused with 403;
//   - a message is [join_ref, ref, topic, event, payload] (serializer.js);
//     a join's ref is its join_ref (push.js send, channel.js joinRef), and
//     the server answers [join_ref, ref, topic, "phx_reply", {"status":
//     "ok" or "error", "response": ...}] with the keys in either order
//     (Jason writes a small map's keys sorted: "response" first), or with
//     join_ref null for a topic no channel routes ("unmatched topic");
//   - the heartbeat is [null, ref, "phoenix", "heartbeat", {}] every
//     heartbeatIntervalMs (socket.js sendHeartbeat); the server closes a
//     socket silent for its transport timeout, 60 s by default.
//
// What the preset does not do as phoenix.js does:
//   - phoenix.js sends each heartbeat heartbeatIntervalMs after the last
//     one's reply, and closes and reconnects when a reply is that late; the
//     preset sends one every heartbeatIntervalMs and does not watch the
//     replies (fleet.ping_interval and pong_timeout find a dead server);
//   - a join refused ("error") or unanswered within timeout: phoenix.js
//     keeps the socket and joins again after 1, 2, 5, then every 10 s
//     (rejoinAfterMs); here the connect attempt fails, "rejected" or
//     "script timeout", and the client reconnects after its delay;
//   - no server message ends a Phoenix socket. phx_error (the channel
//     crashed) makes phoenix.js join again 1 s later on the same socket,
//     and phx_close (the server stopped the channel) makes it drop the
//     channel and keep the socket (channel.js onError, onClose). Neither
//     ends the session, and the preset leaves both unanswered, since a
//     reply rule cannot wait: the session goes on with its heartbeat. A
//     profile that wants the rejoin at once adds a rule of its own, e.g.
//     regex = '^\["1","1","room:lobby","phx_error"' with send =
//     '["1","1","room:lobby","phx_join",{}]';
//   - close codes mean nothing special to the protocol: the drainer's 1012
//     (a shutdown) and the "disconnect" broadcast's 1001 bring the client
//     back by the RFC 6455 defaults. phoenix.js 1.8.17 also reconnects
//     after a 1000 (socket.js onConnClose: any close it did not make; its
//     main branch, 1.9.0-dev, does not), which a Cowboy endpoint sends at
//     the idle timeout: that is the client library's reconnect behaviour,
//     not the protocol's, and the RFC default (1000 stops) stands here.
//
// The fleet's periodic message is sent as the profile writes it: Phoenix
// answers a push with a phx_reply, not with the push, so the preset frames
// nothing (write the whole message, and echo = false).
type phoenix struct{}

// PhoenixOptions are the phoenix preset's options, named as phoenix.js
// names them: new Socket(endPoint, {params, vsn, timeout,
// heartbeatIntervalMs}) and socket.channel(topic, chanParams).
type PhoenixOptions struct {
	EndPoint            string `toml:"endPoint" doc:"the socket's mount path, as phoenix.js's endPoint (\"/socket\"); clients connect to it + \"/websocket\" when target.url has no path"`
	Params              string `toml:"params" secret:"true" doc:"the socket's params, a JSON object sent as query parameters as phoenix.js sends them (a template; ${NAME} from the environment); \"\": none"`
	Vsn                 string `toml:"vsn" doc:"the serializer version asked for in the vsn query parameter; the preset speaks V2 (2.x)"`
	HeartbeatIntervalMs int    `toml:"heartbeatIntervalMs" doc:"how often, in milliseconds, the client sends its heartbeat to the server"`
	Timeout             int    `toml:"timeout" doc:"how long, in milliseconds, the join waits for its reply"`
	Topic               string `toml:"topic" doc:"the channel topic joined on each connection (\"room:lobby\", a template); \"\": none, the socket only heartbeats (and the drainer, which reaches sockets through their channels, does not close it)"`
	ChanParams          string `toml:"chanParams" secret:"true" doc:"the join's payload, the channel's params as a JSON object (a template; ${NAME} from the environment); \"\": {}"`
}

func (phoenix) Name() string { return "phoenix" }

func (phoenix) About() string {
	return "Phoenix Channels (V2 JSON serializer) over WebSocket: the channel join and its reply, the heartbeat"
}

func (phoenix) Source() string {
	return "phoenix.js 1.8.17 assets/js/phoenix socket.js, channel.js, push.js, serializer.js, ajax.js; phoenix v1.8.12 lib/phoenix/socket.ex, socket/serializers/v2_json_serializer.ex, transports/websocket.ex"
}

func (phoenix) Options() any {
	return &PhoenixOptions{EndPoint: "/socket", Vsn: "2.0.0", HeartbeatIntervalMs: 30000, Timeout: 10000}
}

// phoenixJoinRef is the join_ref and ref of each connection's join: the
// session's first message, so the heartbeats' refs ({{seq}}) never reuse
// it.
const phoenixJoinRef = "1"

// minHeartbeatMs is the shortest heartbeat taken, fleet.session.heartbeat's
// floor.
const minHeartbeatMs = 10

func (phoenix) Build(opts any) (Spec, error) {
	o := opts.(*PhoenixOptions)
	if !strings.HasPrefix(o.EndPoint, "/") || strings.ContainsAny(o.EndPoint, "?#") {
		return Spec{}, badOption("endPoint", "%q is not a path: write the socket's mount path, e.g. \"/socket\"", o.EndPoint)
	}
	if !strings.HasPrefix(o.Vsn, "2.") {
		return Spec{}, badOption("vsn", "%q: the preset speaks the V2 JSON serializer, vsn 2.x (phoenix.js sends 2.0.0); 1.0.0 is the older serializer's", o.Vsn)
	}
	if o.HeartbeatIntervalMs < minHeartbeatMs {
		return Spec{}, badOption("heartbeatIntervalMs", "%d: write %d or more milliseconds (phoenix.js sends one every 30000)", o.HeartbeatIntervalMs, minHeartbeatMs)
	}
	if o.Timeout <= 0 {
		return Spec{}, badOption("timeout", "%d: write how many milliseconds the join waits for its reply, e.g. 10000", o.Timeout)
	}
	query, err := socketQuery(o.Params)
	if err != nil {
		return Spec{}, badOption("params", "%v", err)
	}
	spec := Spec{
		Path:      o.EndPoint + "/websocket",
		Query:     append(query, Param{"vsn", encodeURIComponent(o.Vsn)}),
		Heartbeat: Heartbeat{Interval: millis(o.HeartbeatIntervalMs), Send: `[null,"{{seq}}","phoenix","heartbeat",{}]`},
	}
	if o.Topic == "" {
		if o.ChanParams != "" {
			return Spec{}, badOption("chanParams", "is set and topic is not: name the topic the params join")
		}
		return spec, nil
	}
	if err := checkTemplate(o.Topic); err != nil {
		return Spec{}, badOption("topic", "%v", err)
	}
	payload := "{}"
	if o.ChanParams != "" {
		v, err := parseJSObject(o.ChanParams)
		if err != nil {
			return Spec{}, badOption("chanParams", "%v", err)
		}
		payload = v.stringify(exactJSON)
	}
	topic := jsQuote(o.Topic)
	spec.Script = []Step{{
		Send:        "[" + jsQuote(phoenixJoinRef) + "," + jsQuote(phoenixJoinRef) + "," + topic + `,"phx_join",` + payload + "]",
		ExpectRegex: joinReplyRegex(topic, "ok"),
		RejectRegex: joinReplyRegex(topic, "error"),
		Timeout:     millis(o.Timeout),
	}}
	return spec, nil
}

// joinReplyRegex matches the reply with status to the join of topic (as
// JSON): its join_ref, or null when no channel routes the topic (socket.ex
// handle_in), its ref, and the status first or last of the reply's keys, at
// the top of the reply's object (a response's own "status" is nested).
func joinReplyRegex(topic, status string) string {
	ref := `"` + phoenixJoinRef + `"`
	st := `"status":"` + status + `"`
	return `^\[(?:` + ref + `|null),` + ref + `,` + jsonPattern(topic) + `,"phx_reply",(?:\{` + st + `[,}]|.*` + st + `\}\]$)`
}

// millis is n milliseconds.
func millis(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// socketQuery returns the query parameters of the socket's params, a JSON
// object, as phoenix.js's Ajax.serialize writes them: each key in order,
// its value escaped by encodeURIComponent, a nested object's or array's
// members as key[member]. Template references are kept as they are.
func socketQuery(params string) ([]Param, error) {
	if params == "" {
		return nil, nil
	}
	v, err := parseJSObject(params)
	if err != nil {
		return nil, err
	}
	var out []Param
	if err := v.serialize("", &out); err != nil {
		return nil, err
	}
	for _, p := range out {
		if p.Name == "vsn" {
			return nil, errors.New("has vsn, which the preset sends: set the vsn option instead")
		}
	}
	return out, nil
}

// serialize appends v's members to out as Ajax.serialize does under
// parent ("" at the top): a nested object's or array's members as
// parent[member].
func (v *jsValue) serialize(parent string, out *[]Param) error {
	for i := range v.elems {
		k := v.memberName(i)
		if parent != "" {
			k = parent + "[" + k + "]"
		}
		m := &v.elems[i]
		switch {
		case m.kind == jsNull || (m.kind == jsObject || m.kind == jsArray) && len(m.elems) == 0:
			// for...in yields nothing here, and Ajax.serialize then joins
			// an empty part: "a=1&&b=2".
			return fmt.Errorf("%s is %s, which phoenix.js sends as an empty query part: leave it out", k, m.stringify(exactJSON))
		case m.kind == jsObject || m.kind == jsArray:
			if err := m.serialize(k, out); err != nil {
				return err
			}
		default:
			*out = append(*out, Param{Name: encodeURIComponent(k), Value: encodeURIComponent(m.text)})
		}
	}
	return nil
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does,
// but for its {{name}} template references, which the fleet renders.
func encodeURIComponent(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range templateRef.FindAllStringIndex(s, -1) {
		escapeURIPart(&b, s[last:m[0]])
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	escapeURIPart(&b, s[last:])
	return b.String()
}

func escapeURIPart(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
