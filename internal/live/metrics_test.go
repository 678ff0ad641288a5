package live

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// recorded returns a recorder that saw a known run: 4 clients connected,
// the restarts of nodes 0 and 1 closed one client each, both came back
// (after 1.5 ms and 3 s; their attempts started 300 µs and 7 ms after the
// clients meant them), and 3 attempts failed. Every other attempt started
// when it was meant to.
func recorded(t *testing.T) *stats.Recorder {
	t.Helper()
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	rec := stats.New(stats.Config{Start: start, Horizon: time.Minute, Events: plan})
	for i := range 4 {
		s := rec.Shard(i)
		s.Attempt(at(time.Second), at(time.Second), -1, false, false)
		s.Connect(at(time.Second), time.Millisecond)
	}
	for _, a := range []stats.Reason{stats.Refused, stats.Refused, stats.HTTPStatus(503)} {
		rec.Shard(0).Attempt(at(time.Second), at(time.Second), -1, false, false)
		rec.Shard(0).Failure(at(time.Second), a, -1)
	}
	rec.BeginEvent(0, at(10*time.Second))
	rec.BeginEvent(1, at(18*time.Second))
	lag := []time.Duration{300 * time.Microsecond, 7 * time.Millisecond}
	for node, back := range []time.Duration{1500 * time.Microsecond, 3 * time.Second} {
		closed := at(plan[node].At)
		s := rec.Shard(node)
		s.Close(closed, 1012, node)
		s.Attempt(closed.Add(back).Add(-lag[node]), closed.Add(back), node, false, false)
		s.Connect(closed.Add(back), time.Millisecond)
		s.Reconnected(closed.Add(back), closed, node, stats.ReconnectParts{})
	}
	rec.Shard(3).ClientClose(at(30 * time.Second))
	rec.EndSeries(at(30 * time.Second))
	return rec
}

