package profile

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/backoff"
)

// A run measures the clients a chaos event closes until they are back. A
// step that fits the run may still leave them too little time: a client
// waits out its reconnect delay after the event's effects are over, and the
// delay is the clients' own (it does not shrink with the timeline). These
// are warnings, not errors: the run is sound, but what it measures of those
// clients is partial.

// planned is one event of the plan, with the time its clients may come
// back by.
type planned struct {
	action.Event
	back time.Duration // the event's effects over, plus the longest first delay
}

// returns warns, once per step and kind, of the events whose clients the
// policy brings back but which may not be back before the run ends, or
// before the next event starts (their herds would reach the target
// together).
func (c *checker) returns() []*Error {
	p := c.p
	if p.Fleet.Client != "" {
		return nil // the library's delays, not [fleet.reconnect]'s, bound the returns
	}
	r := p.Fleet.Reconnect
	bound, ok := backoff.FirstBound(r.Strategy, r.BackoffParams())
	if !ok {
		return nil
	}
	wait := bound.Delay + r.FirstDelay.D()
	events := c.plannedEvents(wait)
	var out []*Error
	late := map[int]bool{}  // steps warned of a late return
	mixed := map[int]bool{} // steps warned of a herd that meets the next event's
	for i, ev := range events {
		if p.Fleet.OnCloseOf(ev.Code) != OnCloseReconnect {
			continue
		}
		if ev.back > p.Duration.D() {
			if !late[ev.Step] && c.latestBack(events, ev) {
				late[ev.Step] = true
				out = append(out, c.lateWarning(ev, bound, wait))
			}
			continue
		}
		if next, ok := c.nextHerd(events, i); ok && next.At < ev.back && !mixed[ev.Step] {
			mixed[ev.Step] = true
			out = append(out, c.mixedWarning(ev, next, bound, wait))
		}
	}
	return out
}

// plannedEvents plans every step, in start order, each event's clients
// back by the end of its effects plus wait.
func (c *checker) plannedEvents(wait time.Duration) []planned {
	var out []planned
	for i, s := range c.p.Chaos {
		a, ok := action.Lookup(s.Action)
		if !ok {
			continue
		}
		for _, ev := range a.Plan(s, action.Env{Step: i, Nodes: c.p.Target.Nodes}) {
			out = append(out, planned{Event: ev, back: ev.At + ev.Settle + wait})
		}
	}
	slices.SortStableFunc(out, func(a, b planned) int { return cmp.Compare(a.At, b.At) })
	return out
}

// latestBack reports whether ev is the event of its step whose clients come
// back last: the one a late warning names.
func (c *checker) latestBack(events []planned, ev planned) bool {
	for _, o := range events {
		if o.Step == ev.Step && o.back > ev.back && c.p.Fleet.OnCloseOf(o.Code) == OnCloseReconnect {
			return false
		}
	}
	return true
}

// nextHerd is the first event to start after events[i] whose clients the
// policy brings back (an event at the same time, of the same batch, is not
// next; one whose clients stop, a 1000 close, makes no herd to meet).
func (c *checker) nextHerd(events []planned, i int) (planned, bool) {
	for _, o := range events[i+1:] {
		if o.At > events[i].At && c.p.Fleet.OnCloseOf(o.Code) == OnCloseReconnect {
			return o, true
		}
	}
	return planned{}, false
}

// scaledFix is the fix a warning gives for a scaled timeline, whose times
// are not the file's: a longer timeline, not an edit of scaled values.
func (c *checker) scaledFix(fix string) string {
	if c.p.Scale == 0 {
		return fix
	}
	return "give the run a longer timeline: a larger --scale, or no --quick"
}

// lateWarning says that ev's clients may come back after the run's end.
func (c *checker) lateWarning(ev planned, b backoff.Bound, wait time.Duration) *Error {
	end := c.p.Duration.D()
	fix := c.scaledFix(fmt.Sprintf("lengthen duration to %v or more, or start the step %v earlier", ev.back, ev.back-end))
	msg := fmt.Sprintf("the run may end before the clients of this %s are back: %s, then %s, until %v, but the run ends at %v (duration), so their reconnects go unmeasured and thresholds on them may read no value; %s",
		ev.Action, eventSpan(ev), waitText(c.p.Fleet.Reconnect, b, wait), ev.back, end, fix)
	return c.warning(ev.Step, msg)
}

// mixedWarning says that ev's clients may come back after next starts.
func (c *checker) mixedWarning(ev, next planned, b backoff.Bound, wait time.Duration) *Error {
	which := "chaos." + strconv.Itoa(next.Step)
	fix := fmt.Sprintf("start %s at %v or later", which, ev.back)
	if next.Step == ev.Step {
		which = "its next event"
		fix = fmt.Sprintf("space the step's events %v or more apart", ev.back-ev.At)
	}
	msg := fmt.Sprintf("the clients of this %s may not be back before %s starts at %v: %s, then %s, until %v, so the two herds reach the target together and each one's reconnect times include the other's load; %s, or shorten the clients' reconnect delay",
		ev.Action, which, next.At, eventSpan(ev), waitText(c.p.Fleet.Reconnect, b, wait), ev.back, c.scaledFix(fix))
	return c.warning(ev.Step, msg)
}

// warning is the warning msg about step i.
func (c *checker) warning(i int, msg string) *Error {
	k := keyString(stepKey(i))
	if c.d.scaled[k] {
		msg += c.d.scaleNote
	}
	return c.at(k, k, msg)
}

// eventSpan writes when ev starts and until when its effects last.
func eventSpan(ev planned) string {
	on := ""
	if ev.Node >= 0 {
		on = " on node " + strconv.Itoa(ev.Node)
	}
	if ev.Settle == 0 {
		return fmt.Sprintf("its event%s is at %v", on, ev.At)
	}
	return fmt.Sprintf("its event%s at %v lasts until %v", on, ev.At, ev.At+ev.Settle)
}

// waitText writes how long a closed client may wait before it reconnects.
func waitText(r Reconnect, b backoff.Bound, wait time.Duration) string {
	key := "fleet.reconnect." + b.Of
	if n, param, ok := strings.Cut(b.Of, " × "); ok {
		key = n + " × fleet.reconnect." + param
	}
	from := fmt.Sprintf("%s of the %s strategy", key, r.Strategy)
	if b.Of == "" {
		from = "the " + r.Strategy + " strategy"
	}
	if fd := r.FirstDelay.D(); fd > 0 {
		from += fmt.Sprintf(", plus first_delay %v", fd)
	}
	return fmt.Sprintf("a client may wait up to %v before it reconnects (%s)", wait, from)
}
