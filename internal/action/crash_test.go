package action

import (
	"context"
	"testing"
	"time"
)

func TestCrashPlan(t *testing.T) {
	ev := plan(t, "crash", 5*time.Second, &CrashParams{Node: 1, Downtime: 3 * time.Second}, Env{Nodes: 2})[0]
	// The clients observe 1006 at once: no drain, no close frame.
	if ev.Node != 1 || ev.Code != 1006 || ev.Window != 0 || ev.Settle != 3*time.Second || ev.Spread != 0 {
		t.Errorf("event %+v", ev)
	}
}

func TestCrashChecks(t *testing.T) {
	bad := check(t, "crash", &CrashParams{Node: 2, Downtime: -time.Second}, Facts{Nodes: 2})
	want := []string{"node: 2 is out of range: the target has 2 nodes (0 to 1)", "downtime: -1s is negative: use 0s or more"}
	if len(bad) != len(want) || bad[0] != want[0] || bad[1] != want[1] {
		t.Errorf("problems %q, want %q", bad, want)
	}
}

// TestCrashRun: a crash drops the node's connections without close frames,
// all at once, and refuses connections for the downtime.
func TestCrashRun(t *testing.T) {
	tgt := newFakeTarget(2)
	ev := plan(t, "crash", 0, &CrashParams{Node: 0, Downtime: 200 * time.Millisecond}, Env{Nodes: 2})[0]
	eff, err := Carry(context.Background(), tgt, ev)
	if err != nil || eff.Closed != 4 {
		t.Fatalf("Carry = %+v, %v", eff, err)
	}
	if want := "refuse 0 drop back+200ms\nend {Node:0 Fraction:0 Seed:0} drop over 0s\naccept 0"; tgt.log() != want {
		t.Errorf("calls:\n%s\nwant:\n%s", tgt.log(), want)
	}
	sim := &fakeSim{nodes: 2}
	a, _ := Lookup("crash")
	if err := a.Simulate(sim, ev); err != nil {
		t.Fatal(err)
	}
	if want := "0s refuse 0\n0s end {Node:0 Fraction:0 Seed:0} drop over 0s\n200ms accept 0"; sim.run() != want {
		t.Errorf("simulated:\n%s\nwant:\n%s", sim.run(), want)
	}
}
