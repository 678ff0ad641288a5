package stats

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Metric names a latency histogram.
type Metric int

// The latency metrics, as DESIGN.md defines them.
const (
	Connect    Metric = iota // dial start → handshake complete
	Reconnect                // close observed → next successful handshake
	Recovery                 // close observed → first application message on the new connection
	MessageRTT               // echo round trip from the scheduled send time
	// DialLag is the generator's own delay before an attempt: from when the
	// client meant to dial (its ramp slot, the end of its backoff) to when
	// the dial started, which waiting for a dial slot and timers firing late
	// under a busy CPU make longer.
	DialLag
	numMetrics
)

// Metrics lists every metric in report order.
var Metrics = [...]Metric{Connect, Reconnect, Recovery, MessageRTT, DialLag}

// String returns the metric's name as results files spell it.
func (m Metric) String() string {
	switch m {
	case Connect:
		return "connect"
	case Reconnect:
		return "reconnect"
	case Recovery:
		return "recovery"
	case MessageRTT:
		return "message_rtt"
	case DialLag:
		return "dial_lag"
	}
	return "unknown"
}

// Histogram bounds: microseconds from 1 µs to 1 h, 3 significant digits.
const (
	HistMin    = 1
	HistMax    = int64(time.Hour / time.Microsecond)
	HistDigits = 3
)

// NewHistogram returns an empty histogram with the bounds every metric uses.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMin, HistMax, HistDigits)
}

// Counters are the run's totals.
type Counters struct {
	ConnectAttempts  int64
	Connects         int64
	ConnectFailures  map[string]int64 // by reason, as Reason.String spells it
	Closes           map[int]int64    // closes observed by clients, by close code
	ClientCloses     int64            // sessions the clients ended themselves
	Reconnects       int64
	GaveUp           int64
	MessagesSent     int64
	MessagesReceived int64
	// OtherFailures are the first distinct messages of the failures with
	// reason Other, at most MaxOtherMessages, in the order first seen.
	OtherFailures []string
	// ProtocolStops are the sessions the server ended through the
	// protocol (a Socket.IO disconnect packet, a Centrifugo close code that
	// forbids reconnecting, a refusal during the session script), by the
	// reason the preset or the reply rule
	// names; ProtocolReconnects the sessions a server message told the
	// client to leave and come back. nil when none.
	ProtocolStops      map[string]int64
	ProtocolReconnects map[string]int64
}

// Add adds o's counts to c: the one sum of counters, of a run's shards
// and of the segments of a run split over processes. c's maps must not be
// nil.
func (c *Counters) Add(o *Counters) {
	c.ConnectAttempts += o.ConnectAttempts
	c.Connects += o.Connects
	c.ClientCloses += o.ClientCloses
	c.Reconnects += o.Reconnects
	c.GaveUp += o.GaveUp
	c.MessagesSent += o.MessagesSent
	c.MessagesReceived += o.MessagesReceived
	for reason, v := range o.ConnectFailures {
		c.ConnectFailures[reason] += v
	}
	for code, v := range o.Closes {
		c.Closes[code] += v
	}
	for _, msg := range o.OtherFailures {
		c.OtherFailures = keepMessage(c.OtherFailures, msg)
	}
	c.ProtocolStops = addCounts(c.ProtocolStops, o.ProtocolStops)
	c.ProtocolReconnects = addCounts(c.ProtocolReconnects, o.ProtocolReconnects)
}

// addCounts adds the counts of o to c, which it makes when needed, and
// returns c.
func addCounts(c, o map[string]int64) map[string]int64 {
	for k, v := range o {
		if c == nil {
			c = map[string]int64{}
		}
		c[k] += v
	}
	return c
}

// Bucket is one row of the time series.
type Bucket struct {
	Start     time.Duration // offset of the bucket's start from the run's start
	Connected int64         // clients connected at the end of the bucket
	Attempts  int64
	Connects  int64
	Failures  int64
	// Intended counts the attempts the clients meant to start in the
	// bucket, by when they meant them (a ramp slot, the end of a backoff):
	// every attempt but the retries after failures, which follow the
	// generator and the server rather than the clients' intent. Beside
	// Attempts it shows how the generator reshaped the herd.
	Intended int64
	// CPU is the percent of its cores the process was busy in the bucket
	// (CPU time over wall time × cores; Recorder.SampleCPU); -1: not
	// sampled.
	CPU int64
	// MachineCPU is the percent of the machine's CPU time that was busy in
	// the bucket; -1: not sampled, or not known on this system.
	MachineCPU int64
	Closes     []int64 // by code, in the order of Results.CloseCodes
	Gauges     []int64 // last sampled value in the bucket, in the order of Results.GaugeNames (-1: no sample)
}

