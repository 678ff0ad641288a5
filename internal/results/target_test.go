package results

import (
	"slices"
	"testing"
)

func TestNewTargetSide(t *testing.T) {
	side := NewTargetSide([]NodeSide{{Index: 0, ConnectionsEnd: 30}, {Index: 1, ConnectionsEnd: 10}, {Index: 2, ConnectionsEnd: 20}})
	if side.ImbalanceEnd == nil || *side.ImbalanceEnd != 1.5 {
		t.Errorf("imbalance at end %v, want 1.5 (30 against a mean of 20)", side.ImbalanceEnd)
	}
	if side := NewTargetSide([]NodeSide{{Index: 0}, {Index: 1}}); side.ImbalanceEnd != nil {
		t.Errorf("imbalance %v of nodes without connections, want none", *side.ImbalanceEnd)
	}
}

func TestNodeGauges(t *testing.T) {
	names, conns := NodeGauges(2)
	if want := []string{"node0_conns", "node0_accepted", "node0_rejected", "node1_conns", "node1_accepted", "node1_rejected"}; !slices.Equal(names, want) {
		t.Errorf("gauges %q, want %q", names, want)
	}
	if !slices.Equal(conns, []int{0, 3}) {
		t.Errorf("connection gauges %v, want [0 3]", conns)
	}
}
