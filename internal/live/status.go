// Package live shows a wsstorm run while it goes on: a status on the
// terminal (or a plain line now and then in a CI log) and Prometheus metrics
// over HTTP. Both read the run's stats.Recorder through snapshots, so the
// clients' hot path pays nothing for them.
package live

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// Status turns a run's successive snapshots into status text, with rates
// over the interval between one snapshot and the next. Its zero value
// knows nothing of the run; set the fields before the first Next.
type Status struct {
	Clients  int               // the fleet's size
	Duration time.Duration     // the planned length of the run
	Plan     []stats.EventPlan // the chaos events planned, in index order

	prev stats.Snapshot // zero before the first snapshot: rates from the start
}

// Frame is the status at one moment.
type Frame struct {
	Elapsed     time.Duration
	Duration    time.Duration
	Connected   int64
	Clients     int
	AttemptRate float64 // connect attempts per second over the last interval
	FailureRate float64 // failed attempts per second over the last interval
	Failures    map[string]int64
	Closes      map[int]int64
	Chaos       string // the current chaos step, see ChaosStep
}

// Next returns the frame for snap, which must not be older than the
// previous one.
func (s *Status) Next(snap stats.Snapshot) Frame {
	f := Frame{
		Elapsed:   snap.Elapsed,
		Duration:  s.Duration,
		Connected: snap.Connected,
		Clients:   s.Clients,
		Failures:  snap.Failures,
		Closes:    snap.Closes,
		Chaos:     ChaosStep(s.Plan, snap.Events),
	}
	if s.Duration > 0 {
		f.Elapsed = min(f.Elapsed, s.Duration) // the last moments of wind-down
	}
	if dt := (snap.Elapsed - s.prev.Elapsed).Seconds(); dt > 0 {
		f.AttemptRate = float64(snap.Attempts-s.prev.Attempts) / dt
		f.FailureRate = float64(total(snap.Failures)-total(s.prev.Failures)) / dt
	}
	s.prev = snap
	return f
}

// Headline is the frame's first line: time, clients, rates and totals, e.g.
// "12.3s/45.0s  connected 1987/2000  attempts 250/s  failures 0.0/s  closes 1012=644".
func (f Frame) Headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s  connected %d/%d  attempts %s/s  failures %s/s",
		seconds(f.Elapsed), seconds(f.Duration), f.Connected, f.Clients, rate(f.AttemptRate), rate(f.FailureRate))
	if len(f.Failures) > 0 {
		b.WriteString(" (")
		b.WriteString(failureList(f.Failures))
		b.WriteString(")")
	}
	b.WriteString("  closes ")
	if len(f.Closes) == 0 {
		b.WriteString("none")
	}
	for i, code := range slices.Sorted(maps.Keys(f.Closes)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d=%d", code, f.Closes[code])
	}
	return b.String()
}

// TerminalLines are the lines a terminal shows for the frame.
func (f Frame) TerminalLines() []string {
	return []string{f.Headline(), "chaos: " + f.Chaos}
}

// PlainLine is the one line a log gets for the frame.
func (f Frame) PlainLine() string {
	return f.Headline() + "  chaos: " + f.Chaos
}

// ChaosStep says where the chaos plan stands: "none" without a plan, the
// next event before the first has started, else the event started last
// (with its actual start) and the one to come, e.g.
// "#1 rolling_restart node 1 code 1012 at 12.0s (event 2 of 4); next #2 rolling_restart node 2 at 14.0s".
func ChaosStep(plan []stats.EventPlan, started []stats.EventStart) string {
	if len(plan) == 0 {
		return "none"
	}
	next := 0
	var b strings.Builder
	if n := len(started); n > 0 {
		cur := started[n-1]
		fmt.Fprintf(&b, "#%d %s %s code %d at %s (event %d of %d)",
			cur.Index, cur.Action, nodeText(cur.Node), cur.Code, seconds(cur.Start), cur.Index+1, len(plan))
		next = cur.Index + 1
	}
	if next >= len(plan) {
		return b.String()
	}
	if b.Len() > 0 {
		b.WriteString("; ")
	}
	p := plan[next]
	fmt.Fprintf(&b, "next #%d %s %s code %d at %s", next, p.Action, nodeText(p.Node), p.Code, seconds(p.At))
	return b.String()
}

func nodeText(node int) string {
	if node < 0 {
		return "all nodes"
	}
	return "node " + strconv.Itoa(node)
}

// seconds writes a duration as reports do under a minute ("12.0s"), and in
// whole seconds beyond ("2m5s").
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// rate writes a rate with one decimal below 10 and none above.
func rate(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// failureList writes failure counts as "http_503=120 refused=3", most first.
func failureList(failures map[string]int64) string {
	reasons := slices.SortedFunc(maps.Keys(failures), func(a, b string) int {
		return cmp.Or(cmp.Compare(failures[b], failures[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = r + "=" + strconv.FormatInt(failures[r], 10)
	}
	return strings.Join(parts, " ")
}
