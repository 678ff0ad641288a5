// Package clientlib holds the client-library presets: the reconnect loops
// of the WebSocket client libraries people ship (socket.io-client, phoenix,
// @microsoft/signalr, centrifuge, graphql-ws, reconnecting-websocket,
// @rails/actioncable, Python's websockets), each at the version its file
// names, read from that version's source. fleet.client names a preset and
// [fleet.client_options] sets its options in the library's own names and
// units.
//
// A preset reproduces what its library does between a close and the next
// connect attempt: the delay and its randomisation as the library computes
// them, attempt limits, when the attempt count resets, what each close code
// does, its connect timeout and any other timer in its reconnect loop. It
// sees the WebSocket level only: what a protocol message makes the library
// do is the protocol preset's (internal/protocol) to say.
//
// The fleet and the simulator drive the same Client through the same calls,
// with times on the run's clock and the client's own random stream, so a
// simulated client waits exactly what a real one would. Each preset is one
// file, in the static table of this file. The package imports only
// internal/optstruct.
package clientlib

import (
	"math/rand/v2"
	"strings"
	"time"
)

// Library is one client library at one version: a preset.
type Library interface {
	// Name is the preset's name in a profile: fleet.client =
	// "socket.io-client@4". It carries the major version (the minor one
	// where the library changed its reconnect loop within a major).
	Name() string
	// Version is the exact version whose source the preset follows.
	Version() string
	// About says in one line what the library does after a close.
	About() string
	// Source names the files of Version the preset was read from.
	Source() string
	// Options returns a new option struct with every option at the
	// library's default (see internal/optstruct): a pointer to a struct
	// whose toml tags are the library's own option names, in its units.
	Options() any
	// Build returns the preset configured with opts, an option struct
	// Options returned, decoded from the profile. Its error is an
	// *optstruct.Error naming the option at fault.
	Build(opts any) (Preset, error)
}

// Preset is a library configured with its options: what every client of a
// run shares.
type Preset interface {
	// ConnectTimeout is how long the library lets a connect attempt take
	// (the handshake and, where the library waits for it, its protocol's
	// first reply) before it counts it failed; 0: it sets none.
	ConnectTimeout() time.Duration
	// Unsimulable says why wsstorm simulate cannot reproduce the library
	// exactly; "" when it can.
	Unsimulable() string
	// NewClient returns the reconnect state of one client, fresh from its
	// start. A value the library draws once per process is drawn here,
	// from rng: each client is an app of its own.
	NewClient(rng *rand.Rand) Client
}

// Client is one client's reconnect loop, as the library keeps it. Times
// are offsets from the run's start on its monotonic clock. The caller
// reports every attempt and its outcome in order: Attempt, then Opened or
// Failed; after Opened, Closed or Away ends the connection. Closed may
// also follow Attempt without Opened: the WebSocket opened, but the server
// or the network closed it before the protocol's opening exchange
// completed (the session script's awaited reply), which the library does
// not count as a connection. A client the user ends itself
// (fleet.session.lifetime) is not told: the next session is a new Client.
type Client interface {
	// Attempt says a connect attempt starts at at.
	Attempt(at time.Duration)
	// Opened says the latest attempt succeeded at at: the handshake is
	// done and so is the protocol's opening exchange, if it has one.
	Opened(at time.Duration)
	// Failed says the latest attempt failed at at: status is the HTTP
	// status the server refused the upgrade with (503), 0 when there was
	// none (the connection was refused or reset, or the attempt timed
	// out). It returns what the library does next.
	Failed(at time.Duration, status int, rng *rand.Rand) Next
	// Closed says the open connection closed at at, by the server or the
	// network, with code: the close frame's, 1005 for a frame without a
	// code, 1006 when the connection ended without a close frame. It
	// returns what the library does next.
	Closed(at time.Duration, code int, rng *rand.Rand) Next
	// Away says a protocol message sent the client away at at, to come
	// back (the protocol preset decided it comes back; now: the protocol
	// asks for at once). It returns when the library comes back; Stop is
	// never set.
	Away(at time.Duration, now bool, rng *rand.Rand) Next
}

// Next is what a library does after a close or a failed attempt.
type Next struct {
	// Wait is how long after the close or failure it makes its next
	// attempt; 0 with Stop.
	Wait time.Duration
	// Stop says it makes none: the close code ends its session, or it gave
	// up (GaveUp).
	Stop bool
	// GaveUp says it stopped because it reached its attempt limit, or its
	// time limit, with every attempt failed.
	GaveUp bool
	// Reason says why it stopped, in the library's terms:
	// "graphql-ws: close code 4400 is fatal".
	Reason string
}

// After returns the Next of a reconnect after wait.
func After(wait time.Duration) Next { return Next{Wait: max(wait, 0)} }

// Stopped returns the Next of a library that will not reconnect, and why.
func Stopped(reason string) Next { return Next{Stop: true, Reason: reason} }

// GivenUp returns the Next of a library that gave up, and why.
func GivenUp(reason string) Next { return Next{Stop: true, GaveUp: true, Reason: reason} }

// table lists the presets, in the order the docs list them: a new preset
// is one file and one row here. A function, so that no package state
// exists to be changed.
func table() []Library {
	return []Library{
		socketIOClient{},
		phoenix{},
		signalR{},
		centrifuge{},
		graphqlWS{},
		reconnectingWebSocket{},
		actionCable{},
		pythonWebsockets{},
	}
}

// Lookup returns the preset named name.
func Lookup(name string) (Library, bool) {
	for _, l := range table() {
		if l.Name() == name {
			return l, true
		}
	}
	return nil, false
}

// Names lists the presets' names in table order.
func Names() []string {
	ls := table()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name()
	}
	return out
}

// Suggest returns the preset name a mistyped name most likely meant: the
// preset of the same library when name lacks or misstates the version
// ("socket.io-client", "socket.io-client@3"), else "".
func Suggest(name string) string {
	lib, _, _ := strings.Cut(name, "@")
	for _, n := range Names() {
		if l, _, _ := strings.Cut(n, "@"); strings.EqualFold(l, lib) {
			return n
		}
	}
	return ""
}

// Millis returns n milliseconds, the unit JavaScript libraries count in,
// saturated at Forever.
func Millis(n float64) time.Duration { return saturate(n * float64(time.Millisecond)) }

// Forever is the longest wait or timeout a preset gives: longer than any
// run (24 h at most) by far, and far enough from time.Duration's end that
// adding it to a run's time cannot overflow. An option of years means
// "never" to the run, not a wrap to a negative or zero wait.
const Forever = time.Duration(1 << 62)

// saturate converts ns nanoseconds to a Duration within [0, Forever].
func saturate(ns float64) time.Duration {
	if ns >= float64(Forever) {
		return Forever
	}
	return time.Duration(max(ns, 0))
}

// jsTimerMaxMs is the longest delay setTimeout keeps (2^31 − 1 ms): a longer
// one fires at once (browsers) or after 1 ms (Node), which no one means.
const jsTimerMaxMs = 1<<31 - 1
