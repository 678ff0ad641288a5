package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/dialabort"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// stampBytes is the size of the scheduled-send-time stamp that starts every
// message a client sends; the echo carries it back.
const stampBytes = 8

// Each connection's read buffer (gorilla/websocket's bufio.Reader, held for
// the connection's life; 4 KiB by default). A client that holds its
// connection, or sends periodic messages and reads their echoes as they
// come, one frame at a time, gets gorilla's floor, the largest control
// frame (125) in its allocation size class: a handshake response then takes
// a read more, which measures as nothing next to the handshake. That saves
// a sending client 0.9 KiB, a tenth of its memory, at no CPU cost measured
// (BenchmarkPeakRSS, send-1s); only a burst of queued echoes (a client
// fallen behind) costs one read call per 3 small frames. A client with a
// session script, whose server may push bursts of frames of its own, gets
// 1 KiB, so such a burst costs one read call per ~24 frames rather than per
// 3 (a third of the CPU per message). Reply rules alone (a server's
// keep-alive pings, one every few seconds) keep the idle buffer: the rules
// read a message whole from a buffer lent for the message.
const (
	idleReadBuffer    = 128
	messageReadBuffer = 1024
)

// readBufferSize is the read buffer of cfg's connections.
func readBufferSize(cfg *Config) int {
	if len(cfg.Script) > 0 {
		return messageReadBuffer
	}
	return idleReadBuffer
}

// client is one simulated WebSocket client. Only its own goroutine touches it,
// or the runner of its connect attempt while its own waits (see connect);
// the read loop of its current connection uses conn-local state.
type client struct {
	f     *Fleet
	id    int
	rng   *rand.Rand
	shard *stats.Shard
	// sessions counts the client's successful handshakes, attempts its
	// connect attempts: {{session}} and, in URLs, {{seq}}.
	sessions, attempts int64
}

// NodeHeader is the handshake response header that names the node a
// connection landed on (wsstorm's chaos proxy sets it); it wins over the
// node of a welcome message.
const NodeHeader = "X-Wsstorm-Node"

// values returns the template values of the client's session and a
// message number.
func (c *client) values(session, seq int64) tmplValues {
	return tmplValues{seed: c.f.cfg.Seed, client: c.id, session: session, seq: seq}
}

// handshake is a successful connect attempt.
type handshake struct {
	conn *websocket.Conn
	at   time.Time     // when the 101 was read
	took time.Duration // dial start to 101
	node int           // named by NodeHeader; -1: not named
}

// connState is what a client's goroutine knows of its current connection.
type connState struct {
	session int64 // the connection's number, from 1
	sent    int64 // messages sent on it
	node    int   // -1: unknown
	// nodeFromHeader says the handshake named the node.
	nodeFromHeader bool
	// welcomePending says no message has been read yet: the first is the
	// server's welcome.
	welcomePending bool
	// recovered says the read loop recorded the end of a recovery.
	recovered bool
}

// arrived notes a message read: the first may be a welcome naming the node.
func (st *connState) arrived(msg []byte) {
	if !st.welcomePending {
		return
	}
	st.welcomePending = false
	if !st.nodeFromHeader {
		st.node = welcomeNode(msg)
	}
}

// errScriptTimeout ends a connect attempt whose script timed out.
var errScriptTimeout = errors.New("session script timed out")

// errRejected ends a connect attempt the server refused in its script.
var errRejected = errors.New("refused by the server's reply")

func newClient(f *Fleet, id int) *client {
	return &client{f: f, id: id, rng: ClientRand(f.cfg.Seed, id), shard: f.rec.Shard(id)}
}

// recovery is a client's state between a close it observed and its next
// successful handshake.
type recovery struct {
	active   bool
	closedAt time.Time
	event    int // chaos event the close is attributed to; -1: none
}

