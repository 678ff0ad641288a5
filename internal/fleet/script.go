package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// CloseScriptTimeout is the code a client closes with when a script step's
// message did not come in time: 1008 (Policy Violation), the generic code
// for a peer that did not keep to the application's protocol, so a server's
// logs tell these apart from normal closes (1000) and clients leaving
// (1001).
const CloseScriptTimeout = websocket.ClosePolicyViolation

// scriptStep is a ScriptStep ready to run.
type scriptStep struct {
	send      template
	hasSend   bool
	binary    []byte // nil: no binary message
	expect    template
	hasExpect bool
	re        *regexp.Regexp
	reject    []byte // nil: no refusal named by a substring
	rejectRe  *regexp.Regexp
	timeout   time.Duration
}

func compileStep(s ScriptStep) (scriptStep, error) {
	var st scriptStep
	switch {
	case s.Send != "" && s.SendBinary != nil:
		return st, errors.New("sends both a text and a binary message: split it into two steps")
	case s.Expect != "" && s.ExpectRegex != nil:
		return st, errors.New("waits for both a substring and a regular expression: keep one")
	case (s.Expect != "" || s.ExpectRegex != nil) && s.Timeout <= 0:
		return st, fmt.Errorf("timeout %v: a step that waits needs a timeout above 0", s.Timeout)
	}
	var err error
	if s.Send != "" {
		if st.send, err = parseTemplate(s.Send); err != nil {
			return st, err
		}
		st.hasSend = true
	}
	if s.Expect != "" {
		if st.expect, err = parseTemplate(s.Expect); err != nil {
			return st, err
		}
		st.hasExpect = true
	}
	st.binary, st.re, st.timeout = s.SendBinary, s.ExpectRegex, s.Timeout
	if s.Reject != "" {
		st.reject = []byte(s.Reject)
	}
	st.rejectRe = s.RejectRegex
	return st, nil
}

func (s *scriptStep) waits() bool { return s.hasExpect || s.re != nil }

// rejects says whether msg is the refusal the step names.
func (s *scriptStep) rejects(msg []byte) bool {
	return s.reject != nil && bytes.Contains(msg, s.reject) || s.rejectRe != nil && s.rejectRe.Match(msg)
}

// How a session script ended.
type scriptOutcome int

const (
	scriptDone      scriptOutcome = iota // every step went through
	scriptTimedOut                       // a step's message did not come in time
	scriptCancelled                      // the run ended during the script
	scriptClosed                         // the server or the network closed the connection
	scriptRejected                       // the server refused: a step's reject, or a reply rule that ends the session
)

// scriptEnd is how a script ended.
type scriptEnd struct {
	outcome scriptOutcome
	at      time.Time // when the last expected message came, or the script failed
	waited  bool      // a step waited for a message: at is the client's recovery
	// replied is when the first awaited message came, the protocol's reply
	// to its opening; zero: none came.
	replied time.Time
	closed  readEnd // scriptClosed: how the connection ended
	// proto is the reply rule's reaction when a rule, not a step's
	// reject, refused the client (scriptRejected).
	proto *protoEnd
}

// scriptDeadline sets a connection's read deadline for a script that the
// run's end may cut short: once cancelled, the deadline stays in the past.
type scriptDeadline struct {
	mu        sync.Mutex
	conn      net.Conn
	cancelled bool
}

func (d *scriptDeadline) cancel() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancelled = true
	_ = d.conn.SetReadDeadline(time.Now())
}

// set sets the read deadline; false once the run has ended.
func (d *scriptDeadline) set(t time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancelled {
		return false
	}
	_ = d.conn.SetReadDeadline(t)
	return true
}

func (d *scriptDeadline) isCancelled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancelled
}

