package protocol

import (
	"slices"
	"strings"
)

// actionCable speaks ActionCable's actioncable-v1-json, as @rails/actioncable
// 8.1.400 does (src: internal.js, connection.js, consumer.js,
// subscriptions.js, subscription.js, subscription_guarantor.js), to Rails
// 8.1 (v8.1.3.1 actioncable/lib/action_cable: connection/base.rb,
// channel/base.rb, server/base.rb, connection/internal_channel.rb) and to
// AnyCable (common/common.go), which speaks it too:
//   - the URL is the mount path, /cable; the client offers the
//     subprotocols actioncable-v1-json and actioncable-unsupported;
//   - the server opens with {"type":"welcome"} (AnyCable adds a "sid");
//   - a subscription's identifier is JSON.stringify of {channel, ...params}
//     (subscription.js), sent as a JSON string inside the command
//     {"command":"subscribe","identifier":"..."}; the server answers
//     {"identifier":...,"type":"confirm_subscription"} or
//     "reject_subscription" (Rails writes identifier first, AnyCable type
//     first; Rails and Go escape <, > and & as \u003c, \u003e, \u0026);
//   - the server pings {"type":"ping","message":<unix s>} every 3 s; the
//     client answers nothing (connection.js message: case ping);
//   - {"type":"disconnect","reason":...,"reconnect":...} ends the session:
//     the client closes, and with reconnect false, or missing, it stops for
//     good (connection.js close({allowReconnect}) stops the monitor), else
//     it comes back. Rails' reasons are unauthorized (reconnect false),
//     invalid_request, server_restart and remote (the caller's flag);
//     AnyCable adds idle_timeout (action_cable.rb INTERNAL, common.go).
//
// What the preset does not do as the client does:
//   - a reject_subscription: the client drops the subscription and keeps
//     the connection; here the connect attempt fails as "rejected", and the
//     client reconnects after its delay;
//   - an unanswered subscribe: the client sends it again every 500 ms
//     (subscription_guarantor.js); here it waits the script's timeout
//     (10 s), fails as "script timeout" and reconnects;
//   - the client reopens a connection that has sent nothing, pings
//     included, for 6 s (connection_monitor.js staleThreshold); here
//     fleet.ping_interval and pong_timeout find a dead server;
//   - the client closes for good when the server picks
//     actioncable-unsupported; the fleet does not read the subprotocol the
//     server picked.
//
// The fleet's periodic message is sent as the profile writes it: a channel
// answers a "message" command with a message of its own, not an echo of
// the command, so the preset frames nothing (write the whole command, and
// echo = false).
type actionCable struct{}

// ActionCableOptions are the actioncable preset's options, named as Rails
// and @rails/actioncable name them: config.action_cable.mount_path, and
// consumer.subscriptions.create({channel, ...params}).
type ActionCableOptions struct {
	MountPath string `toml:"mount_path" doc:"where the server is mounted (config.action_cable.mount_path), used when target.url has no path"`
	Channel   string `toml:"channel" doc:"the channel class subscribed to on each connection (\"ChatChannel\", a template); \"\": none, the connection only waits for the welcome"`
	Params    string `toml:"params" secret:"true" doc:"the subscription's other params, a JSON object whose members follow channel in the identifier (a template; ${NAME} from the environment); \"\": none"`
}

func (actionCable) Name() string { return "actioncable" }

func (actionCable) About() string {
	return "ActionCable (actioncable-v1-json) over WebSocket: welcome, subscribe and confirm, the server's disconnect with its reconnect flag"
}

func (actionCable) Source() string {
	return "@rails/actioncable 8.1.400 src/internal.js, connection.js, subscriptions.js, subscription.js; rails v8.1.3.1 actioncable/lib/action_cable connection/base.rb, channel/base.rb, server/base.rb; anycable common/common.go"
}

func (actionCable) Options() any { return &ActionCableOptions{MountPath: "/cable"} }

// cableReasons are the disconnect reasons the servers send: Rails' and
// AnyCable's idle_timeout.
var cableReasons = []string{"unauthorized", "invalid_request", "server_restart", "remote", "idle_timeout"}

func (actionCable) Build(opts any) (Spec, error) {
	o := opts.(*ActionCableOptions)
	if !strings.HasPrefix(o.MountPath, "/") || strings.ContainsAny(o.MountPath, "?#") {
		return Spec{}, badOption("mount_path", "%q is not a path: write where the server is mounted, e.g. \"/cable\"", o.MountPath)
	}
	spec := Spec{
		Path:         o.MountPath,
		Subprotocols: []string{"actioncable-v1-json", "actioncable-unsupported"},
		Script:       []Step{{ExpectRegex: `^\{"type":"welcome"[,}]`}},
		Replies:      cableDisconnects(),
	}
	if o.Channel == "" {
		if o.Params != "" {
			return Spec{}, badOption("params", "is set and channel is not: name the channel the params subscribe to")
		}
		return spec, nil
	}
	if err := checkTemplate(o.Channel); err != nil {
		return Spec{}, badOption("channel", "%v", err)
	}
	id := &jsValue{kind: jsObject}
	id.set("channel", jsValue{kind: jsString, text: o.Channel})
	if o.Params != "" {
		p, err := parseJSObject(o.Params)
		if err != nil {
			return Spec{}, badOption("params", "%v", err)
		}
		if slices.Contains(p.keys, "channel") {
			return Spec{}, badOption("params", "has channel: set the channel option instead")
		}
		for i, k := range p.keys {
			id.set(k, p.elems[i])
		}
	}
	// The server writes the identifier back as it read it, unescaped.
	echoed := jsQuote(id.stringify(exactJSON))
	spec.Script = append(spec.Script, Step{
		Send:        `{"command":"subscribe","identifier":"` + id.stringify(quotedJSON) + `"}`,
		ExpectRegex: cableAnswerRegex(echoed, "confirm_subscription"),
		RejectRegex: cableAnswerRegex(echoed, "reject_subscription"),
	})
	return spec, nil
}

// cableAnswerRegex matches the server's answer of type typ to the
// subscription whose identifier is quoted, a JSON string, with the keys in
// Rails' order or AnyCable's.
func cableAnswerRegex(quoted, typ string) string {
	id := `"identifier":` + jsonPattern(quoted)
	t := `"type":"` + typ + `"`
	return `^\{(?:` + id + `,` + t + `|` + t + `,` + id + `)[,}]`
}

// cableDisconnects are the rules of the disconnect message: for each known
// reason, reconnect true sends the client away to come back, reconnect
// false (or null, or none) stops it; then the same for any other reason.
// A rule's name is the reason its sessions are counted under.
func cableDisconnects() []Reply {
	var out []Reply
	for _, r := range cableReasons {
		name := "actioncable disconnect: " + r
		head := `^\{"type":"disconnect","reason":"` + r + `"`
		out = append(out,
			Reply{Name: name, Regex: head + `,"reconnect":true[,}]`, Then: Reconnect},
			Reply{Name: name, Regex: head + `(?:,"reconnect":(?:false|null))?\}$`, Then: Stop})
	}
	return append(out,
		Reply{Name: "actioncable disconnect", Regex: `^\{"type":"disconnect",.*"reconnect":true[,}]`, Then: Reconnect},
		Reply{Name: "actioncable disconnect", Regex: `^\{"type":"disconnect"[,}]`, Then: Stop})
}
