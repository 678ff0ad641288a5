// Package protocol holds the protocol presets: what a client of a protocol
// spoken over WebSocket (Socket.IO, Centrifugo, graphql-ws, Phoenix
// channels, ActionCable) says on each new connection before it counts as
// recovered, what it answers for the life of the connection (a server's
// pings), which server messages and close codes end its session, and how
// its periodic messages are framed. fleet.protocol names a preset and
// [fleet.protocol_options] sets its options, in the protocol's own words.
//
// A preset owns no I/O: it compiles its options into a Spec of the generic
// parts a profile can also write by hand (a session script, reply rules, a
// heartbeat, close-code meanings), which the fleet runs. It says nothing of
// when a client reconnects: that is the reconnect behaviour's, a backoff
// strategy or a client library's, which combines with any protocol.
//
// Each preset is one file, in the static table of this file. The package
// imports no other wsstorm package: internal/profile decodes and checks the
// options through the table, internal/fleet runs the Spec.
package protocol

import (
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// Protocol is one protocol preset.
type Protocol interface {
	// Name is the preset's name in a profile: fleet.protocol = "socket.io".
	Name() string
	// About says in one line what the preset speaks and what it does.
	About() string
	// Source names the files, and their versions, its facts were read from.
	Source() string
	// Options returns a new option struct with every option at its
	// default: a pointer to a struct whose toml tags are the option names
	// as the protocol's own clients spell them, whose doc tags say what
	// each is, and whose secret tags ("true") mark the options that may
	// carry a credential.
	Options() any
	// Build returns the session parts of opts, an option struct Options
	// returned, decoded from the profile with its ${NAME} values expanded.
	// Its error names the option at fault by its key.
	Build(opts any) (Spec, error)
}

// table lists the presets, in the order the docs list them.
func table() []Protocol {
	return []Protocol{socketIO{}, centrifugo{}, graphqlWS{}, phoenix{}, actionCable{}}
}

// Lookup returns the preset named name.
func Lookup(name string) (Protocol, bool) {
	for _, p := range table() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// Names lists the presets' names in table order.
func Names() []string {
	ps := table()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name()
	}
	return out
}

// Spec is what a preset makes of its options: the parts of a session the
// fleet runs, before the profile's own.
type Spec struct {
	// Path is the URL path clients connect to when the target's URL names
	// none ("/socket.io/"); "": the URL's.
	Path string
	// Query is added to the URL's query, in order, unless the URL already
	// has the parameter.
	Query []Param
	// Subprotocols are offered in Sec-WebSocket-Protocol when the profile
	// offers none.
	Subprotocols []string
	// Script is what a client says and waits for on each new connection,
	// before the profile's own [[fleet.session.script]] steps; the last
	// message it waits for ends the client's recovery.
	Script []Step
	// Replies are rules for the life of each connection, tried after the
	// profile's own [[fleet.session.reply]] rules, which may so override
	// them.
	Replies []Reply
	// Heartbeat is a message the client sends on its own every interval
	// while connected (Phoenix's heartbeat).
	Heartbeat Heartbeat
	// Codes say what close codes mean in the protocol, over the RFC 6455
	// defaults and under the profile's on_close.
	Codes []CodeRange
	// Frame, when not nil, turns the profile's periodic message (a
	// template) into the protocol's message carrying it (a Socket.IO
	// event); an echo is awaited in the same frame.
	Frame func(message string) string
}

// Param is one query parameter of a URL.
type Param struct{ Name, Value string }

// Step is one step of a session script: a message to send, then a message
// to wait for, either of which may be left out. Messages are templates
// ({{client}}, {{session}}, {{key}}, {{uuid}}, {{seq}}).
type Step struct {
	Send        string // a text message
	Expect      string // wait for a message that contains this; or
	ExpectRegex string // for one that matches this regular expression
	// Reject and RejectRegex name a message that ends the wait as a
	// refusal (a failed connect attempt, reason "rejected"), as a
	// protocol's error reply does: a message that contains Reject, or
	// matches RejectRegex.
	Reject      string
	RejectRegex string
	// Timeout bounds the wait; 0: the script's default.
	Timeout time.Duration
}

// What a matching server message means for the session (Reply.Then), and
// what a close code means (CodeRange.Then).
const (
	// Continue: the rule answers, if it sends, and the session goes on.
	Continue = ""
	// Stop: the server ended the session; the client stops, as after a
	// 1000 close, and the stop is counted by the rule's name.
	Stop = "stop"
	// Reconnect: the server told the client to come back; it closes and
	// reconnects after its reconnect delay, as after a 1012 close.
	Reconnect = "reconnect"
	// ReconnectNow: as Reconnect, with no delay.
	ReconnectNow = "reconnect_now"
)

// ThenValues lists what Reply.Then may be.
func ThenValues() []string { return []string{Continue, Stop, Reconnect, ReconnectNow} }

// Reply is a rule that runs for the life of a connection: when a message
// from the server matches (exactly, by a substring or by a regular
// expression: one of the three), the client sends Send, if any, then does
// what Then says. The first rule that matches a message wins. Its toml tags
// are the keys of a profile's [[fleet.session.reply]].
type Reply struct {
	// Name names the rule in errors and, for a rule that ends the session,
	// in the counters of the stops and reconnects it caused.
	Name     string `toml:"name"`
	Equals   string `toml:"equals"`   // the message is exactly these bytes
	Contains string `toml:"contains"` // the message contains this
	Regex    string `toml:"regex"`    // the message matches this regular expression
	Send     string `toml:"send"`     // the reply, a template; "": none
	Then     string `toml:"then"`     // "" (go on), "stop", "reconnect" or "reconnect_now"
}

// Heartbeat is a message a connected client sends every Interval on its
// own ({{seq}}: the message's number in the session).
type Heartbeat struct {
	Interval time.Duration
	Send     string
}

// CodeRange says what the close codes From to To (inclusive) mean: Then is
// Stop or Reconnect; a Stop is counted as a protocol stop under Reason.
type CodeRange struct {
	From, To int
	Then     string
	Reason   string
}

// Of returns the range of rs that holds code, or nil.
func Of(rs []CodeRange, code int) *CodeRange {
	for i := range rs {
		if rs[i].From <= code && code <= rs[i].To {
			return &rs[i]
		}
	}
	return nil
}

// OptionError is a Build error that one option's value caused.
type OptionError = optstruct.Error

// badOption returns an OptionError of option key.
func badOption(key, format string, args ...any) error {
	return optstruct.Bad(key, format, args...)
}
