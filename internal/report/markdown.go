package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// WriteMarkdown writes the summary as markdown, for a pull-request comment
// or a wiki page: a headline with the verdict, whether the results are
// simulated or the load generator shaped them, the counters, the latency
// table and the mean reconnect taken apart, the chaos events (the peak
// attempt rate made and intended), the thresholds and a legend of the
// terms used. Values that do not exist are shown as "-".
func WriteMarkdown(w io.Writer, s *results.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### wsstorm: %s — %s\n\n", mdText(profileName(s)), mdVerdict(s))
	if s.Simulated != nil {
		// Before anything else: no number below was measured on a network.
		fmt.Fprintf(&b, "**Simulated:** %s.\n\n", simulatedText(s.Simulated, mdCode))
	}
	if w := GeneratorWarning(s); w != "" {
		// Also before the numbers: the herd below is partly wsstorm's own.
		fmt.Fprintf(&b, "**Generator-limited:** %s.\n\n", mdText(w))
	}

	fmt.Fprintf(&b, "%d clients, %.1f s, seed %d, started %s", s.Clients, s.DurationS, s.Seed, startedText(s))
	if s.Profile.Path != "" {
		fmt.Fprintf(&b, ", profile %s", mdCode(s.Profile.Path))
	}
	if sha := s.Profile.SHA256; sha != "" {
		fmt.Fprintf(&b, " (sha256 %s)", mdCode(sha[:min(12, len(sha))]))
	}
	for i, o := range overrideFlags(s.Profile) {
		sep := ", "
		if i == 0 {
			sep = ", with "
		}
		b.WriteString(sep + mdCode(o))
	}
	b.WriteString("\n\n")
	if s.InsecureSkipVerify {
		b.WriteString("**TLS certificates were not verified** (`insecure_skip_verify`).\n\n")
	}

	c := &s.Counters
	fmt.Fprintf(&b, "Connects %d of %d attempts (failures: %s) · closes: %s · client closes %d · reconnects %d · gave up %d · peak connected %d · messages sent %d, received %d\n\n",
		c.Connects, c.ConnectAttempts, countsText(c.ConnectFailures), countsText(c.Closes), c.ClientCloses,
		c.Reconnects, c.GaveUp, s.PeakConnected, c.MessagesSent, c.MessagesReceived)
	if pt := protocolText(c); pt != "" {
		fmt.Fprintf(&b, "Ended by the protocol: %s\n\n", pt)
	}

	b.WriteString("| latency (ms) | count | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range stats.Metrics {
		l := s.LatencyMS.Of(m)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", m, l.Count,
			optional(l.P50, 2, ""), optional(l.P90, 2, ""), optional(l.P99, 2, ""), optional(l.P999, 2, ""), optional(l.Max, 2, ""))
	}
	if rb := &s.ReconnectBreakdown; rb.Reconnects > 0 {
		fmt.Fprintf(&b, "\nMean reconnect: %s\n", breakdownText(rb))
	}

	if len(s.Events) > 0 {
		b.WriteString("\n#### Chaos events\n\n")
		b.WriteString("| # | at | action | code | affected | reconnected | never reconnected | t50 | t90 | t99 | t100 | peak attempts/s | intended attempts/s | herd | imbalance after |\n")
		b.WriteString("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for i := range s.Events {
			e := &s.Events[i]
			fmt.Fprintf(&b, "| %d | %.1f s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %.0f | %s | %s | %s |\n",
				e.Index, e.AtS, mdText(eventWhat(e)), e.Code, e.Affected, e.Reconnected, neverText(e),
				optional(e.T50S, 2, " s"), optional(e.T90S, 2, " s"), optional(e.T99S, 2, " s"), optional(e.T100S, 2, " s"),
				e.PeakAttemptRate, intendedText(e), herdText(e), optional(e.ImbalanceAfter, 2, ""))
		}
	}
	if s.Detect != nil {
		fmt.Fprintf(&b, "\n%s\n", detectText(s.Detect))
	}

	if len(s.Thresholds) > 0 {
		b.WriteString("\n#### Thresholds\n\n| verdict | threshold | measured |\n|---|---|---:|\n")
		for _, t := range s.Thresholds {
			v := "ok"
			if !t.OK {
				v = "**FAIL**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", v, mdCode(t.Expr), mdText(thresholdValue(t)))
		}
	}
	if legend := legendEntries(s); len(legend) > 0 {
		fmt.Fprintf(&b, "\n*Legend:* %s.\n", mdText(strings.Join(legend, " · ")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// neverText is an event's clients that never reconnected, for a table
// cell: "7", or "not expected back: 200" when the close-code policy does
// not bring them back, so that the never_reconnected threshold, which
// leaves them out, does not read as contradicted.
func neverText(e *results.EventSummary) string {
	if !e.ReconnectExpected && e.NeverReconnected > 0 {
		return "not expected back: " + strconv.FormatInt(e.NeverReconnected, 10)
	}
	return strconv.FormatInt(e.NeverReconnected, 10)
}

// WriteJSON writes the summary as summary.json holds it.
func WriteJSON(w io.Writer, s *results.Summary) error { return s.WriteJSON(w) }

func profileName(s *results.Summary) string {
	if s.Profile.Name == "" {
		return "(unnamed)"
	}
	return s.Profile.Name
}

// mdVerdict is verdict in capitals and bold when the run did not pass, so a
// failure stands out in a list of comments.
func mdVerdict(s *results.Summary) string {
	if s.Passed {
		return verdict(s)
	}
	return "**" + verdict(s) + "**"
}

func startedText(s *results.Summary) string {
	if s.StartedAt.IsZero() {
		return "at an unknown time"
	}
	return s.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
}

// eventWhat says what an event did: "rolling_restart node 0", "close all
// nodes", "detected" (closes from several or unknown nodes), "detected on
// node 1".
func eventWhat(e *results.EventSummary) string {
	if e.Action == stats.DetectedAction {
		if e.Node != nil {
			return e.Action + " on node " + strconv.Itoa(*e.Node)
		}
		return e.Action
	}
	if e.Node != nil {
		return e.Action + " node " + strconv.Itoa(*e.Node)
	}
	return e.Action + " all nodes"
}

func herdText(e *results.EventSummary) string {
	if e.HerdFactor <= 0 {
		return "-" // no attempts
	}
	return fmt.Sprintf("×%.1f", e.HerdFactor)
}

// thresholdValue is measuredText with a space before a unit of time:
// "1.017 s", "0.5%", "3".
func thresholdValue(t results.Threshold) string {
	if t.Value == nil {
		return "no value"
	}
	v, unit := measured(t)
	switch unit {
	case "", "%":
		return v + unit
	}
	return v + " " + unit
}

// mdText escapes what would break a table cell or start markup.
func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`").Replace(s)
}

// mdCode writes s as a code span that survives a table cell: a backtick in
// s gets a longer fence, and '|' is escaped (GitHub splits cells on it even
// inside code).
func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// overrideFlags writes a run's recorded overrides as the flags that gave
// them: "--set key=value", then "--scale F" for a scaled timeline.
func overrideFlags(ref results.ProfileRef) []string {
	out := make([]string, 0, len(ref.Overrides)+1)
	for _, o := range ref.Overrides {
		out = append(out, "--set "+o)
	}
	if ref.Scale != "" {
		out = append(out, "--scale "+ref.Scale)
	}
	return out
}
