package action

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRestartPlan(t *testing.T) {
	evs := plan(t, "restart", 10*time.Second, &RestartParams{Node: 2, Drain: time.Second, Downtime: 2 * time.Second, Code: 1012}, Env{Step: 3, Nodes: 3, Seed: 9})
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	e := evs[0]
	p := e.Params.(*RestartParams)
	if e.Step != 3 || e.At != 10*time.Second || e.Node != 2 || e.Code != 1012 || e.Window != time.Second || e.Settle != 3*time.Second || e.Spread != time.Second || p.Reason != "service restart" {
		t.Errorf("event %+v, params %+v", e, p)
	}
	// An external node's hook may close clients for longer than the drain.
	hooked := Env{Nodes: 3, HookWindow: func(node int, hook string) time.Duration {
		if hook == "restart" {
			return 30 * time.Second
		}
		return 0
	}}
	if e := plan(t, "restart", 0, &RestartParams{Node: 1, Code: 1012}, hooked)[0]; e.Window != 30*time.Second {
		t.Errorf("hooked window %v, want the hook's 30s", e.Window)
	}
}

func TestRestartChecks(t *testing.T) {
	facts := Facts{Nodes: 3}
	if bad := check(t, "restart", &RestartParams{Node: 1, Code: 1012}, facts); len(bad) != 0 {
		t.Errorf("a sound restart: %q", bad)
	}
	bad := check(t, "restart", &RestartParams{Node: 3, Drain: -time.Second, Code: 1006, Reason: strings.Repeat("r", 124)}, facts)
	want := []string{
		"node: 3 is out of range: the target has 3 nodes (0 to 2)",
		"drain: -1s is negative: use 0s or more",
		"code: 1006 is reserved for a connection lost without a close frame",
		"reason: is 124 bytes long",
	}
	if len(bad) != len(want) {
		t.Fatalf("problems %q, want %d", bad, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i], w) {
			t.Errorf("problem %q, want %q", bad[i], w)
		}
	}
}

// TestRestartRun: a restart takes the node down, ends its connections over
// the drain, stays down for the downtime and comes back; cancelled, it
// comes back at once.
func TestRestartRun(t *testing.T) {
	tgt := newFakeTarget(3)
	ev := plan(t, "restart", 0, &RestartParams{Node: 1, Drain: 100 * time.Millisecond, Downtime: 200 * time.Millisecond, Code: 4000, Reason: "bye"}, Env{Nodes: 3})[0]
	eff, err := Carry(context.Background(), tgt, ev)
	if err != nil || eff.Closed != 4 { // 3 ended, 1 late
		t.Fatalf("Carry = %+v, %v; want 4 closed", eff, err)
	}
	want := "refuse 1 4000 \"bye\" back+300ms\nend {Node:1 Fraction:0 Seed:0} 4000 \"bye\" over 100ms\naccept 1"
	if got := tgt.log(); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	if took := time.Since(tgt.start); took < 300*time.Millisecond {
		t.Errorf("returned after %v, before the downtime was over", took)
	}

	tgt = newFakeTarget(3)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ev = plan(t, "restart", 0, &RestartParams{Node: 0, Downtime: time.Hour, Code: 1012}, Env{Nodes: 3})[0]
	if _, err := Carry(ctx, tgt, ev); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "restart node 0: ") {
		t.Errorf("cancelled restart: %v", err)
	}
	if !strings.HasSuffix(tgt.log(), "accept 0") {
		t.Errorf("a cancelled restart left the node down:\n%s", tgt.log())
	}
}

func TestRestartSimulate(t *testing.T) {
	sim := &fakeSim{nodes: 3}
	a, _ := Lookup("restart")
	ev := plan(t, "restart", 0, &RestartParams{Node: 2, Drain: time.Second, Downtime: 2 * time.Second, Code: 1012}, Env{Nodes: 3})[0]
	if err := a.Simulate(sim, ev); err != nil {
		t.Fatal(err)
	}
	want := "0s refuse 2\n0s end {Node:2 Fraction:0 Seed:0} 1012 \"service restart\" over 1s\n3s accept 2"
	if got := sim.run(); got != want {
		t.Errorf("simulated:\n%s\nwant:\n%s", got, want)
	}
}

// TestRollingRestartPlan: batches of nodes, an interval apart, each node
// an event of its own.
func TestRollingRestartPlan(t *testing.T) {
	evs := plan(t, "rolling_restart", 10*time.Second, &RollingRestartParams{Nodes: []int{2, 0, 1}, Batch: 2, Interval: 8 * time.Second, Downtime: time.Second, Code: 1012}, Env{Nodes: 3})
	var got []string
	for _, e := range evs {
		got = append(got, e.At.String()+" node "+string(rune('0'+e.Node)))
		if p := e.Params.(*RestartParams); p.Node != e.Node || p.Downtime != time.Second {
			t.Errorf("event %+v carries %+v", e, p)
		}
	}
	if want := "10s node 2, 10s node 0, 18s node 1"; strings.Join(got, ", ") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

func TestRollingRestartChecks(t *testing.T) {
	facts := Facts{Nodes: 3}
	bad := check(t, "rolling_restart", &RollingRestartParams{Nodes: []int{0, 0, 5}, Batch: 4, Interval: time.Second, Downtime: 2 * time.Second, Code: 1012}, facts)
	want := []string{
		"nodes.1: node 0 is listed twice",
		"nodes.2: node 5 is out of range",
		"batch: 4 is out of range: use 1 to 3",
	}
	if len(bad) != len(want) {
		t.Fatalf("problems %q, want %d", bad, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i], w) {
			t.Errorf("problem %q, want %q", bad[i], w)
		}
	}
	bad = check(t, "rolling_restart", &RollingRestartParams{Batch: 1, Interval: time.Second, Downtime: 2 * time.Second, Code: 1012}, facts)
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "interval: 1s (the default) is shorter than drain + downtime (2s)") {
		t.Errorf("problems %q, want the interval's", bad)
	}
}

// TestRestartCodeObservedExternally: an external target's servers close
// their own way, so 1005 and 1006, never sent by wsstorm, are codes its
// steps may name; elsewhere they are not.
func TestRestartCodeObservedExternally(t *testing.T) {
	for _, code := range []int{1005, 1006} {
		p := &RollingRestartParams{Batch: 1, Interval: 10 * time.Second, Downtime: 2 * time.Second, Code: code}
		if bad := check(t, "rolling_restart", p, Facts{Nodes: 3, External: true}); len(bad) != 0 {
			t.Errorf("external, code %d: %q", code, bad)
		}
		if bad := check(t, "rolling_restart", p, Facts{Nodes: 3}); len(bad) != 1 || !strings.HasPrefix(bad[0], "code: ") {
			t.Errorf("embedded, code %d: %q", code, bad)
		}
	}
}