// run is the client's life: connect, run the session script, hold
// sessions, react to closes.
//
// Each attempt has an intended start: the client's ramp slot, or the end of
// the backoff it chose, counted from the close or failure that led to it.
// The client sleeps until then, and whatever delays the dial past it (a dial
// slot, a timer firing late on a busy CPU) is the generator's dial lag, not
// the client's intent.
func (c *client) run(ctx context.Context) {
	cfg := &c.f.cfg
	rec := recovery{event: -1}
	origin := c.f.rec.Start() // a client preset's times are offsets from it
	retry := cfg.NewRetry(c.rng)
	var (
		// down is the first close the client has not yet recovered from: a
		// connection that closes again before its first message (or its
		// script's last awaited one) carries the outage forward, so
		// recovery is what the user felt, not the last leg of it.
		down time.Time
		// in is the next attempt's intent; parts take the recovery in
		// progress apart.
		in    = intent{at: c.f.rec.Start().Add(StartOffset(cfg.Ramp, c.id, cfg.Clients)), event: -1, first: true}
		parts stats.ReconnectParts
		// lastNow is when a reconnect_now message last sent the client
		// back, while no session has ended another way since; zero: none.
		lastNow time.Time
	)
	for {
		if !sleep(ctx, time.Until(in.at)) {
			return
		}
		// The library starts its attempt when its timer fires: a dial
		// slot's wait after that is the generator's lag, not the client's.
		retry.Attempt(in.at.Sub(origin))
		a := c.connect(ctx, in)
		if a.se.outcome == scriptCancelled {
			return
		}
		parts.Lag += max(a.started.Sub(in.at), 0)
		if a.err != nil {
			if runEnded(ctx, a.ended) {
				return
			}
			if a.se.proto != nil && a.se.proto.then == StopSession {
				c.shard.ProtocolStopOnly(a.se.proto.reason) // turned away for good
				return
			}
			d := cfg.AfterFailure(&retry, a.ended.Sub(origin), a.status, a.retryAfter, c.rng)
			if d.Stop {
				c.stopped(d)
				return
			}
			wait := d.Wait
			parts.Failed += a.ended.Sub(a.started)
			parts.Backoff += wait
			in = intent{at: a.ended.Add(wait), event: rec.event}
			continue
		}
		hs, st, se := a.hs, a.st, a.se
		if c.f.scriptWaits {
			// The attempt succeeded with its script: record it as of its
			// handshake.
			c.shard.Connect(hs.at, hs.took)
		}
		if rec.active {
			parts.Handshake = hs.took
			c.shard.Reconnected(hs.at, rec.closedAt, rec.event, parts)
			if se.waited {
				c.shard.Recovered(se.at.Sub(down))
				down = time.Time{}
			}
		}
		a.opening(&retry, origin)
		var end sessionEnd
		if se.outcome == scriptClosed {
			end = c.serverEnded(hs.conn, se.closed)
		} else {
			end = c.session(ctx, hs.conn, &st, !down.IsZero() && !se.waited, down)
			if st.recovered {
				down = time.Time{}
			}
		}
		rec, parts = recovery{event: -1}, stats.ReconnectParts{}
		switch {
		case end.stopped:
			return
		case end.clientEnded:
			down = time.Time{}
			retry = cfg.NewRetry(c.rng) // a new app to the library
			in = intent{at: time.Now().Add(cfg.Pause), event: -1, first: true}
			continue
		case end.proto != nil && end.proto.then == StopSession:
			c.shard.ProtocolStop(end.at, end.proto.reason, c.f.rec.AttributeMessage(end.at, end.node))
			return
		}
		if down.IsZero() {
			down = end.at
		}
		var wait time.Duration
		if rec, wait = c.closed(end, &retry, &lastNow); !rec.active {
			return
		}
		parts.Backoff = wait
		in = intent{at: end.at.Add(wait), event: rec.event, first: true}
	}
}

// closed records the end of a session that the server or the network
// ended, and returns the recovery it starts and the wait before the first
// attempt; a recovery not active says the client stops. *lastNow is when a
// server message last sent the client back at once.
func (c *client) closed(end sessionEnd, retry *Retry, lastNow *time.Time) (recovery, time.Duration) {
	cfg := &c.f.cfg
	if end.proto != nil {
		// A server message sent the client away: a close in all but its
		// code. reconnect_now is at once, unless the previous
		// reconnect_now came less than a second before: a rule that
		// matches what every session gets must not loop at the network's
		// speed.
		ev := c.f.rec.AttributeMessage(end.at, end.node)
		c.shard.ProtocolReconnect(end.at, end.proto.reason, ev)
		now := end.proto.then == ReconnectNow && (lastNow.IsZero() || end.at.Sub(*lastNow) >= nowSpacing)
		*lastNow = time.Time{}
		if end.proto.then == ReconnectNow {
			*lastNow = end.at
		}
		return recovery{active: true, closedAt: end.at, event: ev}, cfg.AfterMessage(retry, end.at.Sub(c.f.rec.Start()), now, c.rng)
	}
	*lastNow = time.Time{}
	ev := c.f.rec.Attribute(end.at, end.code, end.node)
	c.shard.Close(end.at, end.code, ev)
	d := cfg.AfterClose(retry, end.at.Sub(c.f.rec.Start()), end.code, c.rng)
	if d.Stop {
		c.stopped(d)
		return recovery{event: -1}, 0
	}
	return recovery{active: true, closedAt: end.at, event: ev}, d.Wait
}

// stopped records why the client stops: it gave up, or a preset (the
// protocol's meaning of a close code, the client library's loop) stopped
// it, which counts as a protocol's stop reason does. A stop on_close
// decided records nothing more than its close.
func (c *client) stopped(d Decision) {
	switch {
	case d.GaveUp:
		c.shard.GaveUp()
	case d.Reason != "":
		c.shard.ProtocolStopOnly(d.Reason)
	}
}

// nowSpacing is how long apart two reconnect_now messages must come for the
// second to be at once too; closer, the reconnect delay applies.
const nowSpacing = time.Second

