package storm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/target"
)

// TestSegmentWithoutChaos: a segment that does not drive the chaos starts
// on the shared start time, runs its share of the clients, records the
// planned event when it is due, and attributes to it the closes that
// another participant's restart causes.
func TestSegmentWithoutChaos(t *testing.T) {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	})
	p := profile.Defaults()
	p.Target.Mode = profile.ModeExternal
	p.Target.URL = tgt.URL()
	p.Duration = profile.Dur(3 * time.Second)
	p.Fleet.Clients = 30
	p.Fleet.Ramp = profile.Dur(300 * time.Millisecond)
	p.Fleet.Reconnect = profile.Reconnect{Strategy: profile.StrategyConstant, Base: profile.Dur(200 * time.Millisecond)}
	p.Chaos = []profile.ChaosStep{{At: time.Second, Action: "restart", Params: &action.RestartParams{Node: 0, Code: 1012}}}

	startAt := time.Now().Add(700 * time.Millisecond).Round(time.Millisecond)
	// The participant that drives the chaos, on the same timeline.
	go func() {
		time.Sleep(time.Until(startAt.Add(time.Second)))
		_, _ = action.RestartNode(context.Background(), tgt, 0, action.RestartParams{Code: 1012})
	}()
	run, err := Run(context.Background(), &p, Options{Segment: 1, Segments: 3, StartAt: startAt, NoChaos: true})
	if err != nil {
		t.Fatal(err)
	}
	res := run.Results
	if d := res.Started.Sub(startAt); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("started at %v, %v from the start time", res.Started, d)
	}
	if c := res.Counters; c.Connects != 20 || c.Closes[1012] != 10 {
		t.Errorf("connects %d, closes %v; want 10 clients connecting twice, closed once each with 1012", c.Connects, c.Closes)
	}
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want the planned one", len(res.Events))
	}
	e := res.Events[0]
	// Marked at its planned time, its window opened early by the lead that
	// covers clock differences, however late the process woke up.
	if e.At != time.Second-recordLead || e.Affected != 10 || e.Reconnected != 10 {
		t.Errorf("event at %v, affected %d, reconnected %d; want at %v, 10 and 10", e.At, e.Affected, e.Reconnected, time.Second-recordLead)
	}
	if run.Target != nil || len(res.GaugeNames) != 0 {
		t.Errorf("a segment without chaos reports the target's side: %+v, %v", run.Target, res.GaugeNames)
	}
}

// fakeRemote is a RemoteTarget whose nodes accepted clients before the
// run and none during it.
type fakeRemote struct {
	nodes    int
	url      string
	accepted int64
}

func (f *fakeRemote) Nodes() int  { return f.nodes }
func (f *fakeRemote) URL() string { return f.url }
func (f *fakeRemote) Stats(context.Context) ([]nodes.Stats, error) {
	out := make([]nodes.Stats, f.nodes)
	for i := range out {
		out[i] = nodes.Stats{Index: i, Accepted: f.accepted, Up: true}
	}
	return out, nil
}

// TestRemoteTarget: serve processes with another number of nodes than the
// profile's are refused; their counters count from the run's start.
func TestRemoteTarget(t *testing.T) {
	p := profile.Defaults()
	p.Duration = profile.Dur(300 * time.Millisecond)
	p.Fleet.Clients = 1
	p.Fleet.Ramp = profile.Dur(0)
	p.Chaos = nil
	_, err := Run(context.Background(), &p, Options{Remote: &fakeRemote{nodes: 1, url: "ws://127.0.0.1:9/", accepted: 100}})
	if !errors.Is(err, ErrCannotRun) || !strings.Contains(err.Error(), "serve processes have 1 nodes, but the profile's target.nodes is 3") {
		t.Fatalf("err = %v", err)
	}
	run, err := Run(context.Background(), &p, Options{Remote: &fakeRemote{nodes: 3, url: "ws://127.0.0.1:9/", accepted: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Target == nil || len(run.Target.Nodes) != 3 {
		t.Fatalf("target side %+v", run.Target)
	}
	// The serve processes' counts before the run are not the run's: this
	// one accepted nothing while it ran.
	if a := run.Target.Nodes[0].Accepted; a != 0 {
		t.Errorf("accepted %d, want 0: the counts from before the run", a)
	}
}
