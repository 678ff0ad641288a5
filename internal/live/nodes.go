package live

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/nodes"
)

// maxNodeRows is how many nodes a terminal shows a row each: more would
// not fit on a screen; the rest are summed up in one line.
const maxNodeRows = 8

// Nodes turns a server's successive node snapshots (wsstorm serve) into
// status text, with rates over the interval between one snapshot and the
// next. Its zero value is ready: the first rates are from the start.
type Nodes struct {
	prev   []nodes.Status
	prevAt time.Duration
}

// NodesFrame is a server's nodes at one moment.
type NodesFrame struct {
	Elapsed time.Duration // since the server started
	Nodes   []NodeFrame
}

// NodeFrame is one node's state and counters, with its rates.
type NodeFrame struct {
	nodes.Status
	AcceptRate float64 // upgrades completed per second over the last interval
	RefuseRate float64 // handshakes refused per second over the last interval
}

// Next returns the frame of snap, the nodes' status at elapsed since the
// server started, which must not be before the previous one's.
func (s *Nodes) Next(elapsed time.Duration, snap []nodes.Status) NodesFrame {
	f := NodesFrame{Elapsed: elapsed, Nodes: make([]NodeFrame, len(snap))}
	dt := (elapsed - s.prevAt).Seconds()
	for i, n := range snap {
		f.Nodes[i].Status = n
		var prev nodes.Status
		if i < len(s.prev) {
			prev = s.prev[i]
		}
		if dt > 0 {
			f.Nodes[i].AcceptRate = float64(n.Accepted-prev.Accepted) / dt
			f.Nodes[i].RefuseRate = float64(n.Rejected-prev.Rejected) / dt
		}
	}
	s.prev, s.prevAt = snap, elapsed
	return f
}

// total sums the nodes' counters and rates.
func (f NodesFrame) total() NodeFrame {
	var t NodeFrame
	for _, n := range f.Nodes {
		t.Conns += n.Conns
		t.Accepted += n.Accepted
		t.Rejected += n.Rejected
		t.Restarts += n.Restarts
		t.AcceptRate += n.AcceptRate
		t.RefuseRate += n.RefuseRate
	}
	return t
}

// states counts the nodes by state, e.g. "3 nodes, 2 up, 1 draining", in
// the order up, draining, down, frozen.
func states(ns []NodeFrame) string {
	count := map[string]int{}
	for _, n := range ns {
		count[n.State]++
	}
	parts := []string{fmt.Sprintf("%d nodes", len(ns))}
	if len(ns) == 1 {
		parts[0] = "1 node"
	}
	for _, st := range []string{nodes.StateUp, nodes.StateDraining, nodes.StateDown, nodes.StateFrozen} {
		if count[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st], st))
		}
	}
	return strings.Join(parts, ", ")
}

// nodeRow is the table row of a node (or of the total, named "all").
func nodeRow(name, state string, n NodeFrame) string {
	return fmt.Sprintf("%-4s  %-8s  %11d  %9s  %10s  %8d", name, state, n.Conns, rate(n.AcceptRate), rate(n.RefuseRate), n.Restarts)
}

// TerminalLines are the lines a terminal shows for the frame, short enough
// for 80 columns with a prefix such as "wsstorm serve: ": the time serving
// and the nodes by state, then a table of the nodes (a row each, up to
// eight, the rest summed up) and their total, e.g.
//
//	serving 1m5s: 3 nodes, 2 up, 1 draining
//	node  state     connections  accepts/s  refusals/s  restarts
//	0     up                662         83         0.0         1
//	1     draining          412        0.0         0.0         1
//	2     up                913        167         0.0         0
//	all                    1987        250         0.0         2
func (f NodesFrame) TerminalLines() []string {
	lines := []string{
		"serving " + seconds(f.Elapsed) + ": " + states(f.Nodes),
		"node  state     connections  accepts/s  refusals/s  restarts",
	}
	for i, n := range f.Nodes {
		if i == maxNodeRows {
			lines = append(lines, "and "+states(f.Nodes[i:]))
			break
		}
		lines = append(lines, nodeRow(fmt.Sprint(n.Index), n.State, n))
	}
	return append(lines, nodeRow("all", "", f.total()))
}

// PlainLine is the one line a log gets for the frame.
func (f NodesFrame) PlainLine() string {
	t := f.total()
	return fmt.Sprintf("serving %s: %s  connections %d  accepts %s/s  refusals %s/s  restarts %d",
		seconds(f.Elapsed), states(f.Nodes), t.Conns, rate(t.AcceptRate), rate(t.RefuseRate), t.Restarts)
}