// intent is what a client means by a connect attempt: when it meant to
// start it, the chaos event it recovers from (-1: none), and whether it is
// one it meant (first: its first since its start, a close or a session it
// ended), not a retry after a failure; the intended herd counts those.
type intent struct {
	at    time.Time
	event int
	first bool
	// queued says the attempt waited for a dial slot (connect sets it).
	queued bool
}

// connectAttempt is a connect attempt, and its outcome with its session
// script's.
type connectAttempt struct {
	c    *client
	ctx  context.Context
	in   intent
	done sync.WaitGroup // done once the outcome is in

	// started is when the dial started, ended when the attempt failed (its
	// dial, or its script).
	started, ended time.Time
	hs             handshake
	retryAfter     time.Duration
	status         int   // the HTTP status a refused upgrade had; 0: none
	err            error // nil: the client holds a connection, unless se says the run ended
	st             connState
	se             scriptEnd
}

// connect makes a connect attempt and runs the session script on its
// connection, on one of the fleet's attempt runners: the handshake's deep
// stack stays with the runner, and the client's goroutine, parked in a
// session's read for most of its life, keeps its small starting stack. (The
// runtime shrinks a stack only at GC, and only while under a quarter of it
// is in use, which a parked read loop's frames exceed.) The attempt goes to
// a runner once a dial may start, so that clients queued for a dial hold no
// runner.
func (c *client) connect(ctx context.Context, in intent) *connectAttempt {
	a := &connectAttempt{c: c, ctx: ctx, in: in}
	if !c.f.dials.TryAcquire(1) {
		a.in.queued = true
		if a.err = c.f.dials.Acquire(ctx, 1); a.err != nil {
			// The run ended while the client waited for a slot. It meant
			// this attempt, and its wait is the generator's lag: leaving
			// it out would drop the longest waits of a queued herd.
			now := time.Now()
			c.shard.Attempt(in.at, now, in.event, in.first, true)
			c.shard.Failure(now, stats.Cancelled, in.event)
			return a
		}
	}
	c.f.runners.run(a)
	return a
}

// opened is when the attempt's connection opened as a client library sees
// it, and whether it did: its handshake; with a session script that waits,
// the first awaited message, the protocol's reply to its opening
// (graphql-ws's connection_ack, socket.io's engine open packet,
// centrifuge's connect reply, ActionCable's welcome), which a connection
// the server or the network closed first never had.
func (a *connectAttempt) opened() (time.Time, bool) {
	if !a.c.f.scriptWaits {
		return a.hs.at, true
	}
	return a.se.replied, !a.se.replied.IsZero()
}

// opening reports the attempt's connection to retry, at its offset from
// origin: opened as opened says, or, closed before the protocol's reply,
// upgraded only.
func (a *connectAttempt) opening(retry *Retry, origin time.Time) {
	if at, ok := a.opened(); ok {
		retry.Connected(at.Sub(origin))
		return
	}
	retry.Upgraded(a.hs.at.Sub(origin))
}

// attempt runs on a runner: it dials, runs the script, and records and
// closes a connection whose script failed.
func (a *connectAttempt) attempt() {
	c := a.c
	d := c.dialAcquired(a.ctx, a.in)
	a.hs, a.retryAfter, a.status, a.err, a.started, a.ended = d.hs, d.retryAfter, d.status, d.err, d.start, d.end
	if a.err != nil {
		return
	}
	a.st = connState{session: c.sessions, node: a.hs.node, nodeFromHeader: a.hs.node >= 0, welcomePending: true}
	a.se = c.runScript(a.ctx, a.hs.conn, &a.st)
	switch a.se.outcome {
	case scriptCancelled:
		c.shard.Failure(a.se.at, stats.Cancelled, a.in.event)
		c.endScript(a.hs.conn, a.se.outcome)
	case scriptTimedOut:
		c.shard.Failure(a.se.at, stats.ScriptTimeout, a.in.event)
		c.endScript(a.hs.conn, a.se.outcome)
		a.err, a.ended = errScriptTimeout, a.se.at
	case scriptRejected:
		// The server refused: its error reply (a step's reject), or a
		// message a reply rule ends the session on, before the client
		// was in.
		c.shard.Failure(a.se.at, stats.Rejected, a.in.event)
		c.endScript(a.hs.conn, a.se.outcome)
		a.err, a.ended = errRejected, a.se.at
	}
}

// dial makes one connect attempt, meant for now, and records it: its
// failure, or its success unless a session script must go through first.
// On failure it returns the Retry-After the server asked for (0 if none).
func (c *client) dial(ctx context.Context, event int) (handshake, time.Duration, error) {
	in := intent{at: time.Now(), event: event}
	if err := c.f.dials.Acquire(ctx, 1); err != nil {
		return handshake{}, 0, err
	}
	d := c.dialAcquired(ctx, in)
	return d.hs, d.retryAfter, d.err
}

