// Package profile defines the TOML schema of a wsstorm profile: its keys, their
// defaults, strict decoding (unknown keys are errors) and validation.
package profile

import (
	"cmp"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// Profile is one storm: a target, a fleet of clients and a timeline of chaos.
type Profile struct {
	Name     string   `toml:"name"`
	Duration Duration `toml:"duration"`
	Seed     uint64   `toml:"seed"`

	Target Target      `toml:"target"`
	Fleet  Fleet       `toml:"fleet"`
	Chaos  []ChaosStep `toml:"chaos"`

	// Thresholds map a metric to a bound, e.g. "reconnect.p99" = "< 5s";
	// a run that misses one fails (exit 1).
	Thresholds map[string]string `toml:"thresholds"`
	// Detect turns on observe mode: wsstorm triggers nothing and finds the
	// restarts in the closes its clients see.
	Detect Detect `toml:"detect"`

	// Compare maps a metric to how much worse it may get than a baseline
	// before `wsstorm compare` calls it a regression, e.g.
	// "reconnect.p99" = "+10%"; "default" covers the metrics not named.
	Compare map[string]string `toml:"compare"`

	// Sweep configures `wsstorm sweep` ([sweep]); a run ignores it.
	Sweep Sweep `toml:"sweep"`

	// Path is where the profile was read from ("(built-in)" for the default).
	Path string `toml:"-"`
	// SHA256 is the hex digest of the profile's bytes as read, before --set.
	SHA256 string `toml:"-"`
	// Overrides are the --set key=value pairs applied, in order.
	Overrides []string `toml:"-"`
	// Scale is the factor --scale or --quick multiplied the timeline by
	// (LoadScaled); 0 when it is as written.
	Scale float64 `toml:"-"`
	// ScaleExact is Scale as an exact fraction ("4/9"), which the segments
	// of --processes are given so that they scale their timeline alike.
	ScaleExact string `toml:"-"`
	// Warnings are what a run of the valid profile would miss, though it
	// can run (clients that may not be back before the run ends): each
	// names its key and line as an Error does.
	Warnings []*Error `toml:"-"`
}

// Target describes what the fleet connects to.
type Target struct {
	Mode     string   `toml:"mode"`   // embedded | external | proxy
	Nodes    int      `toml:"nodes"`  // embedded and proxy: number of nodes sharing one address
	Listen   string   `toml:"listen"` // embedded and proxy: address the nodes share
	Capacity Capacity `toml:"capacity"`

	// External targets (and the proxy's upstream).
	URL  string   `toml:"url"`  // ws:// or wss://; ${NAME} takes a value from the environment; proxy: the upstream
	URLs []string `toml:"urls"` // external: several URLs, client i connects to URLs[i % len]
	// Headers are request headers; ${NAME} takes a value from the environment.
	Headers      map[string]string `toml:"headers"`
	Subprotocols []string          `toml:"subprotocols"` // offered in Sec-WebSocket-Protocol, in order
	Origin       string            `toml:"origin"`       // the Origin header of the handshake
	TLS          TLS               `toml:"tls"`

	// NodeHooks are an external target's nodes, [[target.nodes]] in a
	// profile: how a chaos step restarts each of them.
	NodeHooks []NodeHook `toml:"-"`
	// OnHookFailure says what a run does when a hook fails: "continue" (the
	// event is marked failed) or "abort" (the run ends, results written).
	OnHookFailure string `toml:"on_hook_failure"`

	// Secrets are the values that came from the environment through ${NAME},
	// and header values given with --set; they must never be written to
	// results or logs (see Redact).
	Secrets []string `toml:"-"`
}

// TLS configures wss:// connections. Certificates are verified unless
// InsecureSkipVerify is set explicitly.
type TLS struct {
	CAFile             string `toml:"ca_file"`     // PEM file of extra trusted roots
	ServerName         string `toml:"server_name"` // name to verify (default: the URL's host)
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
	CertFile           string `toml:"cert_file"` // PEM client certificate, for servers that ask for one
	KeyFile            string `toml:"key_file"`  // PEM private key of cert_file
}

// NodeHook is one node of an external target: a name, how to restart it,
// by a command (run without a shell) or an HTTP request, and how it carries
// out other chaos actions (Hooks). Template variables ({{node}}, {{name}},
// and the action's: {{code}}, {{drain}}, {{downtime}}, {{reason}} for a
// restart) in the command's arguments and the request's URL and body take
// the chaos step's values.
type NodeHook struct {
	Name    string   `toml:"name"`
	Command []string `toml:"command"` // argv; command[0] is looked up in PATH
	HTTP    HookHTTP `toml:"http"`
	Timeout Duration `toml:"timeout"` // the hook must finish within this
	// Window is how long after the hook starts the node's clients may be
	// closed by it (a rollout takes longer than the command that starts it):
	// closes with the step's code in this time belong to the event.
	Window Duration `toml:"window"`
	// Hooks are the node's hooks for other actions, by the action's hook
	// name: [target.nodes.hooks.crash], [target.nodes.hooks.freeze].
	Hooks map[string]Hook `toml:"hooks"`
}

// Hook is how a node of an external target carries out one chaos action:
// a command or an HTTP request, as a NodeHook restarts it.
type Hook struct {
	Command []string `toml:"command"`
	HTTP    HookHTTP `toml:"http"`
	Timeout Duration `toml:"timeout"`
	Window  Duration `toml:"window"`
}

// RestartHook is the name of the hook that a node's own command or HTTP
// request is: restart and rolling_restart steps run it.
const RestartHook = action.RestartHook

// Hook returns the node's hook of the name, and whether the node has it.
func (n NodeHook) Hook(name string) (Hook, bool) {
	if name == RestartHook {
		h := Hook{Command: n.Command, HTTP: n.HTTP, Timeout: n.Timeout, Window: n.Window}
		return h, len(n.Command) > 0 || n.HTTP.URL != ""
	}
	h, ok := n.Hooks[name]
	return h, ok
}

// HookHTTP is an HTTP request that carries out a node's hook (its restart,
// crash or freeze).
type HookHTTP struct {
	Method  string            `toml:"method"`
	URL     string            `toml:"url"` // http:// or https://; ${NAME} takes a value from the environment
	Headers map[string]string `toml:"headers"`
	Body    string            `toml:"body"`
	Status  int               `toml:"status"` // expected status; 0: any 2xx
}

// Detect configures observe mode ([detect]): closes with the same code that
// follow each other within Gap form one detected event, if there are at
// least MinCloses of them.
type Detect struct {
	Enabled   bool     `toml:"enabled"`
	Gap       Duration `toml:"gap"`
	MinCloses int      `toml:"min_closes"`
}

// Sweep configures `wsstorm sweep` ([sweep]).
type Sweep struct {
	// MaxAttemptRate is the highest peak connect attempt rate (attempts/s)
	// a setting's herd may reach to be recommended; 0: the embedded
	// target's capacity (nodes × accept_rate), if any.
	MaxAttemptRate float64 `toml:"max_attempt_rate"`
}

// Capacity is the embedded target's capacity model, per node.
type Capacity struct {
	AcceptRate     float64  `toml:"accept_rate"`     // handshakes/s per node; excess gets 503 (0: unlimited)
	AcceptBurst    int      `toml:"accept_burst"`    // token bucket size (0: one second's worth)
	MaxConns       int      `toml:"max_conns"`       // open connections per node; excess gets 503 (0: unlimited)
	HandshakeDelay Duration `toml:"handshake_delay"` // simulated auth work before each upgrade
	RetryAfter     Duration `toml:"retry_after"`     // Retry-After sent with a 503 (rounded up to seconds)
}

// Fleet describes the simulated clients.
type Fleet struct {
	Clients          int      `toml:"clients"`
	Ramp             Duration `toml:"ramp"`
	MaxDialing       int      `toml:"max_dialing"`
	HandshakeTimeout Duration `toml:"handshake_timeout"`
	ReadLimit        int      `toml:"read_limit"`    // largest message accepted, bytes; larger closes with 1009
	WriteTimeout     Duration `toml:"write_timeout"` // a write blocked longer fails the connection
	PingInterval     Duration `toml:"ping_interval"` // a client pings this often (0s: never)
	// PongTimeout is how long a ping waits for its pong before the client
	// takes the connection for dead and ends it (1006); 0s: the handshake
	// timeout.
	PongTimeout Duration `toml:"pong_timeout"`
	// SourceAddrs are the local addresses clients connect from, addresses
	// or ranges ("127.0.0.2-127.0.0.40"): client i uses the (i mod n)-th.
	// Each (source, destination) pair has its own ~28,000 ephemeral ports.
	// Empty: the OS picks.
	SourceAddrs []string `toml:"source_addrs"`
	// Protocol names the protocol preset the clients speak over WebSocket
	// (internal/protocol: "socket.io", ...); "": none, raw WebSocket.
	Protocol string `toml:"protocol"`
	// ProtocolOptions are [fleet.protocol_options], the preset's options in
	// its own words.
	ProtocolOptions ProtocolOptions `toml:"protocol_options"`
	// Client names the client-library preset whose reconnect loop every
	// client follows (internal/clientlib: "socket.io-client@4"), in place
	// of the backoff of [fleet.reconnect]; "": that backoff.
	Client string `toml:"client"`
	// ClientOptions are [fleet.client_options], the library's options in
	// its own names and units.
	ClientOptions ClientOptions `toml:"client_options"`
	Session       Session       `toml:"session"`
	Reconnect     Reconnect     `toml:"reconnect"`
}

// ClientOptions are a client-library preset's options: its option struct
// (clientlib.Library.Options), decoded once every override is applied, and
// the preset built from them (nil without a preset, or with a bad option).
type ClientOptions struct {
	Params any              `toml:"-"`
	Preset clientlib.Preset `toml:"-"`
}

// ConnectTimeout is how long a client's connect attempt may take; 0: no
// limit. With a client preset it is the library's own connect timeout, and
// none when the library sets none (phoenix, actioncable): a stand-in limit
// would turn a slow server's accepts into a retry storm the real clients
// never make. Without one it is fleet.handshake_timeout.
func (f *Fleet) ConnectTimeout() time.Duration {
	if pr := f.ClientOptions.Preset; pr != nil {
		return pr.ConnectTimeout()
	}
	return f.HandshakeTimeout.D()
}

// ProtocolOptions are a protocol preset's options: its option struct
// (protocol.Protocol.Options), decoded once every override is applied,
// since an override may change fleet.protocol, and the session parts the
// preset makes of them (nil without a preset, or with a bad option).
type ProtocolOptions struct {
	Params any            `toml:"-"`
	Spec   *protocol.Spec `toml:"-"`
	// Written are the string options as the profile wrote them where that
	// differs from their value: with ${NAME} references, or "[redacted]"
	// for a credential given with --set. The effective profile writes them
	// so, not the secrets their values hold.
	Written map[string]any `toml:"-"` // a string, or a []string for a list
}

// PongWait is how long a client's ping waits for its pong: pong_timeout,
// or fleet.handshake_timeout when that is 0s, as the fleet takes it. The
// pings are wsstorm's, not a client library's, so a preset's connect
// timeout has no say.
func (f *Fleet) PongWait() time.Duration {
	return cmp.Or(f.PongTimeout.D(), f.HandshakeTimeout.D())
}

// Session describes what a connected client does.
type Session struct {
	SendInterval Duration `toml:"send_interval"` // 0: send nothing
	PayloadBytes int      `toml:"payload_bytes"`
	// Message is the text of each periodic message, a template ({{client}},
	// {{session}}, {{key}}, {{uuid}}, {{seq}}); empty: payload_bytes of
	// binary carrying the send time, which the embedded target echoes.
	Message string `toml:"message"`
	// Echo says the server echoes the periodic messages, so their round trip
	// is measured (message_rtt); without echoes message_rtt is absent.
	Echo     bool     `toml:"echo"`
	Lifetime Duration `toml:"lifetime"` // 0: sessions last until the server ends them
	Pause    Duration `toml:"pause"`    // after a session the client ended, before the next
	// Script is what a client does on each new connection before it counts
	// as recovered: messages to send and messages to wait for.
	Script []ScriptStep `toml:"script"`
	// Reply are [[fleet.session.reply]]: rules that answer the server's
	// messages, or end the session on them, for the life of a connection.
	Reply []protocol.Reply `toml:"reply"`
	// Heartbeat is a message a connected client sends on its own, every
	// interval.
	Heartbeat Heartbeat `toml:"heartbeat"`
}

// Heartbeat is [fleet.session.heartbeat].
type Heartbeat struct {
	Interval Duration `toml:"interval"` // 0s: none
	Send     string   `toml:"send"`     // a template; {{seq}} counts the session's messages
}

// ScriptStep is one [[fleet.session.script]] entry: a message to send, a
// message to wait for, or both (send first).
type ScriptStep struct {
	Send        string `toml:"send"`         // text message, a template like Session.Message
	SendFile    string `toml:"send_file"`    // or a file's bytes, sent as a binary message
	Expect      string `toml:"expect"`       // wait for a message that contains this
	ExpectRegex string `toml:"expect_regex"` // or that matches this regular expression
	// Reject and RejectRegex name a message that ends the wait as a
	// refusal, as a protocol's error reply: the attempt fails ("rejected").
	Reject      string   `toml:"reject"`
	RejectRegex string   `toml:"reject_regex"`
	Timeout     Duration `toml:"timeout"` // how long to wait for it
}

// Reconnect is the close-code policy and the backoff between attempts.
type Reconnect struct {
	Strategy        string            `toml:"strategy"`
	Min             Duration          `toml:"min"`
	Max             Duration          `toml:"max"`
	Base            Duration          `toml:"base"`
	Cap             Duration          `toml:"cap"`
	FirstDelay      Duration          `toml:"first_delay"`
	MaxAttempts     int               `toml:"max_attempts"`
	HonorRetryAfter bool              `toml:"honor_retry_after"`
	OnClose         map[string]string `toml:"on_close"`         // close code → "reconnect" | "stop"
	OnCloseDefault  string            `toml:"on_close_default"` // for codes not listed
}

// BackoffParams returns the durations of the strategy, for package backoff.
func (r Reconnect) BackoffParams() backoff.Params {
	return backoff.Params{Min: r.Min.D(), Max: r.Max.D(), Base: r.Base.D(), Cap: r.Cap.D()}
}

// ChaosStep is one [[chaos]] entry of the timeline: when it starts, its
// action, and the action's own keys (see internal/action).
type ChaosStep = action.Step
