package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// stampBytes is the size of the scheduled-send-time stamp that starts every
// message a client sends; the echo carries it back.
const stampBytes = 8

// client is one simulated WebSocket client. Only its own goroutine touches it,
// except the read loop of its current connection, which uses conn-local state.
type client struct {
	f     *Fleet
	id    int
	rng   *rand.Rand
	shard *stats.Shard
}

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

// run is the client's life: connect, hold sessions, react to closes.
func (c *client) run(ctx context.Context) {
	cfg := &c.f.cfg
	rec := recovery{event: -1}
	var (
		wait     time.Duration // before the next attempt
		attempts int           // attempts in the current sequence
		prev     time.Duration // the previous backoff delay
	)
	for {
		if !sleep(ctx, wait) {
			return
		}
		attempts++
		conn, retryAfter, err := c.dial(ctx, rec.event)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if cfg.MaxAttempts > 0 && attempts >= cfg.MaxAttempts {
				c.shard.GaveUp()
				return
			}
			prev = cfg.Backoff.Delay(attempts+1, prev, c.rng)
			wait = prev
			if cfg.RetryAfterCap > 0 {
				// A hostile or broken server must not silence the fleet.
				retryAfter = min(retryAfter, cfg.RetryAfterCap)
			}
			if cfg.HonorRetryAfter && retryAfter > wait {
				wait = retryAfter
			}
			continue
		}
		connectedAt := time.Now()
		if rec.active {
			c.shard.Reconnected(connectedAt, rec.closedAt, rec.event)
		}
		attempts, prev = 0, 0
		end := c.session(ctx, conn, connectedAt, rec)
		rec = recovery{event: -1}
		switch {
		case end.stopped:
			return
		case end.clientEnded:
			wait = cfg.Pause
			continue
		}
		rec = recovery{active: true, closedAt: end.at,
			event: c.f.rec.Attribute(end.at, end.code, end.node)}
		c.shard.Close(end.at, end.code, rec.event)
		if cfg.Policy.OnClose(end.code) == Stop {
			return
		}
		prev = cfg.Backoff.Delay(1, 0, c.rng)
		wait = prev + FirstDelay(cfg.FirstDelay, c.rng)
	}
}

// dial makes one connect attempt and records it. On failure it returns the
// Retry-After the server asked for (0 if none).
func (c *client) dial(ctx context.Context, event int) (*websocket.Conn, time.Duration, error) {
	if err := c.f.dials.Acquire(ctx, 1); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	c.shard.Attempt(start, event)
	// gorilla/websocket applies a context's deadline to the handshake but not
	// its cancellation: abort the handshake ourselves when the run ends, so a
	// server that never answers cannot hold the run past its deadline.
	abort := &dialAbort{}
	stop := context.AfterFunc(ctx, abort.abort)
	conn, resp, err := c.f.dialer.DialContext(context.WithValue(ctx, dialAbortKey{}, abort), c.f.cfg.URL, c.f.cfg.Header)
	if !stop() && err == nil {
		conn.Close() // the run ended as the handshake completed
		conn, err = nil, ctx.Err()
	}
	end := time.Now()
	c.f.dials.Release(1)
	if err != nil {
		var retryAfter time.Duration
		if resp != nil {
			if ra, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				retryAfter = ra
			}
			if resp.Body != nil {
				resp.Body.Close()
			}
		}
		timeout := c.f.cfg.HandshakeTimeout
		reason := classify(err, resp, timeout > 0 && end.Sub(start) >= timeout)
		if ctx.Err() != nil {
			reason = stats.Cancelled // cut short by the run's end
		}
		c.shard.Failure(end, reason, event)
		return nil, retryAfter, err
	}
	c.shard.Connect(end, end.Sub(start))
	conn.SetReadLimit(c.f.cfg.ReadLimit)
	return conn, 0, nil
}