// dialed is the outcome of a dial: a handshake, or an error with the
// Retry-After the server asked for (0 if none); and when it started and
// ended.
type dialed struct {
	hs         handshake
	retryAfter time.Duration
	status     int // the HTTP status a refused upgrade had; 0: none
	err        error
	start, end time.Time
}

// runEnded reports whether the run of ctx had ended by end: cancelled, or
// past its deadline. gorilla/websocket gives the handshake's connection
// the context's deadline, which can fire before the context's own timer
// marks it done.
func runEnded(ctx context.Context, end time.Time) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !end.Before(dl)
}

// cutByRunEnd reports whether an attempt from start to end failed because
// the run ended: a handshake whose own timeout ran out before the run's
// deadline timed out, though the run may be over by the time it returns.
func cutByRunEnd(ctx context.Context, start, end time.Time, timeout time.Duration) bool {
	if !runEnded(ctx, end) {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || timeout <= 0 || !start.Add(timeout).Before(dl)
}

// dialAcquired makes the attempt in means once it holds one of the fleet's
// dials in flight, which it releases.
func (c *client) dialAcquired(ctx context.Context, in intent) dialed {
	c.attempts++
	ep := &c.f.endpoints[c.id%len(c.f.endpoints)]
	url := ep.static
	if ep.templated {
		url = string(ep.url.append(nil, c.values(c.sessions+1, c.attempts)))
	}
	start := time.Now()
	c.shard.Attempt(in.at, start, in.event, in.first, in.queued)
	// gorilla/websocket applies a context's deadline to the handshake but not
	// its cancellation: abort the handshake ourselves when the run ends, so a
	// server that never answers cannot hold the run past its deadline.
	abort := &dialabort.Abort{Dialer: c.f.sourceDialer(c.id)}
	stop := context.AfterFunc(ctx, abort.Abort)
	conn, resp, err := c.f.dialer.DialContext(abort.Context(ctx), url, ep.header)
	if !stop() && err == nil {
		conn.Close() // the run ended as the handshake completed
		conn, err = nil, ctx.Err()
	}
	end := time.Now()
	c.f.dials.Release(1)
	if err != nil {
		var retryAfter time.Duration
		status := 0
		if resp != nil {
			if resp.StatusCode != http.StatusSwitchingProtocols {
				status = resp.StatusCode
			}
			if ra, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				retryAfter = ra
			}
			if resp.Body != nil {
				resp.Body.Close()
			}
		}
		timeout := c.f.cfg.HandshakeTimeout
		reason := classify(err, resp, timeout > 0 && end.Sub(start) >= timeout)
		if cutByRunEnd(ctx, start, end, timeout) {
			reason = stats.Cancelled
		}
		c.shard.Failure(end, reason, in.event)
		if reason == stats.Other {
			c.shard.OtherMessage(func() string { return failureMessage(err) })
		}
		return dialed{retryAfter: retryAfter, status: status, err: err, start: start, end: end}
	}
	c.sessions++
	if !c.f.scriptWaits {
		c.shard.Connect(end, end.Sub(start))
	}
	conn.SetReadLimit(c.f.cfg.ReadLimit)
	node := -1
	if v := resp.Header.Get(NodeHeader); v != "" && c.f.cfg.NodeFromHeader {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			node = n
		}
	}
	return dialed{hs: handshake{conn: conn, at: end, took: end.Sub(start), node: node}, start: start, end: end}
}

// sessionEnd says how a session ended.
type sessionEnd struct {
	stopped     bool      // the run is over
	clientEnded bool      // the client closed after its lifetime
	code        int       // close code observed (1006: no close frame)
	at          time.Time // when the close was observed
	node        int       // node the session was on (-1: unknown)
	// proto says a server message ended the session (a reply rule's
	// reaction): at is when it came, and code means nothing.
	proto *protoEnd
}

// Why a client ended a session itself.
const (
	notEnding int32 = iota
	endingStopped
	endingLifetime
	endedByServer // the read loop ended first: the server or the network closed
)

// liveSession is the state a connection's timers share with the client's
// read loop: a connected client needs no goroutine besides its own, which
// reads. Sends, pings and the lifetime arrive as timer callbacks, the run's
// end through the fleet's liveSessions.
type liveSession struct {
	c        *client
	conn     *websocket.Conn
	ending   atomic.Int32   // who ends the session: the first to claim it
	over     bool           // under mu
	recorded sync.WaitGroup // done once a client-side ending is recorded
	session  int64          // the connection's number, for templates
	timers   *ownTimers     // nil: neither a lifetime nor a heartbeat
	// prevLive and nextLive link the fleet's live sessions, under its
	// liveSessions' lock.
	prevLive, nextLive *liveSession

	mu        sync.Mutex // guards over and the fields below, and serializes sends
	next      time.Time  // scheduled time of the next message
	seq       int64      // messages sent in the session
	sendTimer *time.Timer
	text      *textSender // text messages from a template; nil: binary
	ping      *pinger     // nil: no pings
	killTimer atomic.Pointer[time.Timer]
}

