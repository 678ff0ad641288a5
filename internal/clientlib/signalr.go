package clientlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// @microsoft/signalr 10.0.11, read from src/ of the npm package, with
// withAutomaticReconnect() and the WebSocket transport with negotiation
// skipped (skipNegotiation, transport WebSockets):
//   - DefaultReconnectPolicy: DEFAULT_RETRY_DELAYS_IN_MILLISECONDS is
//     [0, 2000, 10000, 30000, null]; given retryDelays it uses
//     [...retryDelays, null]. nextRetryDelayInMilliseconds returns the
//     entry at previousRetryCount: no randomisation, and it ignores
//     elapsedMilliseconds.
//   - HubConnection._connectionClosed: a close of a Connected connection
//     starts _reconnect whatever ended it: every close code, 1000 too
//     (WebSocketTransport._close passes any close on, with an error or
//     without), a dropped connection, the serverTimeout.
//   - HubConnection._reconnect: previousReconnectAttempts starts at 0 on
//     each close; the policy's delay for 0 comes first (null: no reconnect
//     at all); each failed _startInternal adds one and asks again; null
//     ends it ("Reconnect retries have been exhausted"). A success returns,
//     so the next close starts again from 0: the count resets when an
//     attempt connects (its hub handshake done), after no uptime.
//   - start() (_startWithStateTransitions): a failed first start rejects
//     and leaves the connection Disconnected. _reconnect runs only for a
//     connection that was Connected, so the first connect is never retried
//     (apps retry start() themselves; the library does not).
//   - Connect timeout: WebSocketTransport.connect sets none for the
//     upgrade; _startInternal arms serverTimeoutInMilliseconds (default
//     30000, HubConnection's DEFAULT_TIMEOUT_IN_MS) once the handshake
//     request is sent, and a handshake with no answer by then fails the
//     attempt. The preset's ConnectTimeout is that timer, counted from the
//     attempt (the upgrade's own time comes on top in the library).
//
// Not seen at the WebSocket level: the hub protocol's Close message
// (_processIncomingData, MessageType.Close) stops the client for good
// unless it carries allowReconnect: true, which reconnects through the
// policy as a close does (Away); and serverTimeoutInMilliseconds also
// closes a connection on which the server sent nothing for that long
// (its pings come every 15 s by default), which then reconnects.

// SignalROptions are withAutomaticReconnect's and HubConnection's options
// that shape the reconnect loop, in their names and units (milliseconds).
type SignalROptions struct {
	RetryDelays                 []float64 `toml:"retryDelays" doc:"the delay before each reconnect attempt after a close, in ms (withAutomaticReconnect(retryDelays)); as many attempts as delays, then it gives up; []: no reconnect"`
	ServerTimeoutInMilliseconds float64   `toml:"serverTimeoutInMilliseconds" doc:"how long, in ms, the hub handshake may go unanswered before the attempt fails (and a connection may stay silent before it closes)"`
}

// signalR is the @microsoft/signalr@10 preset.
type signalR struct{}

func (signalR) Name() string    { return "@microsoft/signalr@10" }
func (signalR) Version() string { return "10.0.11" }

func (signalR) About() string {
	return "after any close, reconnects after 0, 2, 10 and 30 s (no jitter), then gives up; the count resets on connect; a failed first start is not retried"
}

func (signalR) Source() string {
	return "@microsoft/signalr 10.0.11, src/DefaultReconnectPolicy.ts, src/HubConnection.ts (_startWithStateTransitions, _startInternal, _connectionClosed, _reconnect, _getNextRetryDelay, serverTimeout), src/HubConnectionBuilder.ts (withAutomaticReconnect), src/WebSocketTransport.ts (connect, _close)"
}

func (signalR) Options() any {
	return &SignalROptions{
		RetryDelays:                 []float64{0, 2000, 10000, 30000},
		ServerTimeoutInMilliseconds: 30000,
	}
}