// sessionEnd says how a session ended.
type sessionEnd struct {
	stopped     bool      // the run is over
	clientEnded bool      // the client closed after its lifetime
	code        int       // close code observed (1006: no close frame)
	at          time.Time // when the close was observed
	node        int       // node the session was on (-1: unknown)
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
// reads. Sends, the lifetime and the run's end arrive as timer callbacks.
type liveSession struct {
	c        *client
	conn     *websocket.Conn
	ending   atomic.Int32  // who ends the session: the first to claim it
	recorded chan struct{} // closed once a client-side ending is recorded

	mu        sync.Mutex // guards the fields below and serializes sends
	over      bool
	next      time.Time // scheduled time of the next message
	sendTimer *time.Timer
	killTimer atomic.Pointer[time.Timer]
}

// session holds one connection until the server or network ends it, its
// lifetime runs out, or ctx ends.
func (c *client) session(ctx context.Context, conn *websocket.Conn, connectedAt time.Time, rec recovery) sessionEnd {
	cfg := &c.f.cfg
	s := &liveSession{c: c, conn: conn, recorded: make(chan struct{})}
	stopWatch := context.AfterFunc(ctx, func() { s.closeFromClient(endingStopped, websocket.CloseGoingAway) })
	var life *time.Timer
	if cfg.Lifetime > 0 {
		life = time.AfterFunc(cfg.Lifetime, func() { s.closeFromClient(endingLifetime, websocket.CloseNormalClosure) })
	}
	if cfg.SendInterval > 0 {
		s.mu.Lock()
		s.next = connectedAt.Add(cfg.SendInterval)
		s.sendTimer = time.AfterFunc(cfg.SendInterval, s.sendDue)
		s.mu.Unlock()
	}

	end := c.read(conn, rec)
	// Claim the ending: a lifetime or stop callback that has not claimed it
	// yet now finds it taken and records nothing.
	s.ending.CompareAndSwap(notEnding, endedByServer)

	stopWatch()
	if life != nil {
		life.Stop()
	}
	// A send blocked on a server that stopped reading holds s.mu until its
	// write deadline: cut the write short, the session is over.
	_ = conn.NetConn().SetWriteDeadline(time.Now())
	s.mu.Lock()
	s.over = true
	if s.sendTimer != nil {
		s.sendTimer.Stop()
	}
	if k := s.killTimer.Load(); k != nil {
		k.Stop()
	}
	s.mu.Unlock()
	switch s.ending.Load() {
	case endingStopped:
		<-s.recorded
		conn.Close()
		return sessionEnd{stopped: true}
	case endingLifetime:
		<-s.recorded
		conn.Close()
		return sessionEnd{clientEnded: true}
	}
	// The server (or the network) ended the session. Let the server close
	// TCP first, as it should (it keeps TIME_WAIT), without holding up the
	// client's reaction.
	c.f.closing.Go(func() { c.awaitServerClose(conn, end.closeFrame) })
	return sessionEnd{code: end.code, at: end.at, node: end.node}
}

// sendDue sends every message whose time has come, each stamped with its
// scheduled time, so a stall shows in message_rtt instead of hiding it (no
// coordinated omission), then arms the timer for the next one.
func (s *liveSession) sendDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over || s.ending.Load() != notEnding {
		return
	}
	interval := s.c.f.cfg.SendInterval
	now := time.Now()
	for !s.next.After(now) {
		if err := s.c.send(s.conn, s.next); err != nil {
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
	close(s.recorded)
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(timeout))
}

// send writes one message: the scheduled send time, then the fleet's shared
// padding up to payload_bytes (gorilla masks a copy, never the source).
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

// readEnd is how a connection's read loop ended.
type readEnd struct {
	code       int
	closeFrame bool // a close frame arrived (else the connection broke)
	at         time.Time
	node       int
}

// read is a connection's read loop. The first message is the server's
// welcome: it ends a recovery. Binary messages carrying a stamp are echoes.
func (c *client) read(conn *websocket.Conn, rec recovery) readEnd {
	var head [64]byte // a message's start: a welcome's node, an echo's stamp
	var chunk [512]byte
	node := -1
	first := true
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			var ce *websocket.CloseError
			code := closeCode(err)
			// A 1014 arrives in a close frame too, though gorilla reports it
			// as a protocol error.
			frame := errors.As(err, &ce) || code == CloseBadGateway
			return readEnd{code: code, closeFrame: frame, at: time.Now(), node: node}
		}
		n, valid, err := readMessage(r, typ == websocket.TextMessage, head[:], chunk[:])
		now := time.Now()
		if err != nil {
			continue // the next NextReader reports the broken connection
		}
		if !valid {
			// RFC 6455 §8.1: a text message that is not UTF-8 fails the
			// connection with 1007. The server then closes TCP.
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "invalid UTF-8"),
				now.Add(c.f.cfg.CloseTimeout))
			return readEnd{code: websocket.CloseInvalidFramePayloadData, closeFrame: true, at: now, node: node}
		}
		switch {
		case first:
			first = false
			node = welcomeNode(head[:n])
			c.shard.Received()
			if rec.active {
				c.shard.Recovered(now.Sub(rec.closedAt))
			}
		case typ == websocket.BinaryMessage && n >= stampBytes && c.f.cfg.SendInterval > 0:
			sched := time.Duration(binary.BigEndian.Uint64(head[:stampBytes]))
			c.shard.Echo(now.Sub(c.f.rec.Start()) - sched)
		default:
			c.shard.Received()
		}
	}
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
			_, _ = io.Copy(io.Discard, nc)
		}
	}
	conn.Close()
}