// ownTimers are the timers of what a session does on its own clock, which
// most sessions lack: kept apart, they cost such a session one pointer.
type ownTimers struct {
	life *time.Timer // nil: no lifetime
	beat *time.Timer // nil: no heartbeat
	buf  []byte      // the heartbeat's message, under liveSession.mu
}

// textSender renders a session's periodic text messages and, when the
// server echoes them, keeps those awaiting their echo.
type textSender struct {
	buf     []byte
	echoes  *textEchoes // nil: the server does not echo
	readBuf []byte      // the read loop's: a message as long as the longest awaited
}

// pinger is a session's ping state, used under liveSession.mu but pongAt,
// which the read loop sets, and wait, which it stops (a timer is safe for
// that).
type pinger struct {
	timer *time.Timer // the next ping
	wait  *time.Timer // the pong timeout of unanswered; stopped while none waits
	// unanswered is when the oldest ping not answered yet was sent, in ns
	// from the run's start plus one; 0: none.
	unanswered int64
	pongAt     atomic.Int64 // when the last pong came, in the same unit
}

// session holds one connection until the server or network ends it, its
// lifetime runs out, or ctx ends. recovering says the first message read
// ends the client's recovery from the close at closedAt. Its work is in
// startSession and finish, whose frames are not under the read loop, parked
// for the session's life.
func (c *client) session(ctx context.Context, conn *websocket.Conn, st *connState, recovering bool, closedAt time.Time) sessionEnd {
	s := c.startSession(ctx, conn, st)
	return s.finish(c.read(conn, st, recovering, closedAt, s))
}

// startSession arms a new session's timers, and has the run's end close it.
func (c *client) startSession(ctx context.Context, conn *websocket.Conn, st *connState) *liveSession {
	cfg := &c.f.cfg
	s := &liveSession{c: c, conn: conn, session: st.session, seq: st.sent}
	s.recorded.Add(1)
	c.f.live.add(ctx, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg.Lifetime > 0 || cfg.Heartbeat.Interval > 0 {
		s.timers = &ownTimers{}
	}
	if cfg.Lifetime > 0 {
		s.timers.life = time.AfterFunc(cfg.Lifetime, func() { s.closeFromClient(endingLifetime, websocket.CloseNormalClosure) })
	}
	if cfg.Heartbeat.Interval > 0 {
		s.timers.beat = time.AfterFunc(cfg.Heartbeat.Interval, s.heartbeatDue)
	}
	if cfg.SendInterval > 0 {
		if c.f.message != nil {
			s.text = &textSender{}
			if !cfg.NoEcho {
				s.text.echoes = &textEchoes{}
			}
		}
		s.next = time.Now().Add(cfg.SendInterval)
		s.sendTimer = time.AfterFunc(cfg.SendInterval, s.sendDue)
	}
	if cfg.PingInterval > 0 {
		s.ping = &pinger{}
		// The pong timeout exists from the start, stopped, so that the
		// read loop can stop it when a pong comes, without a lock: an
		// answered ping then wakes nothing.
		s.ping.wait = time.AfterFunc(time.Hour, s.pongOverdue)
		s.ping.wait.Stop()
		conn.SetPongHandler(s.pong)
		s.ping.timer = time.AfterFunc(cfg.PingInterval, s.pingDue)
	}
	return s
}

// finish ends a session whose read loop ended with end.
func (s *liveSession) finish(end readEnd) sessionEnd {
	conn := s.conn
	// Claim the ending: a lifetime or stop callback that has not claimed it
	// yet now finds it taken and records nothing.
	s.ending.CompareAndSwap(notEnding, endedByServer)

	s.c.f.live.remove(s)
	if s.timers != nil && s.timers.life != nil {
		s.timers.life.Stop()
	}
	// A send blocked on a server that stopped reading holds s.mu until its
	// write deadline: cut the write short, the session is over.
	_ = conn.NetConn().SetWriteDeadline(time.Now())
	s.mu.Lock()
	s.over = true
	if s.sendTimer != nil {
		s.sendTimer.Stop()
	}
	if s.ping != nil {
		s.ping.timer.Stop()
		s.ping.wait.Stop()
	}
	if k := s.killTimer.Load(); k != nil {
		k.Stop()
	}
	if s.timers != nil && s.timers.beat != nil {
		s.timers.beat.Stop()
	}
	s.mu.Unlock()
	switch s.ending.Load() {
	case endingStopped:
		s.recorded.Wait()
		conn.Close()
		return sessionEnd{stopped: true}
	case endingLifetime:
		s.recorded.Wait()
		conn.Close()
		return sessionEnd{clientEnded: true}
	}
	return s.c.serverEnded(conn, end)
}

// serverEnded finishes a connection the server (or the network) ended. It
// lets the server close TCP first, as it should (it keeps TIME_WAIT),
// without holding up the client's reaction.
//
// A session a server message ended (end.proto) is closed by the client, as
// a protocol's client library closes its socket on the server's "go away";
// the server then closes TCP.
func (c *client) serverEnded(conn *websocket.Conn, end readEnd) sessionEnd {
	if end.proto != nil {
		c.f.closing.Go(func() {
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(c.f.cfg.CloseTimeout))
			c.awaitServerClose(conn, true)
		})
		return sessionEnd{at: end.at, node: end.node, proto: end.proto}
	}
	c.f.closing.Go(func() { c.awaitServerClose(conn, end.closeFrame) })
	return sessionEnd{code: end.code, at: end.at, node: end.node}
}

