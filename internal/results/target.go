package results

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