func (signalR) Build(opts any) (Preset, error) {
	o := opts.(*SignalROptions)
	for i, d := range o.RetryDelays {
		if math.IsNaN(d) || d < 0 || d > jsTimerMaxMs {
			return nil, optstruct.Bad("retryDelays", "entry %d is %v: want a number of ms from 0 to %d", i, d, jsTimerMaxMs)
		}
	}
	if s := o.ServerTimeoutInMilliseconds; math.IsNaN(s) || s <= 0 || s > jsTimerMaxMs {
		return nil, optstruct.Bad("serverTimeoutInMilliseconds", "is %v: want a number of ms above 0, up to %d", s, jsTimerMaxMs)
	}
	return signalRPreset{delays: append([]float64(nil), o.RetryDelays...), serverTimeout: o.ServerTimeoutInMilliseconds}, nil
}

// signalRPreset is @microsoft/signalr configured.
type signalRPreset struct {
	delays        []float64 // retryDelays, without the closing null
	serverTimeout float64   // ms
}

func (p signalRPreset) ConnectTimeout() time.Duration { return Millis(p.serverTimeout) }
func (signalRPreset) Unsimulable() string             { return "" }

func (p signalRPreset) NewClient(*rand.Rand) Client { return &signalRClient{p: p} }

// nextRetryDelay is DefaultReconnectPolicy.nextRetryDelayInMilliseconds:
// the delay for previousRetryCount, false for the null past the list.
func (p signalRPreset) nextRetryDelay(previousRetryCount int) (float64, bool) {
	if previousRetryCount >= len(p.delays) {
		return 0, false
	}
	return p.delays[previousRetryCount], true
}

// signalRClient is one app's HubConnection.
type signalRClient struct {
	p            signalRPreset
	reconnecting bool // HubConnectionState.Reconnecting: in _reconnect's loop
	previous     int  // _reconnect's previousReconnectAttempts
	connected    bool // the latest attempt's hub handshake is done
}

func (c *signalRClient) Attempt(time.Duration) { c.connected = false }

// Opened is a connect whose hub handshake is done: start() resolved, or
// _reconnect returned; the next close counts from 0 again.
func (c *signalRClient) Opened(time.Duration) {
	c.reconnecting, c.previous, c.connected = false, 0, true
}

func (c *signalRClient) Failed(time.Duration, int, *rand.Rand) Next {
	if !c.reconnecting {
		return Stopped("@microsoft/signalr: start() failed; withAutomaticReconnect reconnects only a connection that was connected")
	}
	c.previous++
	d, ok := c.p.nextRetryDelay(c.previous)
	if !ok {
		c.reconnecting = false
		return GivenUp(fmt.Sprintf("@microsoft/signalr: reconnect retries have been exhausted after %d failed attempts", c.previous))
	}
	return After(Millis(d))
}

// Closed is _connectionClosed of a Connected connection: every code starts
// _reconnect. A close before the hub handshake's response rejects the
// start (or the reconnect attempt) instead: a failed attempt.
func (c *signalRClient) Closed(at time.Duration, _ int, rng *rand.Rand) Next {
	if !c.connected {
		return c.Failed(at, 0, rng)
	}
	c.connected = false
	c.previous = 0
	d, ok := c.p.nextRetryDelay(0)
	if !ok {
		return Stopped("@microsoft/signalr: the IRetryPolicy returned null on the first reconnect attempt (retryDelays is empty)")
	}
	c.reconnecting = true
	return After(Millis(d))
}

// Away is the hub's Close message with allowReconnect: true, which stops
// the connection and so reconnects through the policy as a close does;
// the library makes no difference for now. With retryDelays empty the
// library would not come back by itself: the app's own start() comes back
// at once, and like a first start it is not retried if it fails.
func (c *signalRClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	if n := c.Closed(at, 1000, rng); !n.Stop {
		return n
	}
	return After(0)
}
