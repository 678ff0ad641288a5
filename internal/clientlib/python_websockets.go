package clientlib

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// Python websockets 10.4 (Debian python3-websockets 10.4-1), the loop its
// docs give for reconnecting, `async for websocket in connect(uri)` with
// `except websockets.ConnectionClosed: continue` in the body, read from
// websockets/legacy/client.py (Connect and its docstring, Connect.__aiter__,
// __await_impl_timeout__, __await_impl__) and legacy/protocol.py
// (WebSocketCommonProtocol.close):
//   - __aiter__ keeps backoff_delay, BACKOFF_MIN (1.92 s) at first. An
//     Exception while connecting (a refused or reset connection, a refused
//     upgrade such as 503 as InvalidStatusCode, asyncio.TimeoutError)
//     sleeps random.random() × BACKOFF_INITIAL (5) s while backoff_delay
//     still equals BACKOFF_MIN, else int(backoff_delay) s (truncated to
//     whole seconds); then backoff_delay = min(backoff_delay ×
//     BACKOFF_FACTOR (1.618), BACKOFF_MAX (60)). At the defaults: [0, 5)
//     s, then 3, 5, 8, 13, 21, 34, 55, 60, 60, ... s. It never gives up,
//     and the first connect failing goes the same way.
//   - A connection that opened and whose loop body ends (the user's code
//     caught ConnectionClosed, whatever the close code, and continued)
//     leaves `async with` through close(), which does nothing on a closed
//     connection; the else branch resets backoff_delay to BACKOFF_MIN and
//     the loop connects again at once: no delay after a close.
//   - open_timeout (10 s; None: none) bounds each connect, TCP and opening
//     handshake, through asyncio.wait_for.
//   - Not modelled: a connect that fails after its TCP connection opened
//     (a refused upgrade, a handshake timed out) first waits, in
//     fail_connection's close_connection, up to close_timeout (10 s) for the
//     server to close the TCP connection after the client's EOF; servers do
//     at once, a frozen one never, and the caller cannot tell which. After a
//     close frame the same wait delays ConnectionClosed likewise.
//
// What the WebSocket level cannot see: what the user's code does with a
// message telling it to go away is the app's; the library has no such
// message. ping_interval and ping_timeout (20 s each) find a frozen server
// and close the connection, which then reconnects as above.

// PythonWebsocketsOptions are websockets' Connect class attributes and its
// open_timeout argument, in its names and units (seconds).
type PythonWebsocketsOptions struct {
	BackoffMin     float64 `toml:"BACKOFF_MIN" doc:"the first backoff_delay, in s: while the delay still equals it, a failed connect sleeps a random BACKOFF_INITIAL fraction instead"`
	BackoffMax     float64 `toml:"BACKOFF_MAX" doc:"the cap on backoff_delay, in s"`
	BackoffFactor  float64 `toml:"BACKOFF_FACTOR" doc:"the factor backoff_delay grows by after each failed connect"`
	BackoffInitial float64 `toml:"BACKOFF_INITIAL" doc:"the sleep after the first failed connect in a row is random.random() times this, in s"`
	OpenTimeout    float64 `toml:"open_timeout" doc:"how long, in s, a connect (TCP and the opening handshake) may take before it fails; inf: none (None)"`
}

// pythonWebsockets is the python-websockets@10 preset.
type pythonWebsockets struct{}

func (pythonWebsockets) Name() string    { return "python-websockets@10" }
func (pythonWebsockets) Version() string { return "10.4" }

func (pythonWebsockets) About() string {
	return "reconnects at once after every close; after failed connects sleeps [0, 5) s, then 3, 5, 8, 13, 21, 34, 55, 60 s; never gives up; 10 s open timeout"
}

func (pythonWebsockets) Source() string {
	return "websockets 10.4 (Debian python3-websockets 10.4-1), legacy/client.py (Connect docstring, Connect.__aiter__, __await_impl_timeout__) and legacy/protocol.py (close)"
}

func (pythonWebsockets) Options() any {
	return &PythonWebsocketsOptions{BackoffMin: 1.92, BackoffMax: 60, BackoffFactor: 1.618, BackoffInitial: 5, OpenTimeout: 10}
}

func (pythonWebsockets) Build(opts any) (Preset, error) {
	o := *opts.(*PythonWebsocketsOptions)
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"BACKOFF_MIN", o.BackoffMin}, {"BACKOFF_MAX", o.BackoffMax},
		{"BACKOFF_FACTOR", o.BackoffFactor}, {"BACKOFF_INITIAL", o.BackoffInitial},
	} {
		if math.IsNaN(c.v) || c.v < 0 {
			return nil, optstruct.Bad(c.key, "is %v: want a number of 0 or more", c.v)
		}
		// int() of an infinite delay would raise out of the loop.
		if math.IsInf(c.v, 1) {
			return nil, optstruct.Bad(c.key, "is inf: want a finite number")
		}
	}
	if math.IsNaN(o.OpenTimeout) || o.OpenTimeout <= 0 {
		return nil, optstruct.Bad("open_timeout", "is %v: want seconds above 0, or inf for None", o.OpenTimeout)
	}
	return pywsPreset(o), nil
}

// pywsPreset is websockets configured.
type pywsPreset PythonWebsocketsOptions

func (p pywsPreset) ConnectTimeout() time.Duration {
	if math.IsInf(p.OpenTimeout, 1) {
		return 0
	}
	return seconds(p.OpenTimeout)
}

func (pywsPreset) Unsimulable() string { return "" }

func (p pywsPreset) NewClient(*rand.Rand) Client { return &pywsClient{p: p, backoff: p.BackoffMin} }

// pywsClient is one app's `async for` loop.
type pywsClient struct {
	p       pywsPreset
	backoff float64 // backoff_delay, s
}

func (c *pywsClient) Attempt(time.Duration) {}
func (c *pywsClient) Opened(time.Duration)  {}

// Failed is __aiter__'s except branch: sleep, then grow the delay.
func (c *pywsClient) Failed(_ time.Duration, _ int, rng *rand.Rand) Next {
	var sleep float64
	if c.backoff == c.p.BackoffMin {
		sleep = rng.Float64() * c.p.BackoffInitial
	} else {
		sleep = math.Trunc(c.backoff)
	}
	c.backoff = min(c.backoff*c.p.BackoffFactor, c.p.BackoffMax)
	return After(seconds(sleep))
}

// Closed is the loop body ending after ConnectionClosed, any code: the
// else branch resets the delay and the loop connects again at once.
func (c *pywsClient) Closed(time.Duration, int, *rand.Rand) Next {
	c.backoff = c.p.BackoffMin
	return After(0)
}

// Away is the server's close after its message, to the loop.
func (c *pywsClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	return c.Closed(at, 1000, rng)
}

// seconds returns s seconds, Python's unit for delays.
func seconds(s float64) time.Duration { return saturate(s * float64(time.Second)) }
