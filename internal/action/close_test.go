package action

import (
	"context"
	"strings"
	"testing"
)

func TestClosePlanAndRun(t *testing.T) {
	ev := plan(t, "close", 0, &CloseParams{Fraction: 0.5, Code: 4001, Reason: "bye"}, Env{Nodes: 3, Seed: 7})[0]
	if ev.Node != -1 || ev.Code != 4001 || ev.Seed != 7 || ev.Window != 0 || ev.Settle != 0 {
		t.Errorf("event %+v", ev)
	}
	tgt := newFakeTarget(3)
	eff, err := Carry(context.Background(), tgt, ev)
	if err != nil || eff.Closed != 3 {
		t.Fatalf("Carry = %+v, %v", eff, err)
	}
	if want := "end {Node:-1 Fraction:0.5 Seed:7} 4001 \"bye\" over 0s"; tgt.log() != want {
		t.Errorf("calls %q, want %q", tgt.log(), want)
	}
	// A share of nothing ends nothing: Fraction 0 would pick every one.
	tgt = newFakeTarget(3)
	ev.Params = &CloseParams{Fraction: 0, Code: 1000}
	if eff, err := Carry(context.Background(), tgt, ev); err != nil || eff.Closed != 0 || tgt.log() != "" {
		t.Errorf("fraction 0: %+v, %v, calls %q", eff, err, tgt.log())
	}
}

func TestCloseChecks(t *testing.T) {
	bad := check(t, "close", &CloseParams{Fraction: 1.5, Code: 1000}, Facts{Nodes: 1, External: true})
	if len(bad) != 2 || !strings.Contains(bad[0], `"close" needs wsstorm between the clients and the server`) || !strings.HasPrefix(bad[1], "fraction: 1.5 is out of range") {
		t.Errorf("problems %q", bad)
	}
}
