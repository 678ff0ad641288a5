package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
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
	f       *Fleet
	id      int
	rng     *rand.Rand
	shard   *stats.Shard
	payload []byte
}

func newClient(f *Fleet, id int) *client {
	c := &client{f: f, id: id, rng: ClientRand(f.cfg.Seed, id), shard: f.rec.Shard(id)}
	if f.cfg.SendInterval > 0 {
		c.payload = make([]byte, f.cfg.PayloadBytes)
	}
	return c
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
		attempts = 0
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
	conn, resp, err := c.f.dialer.DialContext(ctx, c.f.cfg.URL, nil)
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
		if ctx.Err() == nil { // an attempt cut short by the run's end is no failure
			c.shard.Failure(end, classify(err, resp), event)
		}
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

// readEnd is what a connection's read loop reports when it stops.
type readEnd struct {
	code int
	at   time.Time
	node int
}

// session holds one connection until the server or network ends it, its
// lifetime runs out, or ctx ends.
func (c *client) session(ctx context.Context, conn *websocket.Conn, connectedAt time.Time, rec recovery) sessionEnd {
	cfg := &c.f.cfg
	done := make(chan readEnd, 1)
	go c.read(conn, done, rec)

	var send, life <-chan time.Time
	var sendTimer *time.Timer
	next := connectedAt.Add(cfg.SendInterval)
	if cfg.SendInterval > 0 {
		sendTimer = time.NewTimer(cfg.SendInterval)
		defer sendTimer.Stop()
		send = sendTimer.C
	}
	if cfg.Lifetime > 0 {
		t := time.NewTimer(cfg.Lifetime)
		defer t.Stop()
		life = t.C
	}
	for {
		select {
		case e := <-done:
			return sessionEnd{code: e.code, at: e.at, node: e.node}
		case <-ctx.Done():
			c.closeSession(conn, done, websocket.CloseGoingAway)
			return sessionEnd{stopped: true}
		case <-life:
			c.closeSession(conn, done, websocket.CloseNormalClosure)
			return sessionEnd{clientEnded: true}
		case <-send:
			// Send every message whose time has come, each stamped with its
			// scheduled time, so a stall shows in message_rtt instead of
			// hiding it (no coordinated omission).
			now := time.Now()
			for !next.After(now) {
				if err := c.send(conn, next); err != nil {
					// The read loop sees the broken connection and reports it.
					conn.NetConn().Close()
					e := <-done
					return sessionEnd{code: e.code, at: e.at, node: e.node}
				}
				next = next.Add(cfg.SendInterval)
			}
			sendTimer.Reset(next.Sub(now))
		}
	}
}

func (c *client) send(conn *websocket.Conn, scheduled time.Time) error {
	binary.BigEndian.PutUint64(c.payload, uint64(scheduled.Sub(c.f.rec.Start())))
	if err := conn.SetWriteDeadline(time.Now().Add(c.f.cfg.HandshakeTimeout + time.Second)); err != nil {
		return err
	}
	if err := conn.WriteMessage(websocket.BinaryMessage, c.payload); err != nil {
		return err
	}
	c.shard.Sent()
	return nil
}

// closeSession ends a session from the client's side with code and waits, up
// to CloseTimeout, for the server's close reply, so the server closes TCP first.
func (c *client) closeSession(conn *websocket.Conn, done <-chan readEnd, code int) {
	deadline := time.Now().Add(c.f.cfg.CloseTimeout)
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), deadline)
	c.shard.ClientClose(time.Now())
	t := time.NewTimer(c.f.cfg.CloseTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		conn.Close()
		<-done
	}
}

// read is a connection's read loop. The first message is the server's
// welcome: it ends a recovery. Binary messages carrying a stamp are echoes.
func (c *client) read(conn *websocket.Conn, done chan<- readEnd, rec recovery) {
	var buf [64]byte
	node := -1
	first := true
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			now := time.Now()
			done <- readEnd{code: closeCode(err), at: now, node: node}
			c.awaitServerClose(conn, err)
			return
		}
		n, err := io.ReadFull(r, buf[:])
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = nil
		}
		now := time.Now()
		if err != nil {
			continue // the next NextReader reports the broken connection
		}
		switch {
		case first:
			first = false
			node = welcomeNode(buf[:n])
			c.shard.Received()
			if rec.active {
				c.shard.Recovered(now.Sub(rec.closedAt))
			}
		case typ == websocket.BinaryMessage && n >= stampBytes && c.payload != nil:
			sched := time.Duration(binary.BigEndian.Uint64(buf[:stampBytes]))
			c.shard.Echo(now.Sub(c.f.rec.Start()) - sched)
		default:
			c.shard.Received()
		}
	}
}

// awaitServerClose lets the server close TCP first after a close handshake
// (it keeps TIME_WAIT, not us), then closes the connection.
func (c *client) awaitServerClose(conn *websocket.Conn, err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		nc := conn.NetConn()
		if nc.SetReadDeadline(time.Now().Add(c.f.cfg.CloseTimeout)) == nil {
			_, _ = io.Copy(io.Discard, nc)
		}
	}
	conn.Close()
}
