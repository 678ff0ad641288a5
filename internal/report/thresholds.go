package report

import (
	"math"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// judge measures every threshold on the summary. A metric with no value
// (a latency nothing recorded, a t99 that 99% never reached, an events.*
// threshold in a run without events) fails: a gate must not pass on nothing.
func judge(s *results.Summary, thresholds []profile.Threshold) []results.Threshold {
	out := make([]results.Threshold, 0, len(thresholds))
	for _, t := range thresholds {
		v, ok := measure(s, t)
		unit := map[profile.ValueKind]string{profile.KindDuration: "ms", profile.KindPercent: "%"}[t.Kind]
		out = append(out, results.Threshold{Expr: t.String(), Value: v, Unit: unit, OK: ok})
	}
	return out
}

// measure returns the value t compares (milliseconds for durations, percent
// for shares) and whether it holds.
func measure(s *results.Summary, t profile.Threshold) (*float64, bool) {
	group, stat, _ := strings.Cut(t.Metric, ".")
	if group == "events" {
		return measureEvents(s, t, stat)
	}
	v := total(s, t)
	if v == nil {
		return nil, false
	}
	return v, t.Holds(*v)
}

// measureEvents judges t on every event whose clients the policy brings
// back (a 1000 close's clients stay away by design): it holds when it holds
// for each. The value shown is the first event's that fails, else the worst.
func measureEvents(s *results.Summary, t profile.Threshold, stat string) (*float64, bool) {
	var worst *float64
	for i := range s.Events {
		if !s.Events[i].ReconnectExpected {
			continue
		}
		v := eventValue(&s.Events[i], stat)
		if v == nil {
			return nil, false
		}
		if !t.Holds(*v) {
			return v, false
		}
		if worst == nil || (strings.HasPrefix(t.Op, ">") && *v < *worst) || (!strings.HasPrefix(t.Op, ">") && *v > *worst) {
			worst = v
		}
	}
	return worst, worst != nil
}

// msFromSeconds converts a time in seconds, as events report it, to ms.
func msFromSeconds(sec *float64) *float64 {
	if sec == nil {
		return nil
	}
	return ptr(results.Round(*sec*1000, 3)) // seconds hold whole ms; the product need not
}

func eventValue(e *results.EventSummary, stat string) *float64 {
	switch stat {
	case "t50":
		return msFromSeconds(e.T50S)
	case "t90":
		return msFromSeconds(e.T90S)
	case "t99":
		return msFromSeconds(e.T99S)
	case "t100":
		return msFromSeconds(e.T100S)
	case "affected":
		return ptr(float64(e.Affected))
	case "reconnected":
		return ptr(float64(e.Reconnected))
	case "never_reconnected":
		return ptr(float64(e.NeverReconnected))
	case "peak_attempt_rate":
		return ptr(e.PeakAttemptRate)
	case "mean_attempt_rate":
		return ptr(e.MeanAttemptRate)
	case "herd_factor":
		return ptr(e.HerdFactor)
	case "attempts_per_client":
		return ptr(e.AttemptsPerClient)
	case "imbalance_after":
		return e.ImbalanceAfter
	}
	return nil
}

// total returns a run-wide metric's value.
func total(s *results.Summary, t profile.Threshold) *float64 {
	c := &s.Counters
	group, stat, dotted := strings.Cut(t.Metric, ".")
	if dotted {
		switch group {
		case "connect_failures":
			return share(float64(c.ConnectFailures[stat]), c.ConnectAttempts, t.Kind)
		case "closes":
			code, _ := strconv.Atoi(stat)
			return ptr(float64(c.Closes[code]))
		}
		for _, m := range stats.Metrics {
			if m.String() == group {
				return latencyStat(s.LatencyMS.Of(m), stat)
			}
		}
		return nil
	}
	switch t.Metric {
	case "connect_attempts":
		return ptr(float64(c.ConnectAttempts))
	case "connects":
		return ptr(float64(c.Connects))
	case "connect_failures":
		var n int64
		for _, v := range c.ConnectFailures {
			n += v
		}
		return share(float64(n), c.ConnectAttempts, t.Kind)
	case "reconnects":
		return ptr(float64(c.Reconnects))
	case "gave_up":
		return ptr(float64(c.GaveUp))
	case "client_closes":
		return ptr(float64(c.ClientCloses))
	case "messages_sent":
		return ptr(float64(c.MessagesSent))
	case "messages_received":
		return ptr(float64(c.MessagesReceived))
	case "peak_connected":
		return ptr(float64(s.PeakConnected))
	case "never_reconnected": // of the clients the policy brings back
		var n int64
		for _, e := range s.Events {
			if e.ReconnectExpected {
				n += e.NeverReconnected
			}
		}
		return ptr(float64(n))
	case "imbalance_end":
		if s.Target == nil {
			return nil
		}
		return s.Target.ImbalanceEnd
	}
	return nil
}

// share is n itself, or n as a percentage of attempts for a KindPercent bound.
func share(n float64, attempts int64, kind profile.ValueKind) *float64 {
	if kind != profile.KindPercent {
		return ptr(n)
	}
	if attempts == 0 {
		return ptr(0)
	}
	return ptr(math.Round(n/float64(attempts)*100*1e4) / 1e4)
}

func latencyStat(l *results.LatencySummary, stat string) *float64 {
	switch stat {
	case "min":
		return l.Min
	case "mean":
		return l.Mean
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	case "max":
		return l.Max
	}
	return nil
}

func ptr(v float64) *float64 { return &v }

// measuredText writes a threshold's measured value with its unit, "1.017s",
// or "no value".
func measuredText(t results.Threshold) string {
	if t.Value == nil {
		return "no value"
	}
	v, unit := measured(t)
	return v + unit
}

// measured is a threshold's measured value and its unit: three decimals
// (µs for ms), or six significant digits below one, where a small share of
// failures must not read as 0. A duration is in the unit its bound is
// written in, so that "< 3s" is not read against "1017ms" on one line.
func measured(t results.Threshold) (value, unit string) {
	v, unit := inBoundUnit(t)
	if a := math.Abs(v); a >= 1 || a == 0 {
		v = results.Round(v, 3)
	} else {
		v = results.Round(v, 5-int(math.Floor(math.Log10(a))))
	}
	return strconv.FormatFloat(v, 'f', -1, 64), unit
}

// inBoundUnit is a threshold's measured value in the unit of the last part
// of its bound ("5s", "1m30s": seconds; "500ms": milliseconds), or as
// judged when it is not a duration.
func inBoundUnit(t results.Threshold) (float64, string) {
	v := *t.Value
	fields := strings.Fields(t.Expr)
	if t.Unit != "ms" || len(fields) == 0 {
		return v, t.Unit
	}
	bound := fields[len(fields)-1]
	// Longer suffixes first, so that "ms" is not taken for "s".
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"ms", 1}, {"us", 1e-3}, {"µs", 1e-3}, {"ns", 1e-6}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}} {
		if strings.HasSuffix(bound, u.suffix) {
			return v / u.ms, u.suffix
		}
	}
	return v, t.Unit
}
