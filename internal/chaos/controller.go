package chaos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// Outcome is what happened when an event ran.
type Outcome struct {
	Index   int
	Started time.Time // monotonic
	action.Effect
	Err error
}

// EventLog learns when each event starts, before the event touches a client.
// *stats.Recorder implements it.
type EventLog interface {
	BeginEvent(index int, t time.Time)
}

// Controller runs planned events against a target on the run's clock.
type Controller struct {
	Target action.Target
	Events []action.Event
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
		if !action.SleepUntil(ctx, start.Add(ev.At)) {
			break
		}
		now := time.Now()
		if c.Log != nil {
			c.Log.BeginEvent(ev.Index, now)
		}
		started[i] = true
		wg.Go(func() {
			o := Outcome{Index: ev.Index, Started: now}
			o.Effect, o.Err = action.Carry(ctx, c.Target, ev)
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
