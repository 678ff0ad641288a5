package clientlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// centrifuge-js 5.8.0, read from build/index.js of the npm package (the
// WebSocket transport alone: an endpoint given as a string, no emulation):
//   - defaults: minReconnectDelay 500, maxReconnectDelay 20000, timeout
//     5000, maxServerPingDelay 10000; _configure checks none of them.
//   - backoff(step, min, max), "full jitter": step capped at 31, interval =
//     randomInt(0, Math.min(max, min × 2^step)), the delay Math.min(max,
//     min + interval); randomInt(a, b) is Math.floor(Math.random() × (b − a
//     + 1) + a), one Math.random() per delay. So the delay is min plus an
//     integer in [0, min(max, min × 2^step)], capped at max: from the step
//     where min × 2^step reaches max (6, with the defaults), a share of
//     about min/max of the draws lands on max exactly. setTimeout waits
//     whole ms of it (fractional only with fractional options).
//   - _getReconnectDelay passes _reconnectAttempts as the step, then adds
//     one. connect() sets it to 0 and so does _connectResponse, the
//     server's reply to the connect command (on a WebSocket, at once; only
//     an emulation transport defers it): a connection that closes before
//     that reply keeps the count growing.
//   - The first connect is made at once (_startConnecting →
//     _startReconnecting → _initializeTransport); every later one after
//     _scheduleReconnect's backoff, whatever ended the previous one. There
//     is no attempt limit and no time limit.
//   - _initializeTransport arms a connect timeout of timeout ms: a
//     WebSocket not open by then fails (failTransport → _disconnect with
//     reconnect). Once open, the connect command is a call whose reply must
//     come within timeout ms more (_registerCall), or the attempt fails
//     too (errorCodes.timeout → _connectError → _disconnect with
//     reconnect). So an attempt may take up to 2 × timeout in all; the
//     preset's ConnectTimeout is the first, the handshake's.
//   - A refused upgrade (503) or a refused, reset or timed-out connection
//     closes the transport without a close frame (1006) before it opened:
//     onClose reconnects after the backoff, as after any transport close.
//   - onClose of the transport: with a close reason that is not JSON, a
//     code in 3500–3999 or 4500–4999 stops the client (state disconnected);
//     every other code ≥ 3000 reconnects after the backoff. Below 3000,
//     1009 stops it (disconnectedCodes.messageSizeLimit, "message size
//     limit exceeded") and every other code reconnects after the backoff
//     as connectingCodes.transportClosed. A close of code ≥ 3000 whose
//     reason is empty reconnects, and one whose reason is JSON is read as
//     the old advice {reason, reconnect}. This preset takes the reason
//     Centrifuge servers send: plain text, never empty (centrifuge v0.38
//     handler_websocket.go Close writes Disconnect.Reason), so the ranges
//     above are terminal.
//     3014 (stateInvalidated) reconnects too (with getToken set, for a new
//     token first).
//
// What the WebSocket level cannot see, the protocol session's (a later
// issue): a disconnect push (_handleDisconnect) follows the same code
// ranges, and a reconnecting one waits the same backoff (Away); a connect
// reply with an error of code ≥ 100, not temporary and not 109, stops the
// client; after the connect reply says ping p s, a connection silent for p
// s + maxServerPingDelay ms is torn down ("no ping") and reconnects after
// the backoff (_waitServerPing); getToken or getData failing waits the
// backoff too. In a browser an online event reconnects at once, and an
// offline one tears the connection down.

// CentrifugeOptions are centrifuge-js's reconnect options, in its names
// and units (milliseconds).
type CentrifugeOptions struct {
	MinReconnectDelay float64 `toml:"minReconnectDelay" doc:"the least delay before a reconnect, in ms; the backoff draws up to min × 2^n more"`
	MaxReconnectDelay float64 `toml:"maxReconnectDelay" doc:"the longest delay before a reconnect, in ms"`
	Timeout           float64 `toml:"timeout" doc:"how long, in ms, the WebSocket may take to open, and then the connect reply to come, before the attempt counts failed"`
}

// centrifuge is the centrifuge@5 preset.
type centrifuge struct{}

func (centrifuge) Name() string    { return "centrifuge@5" }
func (centrifuge) Version() string { return "5.8.0" }

func (centrifuge) About() string {
	return "reconnects after the backoff: 500 ms + a random 0 to 500 × 2^n ms, capped at 20 s, the count reset by each connect reply; 3500–3999, 4500–4999 and 1009 stop it"
}

