package action

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestFreezePlan(t *testing.T) {
	ev := plan(t, "freeze", time.Second, &FreezeParams{Node: 1, For: 8 * time.Second}, Env{Nodes: 2})[0]
	// The clients end their connections themselves when they notice: a
	// 1006 any time while the node is frozen.
	if ev.Node != 1 || ev.Code != 1006 || ev.Window != 8*time.Second || ev.Settle != 8*time.Second {
		t.Errorf("event %+v", ev)
	}
}

// TestFreezeChecks: a freeze nothing could notice is an error: clients
// that do not ping, or a freeze shorter than their pong timeout.
func TestFreezeChecks(t *testing.T) {
	if bad := check(t, "freeze", &FreezeParams{Node: 0, For: time.Second}, Facts{Nodes: 1, Pings: true, PongTimeout: 500 * time.Millisecond}); len(bad) != 0 {
		t.Errorf("clients that ping: %q", bad)
	}
	bad := check(t, "freeze", &FreezeParams{Node: 1, For: 0}, Facts{Nodes: 1})
	want := []string{"node: 1 is out of range", "for: 0s is too short", "action: nothing would notice a freeze: the clients do not ping"}
	if len(bad) != len(want) {
		t.Fatalf("problems %q, want %d", bad, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i], w) {
			t.Errorf("problem %q, want %q", bad[i], w)
		}
	}
	bad = check(t, "freeze", &FreezeParams{Node: 0, For: 5 * time.Second}, Facts{Nodes: 1, Pings: true, PongTimeout: 5 * time.Second})
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "for: 5s (the default) is not longer than the clients' pong timeout 5s") {
		t.Errorf("a freeze no longer than the pong timeout: %q", bad)
	}
}

// TestFreezeRun: a freeze holds the node for its time and thaws it, even
// when cut short.
func TestFreezeRun(t *testing.T) {
	tgt := newFakeTarget(2)
	ev := plan(t, "freeze", 0, &FreezeParams{Node: 1, For: 200 * time.Millisecond}, Env{Nodes: 2})[0]
	eff, err := Carry(context.Background(), tgt, ev)
	if err != nil || eff.Frozen != 3 || eff.Closed != -1 {
		t.Fatalf("Carry = %+v, %v; want 3 frozen, closes left to the clients", eff, err)
	}
	if got := tgt.log(); got != "freeze 1\nthaw 1" || tgt.thawedAfter < 200*time.Millisecond {
		t.Errorf("calls:\n%s\nthawed %v after the start; want a thaw after the freeze's 200ms", got, tgt.thawedAfter)
	}
	tgt = newFakeTarget(2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ev = plan(t, "freeze", 0, &FreezeParams{Node: 0, For: time.Hour}, Env{Nodes: 2})[0]
	if _, err := Carry(ctx, tgt, ev); err == nil || !strings.HasPrefix(err.Error(), "freeze node 0: ") {
		t.Errorf("cancelled freeze: %v", err)
	}
	if !strings.Contains(tgt.log(), "thaw 0") {
		t.Errorf("a cancelled freeze left the node frozen:\n%s", tgt.log())
	}
	sim := &fakeSim{nodes: 2}
	a, _ := Lookup("freeze")
	if err := a.Simulate(sim, plan(t, "freeze", 0, &FreezeParams{Node: 1, For: 5 * time.Second}, Env{Nodes: 2})[0]); err != nil {
		t.Fatal(err)
	}
	if want := "0s freeze 1\n5s thaw 1"; sim.run() != want {
		t.Errorf("simulated:\n%s\nwant:\n%s", sim.run(), want)
	}
}