func TestCollector(t *testing.T) {
	c := NewCollector(4, 45*time.Second)
	c.Attach(recorded(t))
	const want = `
# HELP wsstorm_chaos_events_total Chaos events started, by action and node ("all": every node).
# TYPE wsstorm_chaos_events_total counter
wsstorm_chaos_events_total{action="rolling_restart",node="0"} 1
wsstorm_chaos_events_total{action="rolling_restart",node="1"} 1
# HELP wsstorm_client_closes_total Sessions the clients ended themselves.
# TYPE wsstorm_client_closes_total counter
wsstorm_client_closes_total 1
# HELP wsstorm_clients_connected Clients connected now.
# TYPE wsstorm_clients_connected gauge
wsstorm_clients_connected 3
# HELP wsstorm_clients_target Clients in the fleet (fleet.clients).
# TYPE wsstorm_clients_target gauge
wsstorm_clients_target 4
# HELP wsstorm_closes_total Closes the clients observed from the server or the network, by close code.
# TYPE wsstorm_closes_total counter
wsstorm_closes_total{code="1000"} 0
wsstorm_closes_total{code="1012"} 2
# HELP wsstorm_connect_attempts_total Connect attempts started.
# TYPE wsstorm_connect_attempts_total counter
wsstorm_connect_attempts_total 9
# HELP wsstorm_connect_failures_total Failed connect attempts, by reason.
# TYPE wsstorm_connect_failures_total counter
wsstorm_connect_failures_total{reason="bad_handshake"} 0
wsstorm_connect_failures_total{reason="http_503"} 1
wsstorm_connect_failures_total{reason="other"} 0
wsstorm_connect_failures_total{reason="refused"} 2
wsstorm_connect_failures_total{reason="reset"} 0
wsstorm_connect_failures_total{reason="timeout"} 0
wsstorm_connect_failures_total{reason="tls"} 0
# HELP wsstorm_connects_total Successful connects (handshake complete).
# TYPE wsstorm_connects_total counter
wsstorm_connects_total 6
# HELP wsstorm_gave_up_total Clients that stopped reconnecting after too many attempts.
# TYPE wsstorm_gave_up_total counter
wsstorm_gave_up_total 0
# HELP wsstorm_reconnects_total Reconnects: a close followed by a successful handshake.
# TYPE wsstorm_reconnects_total counter
wsstorm_reconnects_total 2
# HELP wsstorm_run_duration_seconds The run's planned length (duration).
# TYPE wsstorm_run_duration_seconds gauge
wsstorm_run_duration_seconds 45
# HELP wsstorm_run_elapsed_seconds Time since the run started.
# TYPE wsstorm_run_elapsed_seconds gauge
wsstorm_run_elapsed_seconds 30
`
	names := []string{
		"wsstorm_chaos_events_total", "wsstorm_client_closes_total", "wsstorm_clients_connected",
		"wsstorm_clients_target", "wsstorm_closes_total", "wsstorm_connect_attempts_total",
		"wsstorm_connect_failures_total", "wsstorm_connects_total", "wsstorm_gave_up_total",
		"wsstorm_reconnects_total", "wsstorm_run_duration_seconds", "wsstorm_run_elapsed_seconds",
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Every metric passes the Prometheus linter (names, units, help).
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

// TestCollectorHistograms checks the histograms of the known run, sums in
// seconds. Reconnects: the 1.5 ms one within 2 ms, the 3 s one within
// 4.096 s. Dial lag: the 7 attempts on time (recorded as 1 µs) within
// 50 µs, the 300 µs one within 400 µs, the 7 ms one within 12.8 ms.
func TestCollectorHistograms(t *testing.T) {
	c := NewCollector(4, 45*time.Second)
	c.Attach(recorded(t))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		count uint64
		sum   float64
		le    []float64 // the bounds where the cumulative count rises by one, the first by count-len(le)+1
	}{
		{"wsstorm_reconnect_latency_seconds", 2, 3.0015, []float64{0.002, 4.096}},
		{"wsstorm_dial_lag_seconds", 9, 0.007307, []float64{0.00005, 0.0004, 0.0128}},
	} {
		i := 0
		for i < len(mfs) && mfs[i].GetName() != tc.name {
			i++
		}
		if i == len(mfs) {
			t.Errorf("no %s", tc.name)
			continue
		}
		h := mfs[i].GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != tc.count || math.Abs(h.GetSampleSum()-tc.sum) > tc.sum/1000 {
			t.Errorf("%s: count %d sum %v, want %d and %v", tc.name, h.GetSampleCount(), h.GetSampleSum(), tc.count, tc.sum)
		}
		for _, b := range h.GetBucket() {
			var want uint64
			for j, le := range tc.le {
				if b.GetUpperBound() >= le-1e-12 {
					want = tc.count - uint64(len(tc.le)-1-j)
				}
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("%s le %v: %d, want %d", tc.name, b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
}

// zeroFailures is wsstorm_connect_failures_total before any failure: the
// common reasons at 0.
const zeroFailures = `
# HELP wsstorm_connect_failures_total Failed connect attempts, by reason.
# TYPE wsstorm_connect_failures_total counter
wsstorm_connect_failures_total{reason="bad_handshake"} 0
wsstorm_connect_failures_total{reason="other"} 0
wsstorm_connect_failures_total{reason="refused"} 0
wsstorm_connect_failures_total{reason="reset"} 0
wsstorm_connect_failures_total{reason="timeout"} 0
wsstorm_connect_failures_total{reason="tls"} 0
`

// TestCollectorBeforeTheRun: before a recorder is attached, a scrape shows
// the target and zeros, with the common failure reasons and close code 1000
// already there.
func TestCollectorBeforeTheRun(t *testing.T) {
	c := NewCollector(300, time.Minute)
	const want = `
# HELP wsstorm_clients_connected Clients connected now.
# TYPE wsstorm_clients_connected gauge
wsstorm_clients_connected 0
# HELP wsstorm_clients_target Clients in the fleet (fleet.clients).
# TYPE wsstorm_clients_target gauge
wsstorm_clients_target 300
# HELP wsstorm_closes_total Closes the clients observed from the server or the network, by close code.
# TYPE wsstorm_closes_total counter
wsstorm_closes_total{code="1000"} 0
` + zeroFailures
	names := []string{"wsstorm_clients_connected", "wsstorm_clients_target", "wsstorm_chaos_events_total",
		"wsstorm_closes_total", "wsstorm_connect_failures_total"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// TestCollectorSeriesFromTheStart: once the run starts, and before any
// failure or close, the failure series of the common reasons and the close
// series of 1000 and of every code the chaos plan sends are there at 0, so
// that rate() and increase() count their first increments.
func TestCollectorSeriesFromTheStart(t *testing.T) {
	c := NewCollector(4, time.Minute)
	c.Attach(stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute, Events: []stats.EventPlan{
		{At: 10 * time.Second, Action: "rolling_restart", Node: 0, Code: 1012},
		{At: 20 * time.Second, Action: "close", Node: -1, Code: 4001},
	}}))
	const want = `
# HELP wsstorm_closes_total Closes the clients observed from the server or the network, by close code.
# TYPE wsstorm_closes_total counter
wsstorm_closes_total{code="1000"} 0
wsstorm_closes_total{code="1012"} 0
wsstorm_closes_total{code="4001"} 0
` + zeroFailures
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "wsstorm_closes_total", "wsstorm_connect_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestPromBuckets converts known microsecond values: exact at the small
// bounds, beyond the last bound only in the count, and a sum in seconds
// within HDR's 0.1%.
func TestPromBuckets(t *testing.T) {
	h := stats.NewHistogram()
	for _, us := range []int64{500, 1000, 1001, 1500, 3_000_000, 200_000_000} {
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	count, sum, buckets := promBuckets(h, LatencyBuckets)
	if count != 6 {
		t.Errorf("count %d", count)
	}
	if want := 203.004001; math.Abs(sum-want) > want/1000 {
		t.Errorf("sum %v, want %v", sum, want)
	}
	if len(buckets) != len(LatencyBuckets) || LatencyBuckets[len(LatencyBuckets)-1] < 120 {
		t.Fatalf("%d buckets up to %v", len(buckets), LatencyBuckets[len(LatencyBuckets)-1])
	}
	for bound, want := range map[float64]uint64{0.001: 2, 0.002: 4, 2.048: 4, 4.096: 5, 131.072: 5} {
		if got := buckets[bound]; got != want {
			t.Errorf("le %v: %d, want %d", bound, got, want)
		}
	}
}
