package storm

import (
	"context"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestObserve: the observer gets the run's recorder, with its chaos plan,
// sees the clients connect and the chaos start while the run goes on, and
// has ended by the time Run returns.
func TestObserve(t *testing.T) {
	p := profile.Defaults()
	p.Duration = profile.Dur(2 * time.Second)
	p.Fleet.Clients = 20
	p.Fleet.Ramp = profile.Dur(0)
	p.Chaos = []profile.ChaosStep{{At: 500 * time.Millisecond, Action: "close", Params: &action.CloseParams{Fraction: 0.5, Code: 1000}}}

	var (
		calls    int
		plan     []stats.EventPlan
		seen     stats.Snapshot
		finished = make(chan struct{})
	)
	observe := func(ctx context.Context, rec *stats.Recorder) {
		defer close(finished)
		calls++
		plan = rec.Plan()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s := rec.Snapshot()
				seen.Connected = max(seen.Connected, s.Connected)
				if len(s.Events) > 0 {
					seen.Events = s.Events
				}
			}
		}
	}
	run, err := Run(context.Background(), &p, Options{Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Run returned before the observer ended")
	}
	if calls != 1 || len(plan) != 1 || plan[0].Action != "close" {
		t.Fatalf("%d calls, plan %+v", calls, plan)
	}
	if seen.Connected != int64(p.Fleet.Clients) || len(seen.Events) != 1 || seen.Events[0].Code != 1000 {
		t.Errorf("the observer saw %d connected and events %+v", seen.Connected, seen.Events)
	}
	if run.Results.PeakConnected != int64(p.Fleet.Clients) {
		t.Errorf("peak connected %d", run.Results.PeakConnected)
	}
}