// sendDue sends every message whose time has come, each stamped with (or
// timed from) its scheduled time, so a stall shows in message_rtt instead
// of hiding it (no coordinated omission), then arms the timer for the next
// one.
func (s *liveSession) sendDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return
	}
	interval := s.c.f.cfg.SendInterval
	now := time.Now()
	for !s.next.After(now) {
		s.seq++
		var err error
		if s.text != nil {
			err = s.sendText(s.next)
		} else {
			err = s.c.send(s.conn, s.next)
		}
		if err != nil {
			if !errors.Is(err, websocket.ErrCloseSent) {
				// The read loop sees the broken connection and reports it.
				s.conn.NetConn().Close()
			} // else a close handshake is under way: the read loop ends with it
			return
		}
		s.next = s.next.Add(interval)
	}
	s.sendTimer.Reset(s.next.Sub(now))
}

// sendText sends the periodic text message numbered s.seq, scheduled at
// sched. It is awaited as an echo from before it is written: the echo may
// come back before the write returns.
func (s *liveSession) sendText(sched time.Time) error {
	t := s.text
	t.buf = s.c.f.message.append(t.buf[:0], s.c.values(s.session, s.seq))
	if t.echoes != nil {
		t.echoes.add(string(t.buf), sched)
	}
	return s.c.write(s.conn, websocket.TextMessage, t.buf)
}

// heartbeatDue sends the heartbeat, numbered as the session's next message,
// and arms the next one.
func (s *liveSession) heartbeatDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return
	}
	s.seq++
	t := s.timers
	t.buf = s.c.f.heartbeat.append(t.buf[:0], s.c.values(s.session, s.seq))
	if err := s.c.write(s.conn, websocket.TextMessage, t.buf); err != nil {
		if !errors.Is(err, websocket.ErrCloseSent) {
			s.conn.NetConn().Close()
		}
		return
	}
	t.beat.Reset(s.c.f.cfg.Heartbeat.Interval)
}

// pingDue pings and arms the next ping. A ping sent while none awaits its
// pong arms the pong timeout (pongOverdue), so a server that stops
// answering is found dead pong_timeout after the first ping it leaves
// unanswered: between pong_timeout and ping_interval + pong_timeout after
// it stopped.
func (s *liveSession) pingDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return
	}
	cfg := &s.c.f.cfg
	p := s.ping
	now := time.Now()
	if p.unanswered != 0 && p.pongAt.Load() >= p.unanswered {
		p.unanswered = 0 // answered
	}
	if err := s.conn.WriteControl(websocket.PingMessage, nil, now.Add(cfg.WriteTimeout)); err != nil {
		if !errors.Is(err, websocket.ErrCloseSent) {
			s.conn.NetConn().Close()
		}
		return
	}
	if p.unanswered == 0 {
		p.unanswered = int64(now.Sub(s.c.f.rec.Start())) + 1
		p.wait.Reset(cfg.PongTimeout)
	}
	p.timer.Reset(cfg.PingInterval)
}

// pongOverdue is the pong timeout of the oldest unanswered ping: unless its
// pong came meanwhile, the connection is taken for dead and closed, which
// the read loop records as a 1006 close, as a TCP reset. A timer that fired
// as pingDue rearmed it for a newer ping (pong_timeout equal to
// ping_interval makes them due together) finds that ping younger than the
// timeout, and leaves it to the rearmed timer.
func (s *liveSession) pongOverdue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return
	}
	p := s.ping
	if p.unanswered == 0 || p.pongAt.Load() >= p.unanswered {
		return
	}
	waited := time.Since(s.c.f.rec.Start()) - time.Duration(p.unanswered-1)
	if waited < s.c.f.cfg.PongTimeout {
		return
	}
	s.conn.NetConn().Close()
}

// pong notes a pong; the read loop calls it.
func (s *liveSession) pong(string) error {
	s.ping.pongAt.Store(int64(time.Since(s.c.f.rec.Start())) + 1)
	s.ping.wait.Stop() // the oldest ping is answered (pongOverdue would find so)
	return nil
}

