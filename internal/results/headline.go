package results

import (
	"fmt"
	"math"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// Headline is one headline metric of a run: what `wsstorm compare` judges
// and repeats.json combines. Key is the tolerance key it answers to
// (events.t99 for every event's t99).
type Headline struct {
	Name, Key, Unit string
	// Value is +Inf when the run has none (a recovery time it never
	// reached counts as the slowest): every headline metric is worse when
	// it is higher.
	Value float64
	// Count is, for a rate or a ratio of counts, the count it is made of:
	// the attempts in the event's peak 100 ms bucket.
	Count float64
}

// Headlines lists the headline metrics of a summary in a stable order:
// the latencies' p50, p90 and p99 (not the dial lag, which is the
// generator's), each event's herd whose clients are expected back, then
// the connect failures and the clients that never came back.
func Headlines(s *Summary) []Headline {
	val := func(p *float64, scale float64) float64 {
		if p == nil {
			return math.Inf(1)
		}
		if scale == 1 {
			return *p
		}
		return Round(*p*scale, 3) // seconds hold whole ms; the product need not
	}
	var out []Headline
	for _, metric := range stats.Metrics {
		if metric == stats.DialLag {
			continue
		}
		l := s.LatencyMS.Of(metric)
		for _, st := range []struct {
			name string
			v    *float64
		}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}} {
			key := metric.String() + "." + st.name
			out = append(out, Headline{Name: key, Key: key, Unit: "ms", Value: val(st.v, 1)})
		}
	}
	width := stats.DefaultBucketWidth.Seconds()
	var never int64
	for i := range s.Events {
		e := &s.Events[i]
		if !e.ReconnectExpected {
			continue
		}
		never += e.NeverReconnected
		prefix := fmt.Sprintf("events[%d].", e.Index)
		peak := e.PeakAttemptRate * width
		out = append(out,
			Headline{Name: prefix + "t50", Key: "events.t50", Unit: "ms", Value: val(e.T50S, 1000)},
			Headline{Name: prefix + "t99", Key: "events.t99", Unit: "ms", Value: val(e.T99S, 1000)},
			Headline{Name: prefix + "t100", Key: "events.t100", Unit: "ms", Value: val(e.T100S, 1000)},
			Headline{Name: prefix + "peak_attempt_rate", Key: "events.peak_attempt_rate", Unit: "/s", Value: e.PeakAttemptRate, Count: peak},
			Headline{Name: prefix + "herd_factor", Key: "events.herd_factor", Value: e.HerdFactor, Count: peak},
		)
	}
	var failures int64
	for _, n := range s.Counters.ConnectFailures {
		failures += n
	}
	return append(out,
		Headline{Name: "connect_failures", Key: "connect_failures", Value: float64(failures)},
		Headline{Name: "never_reconnected", Key: "never_reconnected", Value: float64(never)},
	)
}
