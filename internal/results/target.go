package results

import (
	"fmt"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// TargetSide is what the embedded target saw of the run.
type TargetSide struct {
	Nodes []NodeSide `json:"nodes"`
	// ImbalanceEnd is max/mean connections per node at the end; nil when it
	// has no meaning (no connections).
	ImbalanceEnd *float64 `json:"imbalance_end"`
}

// NodeSide is one node's handshake counts and its connections at the end.
type NodeSide struct {
	Index          int   `json:"index"`
	Accepted       int64 `json:"accepted"`
	Rejected       int64 `json:"rejected"`
	ConnectionsEnd int64 `json:"connections_end"`
}

// NewTargetSide is the target's side of a run whose nodes ended as nodes
// say, with its imbalance at the end.
func NewTargetSide(nodes []NodeSide) *TargetSide {
	side := &TargetSide{Nodes: nodes}
	conns := make([]int64, len(nodes))
	all := make([]int, len(nodes))
	for i, n := range nodes {
		conns[i], all[i] = n.ConnectionsEnd, i
	}
	side.ImbalanceEnd = stats.Imbalance(conns, all)
	return side
}

// NodeGauges names the gauges sampled from a target of n nodes, three per
// node (connections, accepted, rejected, in that order), which are
// timeseries.csv's last columns, and says which are connection counts (for
// imbalance).
func NodeGauges(n int) (names []string, conns []int) {
	for i := range n {
		conns = append(conns, len(names))
		names = append(names, fmt.Sprintf("node%d_conns", i), fmt.Sprintf("node%d_accepted", i), fmt.Sprintf("node%d_rejected", i))
	}
	return names, conns
}
