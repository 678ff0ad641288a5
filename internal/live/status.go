// Package live shows a wsstorm run while it goes on: a status on the
// terminal (or a plain line now and then in a CI log) and Prometheus metrics
// over HTTP. Both read the run's stats.Recorder through snapshots, so the
// clients' hot path pays nothing for them. It also shows the nodes of a
// wsstorm serve process on its terminal (Nodes, View.RunNodes).
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
	// Where the chaos plan stands (see ChaosStep): the event started last
	// ("#1 rolling_restart node 1 code 1012 at 18.0s"), its place in the
	// plan ("event 2 of 4"), and the event to come; "" for none.
	LastEvent, ChaosProgress, NextEvent string
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
	}
	f.LastEvent, f.ChaosProgress, f.NextEvent = chaosEvents(s.Plan, snap.Events)
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

// Headline is the frame's time, clients, rates and totals, e.g.
// "12.3s/45.0s  connected 1987/2000  attempts 250/s  failures 0.0/s  closes 1012=644".
func (f Frame) Headline() string {
	var b strings.Builder
	b.WriteString(f.rates())
	if len(f.Failures) > 0 {
		b.WriteString(" (")
		b.WriteString(failureList(f.Failures))
		b.WriteString(")")
	}
	b.WriteString("  ")
	b.WriteString(f.closes())
	return b.String()
}

// rates is "12.3s/45.0s  connected 1987/2000  attempts 250/s  failures 0.0/s".
func (f Frame) rates() string {
	return fmt.Sprintf("%s/%s  connected %d/%d  attempts %s/s  failures %s/s",
		seconds(f.Elapsed), seconds(f.Duration), f.Connected, f.Clients, rate(f.AttemptRate), rate(f.FailureRate))
}

// closes is "closes 1000=200 1012=644", or "closes none".
func (f Frame) closes() string {
	if len(f.Closes) == 0 {
		return "closes none"
	}
	var b strings.Builder
	b.WriteString("closes")
	for _, code := range slices.Sorted(maps.Keys(f.Closes)) {
		fmt.Fprintf(&b, " %d=%d", code, f.Closes[code])
	}
	return b.String()
}

// Chaos is the chaos step, as ChaosStep writes it.
func (f Frame) Chaos() string { return joinEvents(f.LastEvent, f.ChaosProgress, f.NextEvent) }

// TerminalLines are the lines a terminal shows for the frame, short enough
// for 80 columns: time, clients and rates; closes by code and failures by
// reason; the chaos event started last; the next one. Fields within a line
// are two spaces apart, where a narrower terminal breaks it (see View).
func (f Frame) TerminalLines() []string {
	second := f.closes()
	if len(f.Failures) > 0 {
		second += "  failures so far: " + failureList(f.Failures)
	}
	lines := []string{f.rates(), second}
	switch {
	case f.LastEvent == "" && f.NextEvent == "":
		lines = append(lines, "chaos: none")
	case f.LastEvent == "":
		lines = append(lines, "chaos: next "+f.NextEvent)
	default:
		lines = append(lines, "chaos: "+f.LastEvent+"  ("+f.ChaosProgress+")")
		if f.NextEvent != "" {
			lines = append(lines, "next: "+f.NextEvent)
		}
	}
	return lines
}

// PlainLine is the one line a log gets for the frame.
func (f Frame) PlainLine() string {
	return f.Headline() + "  chaos: " + f.Chaos()
}

// ChaosStep says where the chaos plan stands: "none" without a plan, the
// next event before the first has started, else the event started last
// (with its actual start) and the one to come, e.g.
// "#1 rolling_restart node 1 code 1012 at 12.0s (event 2 of 4); next #2 rolling_restart node 2 at 14.0s".
func ChaosStep(plan []stats.EventPlan, started []stats.EventStart) string {
	return joinEvents(chaosEvents(plan, started))
}

// joinEvents writes chaosEvents' parts as ChaosStep does.
func joinEvents(last, progress, next string) string {
	if last != "" {
		last += " (" + progress + ")"
	}
	switch {
	case last == "" && next == "":
		return "none"
	case next == "":
		return last
	case last == "":
		return "next " + next
	}
	return last + "; next " + next
}

// chaosEvents returns the event started last, with its actual start
// ("#1 rolling_restart node 1 code 1012 at 12.0s"), its place in the plan
// ("event 2 of 4"), and the next event planned ("#2 rolling_restart node 2
// code 1012 at 14.0s"); "" for none.
func chaosEvents(plan []stats.EventPlan, started []stats.EventStart) (last, progress, next string) {
	i := 0
	if n := len(started); n > 0 {
		cur := started[n-1]
		last = fmt.Sprintf("#%d %s %s code %d at %s", cur.Index, cur.Action, nodeText(cur.Node), cur.Code, seconds(cur.Start))
		progress = fmt.Sprintf("event %d of %d", cur.Index+1, len(plan))
		if cur.Index >= len(plan) {
			// Detected in observe mode: no plan to count against, and a
			// node only when every close came from one.
			progress = fmt.Sprintf("%d detected", cur.Index+1-len(plan))
			if cur.Node < 0 {
				last = fmt.Sprintf("#%d %s code %d at %s", cur.Index, cur.Action, cur.Code, seconds(cur.Start))
			}
		}
		i = cur.Index + 1
	}
	if i < len(plan) {
		p := plan[i]
		next = fmt.Sprintf("#%d %s %s code %d at %s", i, p.Action, nodeText(p.Node), p.Code, seconds(p.At))
	}
	return last, progress, next
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