func (centrifuge) Source() string {
	return "centrifuge-js 5.8.0, build/index.js (defaults, randomInt, backoff, _getReconnectDelay, connect, _connectResponse, _initializeTransport and its onClose, _scheduleReconnect, _disconnect, _registerCall, _waitServerPing, _handleDisconnect)"
}

func (centrifuge) Options() any {
	return &CentrifugeOptions{MinReconnectDelay: 500, MaxReconnectDelay: 20000, Timeout: 5000}
}

func (centrifuge) Build(opts any) (Preset, error) {
	o := *opts.(*CentrifugeOptions)
	for _, c := range []struct {
		key string
		v   float64
	}{{"minReconnectDelay", o.MinReconnectDelay}, {"maxReconnectDelay", o.MaxReconnectDelay}, {"timeout", o.Timeout}} {
		if math.IsNaN(c.v) || c.v < 0 || c.v > jsTimerMaxMs {
			return nil, optstruct.Bad(c.key, "is %v: want a number of ms from 0 to %d", c.v, jsTimerMaxMs)
		}
	}
	if o.Timeout == 0 {
		// The library takes it, and every attempt times out at once.
		return nil, optstruct.Bad("timeout", "is 0: every connect attempt would time out at once; want a number of ms above 0")
	}
	return centrifugePreset(o), nil
}

// centrifugePreset is centrifuge-js configured.
type centrifugePreset CentrifugeOptions

func (p centrifugePreset) ConnectTimeout() time.Duration { return Millis(p.Timeout) }
func (centrifugePreset) Unsimulable() string             { return "" }

func (p centrifugePreset) NewClient(*rand.Rand) Client { return &centrifugeClient{p: p} }

// centrifugeClient is one app's Centrifuge client.
type centrifugeClient struct {
	p        centrifugePreset
	attempts int // _reconnectAttempts; connect() set it to 0
}

func (c *centrifugeClient) Attempt(time.Duration) {}

// Opened is _connectResponse on a WebSocket: the count starts over.
func (c *centrifugeClient) Opened(time.Duration) { c.attempts = 0 }

// Failed: a transport closed before it opened, or failed by the connect
// timeout, reconnects after the backoff.
func (c *centrifugeClient) Failed(_ time.Duration, _ int, rng *rand.Rand) Next {
	return After(jsTimerDelay(c.reconnectDelay(rng)))
}

func (c *centrifugeClient) Closed(_ time.Duration, code int, rng *rand.Rand) Next {
	if stop := centrifugeCloseStops(code); stop != "" {
		return Stopped(stop)
	}
	return After(jsTimerDelay(c.reconnectDelay(rng)))
}

// Away is a disconnect push of a reconnecting code: _disconnect with
// reconnect, then the backoff; centrifuge-js has no reconnect at once.
func (c *centrifugeClient) Away(_ time.Duration, _ bool, rng *rand.Rand) Next {
	return After(jsTimerDelay(c.reconnectDelay(rng)))
}

// reconnectDelay is _getReconnectDelay: the backoff of the current count,
// which then grows by one.
func (c *centrifugeClient) reconnectDelay(rng *rand.Rand) float64 {
	d := centrifugeBackoff(c.attempts, c.p.MinReconnectDelay, c.p.MaxReconnectDelay, rng.Float64())
	c.attempts++
	return d
}

// centrifugeBackoff is backoff(step, min, max) with r the Math.random()
// its randomInt draws, in ms.
func centrifugeBackoff(step int, lo, hi, r float64) float64 {
	step = min(step, 31)
	interval := jsRandomInt(0, min(hi, lo*math.Pow(2, float64(step))), r)
	return min(hi, lo+interval)
}

// jsRandomInt is centrifuge-js's randomInt(a, b) with r its Math.random().
func jsRandomInt(a, b, r float64) float64 { return math.Floor(r*(b-a+1) + a) }

// centrifugeCloseStops returns why a close with code ends the client in
// onClose, given the plain-text reason Centrifuge servers send; "" when it
// reconnects.
func centrifugeCloseStops(code int) string {
	switch {
	case code == 1009:
		return "centrifuge: disconnected, code 3 (message size limit exceeded): close code 1009"
	case code >= 3500 && code < 4000, code >= 4500 && code < 5000:
		return fmt.Sprintf("centrifuge: disconnected by close code %d (3500–3999 and 4500–4999 are terminal)", code)
	}
	return ""
}