// runScript runs the session script on a new connection: each step sends
// its message, then reads messages until one matches what it expects
// (others are counted and let go) or its timeout passes. The first message
// read gives the node, as the read loop's would. It updates st's node and
// message count.
func (c *client) runScript(ctx context.Context, conn *websocket.Conn, st *connState) scriptEnd {
	f := c.f
	if len(f.script) == 0 {
		return scriptEnd{}
	}
	var (
		dl   *scriptDeadline
		stop = func() bool { return true }
	)
	if f.scriptWaits {
		dl = &scriptDeadline{conn: conn.NetConn()}
		stop = context.AfterFunc(ctx, dl.cancel)
		defer stop()
	}
	var (
		buf     []byte       // a rendered message or expectation
		msg     bytes.Buffer // a message read
		waited  bool
		at      time.Time
		replied time.Time
	)
	for i := range f.script {
		step := &f.script[i]
		if step.hasSend || step.binary != nil {
			typ, data := websocket.BinaryMessage, step.binary
			if step.hasSend {
				buf = step.send.append(buf[:0], c.values(st.session, st.sent+1))
				typ, data = websocket.TextMessage, buf
			}
			if err := c.write(conn, typ, data); err != nil {
				if !errors.Is(err, websocket.ErrCloseSent) {
					// The next read, here or in the read loop, reports the
					// broken connection.
					conn.NetConn().Close()
				}
			} else {
				st.sent++
			}
		}
		if !step.waits() {
			continue
		}
		var want []byte
		if step.hasExpect {
			// {{seq}}: the message just sent, as a reply would name it.
			buf = step.expect.append(buf[:0], c.values(st.session, st.sent))
			want = buf
		}
		if !dl.set(time.Now().Add(step.timeout)) {
			return scriptEnd{outcome: scriptCancelled, at: time.Now()}
		}
		for {
			typ, r, err := conn.NextReader()
			if err == nil {
				msg.Reset()
				_, err = msg.ReadFrom(r)
			}
			now := time.Now()
			if err != nil {
				var ne net.Error
				switch {
				case dl.isCancelled():
					return scriptEnd{outcome: scriptCancelled, at: now}
				case errors.As(err, &ne) && ne.Timeout():
					return scriptEnd{outcome: scriptTimedOut, at: now}
				}
				return scriptEnd{outcome: scriptClosed, at: now, closed: readFailed(err, now, st.node), replied: replied}
			}
			if typ == websocket.TextMessage && !utf8.Valid(msg.Bytes()) {
				return scriptEnd{outcome: scriptClosed, at: now, closed: c.failInvalidUTF8(conn, now, st.node), replied: replied}
			}
			c.shard.Received()
			st.arrived(msg.Bytes())
			if step.rejects(msg.Bytes()) {
				return scriptEnd{outcome: scriptRejected, at: now}
			}
			if step.re != nil && step.re.Match(msg.Bytes()) || step.hasExpect && bytes.Contains(msg.Bytes(), want) {
				waited, at = true, now
				if replied.IsZero() {
					replied = now
				}
				break
			}
			if end, over := c.scriptReply(conn, msg.Bytes(), st, now); over {
				return end
			}
		}
	}
	// Once stopped, the run's end can no longer set a deadline that the
	// session's read loop would take for a dead connection.
	if !stop() {
		return scriptEnd{outcome: scriptCancelled, at: time.Now()}
	}
	if dl != nil {
		_ = conn.NetConn().SetReadDeadline(time.Time{})
	}
	return scriptEnd{outcome: scriptDone, at: at, waited: waited, replied: replied}
}

// scriptReply runs the reply rules on msg, a message the script did not
// wait for, read at now: it answers for the rule that matches (the script
// is the connection's only writer), and reports whether the rule refused
// the client, and how.
func (c *client) scriptReply(conn *websocket.Conn, msg []byte, st *connState, now time.Time) (scriptEnd, bool) {
	if c.f.replies == nil {
		return scriptEnd{}, false
	}
	rule := c.f.replies.match(msg)
	if rule == nil {
		return scriptEnd{}, false
	}
	if rule.Send != "" {
		var buf [replyBufSize]byte
		if _, err := c.answer(conn, rule, st.session, st.sent+1, buf[:0]); err == nil {
			st.sent++
		}
	}
	if rule.Then == Continue {
		return scriptEnd{}, false
	}
	// Before the client is in, a server that ends the session refuses it:
	// a failed attempt, and a stop rule stops the client for good.
	return scriptEnd{outcome: scriptRejected, at: now, proto: &protoEnd{then: rule.Then, reason: rule.Name}}, true
}

// endScript closes a connection whose script failed: with 1008 after a
// timeout, 1001 (going away) when the run ended. The server then closes TCP.
func (c *client) endScript(conn *websocket.Conn, out scriptOutcome) {
	code, reason := CloseScriptTimeout, "script timeout"
	switch out {
	case scriptCancelled:
		code, reason = websocket.CloseGoingAway, ""
	case scriptRejected:
		// Refused, the client leaves normally, as a protocol's client
		// library closes its socket on an error reply.
		code, reason = websocket.CloseNormalClosure, ""
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.f.cfg.CloseTimeout))
	c.f.closing.Go(func() { c.awaitServerClose(conn, true) })
}
