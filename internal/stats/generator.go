package stats

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The bound on dial lag, as docs/results.md documents it: the
// generator shaped what a run measured when the p99 of its dial lag is above
// the larger of LagFloor and LagShare of the latency it is compared with
// (an event's t99; the run's reconnect p99). A few milliseconds are what
// timers and the scheduler cost on a loaded machine; past 5% of the herd's
// own length, the herd the results show is the generator's as much as the
// clients'.
const (
	LagFloor = 5 * time.Millisecond
	LagShare = 0.05
)

// LagBoundOf returns the dial lag p99 bound for a latency of d (0: none).
func LagBoundOf(d time.Duration) time.Duration {
	return max(LagFloor, time.Duration(LagShare*float64(d)))
}

// GeneratorVerdict says whether the load generator shaped the run: in one
// of its events, its dial lag passed the bound or its CPU was saturated
// during the recovery; or attempts failed for want of its own ports or
// files.
type GeneratorVerdict struct {
	Limited bool
	LagP99  time.Duration // over every attempt of the run
	Bound   time.Duration // the run's bound (LagBoundOf the reconnect p99)
	Events  []int         // indexes of the events it shaped: lag over their bound, the CPU saturated, or failures of its own
	// CPUEvents are those of Events during whose recovery the CPU was
	// saturated.
	CPUEvents []int
	// LocalFailures counts the attempts that failed for want of the
	// generator's own resources (GeneratorReasons): they would not have
	// failed from a fleet of devices, each with its own ports and files.
	LocalFailures int64
}

// GeneratorReasons are the failure reasons that are the generator's own
// limits, not the target's answer: no local port left for a source address,
// no file descriptor left in the process.
var GeneratorReasons = [...]Reason{NoSourcePort, TooManyOpenFiles}

// localFailures counts the failures among counts (by reason name) that
// are the generator's own (GeneratorReasons).
func localFailures(counts map[string]int64) int64 {
	var n int64
	for _, r := range GeneratorReasons {
		n += counts[r.String()]
	}
	return n
}

// lagP99 is a lag histogram's p99 (0 for none).
func lagP99(h *hdrhistogram.Histogram) time.Duration {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
}

// LagP99 is the p99 of the event's dial lag (0 when it has none).
func (e *EventReport) LagP99() time.Duration { return lagP99(e.DialLag) }

// judgeGenerator computes each event's lag bound and verdict, then the
// run's.
func (r *Results) judgeGenerator() {
	v := GeneratorVerdict{LagP99: lagP99(r.Histograms[DialLag])}
	var reconnectP99 time.Duration
	if h := r.Histograms[Reconnect]; h != nil && h.TotalCount() > 0 {
		reconnectP99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	}
	v.Bound = LagBoundOf(reconnectP99)
	for i := range r.Events {
		ev := &r.Events[i]
		var t99 time.Duration
		if ev.T99 != nil {
			t99 = *ev.T99
		}
		ev.LagBound = LagBoundOf(t99)
		ev.GeneratorLimited = ev.LagP99() > ev.LagBound || ev.CPUSaturated || localFailures(ev.FailedAttempts) > 0
		if ev.GeneratorLimited {
			v.Events = append(v.Events, ev.Index)
		}
		if ev.CPUSaturated {
			v.CPUEvents = append(v.CPUEvents, ev.Index)
		}
	}
	v.LocalFailures = localFailures(r.Counters.ConnectFailures)
	// The run's own dial lag (its ramp's included) is reported, not
	// judged: a ramp is paced by the profile, and only the events have a
	// herd whose figures the generator could falsify.
	v.Limited = len(v.Events) > 0 || v.LocalFailures > 0
	r.Generator = v
}
