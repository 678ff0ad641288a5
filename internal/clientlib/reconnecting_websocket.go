package clientlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// reconnecting-websocket 4.4.0, read from dist/reconnecting-websocket-mjs.js
// of the npm package:
//   - DEFAULT: maxReconnectionDelay 10000, minReconnectionDelay 1000 +
//     Math.random() * 4000 (evaluated once, when the module loads),
//     minUptime 5000, reconnectionDelayGrowFactor 1.3, connectionTimeout
//     4000, maxRetries Infinity.
//   - _connect: gives up when _retryCount >= maxRetries, else increments
//     _retryCount and waits _getNextDelay(): 0 when _retryCount is 0 (the
//     first connect, from -1), else minReconnectionDelay ×
//     reconnectionDelayGrowFactor^(_retryCount − 1), capped at
//     maxReconnectionDelay.
//   - _handleOpen arms a minUptime timer whose _acceptOpen sets
//     _retryCount to 0; a close before it fires clears it, so the count
//     goes on from where it was.
//   - _handleClose reconnects after every close, whatever its code;
//     _handleError (a refused upgrade, the connectionTimeout) disconnects,
//     which reconnects through _handleClose once.

// ReconnectingWebSocketOptions are reconnecting-websocket's options, in
// its names and units (milliseconds).
type ReconnectingWebSocketOptions struct {
	MaxReconnectionDelay        float64 `toml:"maxReconnectionDelay" doc:"the longest delay before an attempt, in ms"`
	MinReconnectionDelay        float64 `toml:"minReconnectionDelay" doc:"the delay before the first attempt after a close, in ms; -1: the library's default, 1000 + Math.random() × 4000, drawn once per client (once per process in the library)"`
	MinUptime                   float64 `toml:"minUptime" doc:"how long, in ms, a connection must stay open for the attempt count to reset"`
	ReconnectionDelayGrowFactor float64 `toml:"reconnectionDelayGrowFactor" doc:"the factor each further attempt's delay grows by"`
	ConnectionTimeout           float64 `toml:"connectionTimeout" doc:"how long, in ms, an attempt may take to open before it counts failed"`
	MaxRetries                  float64 `toml:"maxRetries" doc:"attempts in a row (counted since the count last reset) before it gives up; inf: never"`
}

// reconnectingWebSocket is the reconnecting-websocket@4 preset.
type reconnectingWebSocket struct{}

func (reconnectingWebSocket) Name() string    { return "reconnecting-websocket@4" }
func (reconnectingWebSocket) Version() string { return "4.4.0" }

func (reconnectingWebSocket) About() string {
	return "reconnects after every close: min × 1.3^(n−1) ms, min drawn once per app in [1000, 5000), capped at 10 s; the count resets after 5 s up"
}

func (reconnectingWebSocket) Source() string {
	return "reconnecting-websocket 4.4.0, dist/reconnecting-websocket-mjs.js (DEFAULT, _connect, _getNextDelay, _handleOpen, _acceptOpen, _handleClose, _handleError)"
}

func (reconnectingWebSocket) Options() any {
	return &ReconnectingWebSocketOptions{
		MaxReconnectionDelay:        10000,
		MinReconnectionDelay:        -1,
		MinUptime:                   5000,
		ReconnectionDelayGrowFactor: 1.3,
		ConnectionTimeout:           4000,
		MaxRetries:                  math.Inf(1),
	}
}

func (reconnectingWebSocket) Build(opts any) (Preset, error) {
	o := *opts.(*ReconnectingWebSocketOptions)
	for _, c := range []struct {
		key string
		v   float64
	}{
		{"maxReconnectionDelay", o.MaxReconnectionDelay}, {"minUptime", o.MinUptime},
		{"connectionTimeout", o.ConnectionTimeout}, {"maxRetries", o.MaxRetries},
		{"reconnectionDelayGrowFactor", o.ReconnectionDelayGrowFactor},
	} {
		if math.IsNaN(c.v) || c.v < 0 {
			return nil, optstruct.Bad(c.key, "is %v: want a number of 0 or more", c.v)
		}
	}
	if o.MinReconnectionDelay != -1 && (math.IsNaN(o.MinReconnectionDelay) || o.MinReconnectionDelay < 0) {
		return nil, optstruct.Bad("minReconnectionDelay", "is %v: want a number of ms of 0 or more, or -1 for the library's random default", o.MinReconnectionDelay)
	}
	for _, c := range []struct {
		key string
		v   float64
	}{{"maxReconnectionDelay", o.MaxReconnectionDelay}, {"minUptime", o.MinUptime}, {"connectionTimeout", o.ConnectionTimeout}} {
		if c.v > jsTimerMaxMs {
			return nil, optstruct.Bad(c.key, "is %v: want a number of ms up to %d (setTimeout's longest)", c.v, jsTimerMaxMs)
		}
	}
	if o.ConnectionTimeout == 0 {
		// setTimeout(_handleTimeout, 0) fires before any open event.
		return nil, optstruct.Bad("connectionTimeout", "is 0: the library would time out every attempt at once; want a number of ms above 0")
	}
	return rwsPreset(o), nil
}

// rwsPreset is reconnecting-websocket configured.
type rwsPreset ReconnectingWebSocketOptions

func (p rwsPreset) ConnectTimeout() time.Duration { return Millis(p.ConnectionTimeout) }
func (rwsPreset) Unsimulable() string             { return "" }

func (p rwsPreset) NewClient(rng *rand.Rand) Client {
	min := p.MinReconnectionDelay
	if min == -1 {
		min = 1000 + rng.Float64()*4000 // DEFAULT.minReconnectionDelay, once per app
	}
	// The first connect took _retryCount from -1 to 0.
	return &rwsClient{p: p, min: min}
}

// rwsClient is one app's ReconnectingWebSocket.
type rwsClient struct {
	p      rwsPreset
	min    float64 // minReconnectionDelay, ms
	retry  float64 // _retryCount
	opened time.Duration
	up     bool
}

func (c *rwsClient) Attempt(time.Duration) {}

func (c *rwsClient) Opened(at time.Duration) { c.opened, c.up = at, true }

func (c *rwsClient) Failed(time.Duration, int, *rand.Rand) Next { return c.connect() }

func (c *rwsClient) Closed(at time.Duration, _ int, _ *rand.Rand) Next {
	if c.up && at-c.opened >= Millis(c.p.MinUptime) {
		c.retry = 0 // _acceptOpen fired before the close
	}
	c.up = false
	return c.connect()
}

// Away is a close to the library: the server's close follows its message.
func (c *rwsClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	return c.Closed(at, 1000, rng)
}

// connect is _connect: the attempt limit, then the next delay.
func (c *rwsClient) connect() Next {
	if c.retry >= c.p.MaxRetries {
		return GivenUp(fmt.Sprintf("reconnecting-websocket: maxRetries (%v) reached", c.p.MaxRetries))
	}
	c.retry++
	delay := c.min * math.Pow(c.p.ReconnectionDelayGrowFactor, c.retry-1)
	delay = min(delay, c.p.MaxReconnectionDelay)
	return After(Millis(delay))
}
