package chaos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Event is one thing the controller does to the target: one node's restart
// (a rolling restart is one event per node) or one close step.
type Event struct {
	Index int
	Step  int // index of the [[chaos]] step it comes from
	// EventPlan is what the recorder needs to know of the event beforehand.
	stats.EventPlan

	restart RestartSpec
	close   CloseSpec
}

// Plan expands a validated profile's chaos steps into events, in start order
// (ties keep step order).
func Plan(p *profile.Profile) []Event {
	var out []Event
	for si, s := range p.Chaos {
		switch s.Action {
		case profile.ActionRestart, profile.ActionRollingRestart:
			spec := RestartSpec{Code: s.Code, Reason: s.Reason, Drain: s.Drain.D(), Downtime: s.Downtime.D()}
			if spec.Reason == "" {
				spec.Reason = "service restart"
			}
			for bi, batch := range s.Batches(p.Target.Nodes) {
				for _, node := range batch {
					out = append(out, Event{
						Step: si,
						EventPlan: stats.EventPlan{
							At:     s.At.D() + time.Duration(bi)*s.Interval.D(),
							Action: s.Action, Node: node, Code: s.Code,
							Window: window(p, node, spec.Drain), Settle: spec.Drain + spec.Downtime,
						},
						restart: spec,
					})
				}
			}
		case profile.ActionClose:
			out = append(out, Event{
				Step:      si,
				EventPlan: stats.EventPlan{At: s.At.D(), Action: s.Action, Node: -1, Code: s.Code},
				close: CloseSpec{Fraction: s.Fraction, Code: s.Code, Reason: s.Reason,
					Seed: p.Seed ^ uint64(si+1)*0x9e3779b97f4a7c15},
			})
		}
	}
	// Stable insertion sort by start time: plans are short.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].At < out[j-1].At; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	for i := range out {
		out[i].Index = i
		out[i].restart.Event = i
	}
	return out
}

// window is how long after its start a restart of node may close clients:
// its drain, or for an external node the hook's window, since a rollout
// closes clients for longer than the command that starts it runs.
func window(p *profile.Profile, node int, drain time.Duration) time.Duration {
	if hooks := p.Target.NodeHooks; p.Target.Mode == profile.ModeExternal && node < len(hooks) {
		return max(drain, hooks[node].Window.D())
	}
	return drain
}

// RestartSpec is the restart the event carries out (restart and
// rolling_restart).
func (e Event) RestartSpec() RestartSpec { return e.restart }

// CloseSpec is the close the event carries out (close).
func (e Event) CloseSpec() CloseSpec { return e.close }

// Outcome is what happened when an event ran.
type Outcome struct {
	Index   int
	Started time.Time // monotonic
	Closed  int       // connections the target says it closed
	Err     error
}

// EventLog learns when each event starts, before the event touches a client.
// *stats.Recorder implements it.
type EventLog interface {
	BeginEvent(index int, t time.Time)
}

// Controller runs planned events against a target on the run's clock.
type Controller struct {
	Target Target
	Events []Event
	Log    EventLog
}

// Run starts each event at start+At and returns once every event has ended,
// or when ctx is done (events under way are cancelled). Outcomes are in event
// order; events that never started are missing.
func (c *Controller) Run(ctx context.Context, start time.Time) []Outcome {
	var (
		wg      sync.WaitGroup
		started = make([]bool, len(c.Events))
		results = make([]Outcome, len(c.Events)) // each goroutine writes its own
	)
	for i, ev := range c.Events {
		if !SleepUntil(ctx, start.Add(ev.At)) {
			break
		}
		now := time.Now()
		if c.Log != nil {
			c.Log.BeginEvent(ev.Index, now)
		}
		started[i] = true
		wg.Go(func() {
			o := Outcome{Index: ev.Index, Started: now}
			switch ev.Action {
			case profile.ActionClose:
				o.Closed, o.Err = c.Target.Close(ctx, ev.close)
			default:
				o.Closed, o.Err = c.Target.Restart(ctx, ev.Node, ev.restart)
			}
			if o.Err != nil {
				o.Err = fmt.Errorf("chaos event %d (%s, node %d): %w", ev.Index, ev.Action, ev.Node, o.Err)
			}
			results[i] = o
		})
	}
	wg.Wait()
	var out []Outcome
	for i, o := range results {
		if started[i] {
			out = append(out, o)
		}
	}
	return out
}

// SleepUntil waits until t (on the monotonic clock when t has a reading,
// else the wall clock); false if ctx ended first.
func SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
