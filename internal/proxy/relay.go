package proxy

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
)

// CloseBadGateway is close code 1014 (Bad Gateway), which gorilla/websocket
// has no constant for: a client gets it when the upstream connection ends
// without a close frame or breaks the protocol.
const CloseBadGateway = 1014

// Close reasons the proxy sends.
const (
	reasonRestart      = "wsstorm proxy: node restart"  // upstream, on a node restart
	reasonClose        = "wsstorm proxy: close"         // upstream, on a close step
	reasonShutdown     = "wsstorm proxy: shutting down" // upstream, on Shutdown
	reasonClientLost   = "wsstorm proxy: client lost"   // upstream, when the client vanished
	reasonUpstreamLost = "wsstorm proxy: upstream lost" // client, when the upstream vanished
)

// conn is one proxied connection: the client's side and the upstream's.
type conn struct {
	p       *Proxy
	n       *node
	id      uint64
	down    *websocket.Conn // the client's connection to the proxy
	up      *websocket.Conn // the proxy's connection to the upstream
	closing bool            // guarded by Proxy.mu: a close was sent or relayed, or a side ended
}

// relay forwards messages, pings and pongs both ways, one goroutine per
// direction, and returns when both sides have ended. The first close frame
// is relayed to the other side with its code and reason; the peer that sent
// it gets its reply from the proxy (gorilla's close handler echoes the code),
// so each side's closing handshake completes on its own.
func (c *conn) relay() {
	c.down.SetPingHandler(c.forwardControl(c.up, websocket.PingMessage))
	c.down.SetPongHandler(c.forwardControl(c.up, websocket.PongMessage))
	c.up.SetPingHandler(c.forwardControl(c.down, websocket.PingMessage))
	c.up.SetPongHandler(c.forwardControl(c.down, websocket.PongMessage))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.clientEnded(c.pump(c.down, c.up))
	}()
	c.upstreamEnded(c.pump(c.up, c.down))
	<-done
}

// forwardControl returns a handler that relays a ping or pong to dst, once
// the node is not frozen. A failure to write it shows on dst's own reader;
// a lost ping is the peer's to notice.
func (c *conn) forwardControl(dst *websocket.Conn, typ int) func(string) error {
	return func(data string) error {
		c.n.gate.Wait(nil)
		_ = dst.WriteControl(typ, []byte(data), time.Now().Add(closeWriteTimeout))
		return nil
	}
}

// pump copies messages from src to dst with their type, streaming each
// through dst's write buffer, until reading src fails; it returns that
// error. Once writing dst fails it keeps reading src and discards, so that
// src's close frame is still seen; a failure other than a close already
// sent gives dst up (closes its TCP connection), so its reader ends too.
// While the node is frozen it neither reads nor writes.
func (c *conn) pump(src, dst *websocket.Conn) error {
	writing := true
	sr := &stallReader{dst: dst} // one per direction, not one per message
	for {
		c.n.gate.Wait(nil)
		typ, r, err := src.NextReader()
		if err != nil {
			return err
		}
		if !writing {
			continue // NextReader discards the unread message
		}
		c.n.gate.Wait(nil)
		w, err := dst.NextWriter(typ)
		if err == nil {
			sr.r = r
			_, err = io.Copy(w, sr)
			if sr.err != nil {
				// src failed mid-message: leave the message unfinished
				// rather than end it as if it were whole.
				return sr.err
			}
			if err == nil {
				err = w.Close()
			}
		}
		if err != nil {
			writing = false
			if !errors.Is(err, websocket.ErrCloseSent) {
				dst.Close()
			}
		}
	}
}

// stallReader reads a message for dst's writer, records a read error, and
// gives each write of what it read stallTimeout to finish.
type stallReader struct {
	r   io.Reader
	dst *websocket.Conn
	err error
}

func (s *stallReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		s.err = err
	}
	s.dst.SetWriteDeadline(time.Now().Add(stallTimeout))
	return n, err
}

// upstreamEnded handles the end of the upstream's side: unless the
// connection was closing already, the client gets the upstream's close code
// and reason, or 1014 when the upstream ended without a valid close frame.
// After a closing handshake the upstream, the server, closes TCP first;
// the proxy waits a while for that.
func (c *conn) upstreamEnded(err error) {
	var ce *websocket.CloseError
	clean := errors.As(err, &ce)
	if c.p.markClosing(c) {
		code, reason := CloseBadGateway, reasonUpstreamLost
		switch {
		case clean:
			code, reason = ce.Code, ce.Text
		case strings.HasPrefix(err.Error(), "websocket: bad close code 1014"):
			// gorilla/websocket rejects a received 1014; pass it on.
			reason = ""
		}
		sendClose(c.down, code, reason)
	}
	if clean {
		awaitEOF(c.up)
	}
	c.up.Close()
}

// clientEnded handles the end of the client's side: unless the connection
// was closing already, the upstream gets the client's close code and
// reason, or 1001 (going away) when the client ended without a close frame.
// The client's closing handshake is complete (or the client is gone), so
// the proxy, its server, closes TCP at once.
func (c *conn) clientEnded(err error) {
	if c.p.markClosing(c) {
		code, reason := websocket.CloseGoingAway, reasonClientLost
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			code, reason = ce.Code, ce.Text
		}
		sendClose(c.up, code, reason)
	}
	c.down.Close()
}

// close ends the connection as e says, unless it is closing already, and
// reports whether it did.
func (c *conn) close(e action.Ending, upReason string) bool {
	if !c.p.markClosing(c) {
		return false
	}
	c.end(e, upReason)
	return true
}

// end sends the client e's code and reason and the upstream 1001 with
// upReason; or, for a drop, closes both TCP connections without a close
// frame, as a proxy node that dies does.
func (c *conn) end(e action.Ending, upReason string) {
	if e.Drop {
		c.down.Close()
		c.up.Close()
		return
	}
	sendClose(c.down, e.Code, e.Reason)
	sendClose(c.up, websocket.CloseGoingAway, upReason)
}

// sendClose starts or completes a closing handshake: the close frame, then
// a read deadline so the reader sees the peer's reply or gives up. A close
// frame that cannot be written ends the connection.
func sendClose(ws *websocket.Conn, code int, reason string) {
	now := time.Now()
	// FormatCloseMessage sends 1005 (no status) as an empty close frame.
	err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), now.Add(closeWriteTimeout))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		ws.Close()
		return
	}
	ws.NetConn().SetReadDeadline(now.Add(closeReplyTimeout))
}

// awaitEOF reads and discards until the peer closes TCP, for at most
// closeReplyTimeout.
func awaitEOF(ws *websocket.Conn) {
	nc := ws.NetConn()
	nc.SetReadDeadline(time.Now().Add(closeReplyTimeout))
	var buf [128]byte
	for {
		if _, err := nc.Read(buf[:]); err != nil {
			return
		}
	}
}