// EventReport is the herd analysis of one chaos event, planned or detected.
type EventReport struct {
	Index  int
	At     time.Duration // when the event started (a detected one: its first close), from the run's start
	Action string        // the planned action, or DetectedAction
	Node   int           // -1: all nodes (detected: closes from several nodes, or unknown)
	Code   int

	Affected         int64
	Reconnected      int64
	NeverReconnected int64
	// T50..T100: time from the event's start until that share of the affected
	// clients had reconnected; nil when that share never reconnected.
	T50, T90, T99, T100 *time.Duration

	PeakAttemptRate   float64 // attempts/s, max over 100 ms buckets while the event's clients recover
	MeanAttemptRate   float64 // attempts/s over [start, start+t100] (or to the run's end)
	HerdFactor        float64 // peak / mean (0 when there were no attempts)
	AttemptsPerClient float64 // attempts by the event's clients / affected
	FailedAttempts    map[string]int64

	// ReconnectExpected says the close-code policy brings this event's
	// clients back (false for a 1000 close by default). The caller sets it.
	ReconnectExpected bool

	// ImbalanceAfter is max/mean of the gauges (connections per node) once the
	// event settled; nil without gauges.
	ImbalanceAfter *float64

	// ReconnectAt holds, in µs, the time from the event's start to each of its
	// clients' reconnects: the event's recovery curve (share of Affected back
	// by t). Never nil.
	ReconnectAt *hdrhistogram.Histogram
	// CloseAt holds, in µs, the time from a planned event's start to each
	// close its clients observed: how long they took to notice it (a
	// restart's drain, a freeze's detection through the clients' pings).
	// Nil for detected events and when no client closed.
	CloseAt *hdrhistogram.Histogram
	// Frozen is, for a freeze, how many connections the target held frozen
	// (the run sets it from the target's count; 0 otherwise).
	Frozen int64

	// FirstAttempts counts each affected client's first attempt after its
	// close, and IntendedSeries places them in the time series by when the
	// client meant to make them (the end of its backoff): the herd the
	// clients intended, whatever the generator then managed. Retries after
	// failures are left out: they follow the generator and the server, not
	// the clients' intent.
	FirstAttempts  int64
	IntendedSeries BucketCounts
	// Queued counts the event's clients' attempts that waited for one of
	// the fleet's dial slots (max_dialing).
	Queued int64
	// IntendedPeakRate is the intended herd's peak: first attempts/s, max
	// over the buckets of IntendedSeries (Analyze computes it).
	IntendedPeakRate float64
	// DialLag holds, in µs, the dial lag of the event's clients' attempts;
	// nil when they made none.
	DialLag *hdrhistogram.Histogram
	// Breakdown takes the event's reconnects apart.
	Breakdown Breakdown
	// LagBound is the dial lag p99 above which the generator shaped the
	// event, and GeneratorLimited says it did (Analyze computes both; see
	// LagBoundOf).
	LagBound         time.Duration
	GeneratorLimited bool
	// CPUBusy is the mean percent of its cores the process was busy over
	// the event's recovery, MachineBusy the machine's (nil: not sampled),
	// and CPUSaturated says either was at least CPUSaturated: the generator
	// then shaped the event whatever its dial lag says (Analyze computes
	// them).
	CPUBusy, MachineBusy *float64
	CPUSaturated         bool

	// What the analysis above is computed from besides Affected, Reconnected,
	// FailedAttempts and ReconnectAt (see Results.Analyze); kept so that the
	// segments of a split run can be merged exactly.
	Attempts      int64        // connect attempts of the event's clients
	AttemptSeries BucketCounts // those attempts per time-series bucket
	// PlannedAt places the event in the timeline: its planned start (a
	// detected one: its first close). Events of one batch share it.
	PlannedAt time.Duration
	// Settle is how long after At the event's own effects last (drain plus
	// downtime; a detected event: until its last close).
	Settle time.Duration
}

// BucketCounts counts per time-series bucket from bucket From on: a series
// that starts late in a long run costs only what it covers.
type BucketCounts struct {
	From   int
	Counts []int64
}

// Add counts v in bucket b (b ≥ 0).
func (c *BucketCounts) Add(b int, v int64) {
	switch {
	case c.Counts == nil:
		c.From = b
	case b < c.From:
		c.Counts = append(make([]int64, c.From-b), c.Counts...)
		c.From = b
	}
	c.Counts = grow(c.Counts, b-c.From)
	c.Counts[b-c.From] += v
}

// AddAll adds src's counts to c, each offset buckets later, a bucket past
// last counting in last.
func (c *BucketCounts) AddAll(src *BucketCounts, offset, last int) {
	for i, v := range src.Counts {
		if v != 0 {
			c.Add(min(src.From+i+offset, last), v)
		}
	}
}

// Total returns the sum of the counts.
func (c *BucketCounts) Total() int64 {
	var n int64
	for _, v := range c.Counts {
		n += v
	}
	return n
}

// Results is everything a run recorded, merged from every shard.
type Results struct {
	Started       time.Time     // wall-clock start
	Elapsed       time.Duration // monotonic length of the run
	BucketWidth   time.Duration
	Counters      Counters
	Histograms    [numMetrics]*hdrhistogram.Histogram
	PeakConnected int64
	CloseCodes    []int    // columns of Bucket.Closes: codes seen, ascending, and OtherCodes last when there are too many
	GaugeNames    []string // columns of Bucket.Gauges
	// ImbalanceGauges are the indexes in GaugeNames of the gauges whose
	// max/mean is the imbalance (connections per node).
	ImbalanceGauges []int
	Series          []Bucket // up to the end of the run
	// Events are the planned events that started, in plan order, then the
	// detected ones in start order.
	Events []EventReport
	// Detect is what detection saw besides its events; nil without it.
	Detect *DetectReport
	// Breakdown takes every reconnect of the run apart.
	Breakdown Breakdown
	// Generator is the verdict on the load generator (Analyze computes it).
	Generator GeneratorVerdict
}

// Histogram returns the merged histogram of m.
func (r *Results) Histogram(m Metric) *hdrhistogram.Histogram { return r.Histograms[m] }
