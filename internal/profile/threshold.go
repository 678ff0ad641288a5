package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// Threshold is one entry of a profile's [thresholds] table, such as
// "reconnect.p99" = "< 5s": a metric, a comparison and a bound.
type Threshold struct {
	Metric string
	Op     string  // <, <=, >, >=, ==, !=
	Value  float64 // the bound: milliseconds for durations, a number, or a percentage
	Kind   ValueKind
	Text   string // the bound as written, e.g. "5s" or "1%"
}

// ValueKind says what a threshold's bound measures.
type ValueKind int

// The kinds of bound.
const (
	KindNumber   ValueKind = iota // a count or a rate
	KindDuration                  // a duration, compared in milliseconds
	KindPercent                   // a share of connect attempts, in percent
)

// String writes the threshold as "metric op bound".
func (t Threshold) String() string { return t.Metric + " " + t.Op + " " + t.Text }

// Holds reports whether value satisfies the threshold.
func (t Threshold) Holds(value float64) bool {
	switch t.Op {
	case "<":
		return value < t.Value
	case "<=":
		return value <= t.Value
	case ">":
		return value > t.Value
	case ">=":
		return value >= t.Value
	case "==":
		return value == t.Value
	case "!=":
		return value != t.Value
	}
	return false
}

var (
	latencyMetrics = []string{"connect", "reconnect", "recovery", "message_rtt", "dial_lag"}
	latencyStats   = []string{"min", "mean", "p50", "p90", "p99", "p999", "max"}
	eventDurations = []string{"t50", "t90", "t99", "t100"}
	eventNumbers   = []string{"affected", "reconnected", "never_reconnected", "peak_attempt_rate",
		"mean_attempt_rate", "herd_factor", "attempts_per_client", "imbalance_after"}
	totals = []string{"connect_attempts", "connects", "connect_failures", "reconnects", "gave_up",
		"client_closes", "never_reconnected", "peak_connected", "messages_sent", "messages_received", "imbalance_end"}
)

// ThresholdMetrics lists the metrics a threshold can name; <reason> and
// <code> stand for a failure reason and a close code.
func ThresholdMetrics() []string {
	var out []string
	for _, m := range latencyMetrics {
		for _, s := range latencyStats {
			out = append(out, m+"."+s)
		}
	}
	for _, e := range append(slices.Clone(eventDurations), eventNumbers...) {
		out = append(out, "events."+e)
	}
	out = append(out, totals...)
	return append(out, "connect_failures.<reason>", "closes.<code>")
}

// metricKind returns the kind of bound a metric takes, and whether it may be
// a percentage; ok is false for an unknown metric.
func metricKind(metric string) (kind ValueKind, percent, ok bool) {
	group, stat, dotted := strings.Cut(metric, ".")
	switch {
	case dotted && slices.Contains(latencyMetrics, group) && slices.Contains(latencyStats, stat):
		return KindDuration, false, true
	case dotted && group == "events" && slices.Contains(eventDurations, stat):
		return KindDuration, false, true
	case dotted && group == "events" && slices.Contains(eventNumbers, stat):
		return KindNumber, false, true
	case dotted && group == "connect_failures" && isReason(stat):
		return KindNumber, true, true
	case dotted && group == "closes":
		code, err := strconv.Atoi(stat)
		return KindNumber, false, err == nil && code >= 1000 && code <= 4999
	case !dotted && metric == "connect_failures":
		return KindNumber, true, true
	case !dotted && slices.Contains(totals, metric):
		return KindNumber, false, true
	}
	return 0, false, false
}

// isReason reports whether name is a failure reason as results files spell
// it: package stats holds the list.
func isReason(name string) bool {
	_, ok := stats.ParseReason(name)
	return ok
}

var thresholdPattern = regexp.MustCompile(`^\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$`)

// ParseThreshold parses one [thresholds] entry. Errors say what is wrong and
// how to write it.
func ParseThreshold(metric, expr string) (Threshold, error) {
	kind, percentOK, ok := metricKind(metric)
	if !ok {
		return Threshold{}, fmt.Errorf("%q is not a metric thresholds know: use one of %s",
			metric, strings.Join(ThresholdMetrics(), ", "))
	}
	m := thresholdPattern.FindStringSubmatch(expr)
	if m == nil {
		return Threshold{}, fmt.Errorf("%q is not a threshold: write a comparison and a bound, e.g. \"< 5s\", \"<= 800ms\", \"== 0\" or \"< 1%%\"", expr)
	}
	t := Threshold{Metric: metric, Op: m[1], Text: m[2], Kind: kind}
	bound := m[2]
	switch {
	case strings.HasSuffix(bound, "%"):
		if !percentOK {
			return Threshold{}, fmt.Errorf("%s: a share (%%) applies only to connect_failures, as a share of connect attempts", bound)
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(bound, "%"), 64)
		if err != nil || v < 0 || v > 100 {
			return Threshold{}, fmt.Errorf("%s is not a share: write a percentage from 0%% to 100%%, e.g. \"< 1%%\"", bound)
		}
		t.Value, t.Kind = v, KindPercent
	case kind == KindDuration:
		d, err := time.ParseDuration(bound)
		if err != nil || d < 0 {
			return Threshold{}, fmt.Errorf("%s is not a duration: %s is a time, write e.g. \"< 5s\" or \"<= 800ms\"", bound, metric)
		}
		t.Value = float64(d) / float64(time.Millisecond)
	default:
		v, err := strconv.ParseFloat(bound, 64)
		if err != nil || v != v || v < 0 {
			return Threshold{}, fmt.Errorf("%s is not a number: %s is a count or a rate, write e.g. \"< 4000\" or \"== 0\"", bound, metric)
		}
		t.Value = v
	}
	return t, nil
}

// ParsedThresholds returns the profile's thresholds, parsed, in metric order.
// It expects a validated profile and skips entries that do not parse.
func (p *Profile) ParsedThresholds() []Threshold {
	metrics := make([]string, 0, len(p.Thresholds))
	for m := range p.Thresholds {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	var out []Threshold
	for _, m := range metrics {
		if t, err := ParseThreshold(m, p.Thresholds[m]); err == nil {
			out = append(out, t)
		}
	}
	return out
}
