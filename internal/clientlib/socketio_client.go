package clientlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// socket.io-client 4.8.4 (engine.io-client 6.6.8 underneath, the version
// its ~6.6.1 range installs today and test/real/node's lock pins; its
// Socket._onError and _onClose read as 6.6.3's, with
// transports: ["websocket"]), read from build/cjs/manager.js and
// build/cjs/contrib/backo2.js of socket.io-client, and build/cjs/socket.js
// and build/cjs/transports/websocket.js of engine.io-client:
//   - Manager constructor: reconnection true unless false;
//     reconnectionAttempts || Infinity, reconnectionDelay || 1000,
//     reconnectionDelayMax || 5000 (so 0 means the default for these
//     three), randomizationFactor ?? 0.5, timeout 20000 unless given
//     (false: none). The Backoff takes min, max and jitter from them and
//     keeps its factor at 2; it takes the jitter only in (0, 1], else 0.
//   - Backoff.duration: ms = min × 2^attempts (then attempts++); with a
//     jitter, one Math.random() r gives deviation = floor(r × jitter × ms),
//     subtracted when floor(r × 10) is even, else added; then
//     Math.min(ms, max) | 0: the cap comes after the jitter, so at the
//     defaults 30% of third attempts, 90% of fourth ones and every later
//     one wait exactly max, in step.
//   - Manager.reconnect: gives up (reconnect_failed) when attempts >=
//     reconnectionAttempts, else waits duration() and opens; a failed
//     reconnect (the error callback of open) calls reconnect again with
//     the count going on; onreconnect (a reconnect that opened) resets it.
//   - Manager.onclose: every close of the engine, whatever its code (the
//     websocket transport passes the close event on without looking at the
//     code), resets the backoff and reconnects unless reconnection is off.
//   - Manager.open: the first connect's error reconnects too
//     (maybeReconnectOnOpen, while attempts is 0); its timer fails an
//     attempt whose engine has not opened (the engine.io handshake) within
//     timeout ms, as an error. A 503 or a refused connection is an engine
//     error the same way.
//
// What the WebSocket level cannot see: a socket.io DISCONNECT packet
// ("io server disconnect", Socket.ondisconnect) or a CONNECT_ERROR for the
// namespace destroys the socket, and the Manager then closes with
// reconnection skipped: the client stays away until the app reconnects it.
// A frozen server is found by engine.io's ping timeout (the handshake's
// pingInterval + pingTimeout), which then closes as above.

// SocketIOClientOptions are the socket.io-client Manager's reconnect
// options, in its names and units (milliseconds).
type SocketIOClientOptions struct {
	Reconnection         bool    `toml:"reconnection" doc:"whether it reconnects at all, after a close or a failed first connect"`
	ReconnectionAttempts float64 `toml:"reconnectionAttempts" doc:"reconnect attempts in a row (counted since the last open or close) before it gives up (reconnect_failed); inf: never; 0 is inf to the library"`
	ReconnectionDelay    float64 `toml:"reconnectionDelay" doc:"the delay before the first reconnect attempt, in ms, doubling each attempt; 0 is 1000 to the library"`
	ReconnectionDelayMax float64 `toml:"reconnectionDelayMax" doc:"the cap on a delay, in ms, applied after the jitter; 0 is 5000 to the library"`
	RandomizationFactor  float64 `toml:"randomizationFactor" doc:"the jitter: up to this fraction of the delay is added or taken off; 0, or over 1, is none to the library"`
	Timeout              float64 `toml:"timeout" doc:"how long, in ms, an attempt may take to open (the engine.io handshake) before it counts failed; inf: none (the library's timeout: false)"`
}

// socketIOClient is the socket.io-client@4 preset.
type socketIOClient struct{}

func (socketIOClient) Name() string    { return "socket.io-client@4" }
func (socketIOClient) Version() string { return "4.8.4" }

func (socketIOClient) About() string {
	return "reconnects after every close: 1000 × 2^n ms ± up to 50%, capped at 5 s after the jitter; the count resets on every open and close; 20 s connect timeout"
}

func (socketIOClient) Source() string {
	return "socket.io-client 4.8.4, build/cjs/manager.js (Manager constructor, open, maybeReconnectOnOpen, onclose, reconnect, onreconnect) and build/cjs/contrib/backo2.js (Backoff.duration); engine.io-client 6.6.8, build/cjs/socket.js (_onError, _onClose), build/cjs/transports/websocket.js"
}

func (socketIOClient) Options() any {
	return &SocketIOClientOptions{
		Reconnection:         true,
		ReconnectionAttempts: math.Inf(1),
		ReconnectionDelay:    1000,
		ReconnectionDelayMax: 5000,
		RandomizationFactor:  0.5,
		Timeout:              20000,
	}
}

