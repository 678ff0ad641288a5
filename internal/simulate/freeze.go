package simulate

import (
	"fmt"
	"slices"

	"github.com/wsstorm/wsstorm/internal/action"
)

// A frozen node, as the embedded target freezes one: its connections go
// silent and its handshakes stall until it thaws. A client notices only
// through its pings: the first ping it sends after the freeze began goes
// unanswered, and pong_timeout later the client ends the connection itself
// (1006), unless the node thawed first and answered. Clients that do not
// ping do not notice: their periodic messages fit the socket buffers for
// far longer than a freeze, as they do on the real target.

// Freeze stops node's traffic until Thaw.
func (s *sim) Freeze(node int) error {
	n, err := s.node(node)
	if err != nil {
		return err
	}
	if n.frozen {
		return fmt.Errorf("node %d is frozen already", node)
	}
	n.frozen = true
	n.freezes++
	if s.frozen == nil {
		s.frozen = map[int]int64{}
	}
	s.frozen[s.acting] = int64(len(n.conns))
	if s.ping <= 0 {
		return nil
	}
	for _, id := range n.conns {
		c := &s.clients[id]
		// Pings go out every ping interval from the handshake.
		k := max((s.now-c.since+s.ping-1)/s.ping, 1)
		s.schedule(c.since+k*s.ping+s.pongTimeout, int(id), evDetect, n.freezes)
	}
	return nil
}

// Thaw resumes node's traffic: the handshakes that stalled on it go on.
func (s *sim) Thaw(node int) {
	n := s.nodes[node]
	n.frozen = false
	stalled := n.stalled
	n.stalled = nil
	for _, id := range stalled {
		c := &s.clients[id]
		c.stalled = false
		if !n.up {
			s.respond(int(id), outReset, s.now+c.back)
			continue
		}
		s.admit(int(id), n)
	}
}

// detect is a client's ping unanswered for pong_timeout during freeze
// freezes of its node: it ends the connection, and observes the end as a
// connection lost (1006).
func (s *sim) detect(id int, freezes uint32) {
	c := &s.clients[id]
	if c.state != connected || c.pos < 0 {
		return
	}
	if n := s.nodes[c.node]; !n.frozen || n.freezes != freezes {
		return // it thawed in time
	}
	c.closeCode = action.CloseAbnormal
	s.detach(c)
	s.closeObserved(id)
}

// stall holds a request that reached frozen node n until n thaws or the
// client's handshake times out.
func (s *sim) stall(id int, n *node) {
	c := &s.clients[id]
	c.stalled = true
	c.stalls++
	n.stalled = append(n.stalled, int32(id))
	s.schedule(c.attemptAt+s.timeout, id, evStallOver, c.stalls)
}

// stallOver is a stalled handshake's timeout: the client gives up.
func (s *sim) stallOver(id int, stalls uint32) {
	c := &s.clients[id]
	if !c.stalled || c.stalls != stalls {
		return
	}
	c.stalled = false
	n := s.nodes[c.node]
	n.stalled = slices.DeleteFunc(n.stalled, func(x int32) bool { return int(x) == id })
	s.respond(id, outTimeout, s.now)
}
