package clientlib

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// phoenix 1.8.17 (the npm package of Phoenix's JavaScript client), read
// from assets/js/phoenix/socket.js, timer.js and connection.js, and the
// same code built into priv/static/phoenix.mjs:
//   - socket.js constructor: reconnectAfterMs(tries) defaults to
//     [10, 50, 100, 150, 200, 250, 500, 1000, 2000][tries − 1] || 5000 ms;
//     no randomisation, no attempt limit. The reconnectTimer is a Timer
//     over it.
//   - timer.js Timer: scheduleTimeout waits timerCalc(tries + 1) and, when
//     it fires, adds one to tries before it calls back; reset sets tries
//     to 0. setTimeout truncates the delay to whole ms.
//   - onConnOpen (the transport's open event) resets the reconnectTimer:
//     the count restarts with every connection that opens, however short.
//   - onConnClose schedules the reconnectTimer after every close the
//     socket did not make itself (connection.closing) unless the user
//     disconnected (closeWasClean): every close code, 1000 included, as
//     its comment says. A refused upgrade (403 from a refused connect/3,
//     503) or a refused, reset connection is an error event then a close
//     event, so it reconnects through the same timer, the first connect
//     of the socket included (transportConnect sets closeWasClean false).
//   - The timer's callback tears the closed connection down
//     (teardownAndReconnect: its socket is closed already, so the waits
//     in waitForBufferDone and waitForSocketClosed return at once) and
//     connects.
//   - No connect timeout: transportConnect arms no timer, and the
//     heartbeat starts only in onConnOpen. The timeout option (10000 ms)
//     is for pushes and channel joins.
//
// What the WebSocket level cannot see, left to the phoenix protocol
// preset: the client's heartbeat ("phoenix" "heartbeat" every
// heartbeatIntervalMs, 30000) closes the socket when no reply came
// within another heartbeatIntervalMs (heartbeatTimeout), and then
// reconnects through the same timer after waitForSocketClosed's up to
// 1.5 s; channel joins time out and rejoin on their own rejoinAfterMs
// timer (1 s, 2 s, 5 s, then 10 s). No message makes the socket stay
// away: a server that wants it gone closes it, and it comes back. With
// longPollFallbackMs set (off by default) it falls back to LongPoll,
// which no WebSocket server sees.

// PhoenixOptions are the phoenix Socket's options that shape its
// reconnects, in its names and units (milliseconds).
type PhoenixOptions struct {
	ReconnectAfterMs []float64 `toml:"reconnectAfterMs" doc:"the Socket's reconnectAfterMs(tries) as its values for tries 1, 2, …, in ms: tries counts the reconnects since a connection last opened; the last value holds for every later try"`
}

// phoenix is the phoenix@1.8 preset.
type phoenix struct{}

func (phoenix) Name() string    { return "phoenix@1.8" }
func (phoenix) Version() string { return "1.8.17" }

func (phoenix) About() string {
	return "reconnects after every close and every failed attempt, the first connect's included: 10, 50, 100, 150, 200, 250, 500, 1000, 2000 ms, then 5 s each, never giving up; the count resets when a connection opens"
}

func (phoenix) Source() string {
	return "phoenix 1.8.17, assets/js/phoenix/socket.js (constructor reconnectAfterMs, transportConnect, onConnOpen, onConnClose, teardownAndReconnect, teardown), timer.js (Timer), connection.js (Connection); priv/static/phoenix.mjs"
}

func (phoenix) Options() any {
	return &PhoenixOptions{ReconnectAfterMs: []float64{10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000}}
}

// jsTimerDelay is how long setTimeout(f, ms) waits: whole ms, as browsers
// convert the delay to an integer and Node truncates it (lib/internal/
// timers.js insert).
func jsTimerDelay(ms float64) time.Duration {
	return time.Duration(math.Trunc(ms)) * time.Millisecond
}

func (phoenix) Build(opts any) (Preset, error) {
	o := opts.(*PhoenixOptions)
	if len(o.ReconnectAfterMs) == 0 {
		return nil, optstruct.Bad("reconnectAfterMs", "is empty: want the delays in ms for tries 1, 2, …, e.g. [10, 50, 100, 5000]")
	}
	for i, ms := range o.ReconnectAfterMs {
		if math.IsNaN(ms) || ms < 0 || ms > jsTimerMaxMs {
			return nil, optstruct.Bad("reconnectAfterMs", "value %d is %v: want a number of ms from 0 to %d (setTimeout's longest)", i+1, ms, jsTimerMaxMs)
		}
	}
	return phoenixPreset{steps: append([]float64(nil), o.ReconnectAfterMs...)}, nil
}

// phoenixPreset is phoenix configured.
type phoenixPreset struct{ steps []float64 }

func (phoenixPreset) ConnectTimeout() time.Duration { return 0 }
func (phoenixPreset) Unsimulable() string           { return "" }

func (p phoenixPreset) NewClient(*rand.Rand) Client { return &phoenixClient{p: p} }

// phoenixClient is one app's Socket.
type phoenixClient struct {
	p      phoenixPreset
	tries  int  // reconnectTimer.tries
	opened bool // Opened since the latest attempt
}

func (c *phoenixClient) Attempt(time.Duration) { c.opened = false }

// Opened is onConnOpen: reconnectTimer.reset.
func (c *phoenixClient) Opened(time.Duration) { c.tries, c.opened = 0, true }

func (c *phoenixClient) Failed(time.Duration, int, *rand.Rand) Next { return c.schedule() }

// Closed: every code reconnects; the socket tells none apart. A close
// without Opened came after the WebSocket opened and before the protocol's
// first reply (the Client contract), and onConnOpen, at the WebSocket's
// open, had reset the timer.
func (c *phoenixClient) Closed(time.Duration, int, *rand.Rand) Next {
	if !c.opened {
		c.tries = 0
	}
	c.opened = false
	return c.schedule()
}

// Away is a close to the library: the server closes after its message.
func (c *phoenixClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	return c.Closed(at, 1000, rng)
}

// schedule is reconnectTimer.scheduleTimeout: it waits
// reconnectAfterMs(tries + 1), and tries counts the timer's firing, which
// is the reconnect the caller makes next.
func (c *phoenixClient) schedule() Next {
	c.tries++
	ms := c.p.steps[min(c.tries, len(c.p.steps))-1]
	return After(jsTimerDelay(ms))
}