func (socketIOClient) Build(opts any) (Preset, error) {
	o := *opts.(*SocketIOClientOptions)
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"reconnectionAttempts", o.ReconnectionAttempts}, {"reconnectionDelay", o.ReconnectionDelay},
		{"reconnectionDelayMax", o.ReconnectionDelayMax}, {"randomizationFactor", o.RandomizationFactor},
		{"timeout", o.Timeout},
	} {
		if math.IsNaN(c.v) || c.v < 0 {
			return nil, optstruct.Bad(c.key, "is %v: want a number of 0 or more", c.v)
		}
	}
	for _, c := range []struct {
		key string
		v   float64
	}{{"reconnectionDelay", o.ReconnectionDelay}, {"randomizationFactor", o.RandomizationFactor}} {
		if math.IsInf(c.v, 1) {
			return nil, optstruct.Bad(c.key, "is inf: want a finite number")
		}
	}
	if o.Timeout == 0 || (o.Timeout > jsTimerMaxMs && !math.IsInf(o.Timeout, 1)) {
		return nil, optstruct.Bad("timeout", "is %v: want ms above 0, up to %d (setTimeout's longest; 0 would fail every attempt at once), or inf for none", o.Timeout, jsTimerMaxMs)
	}
	// The Manager's || fallbacks and the Backoff's jitter check, once.
	p := sioPreset{reconnection: o.Reconnection, attempts: o.ReconnectionAttempts, min: o.ReconnectionDelay,
		max: o.ReconnectionDelayMax, jitter: o.RandomizationFactor, timeout: o.Timeout}
	if p.attempts == 0 {
		p.attempts = math.Inf(1)
	}
	if p.min == 0 {
		p.min = 1000
	}
	if p.max == 0 {
		p.max = 5000
	}
	if p.jitter > 1 {
		p.jitter = 0
	}
	return p, nil
}

// sioPreset is socket.io-client configured, with the values its Manager
// and Backoff end up with.
type sioPreset struct {
	reconnection bool
	attempts     float64 // _reconnectionAttempts
	min, max     float64 // Backoff ms and max
	jitter       float64 // Backoff jitter: 0 or in (0, 1]
	timeout      float64 // ms; inf: none
}

func (p sioPreset) ConnectTimeout() time.Duration {
	if math.IsInf(p.timeout, 1) {
		return 0
	}
	return Millis(p.timeout)
}

func (sioPreset) Unsimulable() string { return "" }

func (p sioPreset) NewClient(*rand.Rand) Client { return &sioClient{p: p} }

// sioClient is one app's Manager and its Backoff.
type sioClient struct {
	p         sioPreset
	attempts  int           // backoff.attempts
	attemptAt time.Duration // the latest attempt's start
	open      bool          // the engine opened since that attempt
}

func (c *sioClient) Attempt(at time.Duration) { c.attemptAt, c.open = at, false }

// Opened: onreconnect resets the backoff (the first open finds it at 0).
func (c *sioClient) Opened(time.Duration) { c.attempts, c.open = 0, true }

func (c *sioClient) Failed(_ time.Duration, _ int, rng *rand.Rand) Next { return c.reconnect(rng) }

// Closed is Manager.onclose: whatever the code, reset and reconnect. A
// close before the engine opened is not heard: Manager.open listens for
// the engine's open and error, not its close, so the attempt fails only
// when its timeout fires, and the count goes on.
func (c *sioClient) Closed(at time.Duration, _ int, rng *rand.Rand) Next {
	if !c.open {
		if math.IsInf(c.p.timeout, 1) {
			return Stopped("socket.io-client: the connection closed before the engine opened, and with timeout false nothing notices")
		}
		n := c.reconnect(rng)
		if !n.Stop {
			n.Wait += max(c.attemptAt+Millis(c.p.timeout)-at, 0)
		}
		return n
	}
	c.attempts = 0
	return c.reconnect(rng)
}

// Away is a close to the Manager: the server's close follows its message,
// and the Manager has no way to come back sooner.
func (c *sioClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	return c.Closed(at, 1000, rng)
}

// reconnect is Manager.reconnect: the attempt limit, then the delay.
func (c *sioClient) reconnect(rng *rand.Rand) Next {
	if !c.p.reconnection {
		return Stopped("socket.io-client: reconnection is false")
	}
	if float64(c.attempts) >= c.p.attempts {
		c.attempts = 0
		return GivenUp(fmt.Sprintf("socket.io-client: reconnect_failed after reconnectionAttempts (%v)", c.p.attempts))
	}
	return After(Millis(c.duration(rng)))
}

// duration is Backoff.duration, drawing its Math.random() from rng.
func (c *sioClient) duration(rng *rand.Rand) float64 {
	ms := c.p.min * math.Pow(2, float64(c.attempts))
	c.attempts++
	if c.p.jitter != 0 {
		r := rng.Float64()
		deviation := math.Floor(r * c.p.jitter * ms)
		if int64(math.Floor(r*10))&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	return jsToInt32(min(ms, c.p.max))
}

// jsToInt32 is JavaScript's x | 0: truncated, wrapped to 32 bits, and 0
// for NaN and the infinities.
func jsToInt32(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	m := math.Mod(math.Trunc(x), 1<<32)
	if m < 0 {
		m += 1 << 32
	}
	return float64(int32(uint32(m)))
}
