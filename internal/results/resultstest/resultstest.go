// Package resultstest holds what a finished run recorded, with values the
// tests of the results files and of their renderings know, so that both
// test from one run.
package resultstest

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// Start is the run's start; its fraction of a millisecond is something the
// summary drops.
func Start() time.Time { return time.Date(2026, 11, 25, 15, 1, 2, 123_456_789, time.UTC) }

// Histogram records each value (µs) n times.
func Histogram(t testing.TB, values map[int64]int64) *hdrhistogram.Histogram {
	t.Helper()
	h := stats.NewHistogram()
	for v, n := range values {
		if err := h.RecordValues(v, n); err != nil {
			t.Fatalf("record %d: %v", v, err)
		}
	}
	return h
}

func dur(d time.Duration) *time.Duration { return &d }
func f64(v float64) *float64             { return &v }

// Results is a finished run with known values, of a profile "default" with
// 2000 clients, the embedded target's 3 nodes and two chaos events:
//   - connect: 100, 200, ..., 1000 µs, once each (all exact at 3 digits);
//   - reconnect: 1500 µs 998 times and 4,950,000 µs twice (a tail the
//     histogram quantizes to 4,952,063 µs);
//   - recovery: nothing recorded;
//   - message_rtt: 250 µs once.
func Results(t testing.TB) *stats.Results {
	t.Helper()
	connect := map[int64]int64{}
	for v := int64(100); v <= 1000; v += 100 {
		connect[v] = 1
	}
	res := &stats.Results{
		Started:     Start(),
		Elapsed:     45*time.Second + 12*time.Millisecond + 345*time.Microsecond,
		BucketWidth: 100 * time.Millisecond,
		Counters: stats.Counters{
			ConnectAttempts:  2702,
			Connects:         2687,
			ConnectFailures:  map[string]int64{"http_503": 15},
			Closes:           map[int]int64{1000: 200, 1012: 2000},
			ClientCloses:     1800,
			Reconnects:       2600,
			GaveUp:           0,
			MessagesSent:     88000,
			MessagesReceived: 87990,
		},
		PeakConnected: 2000,
		CloseCodes:    []int{1000, 1012},
		GaugeNames:    []string{"node0_conns", "node1_conns", "node2_conns"},
		Series: []stats.Bucket{
			{Start: 0, Connected: 0, Attempts: 40, Connects: 38, Failures: 2, Intended: 40, CPU: 12, MachineCPU: 40, Closes: []int64{0, 0}, Gauges: []int64{12, 13, 13}},
			{Start: 100 * time.Millisecond, Connected: 81, Attempts: 45, Connects: 45, Failures: 0, Intended: 43, CPU: 35, MachineCPU: 70, Closes: []int64{0, 3}, Gauges: []int64{27, 27, 27}},
			{Start: 10*time.Second + 100*time.Millisecond, Connected: 1990, Attempts: 41, Connects: 39, Failures: 2, Intended: 60, CPU: -1, MachineCPU: -1, Closes: []int64{5, 667}, Gauges: []int64{-1, 1000, 990}},
		},
		Events: []stats.EventReport{
			{
				Index: 0, At: 10 * time.Second, Action: "rolling_restart", Node: 0, Code: 1012,
				Affected: 667, Reconnected: 667, NeverReconnected: 0,
				T50: dur(3021500 * time.Microsecond), T90: dur(4100 * time.Millisecond),
				T99: dur(4950 * time.Millisecond), T100: dur(5010400 * time.Microsecond),
				PeakAttemptRate: 412, MeanAttemptRate: 196.1234, HerdFactor: 2.1012, AttemptsPerClient: 1.02249,
				FailedAttempts:    map[string]int64{"http_503": 15},
				ImbalanceAfter:    f64(1.02345),
				ReconnectExpected: true,
				FirstAttempts:     667, IntendedSeries: stats.BucketCounts{From: 101, Counts: []int64{60, 0, 607}},
				IntendedPeakRate: 6070,
				Breakdown: stats.Breakdown{Reconnects: 667, Backoff: 667 * 2900 * time.Millisecond, Lag: 667 * 4 * time.Millisecond,
					Failed: 15 * 50 * time.Millisecond, Handshake: 667 * 1500 * time.Microsecond},
				LagBound: 247500 * time.Microsecond,
			},
			{
				Index: 1, At: 38 * time.Second, Action: "close", Node: -1, Code: 1000,
				Affected: 200, Reconnected: 0, NeverReconnected: 200,
			},
		},
	}
	res.Histograms[stats.Connect] = Histogram(t, connect)
	res.Histograms[stats.Reconnect] = Histogram(t, map[int64]int64{1500: 998, 4_950_000: 2})
	res.Histograms[stats.Recovery] = stats.NewHistogram()
	res.Histograms[stats.MessageRTT] = Histogram(t, map[int64]int64{250: 1})
	res.Histograms[stats.DialLag] = Histogram(t, map[int64]int64{120: 1990, 8_000: 10})
	res.Events[0].DialLag = Histogram(t, map[int64]int64{3_000: 600, 9_500: 82})
	res.Breakdown = stats.Breakdown{Reconnects: 998, Backoff: 998 * 1200 * time.Microsecond, Lag: 998 * 150 * time.Microsecond,
		Failed: 0, Handshake: 998 * 150 * time.Microsecond}
	res.Generator = stats.GeneratorVerdict{LagP99: 120 * time.Microsecond, Bound: 5 * time.Millisecond}
	res.Events[0].ReconnectAt = Histogram(t, map[int64]int64{3_021_500: 334, 4_100_000: 267, 4_950_000: 60, 5_010_400: 6})
	res.Events[1].ReconnectAt = stats.NewHistogram()
	return res
}

// Empty is a run that recorded nothing: no histograms, nil maps.
func Empty() *stats.Results {
	return &stats.Results{Started: Start(), Elapsed: 1500 * time.Millisecond}
}

// Observed is Results as observe mode reports it: two detected events (the
// first's closes from several nodes, the second's, code 1001, all from node
// 2 and all back within a second) and one burst too small to be an event.
func Observed(t testing.TB) *stats.Results {
	t.Helper()
	res := Results(t)
	ev := res.Events
	ev[0].Action, ev[0].Node = stats.DetectedAction, -1
	ev[1].Action, ev[1].Node, ev[1].Code = stats.DetectedAction, 2, 1001
	ev[1].Reconnected, ev[1].NeverReconnected = 200, 0
	ev[1].T50, ev[1].T99, ev[1].T100 = dur(500*time.Millisecond), dur(900*time.Millisecond), dur(time.Second)
	ev[1].ReconnectExpected = true
	ev[1].ReconnectAt = Histogram(t, map[int64]int64{500_000: 100, 900_000: 98, 1_000_000: 2})
	res.Detect = &stats.DetectReport{Gap: time.Second, MinCloses: 5, DroppedBursts: 1, DroppedCloses: 3}
	return res
}
