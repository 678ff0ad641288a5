package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
)

// GeneratorFix is what a user does about a generator that shaped a run.
const GeneratorFix = "raise fleet.max_dialing (dials in flight at once), split the fleet over processes with --processes N, or run it from more machines"

// GeneratorWarning is the one-line warning of a run whose load generator
// shaped what it measured (summary.json's generator_limited), naming the
// figures, the cause and the fix; "" when it did not.
func GeneratorWarning(s *results.Summary) string {
	figures := s.LagFigures()
	if figures == "" {
		return ""
	}
	if s.Simulated != nil {
		// A simulation's timers are exact and it has no processes or
		// machines to add: only its modeled dial slots are late.
		return fmt.Sprintf("the simulated generator shaped this run (%s), so the attempt peaks and reconnect times include the clients' wait for one of fleet.max_dialing dial slots; raise fleet.max_dialing",
			figures)
	}
	return fmt.Sprintf("the load generator shaped this run (%s), so the attempt peaks and reconnect times are partly wsstorm's own doing (clients waiting for a dial slot or a core, attempts failing on its own limits), not the target's; %s",
		figures, strings.Join(generatorFixes(s), "; "))
}

// generatorFixes are the fixes of what shaped s, by cause: dial slots when
// a shaped event's attempts waited for them, more cores when its CPU was
// saturated or its dial lag came without waiting for a slot (timers and
// goroutines waiting for a core), and the generator's own limits when
// attempts failed on them.
func generatorFixes(s *results.Summary) []string {
	g := s.GeneratorLimited
	var slots, cores bool
	for _, e := range s.Events {
		if !slices.Contains(g.Events, e.Index) {
			continue
		}
		lagged := e.DialLagMS != nil && e.DialLagMS.P99 != nil && *e.DialLagMS.P99 > e.DialLagBoundMS
		slots = slots || lagged && e.QueuedAttempts > 0
		cores = cores || e.CPUSaturated || lagged && e.QueuedAttempts == 0
	}
	var fixes []string
	if slots {
		fixes = append(fixes, "for the dial slots: "+SlotsFix)
	}
	if cores {
		fixes = append(fixes, "for the CPU: "+CPUFix)
	}
	if g.LocalFailures > 0 {
		fixes = append(fixes, "for the failures: "+LocalFix)
	}
	if len(fixes) == 0 {
		fixes = append(fixes, GeneratorFix)
	}
	return fixes
}

// SlotsFix is what a user does about clients that queued for the fleet's
// dial slots.
const SlotsFix = "raise fleet.max_dialing (dials in flight at once), or set it to 0 for as many as the open files allow"

// LocalFix is what a user does about attempts that failed on the
// generator's own limits.
const LocalFix = "give the fleet more source addresses (fleet.source_addrs) or file descriptors (ulimit -n; --processes N splits them), or fewer dials in flight (fleet.max_dialing)"

// CPUFix is what a user does about a generator whose CPU was saturated:
// more dial slots would only queue more work on the same cores.
const CPUFix = "give it more cores: run the embedded target in its own processes (--processes N), split the fleet over more machines, or lower fleet.clients"

// breakdownText writes the parts of the mean reconnect:
// "backoff 120.0 + dial lag 3.1 + failed attempts 0.0 + handshake 1.2 ms".
func breakdownText(b *results.BreakdownSummary) string { return breakdownParts(b) + " ms" }

// breakdownParts is breakdownText without its unit, for a line that says
// its unit once.
func breakdownParts(b *results.BreakdownSummary) string {
	return fmt.Sprintf("backoff %s + dial lag %s + failed attempts %s + handshake %s",
		fmtMS(b.BackoffMS), fmtMS(b.DialLagMS), fmtMS(b.FailedAttemptsMS), fmtMS(b.HandshakeMS))
}

// fmtMS writes milliseconds with one decimal, or three below 1 ms.
func fmtMS(v float64) string {
	if v < 1 && v > -1 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// writeEventGenerator writes an event's second line, in milliseconds where
// the first is in seconds: its mean reconnect taken apart and its dial lag
// against its bound.
func writeEventGenerator(b *strings.Builder, e *results.EventSummary) {
	if e.ReconnectBreakdown.Reconnects == 0 && e.DialLagMS == nil {
		return
	}
	b.WriteString("     in ms: ")
	if e.ReconnectBreakdown.Reconnects > 0 {
		fmt.Fprintf(b, "mean reconnect = %s; ", breakdownParts(&e.ReconnectBreakdown))
	}
	if d := e.DialLagMS; d != nil && d.P99 != nil {
		fmt.Fprintf(b, "dial lag p50 %s p99 %s (bound %s)", fmtMS(*d.P50), fmtMS(*d.P99), fmtMS(e.DialLagBoundMS))
		if e.CPUBusyPct != nil {
			fmt.Fprintf(b, ", CPU %.0f%%", *e.CPUBusyPct)
			if e.MachineCPUBusyPct != nil {
				fmt.Fprintf(b, " (machine %.0f%%)", *e.MachineCPUBusyPct)
			}
		}
		if e.GeneratorLimited {
			b.WriteString(" " + limitedText(e))
		}
	}
	b.WriteByte('\n')
}

// limitedText marks an event the generator shaped, naming how: by its dial
// lag, its CPU, or attempts failing on its own limits.
func limitedText(e *results.EventSummary) string {
	var why []string
	if d := e.DialLagMS; d != nil && d.P99 != nil && *d.P99 > e.DialLagBoundMS {
		why = append(why, "dial lag")
	}
	if e.CPUSaturated {
		why = append(why, "CPU")
	}
	for _, r := range results.GeneratorReasons {
		if e.FailedAttempts[r] > 0 {
			why = append(why, "its own limits")
			break
		}
	}
	if len(why) == 0 {
		return "GENERATOR-LIMITED"
	}
	return "GENERATOR-LIMITED (" + strings.Join(why, ", ") + ")"
}
