package chaos

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestPlanRollingRestart(t *testing.T) {
	p := &profile.Profile{Seed: 7, Target: profile.Target{Nodes: 3}, Chaos: []profile.ChaosStep{
		{At: 10 * time.Second, Action: "rolling_restart", Params: &action.RollingRestartParams{Batch: 2, Interval: 8 * time.Second,
			Drain: time.Second, Downtime: 2 * time.Second, Code: 1012}},
		{At: 5 * time.Second, Action: "close", Params: &action.CloseParams{Fraction: 0.1, Code: 1000}},
	}}
	got := Plan(p)
	want := []struct {
		at   time.Duration
		node int
		code int
	}{{5 * time.Second, -1, 1000}, {10 * time.Second, 0, 1012}, {10 * time.Second, 1, 1012}, {18 * time.Second, 2, 1012}}
	if len(got) != len(want) {
		t.Fatalf("plan has %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Index != i || g.At != w.at || g.Node != w.node || g.Code != w.code {
			t.Errorf("event %d = {index %d at %v node %d code %d}, want {at %v node %d code %d}", i, g.Index, g.At, g.Node, g.Code, w.at, w.node, w.code)
		}
	}
	if got[1].Window != time.Second || got[1].Settle != 3*time.Second {
		t.Errorf("window/settle = %v/%v, want 1s/3s", got[1].Window, got[1].Settle)
	}
}

type call struct {
	at   time.Duration
	node int
	code int
}

// fakeTarget records each node taken down (a restart's Refuse) and each
// close of a share of all (an End of every node).
type fakeTarget struct {
	start time.Time
	mu    sync.Mutex
	calls []call
}

func (f *fakeTarget) Nodes() int { return 3 }

func (f *fakeTarget) record(node, code int) {
	f.mu.Lock()
	f.calls = append(f.calls, call{time.Since(f.start), node, code})
	f.mu.Unlock()
}

func (f *fakeTarget) Refuse(ctx context.Context, node int, e action.Ending, back time.Time) error {
	f.record(node, e.Code)
	return nil
}

func (f *fakeTarget) Accept(ctx context.Context, node int) (int, error) { return 0, nil }

func (f *fakeTarget) End(ctx context.Context, p action.Pick, e action.Ending, spread time.Duration) (int, error) {
	if p.Node < 0 {
		f.record(-1, e.Code)
		return 5, nil
	}
	return 10, nil
}

type beginLog struct {
	mu    sync.Mutex
	begun map[int]time.Time
}

func (l *beginLog) BeginEvent(i int, t time.Time) {
	l.mu.Lock()
	l.begun[i] = t
	l.mu.Unlock()
}

func TestControllerRunsOnTimeline(t *testing.T) {
	p := &profile.Profile{Target: profile.Target{Nodes: 3}, Chaos: []profile.ChaosStep{
		{At: 20 * time.Millisecond, Action: "rolling_restart", Params: &action.RollingRestartParams{Batch: 1,
			Interval: 60 * time.Millisecond, Downtime: 10 * time.Millisecond, Code: 1012}},
		{At: 200 * time.Millisecond, Action: "close", Params: &action.CloseParams{Fraction: 0.5, Code: 1000}},
	}}
	start := time.Now()
	f := &fakeTarget{start: start}
	log := &beginLog{begun: map[int]time.Time{}}
	c := &Controller{Target: f, Events: Plan(p), Log: log}
	out := c.Run(context.Background(), start)
	if len(out) != 4 {
		t.Fatalf("outcomes = %d, want 4", len(out))
	}
	for i, o := range out {
		if o.Index != i || o.Err != nil {
			t.Errorf("outcome %d = %+v", i, o)
		}
		if o.Started.Sub(start) < c.Events[i].At {
			t.Errorf("event %d started at %v, before its planned %v", i, o.Started.Sub(start), c.Events[i].At)
		}
		if !log.begun[i].Equal(o.Started) {
			t.Errorf("event %d: logged start %v differs from outcome's", i, log.begun[i])
		}
	}
	wantNodes := []int{0, 1, 2, -1}
	for i, cl := range f.calls {
		if cl.node != wantNodes[i] {
			t.Errorf("call %d on node %d, want %d", i, cl.node, wantNodes[i])
		}
	}
}

func TestControllerStopsOnCancel(t *testing.T) {
	p := &profile.Profile{Target: profile.Target{Nodes: 3}, Chaos: []profile.ChaosStep{
		{At: 0, Action: "restart", Params: &action.RestartParams{Node: 1, Downtime: time.Hour, Code: 1012}},
		{At: time.Hour, Action: "close", Params: &action.CloseParams{Fraction: 1, Code: 1000}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	out := (&Controller{Target: &fakeTarget{start: start}, Events: Plan(p)}).Run(ctx, start)
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Run took %v after cancel", time.Since(start))
	}
	if len(out) != 1 || out[0].Err == nil {
		t.Fatalf("outcomes = %+v, want one cancelled restart", out)
	}
}
