package clientlib

import (
	"math"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// @rails/actioncable 8.1.400, read from src/connection_monitor.js and
// src/connection.js of the npm package (the same code is built into
// app/assets/javascripts/actioncable.esm.js):
//   - ConnectionMonitor.staleThreshold 6 (s), reconnectionBackoffRate
//     0.15; Connection.reopenDelay 500 (ms). No attempt limit, no connect
//     timeout: nothing closes a socket that is still connecting (close
//     skips it, for a Safari bug).
//   - Nothing reconnects on a close: the close event only records the
//     disconnect (recordDisconnect, disconnectedAt), and only for a socket
//     that had opened (this.disconnected); a refused upgrade, refused or
//     reset connection records nothing. Every close code is alike.
//   - The monitor starts on the first open() (the first connect) and
//     polls from then on, without end, whatever the socket does: each
//     poll runs reconnectIfStale, then schedules the next after
//     getPollInterval, staleThreshold × 1000 × (1 + reconnectionBackoffRate)
//     ^min(reconnectAttempts, 10) × (1 + jitter) ms, jitter = Math.random()
//     × (1 when reconnectAttempts is 0, else reconnectionBackoffRate): one
//     Math.random() per poll, setTimeout truncating to whole ms.
//   - reconnectIfStale: stale when more than staleThreshold s passed
//     since the last message (recordMessage), or since the monitor started
//     when none came; then reconnectAttempts + 1, and unless the last
//     disconnect is under staleThreshold s old (disconnectedRecently),
//     reopen: a closed socket opens at once; an open one closes and a
//     connecting one is left alone, both with open() after reopenDelay,
//     which does nothing if the socket is still open or connecting.
//   - The welcome message (recordConnect) sets reconnectAttempts to 0 and
//     forgets the disconnect: Opened here is the welcome.
//   - The first connect failing is no different: the first poll comes
//     6 to 12 s after it started and finds it stale (unless it came at
//     6000 ms exactly: not more than 6 s), and opens.
//
// The preset is the monitor's poll schedule replayed from the event times:
// each call replays the polls up to its time, drawing their Math.random()
// from rng in poll order, lazily, as Opened has no rng; the next attempt
// is the first poll (or reopenDelay's open()) that opens the closed
// socket. A timer due at an event's very time fires after it.
//
// What the WebSocket level cannot see: the server's messages. An
// ActionCable server sends the welcome on connect and then pings every
// connection on one 3 s timer (ActionCable::Server::Connections,
// BEAT_INTERVAL and #setup_heartbeat_timer, started by the process's first
// request), so an open connection is never stale: the preset takes it so.
// Before a server restart's close comes its disconnect message (reason
// server_restart, reconnect: true), the last message: Away records it at
// the close. Before a bare close the last message is the latest beat, or
// the welcome when none came yet; the beat's phase to the welcome is the
// server's, drawn uniform over 3 s at each bare close of a welcomed
// connection. It matters: the last message is then up to 3 s older than
// the close, so the poll in the 6 s after the close can find the
// connection stale but the disconnect recent (reconnectIfStale counts an
// attempt, disconnectedRecently skips the reopen); the poll that reopens
// then schedules its successor at 1.15² × 6 s or more, not 1.15 × 6 s.
// With connections held 1 to 2 s (the differential test, test/clientlibs)
// that successor mostly lands past the next close's 6 s hold-off and
// reopens at once: the library's median wait is 7.4 s, where taking the
// close as the last message gave 12 s. connection.js and
// connection_monitor.js replayed on a virtual clock with the same event
// times, beat phases and Math.random() values give the preset's waits to
// the ms (37,000 waits; holds of 0 to 40 s; refusals).
// With reconnect: false (unauthorized) the monitor stops and
// the client never comes back; so it does when the server picks no
// actioncable-v1-json subprotocol. The page's visibilitychange reopen is
// not modelled (a fleet's pages stay visible).
//
// Arithmetic: (1 + rate)^n is rounded once from its exact value, as
// glibc's pow does; V8's fdlibm pow (Node 20) is one ulp off for some
// rates and n (1.15^8 among the defaults), which moves a truncated ms only
// if the interval falls within about 1e-12 ms of a whole one.

// ActionCableOptions are ActionCable's ConnectionMonitor and Connection
// settings (static properties apps set), in its names and units.
type ActionCableOptions struct {
	StaleThreshold          float64 `toml:"staleThreshold" doc:"ConnectionMonitor.staleThreshold, in s (3 or more, the server's ping interval): a connection with no message for longer is stale and reopened; also how long after a disconnect polls hold off, and the base of the poll interval"`
	ReconnectionBackoffRate float64 `toml:"reconnectionBackoffRate" doc:"ConnectionMonitor.reconnectionBackoffRate: the poll interval grows by 1 + this per stale poll since the last welcome (up to 10), with jitter up to this fraction"`
	ReopenDelay             float64 `toml:"reopenDelay" doc:"Connection.reopenDelay, in ms: how long after a stale poll finds the socket still connecting it tries open() again"`
}

// acServerBeat is how often, in s, an ActionCable server pings every
// connection (ActionCable::Server::Connections::BEAT_INTERVAL).
const acServerBeat = 3

// actionCable is the @rails/actioncable@8 preset.
type actionCable struct{}

func (actionCable) Name() string    { return "@rails/actioncable@8" }
func (actionCable) Version() string { return "8.1.400" }

func (actionCable) About() string {
	return "reconnects on its monitor's next poll once 6 s passed since the close: polls every 6–12 s, then 6 s × 1.15^n × (1 + 0.15·random) while attempts fail, never giving up; the count resets on the welcome"
}

func (actionCable) Source() string {
	return "@rails/actioncable 8.1.400, src/connection_monitor.js (staleThreshold, reconnectionBackoffRate, start, poll, getPollInterval, reconnectIfStale, connectionIsStale, disconnectedRecently, recordMessage, recordConnect, recordDisconnect), src/connection.js (open, close, reopen, reopenDelay, events)"
}

func (actionCable) Options() any {
	return &ActionCableOptions{StaleThreshold: 6, ReconnectionBackoffRate: 0.15, ReopenDelay: 500}
}

func (actionCable) Build(opts any) (Preset, error) {
	o := *opts.(*ActionCableOptions)
	// Below the server's ping interval the library reopens connections
	// that are fine, which the preset does not model (it takes an open
	// connection as fresh).
	if math.IsNaN(o.StaleThreshold) || o.StaleThreshold < acServerBeat {
		return nil, optstruct.Bad("staleThreshold", "is %v: want a number of s of %d or more: below the server's ping interval (%d s) ActionCable reopens connections that are fine, which this preset does not model", o.StaleThreshold, acServerBeat, acServerBeat)
	}
	if math.IsNaN(o.ReconnectionBackoffRate) || o.ReconnectionBackoffRate < 0 {
		return nil, optstruct.Bad("reconnectionBackoffRate", "is %v: want a number of 0 or more", o.ReconnectionBackoffRate)
	}
	if math.IsNaN(o.ReopenDelay) || o.ReopenDelay < 0 || o.ReopenDelay > jsTimerMaxMs {
		return nil, optstruct.Bad("reopenDelay", "is %v: want a number of ms from 0 to %d (setTimeout's longest)", o.ReopenDelay, jsTimerMaxMs)
	}
	p := acPreset{o: o}
	for n := range p.backoff {
		p.backoff[n] = powInt(1+o.ReconnectionBackoffRate, n)
	}
	// The longest polls, with the most jitter: with no attempts, and
	// with 10 or more.
	for _, c := range []struct {
		key      string
		attempts int
	}{{"staleThreshold", 0}, {"reconnectionBackoffRate", 10}} {
		if ms := p.interval(c.attempts, 1); ms > jsTimerMaxMs {
			return nil, optstruct.Bad(c.key, "makes a poll interval of %.0f ms: setTimeout holds %d at most", ms, jsTimerMaxMs)
		}
	}
	return p, nil
}

// powInt returns x^n rounded once from its exact value.
func powInt(x float64, n int) float64 {
	prec := uint(53 * (n + 1))
	p := new(big.Float).SetPrec(prec).SetInt64(1)
	b := new(big.Float).SetPrec(prec).SetFloat64(x)
	for range n {
		p.Mul(p, b)
	}
	f, _ := p.Float64()
	return f
}

// acPreset is ActionCable configured.
type acPreset struct {
	o       ActionCableOptions
	backoff [11]float64 // (1 + reconnectionBackoffRate)^n for n ≤ 10
}

func (acPreset) ConnectTimeout() time.Duration { return 0 }
func (acPreset) Unsimulable() string           { return "" }

func (p acPreset) NewClient(*rand.Rand) Client { return &acClient{p: p} }

// interval is getPollInterval, in ms: for attempts reconnectAttempts and
// r the poll's Math.random().
func (p acPreset) interval(attempts int, r float64) float64 {
	jitterMax := 1.0
	if attempts != 0 {
		jitterMax = p.o.ReconnectionBackoffRate
	}
	// The conversion keeps jitterMax × r rounded on its own: no fused
	// multiply-add, as JavaScript has none.
	jitter := float64(jitterMax * r)
	return p.o.StaleThreshold * 1000 * p.backoff[min(attempts, 10)] * (1 + jitter)
}

// acState is the WebSocket's readyState, as Connection sees it.
type acState int

const (
	acClosed acState = iota
	acConnecting
	acOpen
)

// acClient is one app's Connection and ConnectionMonitor.
type acClient struct {
	p acPreset

	state     acState
	started   bool          // the monitor started: the first connect
	startedAt time.Duration // monitor.startedAt
	attempts  int           // monitor.reconnectAttempts

	pinged, disconnected     bool          // pingedAt, disconnectedAt are set
	pingedAt, disconnectedAt time.Duration // recordMessage, recordDisconnect

	// Opened has no rng, so the polls before it wait for the next call.
	openPending bool
	openedAt    time.Duration

	// The poll chain: the next poll was scheduled at schedAt with
	// schedAttempts, and, once its Math.random() is drawn, fires at pollAt.
	schedAt       time.Duration
	schedAttempts int
	drawn         bool
	pollAt        time.Duration

	reopens []time.Duration // reopen's pending setTimeout(open), in order
}

// Attempt is open(): the first one starts the monitor and its polls.
func (c *acClient) Attempt(at time.Duration) {
	if !c.started {
		c.started, c.startedAt = true, at
		c.schedAt, c.schedAttempts, c.drawn = at, 0, false
	}
	c.state = acConnecting
}

// Opened is the welcome, replayed at the next call.
func (c *acClient) Opened(at time.Duration) { c.openPending, c.openedAt = true, at }

// Failed: the socket never opened, so its close records nothing.
func (c *acClient) Failed(at time.Duration, _ int, rng *rand.Rand) Next {
	c.settle(rng)
	c.run(at, rng)
	c.state = acClosed
	return c.next(at, rng)
}

// Closed: every code alike. The last message was the server's latest ping
// before the close, or the welcome (see the file's comment); then
// recordDisconnect. A close before the welcome leaves pingedAt as it was.
func (c *acClient) Closed(at time.Duration, _ int, rng *rand.Rand) Next {
	return c.close(at, false, rng)
}

// Away is the server's disconnect message with reconnect: true: the
// message (recordMessage), then the client's close (recordDisconnect),
// and the monitor's polls bring it back. ActionCable has no "at once".
func (c *acClient) Away(at time.Duration, _ bool, rng *rand.Rand) Next {
	return c.close(at, true, rng)
}

// close ends the connection at at; message says a message came just
// before (Away's disconnect).
func (c *acClient) close(at time.Duration, message bool, rng *rand.Rand) Next {
	c.settle(rng)
	c.run(at, rng)
	switch {
	case message:
		c.pinged, c.pingedAt = true, at
	case c.state == acOpen:
		c.pingedAt = lastBeat(c.openedAt, at, rng)
	}
	c.disconnected, c.disconnectedAt = true, at
	c.state = acClosed
	return c.next(at, rng)
}

// lastBeat is when the last of the server's pings before at came to a
// connection welcomed at welcome, the beat's phase drawn from rng; the
// welcome when no ping came between.
func lastBeat(welcome, at time.Duration, rng *rand.Rand) time.Duration {
	beat := time.Duration(acServerBeat) * time.Second
	first := welcome + time.Duration(rng.Float64()*float64(beat))
	if at < first {
		return welcome
	}
	return first + (at-first)/beat*beat
}

// settle replays a pending Opened: the polls while connecting, then the
// welcome (recordMessage, recordConnect).
func (c *acClient) settle(rng *rand.Rand) {
	if !c.openPending {
		return
	}
	c.openPending = false
	c.run(c.openedAt, rng)
	c.pinged, c.pingedAt = true, c.openedAt
	c.attempts, c.disconnected = 0, false
	c.state = acOpen
}

// draw draws the pending poll's Math.random(), once.
func (c *acClient) draw(rng *rand.Rand) {
	if !c.drawn {
		c.pollAt = c.schedAt + jsTimerDelay(c.p.interval(c.schedAttempts, rng.Float64()))
		c.drawn = true
	}
}

// run fires the timers due before until, the socket connecting or open
// all along: polls, and reopen's open() calls, which find it active and
// do nothing.
func (c *acClient) run(until time.Duration, rng *rand.Rand) {
	for {
		c.draw(rng)
		if len(c.reopens) > 0 && c.reopens[0] <= c.pollAt && c.reopens[0] < until {
			c.reopens = c.reopens[1:]
			continue
		}
		if c.pollAt >= until {
			return
		}
		c.poll(c.pollAt)
	}
}

// next fires the timers from at on, the socket closed, up to the one
// that opens it, and returns the wait for that attempt.
func (c *acClient) next(at time.Duration, rng *rand.Rand) Next {
	for {
		c.draw(rng)
		if len(c.reopens) > 0 && c.reopens[0] <= c.pollAt {
			t := c.reopens[0]
			c.reopens = c.reopens[1:]
			c.state = acConnecting
			return After(t - at)
		}
		if t := c.pollAt; c.poll(t) {
			return After(t - at)
		}
	}
}

// poll is one poll at t: reconnectIfStale, then the next poll scheduled
// with the attempts it leaves. It reports whether it opened the socket.
func (c *acClient) poll(t time.Duration) (opened bool) {
	if c.stale(t) {
		c.attempts++
		if !c.recent(t) {
			opened = c.reopen(t)
		}
	}
	c.schedAt, c.schedAttempts, c.drawn = t, c.attempts, false
	return opened
}

// stale is connectionIsStale; an open connection has its server's pings.
func (c *acClient) stale(t time.Duration) bool {
	if c.state == acOpen {
		return false
	}
	refreshed := c.startedAt
	if c.pinged {
		refreshed = c.pingedAt
	}
	return (t - refreshed).Seconds() > c.p.o.StaleThreshold
}

// recent is disconnectedRecently.
func (c *acClient) recent(t time.Duration) bool {
	return c.disconnected && (t-c.disconnectedAt).Seconds() < c.p.o.StaleThreshold
}

// reopen opens a closed socket at once; a connecting one gets an open()
// after reopenDelay. (An open one is never stale here.)
func (c *acClient) reopen(t time.Duration) bool {
	if c.state == acClosed {
		c.state = acConnecting
		return true
	}
	c.reopens = append(c.reopens, t+jsTimerDelay(c.p.o.ReopenDelay))
	return false
}
