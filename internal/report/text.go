package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// WriteText writes the end-of-run summary for a terminal: the verdict,
// whether the results are simulated, counters, a latency table, one line
// per chaos event, thresholds, the target's side, a legend of the terms it
// used and, when dir is not empty, where the results are. Each line keeps
// to one unit of time. Values that do not exist are shown as "-".
func WriteText(w io.Writer, s *results.Summary, dir string) error {
	var b strings.Builder
	name := s.Profile.Name
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(&b, "wsstorm: profile %s, %d clients, %.1fs, seed %d — %s\n",
		name, s.Clients, s.DurationS, s.Seed, verdict(s))
	if s.Simulated != nil {
		fmt.Fprintf(&b, "simulated: %s\n", simulatedText(s.Simulated, plain))
	}

	c := &s.Counters
	fmt.Fprintf(&b, "connects %d (attempts %d, failures: %s)   closes: %s   client closes %d   gave up %d\n",
		c.Connects, c.ConnectAttempts, countsText(c.ConnectFailures), countsText(c.Closes), c.ClientCloses, c.GaveUp)
	writeFailureNotes(&b, c)
	if pt := protocolText(c); pt != "" {
		fmt.Fprintf(&b, "ended by the protocol: %s\n", pt)
	}
	fmt.Fprintf(&b, "reconnects %d   peak connected %d   messages sent %d, received %d\n",
		c.Reconnects, s.PeakConnected, c.MessagesSent, c.MessagesReceived)

	writeLatencyTable(&b, &s.LatencyMS)
	if rb := &s.ReconnectBreakdown; rb.Reconnects > 0 {
		fmt.Fprintf(&b, "mean reconnect (ms): %s\n", breakdownParts(rb))
	}
	if w := GeneratorWarning(s); w != "" {
		fmt.Fprintf(&b, "GENERATOR-LIMITED: %s\n", w)
	}

	if len(s.Events) > 0 {
		b.WriteString("events\n")
		for i := range s.Events {
			writeEvent(&b, &s.Events[i])
		}
	}
	if s.Detect != nil {
		fmt.Fprintf(&b, "%s\n", detectText(s.Detect))
	}
	if len(s.Thresholds) > 0 {
		b.WriteString("thresholds\n")
		for _, t := range s.Thresholds {
			mark := "ok  "
			if !t.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(&b, "  %s  %s   (measured %s)\n", mark, t.Expr, measuredText(t))
		}
	}
	if t := s.Target; t != nil {
		b.WriteString("target\n")
		for _, n := range t.Nodes {
			fmt.Fprintf(&b, "  node %d: accepted %d, rejected %d, connections at end %d\n",
				n.Index, n.Accepted, n.Rejected, n.ConnectionsEnd)
		}
		fmt.Fprintf(&b, "  imbalance at end %s\n", optional(t.ImbalanceEnd, 2, ""))
	}
	writeLegend(&b, legendEntries(s))
	if dir != "" {
		fmt.Fprintf(&b, "results: %s\n", dir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func verdict(s *results.Summary) string {
	if s.Interrupted {
		return "INTERRUPTED (not passed)"
	}
	if s.Passed {
		return "passed"
	}
	if s.Aborted != "" {
		return "ABORTED: " + s.Aborted
	}
	failed, events := 0, 0
	for _, t := range s.Thresholds {
		if !t.OK {
			failed++
		}
	}
	for _, e := range s.Events {
		if e.Failed {
			events++
		}
	}
	var why []string
	if failed > 0 || events == 0 {
		why = append(why, fmt.Sprintf("%d of %d thresholds", failed, len(s.Thresholds)))
	}
	if events > 0 {
		why = append(why, fmt.Sprintf("%d chaos %s failed", events, plural(events, "event", "events")))
	}
	return "FAILED (" + strings.Join(why, "; ") + ")"
}

// countsText writes counts by key, in key order: "http_503=15 refused=2".
func countsText[K cmp.Ordered](m map[K]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%v=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// protocolText says which sessions the server ended through the protocol,
// or "" when none did.
func protocolText(c *results.CounterSummary) string {
	if len(c.ProtocolStops) == 0 && len(c.ProtocolReconnects) == 0 {
		return ""
	}
	reasons := func(m map[string]int64) string {
		if len(m) == 0 {
			return "none"
		}
		parts := make([]string, 0, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%q %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("stopped %s; sent away to reconnect %s", reasons(c.ProtocolStops), reasons(c.ProtocolReconnects))
}

// writeFailureNotes writes what the "other" failures said and a hint for
// each reason the user can fix, under the failure counts.
func writeFailureNotes(b *strings.Builder, c *results.CounterSummary) {
	for _, msg := range c.OtherFailures {
		fmt.Fprintf(b, "  other: %s\n", msg)
	}
	for _, reason := range slices.Sorted(maps.Keys(c.ConnectFailures)) {
		if hint := results.FailureHint(reason); hint != "" && c.ConnectFailures[reason] > 0 {
			fmt.Fprintf(b, "  hint: %s: %s\n", reason, hint)
		}
	}
}

// writeLatencyTable writes one row per metric with right-aligned columns.
func writeLatencyTable(b *strings.Builder, l *results.Latencies) {
	rows := [][]string{{"latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"}}
	for _, m := range stats.Metrics {
		ls := l.Of(m)
		if m == stats.DialLag && ls.Count == 0 {
			continue // results from before it was measured, or no attempt at all
		}
		rows = append(rows, []string{
			m.String(),
			strconv.FormatInt(ls.Count, 10),
			optional(ls.P50, 2, ""), optional(ls.P90, 2, ""), optional(ls.P99, 2, ""),
			optional(ls.P999, 2, ""), optional(ls.Max, 2, ""),
		})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell), 6)
		}
	}
	for _, row := range rows {
		fmt.Fprintf(b, "%-*s", widths[0], row[0])
		for i := 1; i < len(row); i++ {
			fmt.Fprintf(b, "  %*s", widths[i], row[i])
		}
		b.WriteByte('\n')
	}
}

func writeEvent(b *strings.Builder, e *results.EventSummary) {
	fmt.Fprintf(b, "  #%d %.1fs %s code %d: affected %d, reconnected %d",
		e.Index, e.AtS, eventWhat(e), e.Code, e.Affected, e.Reconnected)
	if e.NeverReconnected > 0 {
		fmt.Fprintf(b, ", %s", awayText(e))
	}
	herd := "-" // no attempts
	if e.HerdFactor > 0 {
		herd = fmt.Sprintf("×%.1f", e.HerdFactor)
	}
	fmt.Fprintf(b, ", t50 %s t90 %s t99 %s t100 %s, peak %.0f/s",
		optional(e.T50S, 2, "s"), optional(e.T90S, 2, "s"), optional(e.T99S, 2, "s"), optional(e.T100S, 2, "s"),
		e.PeakAttemptRate)
	if e.FirstAttempts > 0 {
		fmt.Fprintf(b, " (intended %.0f/s)", e.IntendedPeakAttemptRate)
	}
	fmt.Fprintf(b, ", herd %s", herd)
	if len(e.FailedAttempts) > 0 {
		fmt.Fprintf(b, ", failed %s", countsText(e.FailedAttempts))
	}
	if e.ImbalanceAfter != nil {
		fmt.Fprintf(b, ", imbalance %s", optional(e.ImbalanceAfter, 2, ""))
	}
	// A freeze's own figures, after the others: how many connections the
	// node held, and when those that noticed did.
	if e.Frozen > 0 {
		fmt.Fprintf(b, ", frozen %d, noticed in %s", e.Frozen, noticedText(e))
	}
	b.WriteByte('\n')
	writeEventGenerator(b, e)
	if h := e.Hook; h != nil {
		what := "ok"
		switch {
		case h.Cancelled:
			what = "cut short, the run ended"
		case h.Error != "":
			what = "FAILED: " + h.Error
		}
		fmt.Fprintf(b, "     hook %s (%s) in %.2fs: %s\n", h.Name, h.Kind, h.DurationS, what)
	}
}

// awayText says how many of an event's clients stayed away: "never
// reconnected 5" when the close-code policy brings them back, else "not
// expected back: 200 (1000 ends the session)", so that it does not read
// as a contradiction of a never_reconnected threshold, which leaves them
// out.
func awayText(e *results.EventSummary) string {
	if e.ReconnectExpected {
		return fmt.Sprintf("never reconnected %d", e.NeverReconnected)
	}
	return fmt.Sprintf("not expected back: %d (%d ends the session)", e.NeverReconnected, e.Code)
}

// noticedText says how long after an event's start its clients saw their
// closes, "0.31s–0.69s (p50 0.48s)": for a freeze, how long they took to
// notice it; "-" without closes.
func noticedText(e *results.EventSummary) string {
	d := e.DetectionMS
	if d == nil || d.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%s–%s (p50 %s)", optionalMS(d.Min), optionalMS(d.Max), optionalMS(d.P50))
}

// optionalMS writes milliseconds as seconds, "0.48s", or "-".
func optionalMS(ms *float64) string {
	if ms == nil {
		return "-"
	}
	return strconv.FormatFloat(*ms/1000, 'f', 2, 64) + "s"
}

// detectText says how observe mode found its events and what it left out:
// "observe mode: events are bursts of at least 5 closes with one code, each
// within 1s of the last; 2 smaller bursts (3 closes) were not events".
func detectText(d *results.DetectSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "observe mode: events are bursts of at least %d closes with one code, each within %s of the last",
		d.MinCloses, strconv.FormatFloat(d.GapS, 'f', -1, 64)+"s")
	switch d.DroppedBursts {
	case 0:
	case 1:
		fmt.Fprintf(&b, "; 1 smaller burst (%d closes) was not an event", d.DroppedCloses)
	default:
		fmt.Fprintf(&b, "; %d smaller bursts (%d closes) were not events", d.DroppedBursts, d.DroppedCloses)
	}
	if d.UnattributedCloses > 0 {
		fmt.Fprintf(&b, "; %d closes came after the most bursts a run tracks and belong to none", d.UnattributedCloses)
	}
	return b.String()
}

// optional formats *v with the given decimals and unit, or "-" when v is nil.
func optional(v *float64, decimals int, unit string) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64) + unit
}

func plain(s string) string { return s }

// plural picks the word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// simulatedText says, for the text and markdown summaries and the HTML
// page, what simulated results are: "no sockets; target and network
// modeled (calibrated from DIR)". code formats the directory.
func simulatedText(s *results.Simulated, code func(string) string) string {
	text := "no sockets; target and network modeled"
	if s.CalibratedFrom != "" {
		text += " (calibrated from " + code(s.CalibratedFrom) + ")"
	}
	return text
}
