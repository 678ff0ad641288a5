package report

import (
	"fmt"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// legendEntries explain, in plain words, the terms the summaries of s
// print: only those they print, so the legend stays a few lines, each
// short enough for a terminal.
func legendEntries(s *results.Summary) []string {
	var out []string
	var expectedAway, eventImbalance, eventLag bool
	stopCode := 0 // the code of an event whose clients are not expected back
	for i := range s.Events {
		e := &s.Events[i]
		expectedAway = expectedAway || e.ReconnectExpected && e.NeverReconnected > 0
		if !e.ReconnectExpected && e.NeverReconnected > 0 && stopCode == 0 {
			stopCode = e.Code
		}
		eventImbalance = eventImbalance || e.ImbalanceAfter != nil
		eventLag = eventLag || e.DialLagMS != nil
	}
	if len(s.Events) > 0 {
		out = append(out,
			"t50…t100 = seconds from an event's start until 50…100% of its affected clients had reconnected (were back)",
			"herd ×N = peak attempt rate over the mean (×1: none)")
	}
	if expectedAway {
		out = append(out, "never reconnected = clients expected back that never returned: what never_reconnected counts")
	}
	if stopCode != 0 {
		out = append(out, fmt.Sprintf("not expected back = closed with a code that ends the session (%d): never_reconnected leaves them out", stopCode))
	}
	if eventImbalance || s.Target != nil && s.Target.ImbalanceEnd != nil {
		out = append(out, "imbalance = connections per node, max over mean (1.00: even)")
	}
	if eventLag || s.LatencyMS.Of(stats.DialLag).Count > 0 {
		out = append(out, "dial lag = wsstorm's own delay before an attempt, not the target's")
	}
	return out
}

// writeLegend writes the legend: one entry a line, the first after
// "legend: ", the others under it.
func writeLegend(b *strings.Builder, entries []string) {
	for i, entry := range entries {
		head := "legend: "
		if i > 0 {
			head = "        "
		}
		b.WriteString(head + entry + "\n")
	}
}
