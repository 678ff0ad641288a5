package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// The noise floors of a comparison: how far a metric moves between two
// runs of one seeded profile on one machine when nothing changed. A run
// repeats its own random delays, so what moves it is the machine (another
// process on the cores, the kernel's timers) and counting noise: a
// confidence interval from one run's histogram cannot see the first, so the
// floors come from measurements, and docs/compare.md gives them with the
// runs they came from. A change within its floor is no change a single run
// can tell apart (`~`); repeated runs judge by a rank test instead, with
// the floor shrunk by the square root of the runs a side as the least
// change worth a regression.

// latencyFloorsMS are the floors of the latency percentiles and of the
// events' recovery times, in milliseconds, by comparison key.
var latencyFloorsMS = map[string]float64{
	"connect.p50": 3, "connect.p90": 5, "connect.p99": 25,
	"reconnect.p50": 5, "reconnect.p90": 5, "reconnect.p99": 20,
	"recovery.p50": 5, "recovery.p90": 5, "recovery.p99": 20,
	"message_rtt.p50": 3, "message_rtt.p90": 5, "message_rtt.p99": 25,
	"events.t50": 50, "events.t99": 100, "events.t100": 150,
}

// busyFloorsMS are the floors of the metrics whose tails other work on
// the machine moves further (Summary.BusyElsewhere): a change beyond the
// floor but within this is inconclusive when the new run's machine was
// busy, not a regression. Metrics missing here keep their floor.
var busyFloorsMS = map[string]float64{
	"connect.p99":   250,
	"reconnect.p90": 20, "reconnect.p99": 100,
	"recovery.p90": 20, "recovery.p99": 100,
	"message_rtt.p90": 100, "message_rtt.p99": 500,
}

// countingZ is how many standard deviations of counting (Poisson) noise a
// count, a rate or a ratio of counts may move by before a single run tells
// the move apart from chance. The difference of two independent counts of
// means b and n has the variance b + n.
const countingZ = 2

// floorOf returns the noise floor of a metric, in its unit, for a base and
// a new value (medians, for repeats), and how it was found. base and new
// carry the counts a rate or a ratio is made of.
func floorOf(key string, base, new metricValue) (float64, string) {
	if f, ok := latencyFloorsMS[key]; ok {
		return f, "measured"
	}
	switch key {
	case "events.peak_attempt_rate":
		// The peak is a count in one 100 ms bucket, scaled to a second.
		width := stats.DefaultBucketWidth.Seconds()
		cb, cn := finite(base.v)*width, finite(new.v)*width
		return countingZ * math.Sqrt(cb+cn+1) / width, "counting"
	case "events.herd_factor":
		// The peak over the mean: the peak's counting noise, relative.
		cb, cn := base.count, new.count
		if cb <= 0 || cn <= 0 {
			return math.Inf(1), "counting"
		}
		return countingZ * finite(base.v) * math.Sqrt(1/cb+1/cn), "counting"
	}
	// A count: one more than none must not be a regression by itself.
	return countingZ * math.Sqrt(finite(base.v)+finite(new.v)+1), "counting"
}

// finite is v, or 0 when it is infinite (a value a run did not reach).
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return v
}

// floorText writes a floor in the metric's unit, e.g. "±25ms".
func floorText(f float64, unit string) string {
	if math.IsInf(f, 1) {
		return "±∞"
	}
	digits := 3
	if f >= 100 {
		digits = 0
	} else if f >= 10 {
		digits = 1
	}
	s := fmt.Sprintf("%.*f", digits, f)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return "±" + s + unit
}
