// Package nodes names the states and counters of a target's nodes: the
// embedded target, the chaos proxy, the admin API that controls them and
// the runs that sample them share these types.
package nodes

// Node states, as Status.State reports them.
const (
	StateUp       = "up"       // accepting connections
	StateDraining = "draining" // out of service, still ending its connections
	StateDown     = "down"     // refusing connections (a restart's or a crash's downtime)
	StateFrozen   = "frozen"   // neither reading nor writing on its connections
)

// Status is one node's state and connection counters.
type Status struct {
	Index    int    `json:"index"`
	State    string `json:"state"`       // StateUp, StateDraining, StateDown or StateFrozen
	Conns    int64  `json:"connections"` // open now
	Accepted int64  `json:"accepted"`    // upgrades completed, cumulative
	Rejected int64  `json:"rejected"`    // handshakes refused, cumulative
	// Restarts counts the times the node was taken out of service (a
	// restart, a crash, a refuse), cumulative.
	Restarts int64 `json:"restarts"`
}

// Stats is a snapshot of one node's counters, as a run samples them.
type Stats struct {
	Index    int   // the node's number, from the target's first node
	Conns    int64 // connections open now
	Accepted int64 // upgrades completed, cumulative
	Rejected int64 // handshakes refused (503 at capacity, or down), cumulative
	Up       bool  // the node accepts new connections
}
