package live

import (
	"maps"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// LatencyBuckets are the upper bounds, in seconds, of the reconnect latency
// histogram: 1 ms doubling up to about 131 s.
var LatencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 18)

// LagBuckets are the upper bounds, in seconds, of the dial lag histogram:
// 50 µs doubling up to about 6.6 s. A healthy generator's lag is well under
// a millisecond, and the bound it is judged by starts at 5 ms, so the
// buckets start finer than the reconnect latency's.
var LagBuckets = prometheus.ExponentialBuckets(0.00005, 2, 18)

// normalClosure is close code 1000, which wsstorm_closes_total has a series
// for from the start, as it does for each code the chaos plan sends.
const normalClosure = 1000

// Collector is a prometheus.Collector of a run's totals. It reads the
// recorder's snapshot at each scrape, so clients pay nothing for it, and
// reports zeros until a recorder is attached.
type Collector struct {
	clients  int
	duration time.Duration
	rec      atomic.Pointer[stats.Recorder]

	connected, target, elapsed, planned                  *prometheus.Desc
	attempts, connects, failures, closes, clientCloses   *prometheus.Desc
	reconnects, gaveUp, sent, received, reconnectLatency *prometheus.Desc
	dialLag, chaosEvents                                 *prometheus.Desc
}

// NewCollector returns a Collector for a run of clients clients lasting
// duration.
func NewCollector(clients int, duration time.Duration) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("wsstorm_"+name, help, labels, nil)
	}
	return &Collector{
		clients:          clients,
		duration:         duration,
		connected:        d("clients_connected", "Clients connected now."),
		target:           d("clients_target", "Clients in the fleet (fleet.clients)."),
		elapsed:          d("run_elapsed_seconds", "Time since the run started."),
		planned:          d("run_duration_seconds", "The run's planned length (duration)."),
		attempts:         d("connect_attempts_total", "Connect attempts started."),
		connects:         d("connects_total", "Successful connects (handshake complete)."),
		failures:         d("connect_failures_total", "Failed connect attempts, by reason.", "reason"),
		closes:           d("closes_total", "Closes the clients observed from the server or the network, by close code.", "code"),
		clientCloses:     d("client_closes_total", "Sessions the clients ended themselves."),
		reconnects:       d("reconnects_total", "Reconnects: a close followed by a successful handshake."),
		gaveUp:           d("gave_up_total", "Clients that stopped reconnecting after too many attempts."),
		sent:             d("messages_sent_total", "Messages sent by the clients."),
		received:         d("messages_received_total", "Messages received by the clients."),
		reconnectLatency: d("reconnect_latency_seconds", "Time from a close observed to the next successful handshake."),
		dialLag:          d("dial_lag_seconds", "How late the load generator started each connect attempt after its client meant to (its ramp slot, the end of its backoff)."),
		chaosEvents:      d("chaos_events_total", "Chaos events started, by action and node (\"all\": every node).", "action", "node"),
	}
}

// Attach makes c report rec's totals from now on.
func (c *Collector) Attach(rec *stats.Recorder) { c.rec.Store(rec) }

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.connected, c.target, c.elapsed, c.planned, c.attempts, c.connects, c.failures, c.closes,
		c.clientCloses, c.reconnects, c.gaveUp, c.sent, c.received, c.reconnectLatency, c.dialLag, c.chaosEvents,
	} {
		ch <- d
	}
}

// Collect sends the metrics of the attached recorder's snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var s stats.Snapshot
	var plan []stats.EventPlan
	hist, lag := stats.NewHistogram(), stats.NewHistogram()
	if rec := c.rec.Load(); rec != nil {
		s = rec.Snapshot()
		plan = rec.Plan()
		hist = rec.SnapshotHistogram(stats.Reconnect)
		lag = rec.SnapshotHistogram(stats.DialLag)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.connected, float64(s.Connected))
	gauge(c.target, float64(c.clients))
	gauge(c.elapsed, s.Elapsed.Seconds())
	gauge(c.planned, c.duration.Seconds())
	counter(c.attempts, s.Attempts)
	counter(c.connects, s.Connects)
	// The common reasons and codes are there at 0 from the first scrape, so
	// rate() and increase() count the first failures and closes rather than
	// miss them in a series that starts with them. Others (http_<status>, a
	// code the server chose) appear when first seen.
	failures := map[string]int64{}
	for _, r := range []stats.Reason{stats.Refused, stats.Timeout, stats.Reset, stats.TLS, stats.BadHandshake, stats.Other} {
		failures[r.String()] = 0
	}
	maps.Copy(failures, s.Failures)
	for reason, n := range failures {
		counter(c.failures, n, reason)
	}
	closes := map[int]int64{normalClosure: 0}
	for _, p := range plan {
		if p.Code > 0 {
			closes[p.Code] = 0
		}
	}
	maps.Copy(closes, s.Closes)
	for code, n := range closes {
		counter(c.closes, n, strconv.Itoa(code))
	}
	counter(c.clientCloses, s.ClientCloses)
	counter(c.reconnects, s.Reconnects)
	counter(c.gaveUp, s.GaveUp)
	counter(c.sent, s.Sent)
	counter(c.received, s.Received)

	count, sum, buckets := promBuckets(hist, LatencyBuckets)
	ch <- prometheus.MustNewConstHistogram(c.reconnectLatency, count, sum, buckets)
	count, sum, buckets = promBuckets(lag, LagBuckets)
	ch <- prometheus.MustNewConstHistogram(c.dialLag, count, sum, buckets)

	type actionNode struct{ action, node string }
	events := map[actionNode]int64{}
	for _, e := range s.Events {
		node := "all"
		if e.Node >= 0 {
			node = strconv.Itoa(e.Node)
		}
		events[actionNode{e.Action, node}]++
	}
	for k, n := range events {
		counter(c.chaosEvents, n, k.action, k.node)
	}
}

// promBuckets turns a histogram of microseconds into a Prometheus
// histogram in seconds over bounds (ascending): the count, the sum (from
// the histogram's mean, as exact as HDR is) and the cumulative count at
// each upper bound. A value counts within a bound when the lowest value HDR
// could have recorded it as does: bounds up to 2 ms are exact, those above
// within HDR's 0.1%.
func promBuckets(h *hdrhistogram.Histogram, bounds []float64) (count uint64, sum float64, buckets map[float64]uint64) {
	count = uint64(h.TotalCount())
	sum = h.Mean() * float64(h.TotalCount()) / 1e6
	per := make([]uint64, len(bounds))
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		for i, bound := range bounds {
			if bar.From <= int64(math.Round(bound*1e6)) {
				per[i] += uint64(bar.Count)
				break
			}
		}
	}
	buckets = make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, bound := range bounds {
		cum += per[i]
		buckets[bound] = cum
	}
	return count, sum, buckets
}