// closeFromClient ends the session from the client's side with code; the read
// loop ends when the server's close reply arrives, or when a timer closes the
// connection after CloseTimeout.
func (s *liveSession) closeFromClient(why int32, code int) {
	if !s.ending.CompareAndSwap(notEnding, why) {
		return
	}
	timeout := s.c.f.cfg.CloseTimeout
	// Armed first, and without s.mu, which a send blocked on a server that
	// stopped reading holds for up to the write timeout.
	s.killTimer.Store(time.AfterFunc(timeout, func() { s.conn.Close() }))
	// Recorded before any I/O, and the session waits for it: the record
	// belongs to the run, whatever the server does meanwhile.
	if why == endingStopped {
		s.c.shard.Leave(time.Now()) // the run is over: no session the client chose to end
	} else {
		s.c.shard.ClientClose(time.Now())
	}
	s.recorded.Done()
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(timeout))
}

// send writes one binary message: the scheduled send time, then the fleet's
// shared padding up to payload_bytes (gorilla masks a copy, never the
// source).
func (c *client) send(conn *websocket.Conn, scheduled time.Time) error {
	var stamp [stampBytes]byte
	binary.BigEndian.PutUint64(stamp[:], uint64(scheduled.Sub(c.f.rec.Start())))
	// A server that stops reading must not block the client forever.
	if err := conn.SetWriteDeadline(time.Now().Add(c.f.cfg.WriteTimeout)); err != nil {
		return err
	}
	w, err := conn.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(stamp[:]); err != nil {
		return err
	}
	if _, err := w.Write(c.f.padding); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	c.shard.Sent()
	return nil
}

// write writes one message of a script or a template within the write
// timeout, and records it.
func (c *client) write(conn *websocket.Conn, typ int, data []byte) error {
	if err := conn.SetWriteDeadline(time.Now().Add(c.f.cfg.WriteTimeout)); err != nil {
		return err
	}
	if err := conn.WriteMessage(typ, data); err != nil {
		return err
	}
	c.shard.Sent()
	return nil
}

// readEnd is how a connection's read loop ended.
type readEnd struct {
	code       int
	closeFrame bool // a close frame arrived (else the connection broke)
	at         time.Time
	node       int
	proto      *protoEnd // a server message ended the session; code means nothing
}

// read is a connection's read loop. Its first message, unless a script read
// it, is the server's welcome, and ends a recovery when recovering. Binary
// messages carrying a stamp are echoes of binary messages; with text
// messages, echoes are the messages text awaits.
func (c *client) read(conn *websocket.Conn, st *connState, recovering bool, closedAt time.Time, s *liveSession) readEnd {
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			return readFailed(err, time.Now(), st.node)
		}
		if c.f.replies != nil {
			if end, ok := c.ruledMessage(typ, r, st, recovering, closedAt, s); !ok {
				return end
			}
			continue
		}
		if end, ok := c.message(conn, typ, r, st, recovering, closedAt, s.text); !ok {
			return end
		}
	}
}

// readBuffers are the buffers a read loop reads a message with, lent by
// the fleet for the message only: an idle connection holds none.
type readBuffers struct {
	head  [64]byte // a message's start: a welcome's node, an echo's stamp
	chunk [512]byte
}

// message reads and records the message of type typ that r reads; false if
// the connection must end, as end says.
func (c *client) message(conn *websocket.Conn, typ int, r io.Reader, st *connState, recovering bool, closedAt time.Time, text *textSender) (end readEnd, ok bool) {
	bufs, _ := c.f.readBufs.Get().(*readBuffers)
	if bufs == nil {
		bufs = new(readBuffers)
	}
	defer c.f.readBufs.Put(bufs)
	buf := bufs.head[:]
	if text != nil && text.echoes != nil && typ == websocket.TextMessage {
		// Read enough to compare with the longest message awaited.
		if need := text.echoes.longest() + 1; need > len(buf) {
			if cap(text.readBuf) < need {
				text.readBuf = make([]byte, need)
			}
			buf = text.readBuf[:need]
		}
	}
	n, valid, err := readMessage(r, typ == websocket.TextMessage, buf, bufs.chunk[:])
	now := time.Now()
	if err != nil {
		return readEnd{}, true // the next NextReader reports the broken connection
	}
	if !valid {
		return c.failInvalidUTF8(conn, now, st.node), false
	}
	c.classify(typ, buf[:n], n < len(buf), now, st, recovering, closedAt, text)
	return readEnd{}, true
}

// classify records a message read at now, msg (whole says all of it, else
// its start): the server's welcome, which may end a recovery, an echo, or
// another message.
func (c *client) classify(typ int, msg []byte, whole bool, now time.Time, st *connState, recovering bool, closedAt time.Time, text *textSender) {
	binaryEcho := c.f.message == nil && c.f.cfg.SendInterval > 0 && !c.f.cfg.NoEcho
	n := len(msg)
	buf := msg
	switch {
	case st.welcomePending:
		st.arrived(buf[:n])
		c.shard.Received()
		if recovering {
			c.shard.Recovered(now.Sub(closedAt))
			st.recovered = true
		}
	case binaryEcho && typ == websocket.BinaryMessage && n >= stampBytes:
		sched := time.Duration(binary.BigEndian.Uint64(buf[:stampBytes]))
		c.shard.Echo(now.Sub(c.f.rec.Start()) - sched)
	case text != nil && text.echoes != nil && typ == websocket.TextMessage && whole:
		if sched, ok := text.echoes.match(buf[:n]); ok {
			c.shard.Echo(now.Sub(sched))
		} else {
			c.shard.Received()
		}
	default:
		c.shard.Received()
	}
}

