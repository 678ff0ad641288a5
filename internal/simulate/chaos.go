package simulate

import (
	"fmt"
	"slices"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// The modeled target's chaos capabilities: the simulator is an action.Sim,
// and each chaos event is its action's Simulate, composing these as the
// action's Run composes a real target's.

var _ action.Sim = (*sim)(nil)

// chaos begins chaos event i: its action acts on the modeled target.
func (s *sim) chaos(i int) {
	ev := s.events[i]
	s.rec.BeginEvent(ev.Index, s.at(s.now))
	a, ok := action.Lookup(ev.Action)
	if !ok {
		return
	}
	s.acting = ev.Index
	if err := a.Simulate(s, ev); err != nil {
		fmt.Fprintf(s.log, "chaos: chaos event %d (%s, node %d): %v\n", ev.Index, ev.Action, ev.Node, err)
	}
}

// Nodes is the number of modeled nodes.
func (s *sim) Nodes() int { return len(s.nodes) }

// End ends the connections p picks as e says, spread over spread, as the
// embedded target's End does: in the order of their connections' ids.
func (s *sim) End(p action.Pick, e action.Ending, spread time.Duration) {
	var open []int32
	for _, n := range s.nodes {
		if p.Node < 0 || n.index == p.Node {
			open = append(open, n.conns...)
		}
	}
	s.byConn(open)
	picked := action.Select(p, open)
	if e.Drop {
		// A dropped connection does no closing work: the kernel ends it.
		for _, id := range picked {
			s.serverClose(int(id), action.CloseAbnormal)
		}
		return
	}
	s.closeAll(picked, e.Code, spread)
}

// Refuse takes node out of service: it accepts nothing, and a request it
// admitted before is dropped with its server.
func (s *sim) Refuse(node int) error {
	n, err := s.node(node)
	if err != nil {
		return err
	}
	if n.refusing {
		return fmt.Errorf("node %d is already down", node)
	}
	n.up, n.refusing = false, true
	n.gen++
	s.refreshUp()
	return nil
}

// node returns node i of the modeled target, or an error.
func (s *sim) node(i int) (*node, error) {
	if i < 0 || i >= len(s.nodes) {
		return nil, fmt.Errorf("node %d: the target has nodes 0 to %d", i, len(s.nodes)-1)
	}
	return s.nodes[i], nil
}

// Accept puts node back in service.
func (s *sim) Accept(node int) {
	n := s.nodes[node]
	n.up, n.refusing = true, false
	s.refreshUp()
}

// After runs f once the simulated clock has advanced by d.
func (s *sim) After(d time.Duration, f func()) {
	s.later = append(s.later, f)
	s.schedule(s.now+int64(d), len(s.later)-1, evLater, 0)
}

// closeAll closes clients' connections with code, spread evenly over drain,
// and no faster than the model's close rate. With a limit on workers,
// closing is work: a close takes a worker of its node's pool for
// workers/close_rate, as a handshake takes one for its service time, so a
// restart's closes hold up the handshakes around it as on a real machine.
func (s *sim) closeAll(ids []int32, code int, drain time.Duration) {
	k := len(ids)
	at := s.now
	for i, id := range ids {
		due := s.now + int64(action.DrainOffset(drain, i, k))
		if s.closeGap > 0 && len(s.nodes[s.clients[id].node].pool.free) > 0 {
			if due == s.now {
				s.closeWork(int(id), code)
			} else {
				s.scheduleClose(due, int(id), evCloseDue, code)
			}
			continue
		}
		if i > 0 {
			at = max(due, at+s.closeGap)
		}
		if at == s.now {
			s.serverClose(int(id), code)
		} else {
			s.scheduleClose(at, int(id), evServerClose, code)
		}
	}
}

// closeWork queues a due close for a worker of its node's pool; the close
// goes out when the work is done.
func (s *sim) closeWork(id, code int) {
	p := s.nodes[s.clients[id].node].pool
	// The close rate was measured with the messages going on: it is not
	// slowed by them again.
	at := p.serve(s.now, s.closeGap*int64(len(p.free)))
	s.scheduleClose(at, id, evServerClose, code)
}

// byConn sorts clients by their connections' ids: the target's order.
func (s *sim) byConn(ids []int32) {
	slices.SortFunc(ids, func(a, b int32) int {
		ca, cb := s.clients[a].conn, s.clients[b].conn
		switch {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
}
