package results

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// LagExcess is one place where a run's dial lag passed its bound: the run
// as a whole (Event -1) or one chaos event, with the p99 and the bound in
// milliseconds.
type LagExcess struct {
	Event        int // the event's index; -1: the run
	DialLagP99MS float64
	BoundMS      float64
	// CPUBusyPct is, for an event whose recovery saturated the generator's
	// CPU, how busy the process's cores were, and MachineBusyPct the
	// machine's (0: it was not saturated; -1: not known).
	CPUBusyPct, MachineBusyPct float64
	// LocalFailures counts the attempts that failed for want of the
	// generator's own ports or files (GeneratorReasons).
	LocalFailures int64
}

// GeneratorReasons are the failure reasons that are the generator's own
// limits (stats.GeneratorReasons), by name.
var GeneratorReasons = func() []string {
	var out []string
	for _, r := range stats.GeneratorReasons {
		out = append(out, r.String())
	}
	return out
}()

// localFailures counts the failures by reason in counts that are the
// generator's own.
func localFailures(counts map[string]int64) int64 {
	var n int64
	for _, r := range GeneratorReasons {
		n += counts[r]
	}
	return n
}

// LagExcesses lists where the load generator shaped the run (summary.json's
// generator_limited): the run when its own dial lag p99 passed its bound,
// then each event whose did, with their figures. A run limited in one event
// only has a run-wide p99 under the run's bound: quoting that alone would
// contradict the verdict. Nil when the generator did not shape the run.
func (s *Summary) LagExcesses() []LagExcess {
	g := s.GeneratorLimited
	if g == nil {
		return nil
	}
	var out []LagExcess
	// The run's own entry counts the failures on the generator's limits
	// that no event it names counts.
	run := LagExcess{Event: -1, DialLagP99MS: g.DialLagP99MS, BoundMS: g.BoundMS, LocalFailures: g.LocalFailures}
	for j := range s.Events {
		if e := &s.Events[j]; slices.Contains(g.Events, e.Index) {
			run.LocalFailures -= localFailures(e.FailedAttempts)
		}
	}
	if run.LocalFailures > 0 {
		out = append(out, run)
	}
	for _, i := range g.Events {
		x := LagExcess{Event: i}
		for j := range s.Events {
			if e := &s.Events[j]; e.Index == i {
				if e.DialLagMS != nil && e.DialLagMS.P99 != nil {
					x.DialLagP99MS = *e.DialLagMS.P99
				}
				x.BoundMS = e.DialLagBoundMS
				if e.CPUSaturated {
					x.CPUBusyPct, x.MachineBusyPct = orUnknown(e.CPUBusyPct), orUnknown(e.MachineCPUBusyPct)
				}
				x.LocalFailures = localFailures(e.FailedAttempts)
			}
		}
		out = append(out, x)
	}
	return out
}

// String says where and by how much: "event #0: dial lag p99 9.5 ms, bound
// 5.0 ms", "over the run: ...".
func (x LagExcess) String() string {
	where := "over the run"
	if x.Event >= 0 {
		where = "event #" + strconv.Itoa(x.Event)
	}
	var causes []string
	if x.DialLagP99MS > x.BoundMS || x.CPUBusyPct == 0 && x.MachineBusyPct == 0 && x.LocalFailures == 0 {
		causes = append(causes, fmt.Sprintf("dial lag p99 %s ms, bound %s ms", lagMS(x.DialLagP99MS), lagMS(x.BoundMS)))
	}
	if x.CPUBusyPct != 0 || x.MachineBusyPct != 0 {
		cpu := fmt.Sprintf("CPU saturated (this process %s of its cores", pct(x.CPUBusyPct))
		if x.MachineBusyPct >= 0 {
			cpu += ", the machine " + pct(x.MachineBusyPct)
		}
		causes = append(causes, cpu+")")
	}
	if x.LocalFailures > 0 {
		causes = append(causes, fmt.Sprintf("%d attempts failed for want of its own ports or files (%s)", x.LocalFailures, strings.Join(GeneratorReasons, ", ")))
	}
	return where + ": " + strings.Join(causes, ", ")
}

// orUnknown is *v, or -1 for nil.
func orUnknown(v *float64) float64 {
	if v == nil {
		return -1
	}
	return *v
}

// pct writes a percentage, or "?" for -1.
func pct(v float64) string {
	if v < 0 {
		return "?"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "%"
}

// CPUSaturated says the generator's CPU was saturated during one of the
// events it shaped.
func (s *Summary) CPUSaturated() bool {
	return s.GeneratorLimited != nil && len(s.GeneratorLimited.CPUSaturatedEvents) > 0
}

// LagFigures joins the LagExcesses of s: "over the run: dial lag p99 12.0
// ms, bound 5.0 ms; event #0: dial lag p99 9.5 ms, bound 5.0 ms"; "" when
// the generator did not shape the run.
func (s *Summary) LagFigures() string {
	var parts []string
	for _, x := range s.LagExcesses() {
		parts = append(parts, x.String())
	}
	return strings.Join(parts, "; ")
}

// lagMS writes milliseconds with one decimal, or three below 1 ms, where a
// dial lag usually is.
func lagMS(v float64) string {
	if v < 1 && v > -1 {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Machine busy with other work: at least BusyMachinePct of the machine's
// cores busy while at least BusyOthersPct of them were not this process.
const (
	BusyMachinePct = 90
	BusyOthersPct  = 50
)

// BusyElsewhere says which of s's events ran while other processes kept the
// machine busy ("event #0: machine 100%, wsstorm 10%; ..."), "" when none
// did or the CPU was not sampled. Such a run's latencies carry the other
// work's scheduling delays: `wsstorm compare` does not call them a
// regression of the target.
func (s *Summary) BusyElsewhere() string {
	var parts []string
	for _, e := range s.Events {
		if e.MachineCPUBusyPct == nil || e.CPUBusyPct == nil {
			continue
		}
		m, own := *e.MachineCPUBusyPct, *e.CPUBusyPct
		if m >= BusyMachinePct && m-own >= BusyOthersPct {
			parts = append(parts, fmt.Sprintf("event #%d: machine %.0f%%, wsstorm %.0f%%", e.Index, m, own))
		}
	}
	return strings.Join(parts, "; ")
}