// ruledMessage reads and records the message of type typ that r reads when
// the fleet has reply rules: the rules see it whole (a message over the
// read limit fails the read first). It answers for the rule that matches,
// and returns false when the rule ends the session, or the connection must
// end, as end says.
func (c *client) ruledMessage(typ int, r io.Reader, st *connState, recovering bool, closedAt time.Time, s *liveSession) (end readEnd, ok bool) {
	rs := c.f.replies
	b := rs.buffer()
	defer rs.release(b)
	_, err := b.ReadFrom(r)
	now := time.Now()
	if err != nil {
		return readEnd{}, true // the next NextReader reports the broken connection
	}
	msg := b.Bytes()
	if typ == websocket.TextMessage && !utf8.Valid(msg) {
		return c.failInvalidUTF8(s.conn, now, st.node), false
	}
	c.classify(typ, msg, true, now, st, recovering, closedAt, s.text)
	rule := rs.match(msg)
	if rule == nil {
		return readEnd{}, true
	}
	if rule.Send != "" && !s.reply(rule) {
		return readEnd{}, true // the write failed: the next read reports it
	}
	if rule.Then == Continue {
		return readEnd{}, true
	}
	return readEnd{at: now, node: st.node, proto: &protoEnd{then: rule.Then, reason: rule.Name}}, false
}

// replyBufSize is the room a reply is rendered in without an allocation:
// protocols' keep-alive answers are a few bytes ("3", "{}").
const replyBufSize = 256

// reply sends rule's answer as the session's next message, serialized with
// its timers' sends; false if the write failed (the connection is closed,
// for the read loop to report).
func (s *liveSession) reply(rule *replyRule) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return true
	}
	s.seq++
	rs := s.c.f.replies
	b := rs.buffer()
	defer rs.release(b)
	b.Grow(replyBufSize)
	_, err := s.c.answer(s.conn, rule, s.session, s.seq, b.AvailableBuffer())
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		s.conn.NetConn().Close()
		return false
	}
	return true
}

// readFailed is the end of a connection whose read failed with err at t.
func readFailed(err error, t time.Time, node int) readEnd {
	var ce *websocket.CloseError
	code := closeCode(err)
	// A 1014 arrives in a close frame too, though gorilla reports it as a
	// protocol error.
	frame := errors.As(err, &ce) || code == CloseBadGateway
	return readEnd{code: code, closeFrame: frame, at: t, node: node}
}

// failInvalidUTF8 fails a connection that received a text message that is
// not UTF-8 with 1007, as RFC 6455 §8.1 asks. The server then closes TCP.
func (c *client) failInvalidUTF8(conn *websocket.Conn, now time.Time, node int) readEnd {
	_ = conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "invalid UTF-8"),
		now.Add(c.f.cfg.CloseTimeout))
	return readEnd{code: websocket.CloseInvalidFramePayloadData, closeFrame: true, at: now, node: node}
}

// readMessage reads one message: its first len(head) bytes into head (n of
// them), the rest through chunk. A text message is checked to be UTF-8;
// valid is false as soon as it is not.
func readMessage(r io.Reader, text bool, head, chunk []byte) (n int, valid bool, err error) {
	var u utf8Stream
	n, err = io.ReadFull(r, head)
	valid = !text || u.write(head[:n])
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return n, valid && u.end(), nil
	case err != nil || !valid:
		return n, valid, err
	case !text:
		_, err = io.Copy(io.Discard, r)
		return n, true, err
	}
	for {
		m, err := r.Read(chunk)
		if !u.write(chunk[:m]) {
			return n, false, nil
		}
		if errors.Is(err, io.EOF) {
			return n, u.end(), nil
		}
		if err != nil {
			return n, true, err
		}
	}
}

// awaitServerClose lets the server close TCP first after a close handshake
// (it keeps TIME_WAIT, not us), then closes the connection.
func (c *client) awaitServerClose(conn *websocket.Conn, closeFrame bool) {
	if closeFrame {
		nc := conn.NetConn()
		if nc.SetReadDeadline(time.Now().Add(c.f.cfg.CloseTimeout)) == nil {
			// Not io.Copy: its 8 KiB buffer would be held by every
			// connection of a herd waiting here at once.
			var discard [64]byte
			for {
				if _, err := nc.Read(discard[:]); err != nil {
					break
				}
			}
		}
	}
	conn.Close()
}
