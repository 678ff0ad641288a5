// Package stats records what a fleet of clients observes: latency histograms in
// microseconds, counters, 100 ms time-series buckets and, per chaos event, the
// herd analysis DESIGN.md defines. The events are planned, or detected as
// bursts of closes (observe mode). It knows nothing of WebSockets: close codes
// are integers and failure reasons are Reason values.
//
// Clients record through a Shard. Each shard has its own lock, so clients spread
// over shards never contend on one lock, and recording allocates nothing once a
// shard has seen a close code or failure reason.
package stats

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// DefaultBucketWidth is the width of a time-series bucket.
const DefaultBucketWidth = 100 * time.Millisecond

// attributionGrace is how long after an event's window a close is still
// attributed to it: close frames can sit in buffers under load.
const attributionGrace = 5 * time.Second

// Config says what a Recorder records.
type Config struct {
	Start       time.Time     // monotonic reference of the run (time.Now())
	Horizon     time.Duration // how long the series covers; later records land in the last bucket
	BucketWidth time.Duration // 0: DefaultBucketWidth
	Shards      int           // 0: twice GOMAXPROCS, at least 4 and at most 64
	Events      []EventPlan   // the chaos events planned, in index order
	GaugeNames  []string      // sampled gauges (e.g. connections per node)
	// ImbalanceGauges are the indexes of the gauges whose max/mean is the
	// imbalance (connections per node).
	ImbalanceGauges []int
	// Cores are the cores the process may use, by which SampleCPU's CPU
	// time is a share (0: GOMAXPROCS).
	Cores int
	// Detect, when set, makes Attribute find events in the closes: a close
	// that no planned event claims joins or starts a burst (see
	// DetectConfig), and the bursts with enough closes are reported as
	// events with Action DetectedAction after the planned ones.
	Detect *DetectConfig
}

// EventPlan describes a chaos event before it starts.
type EventPlan struct {
	At     time.Duration // planned start, from the run's start
	Action string
	Node   int // -1: all nodes
	Code   int
	// Window is how long after its start the event may still close clients
	// (its drain).
	Window time.Duration
	// Settle is how long after its start the event's own effects last (drain
	// plus downtime): imbalance is not judged before.
	Settle time.Duration
}

// Recorder collects a run's records from every shard.
type Recorder struct {
	start   time.Time
	width   time.Duration
	buckets int
	plans   []EventPlan
	// eventStart holds each event's start offset in ns plus one; 0: not
	// started. The planned events come first, then the detector's slots.
	eventStart []atomic.Int64
	shards     []Shard
	det        *detector // nil: no detection

	connected atomic.Int64
	peak      atomic.Int64
	// seriesEnd is the offset in ns plus one after which records no longer
	// enter the time series (0: open); see EndSeries.
	seriesEnd atomic.Int64

	cpu cpuSeries // the process's CPU time, sampled

	others otherMessages // what the failures with reason Other said

	gaugeMu     sync.Mutex
	gaugeNames  []string
	gauges      [][]int64 // [bucket][gauge], grown as samples arrive; nil rows: no sample
	imbalanceIx []int
}

// New returns a Recorder for cfg.
func New(cfg Config) *Recorder {
	width := cfg.BucketWidth
	if width <= 0 {
		width = DefaultBucketWidth
	}
	n := cfg.Shards
	if n <= 0 {
		n = min(max(2*runtime.GOMAXPROCS(0), 4), 64)
	}
	buckets := int(cfg.Horizon/width) + 1
	r := &Recorder{
		start:       cfg.Start,
		width:       width,
		buckets:     buckets,
		plans:       append([]EventPlan(nil), cfg.Events...),
		shards:      make([]Shard, n),
		gaugeNames:  append([]string(nil), cfg.GaugeNames...),
		imbalanceIx: append([]int(nil), cfg.ImbalanceGauges...),
	}
	slots := len(cfg.Events)
	if cfg.Detect != nil {
		r.det = newDetector(*cfg.Detect, len(cfg.Events))
		slots += r.det.slots()
	}
	r.eventStart = make([]atomic.Int64, slots)
	r.cpu.cores = cfg.Cores
	if r.cpu.cores <= 0 {
		r.cpu.cores = runtime.GOMAXPROCS(0)
	}
	for i := range r.shards {
		r.shards[i].init(r)
	}
	return r
}

// Start returns the run's monotonic reference time.
func (r *Recorder) Start() time.Time { return r.start }

// Shard returns the shard client i records into.
func (r *Recorder) Shard(i int) *Shard { return &r.shards[i%len(r.shards)] }

// Connected returns the number of clients connected now.
func (r *Recorder) Connected() int64 { return r.connected.Load() }

// BeginEvent marks event i as started at t. Call it before the event closes
// any client, so closes can be attributed to it.
func (r *Recorder) BeginEvent(i int, t time.Time) {
	if i < 0 || i >= len(r.plans) {
		return
	}
	r.eventStart[i].Store(int64(t.Sub(r.start)) + 1)
}

// EventStarted reports when event i started, relative to the run's start.
func (r *Recorder) EventStarted(i int) (time.Duration, bool) {
	v := r.eventStart[i].Load()
	return time.Duration(v - 1), v != 0
}

// Attribute returns the index of the chaos event a close observed at t with
// code on node (-1: unknown) belongs to, or -1. It is the most recent started
// event with that code, on that node or on all nodes, whose window (plus a
// grace for frames delayed under load) contains t. With detection, a close
// no planned event claims goes to the burst of its code it continues, or
// starts a new one; the index is then the burst's, which Results renumbers.
// Call it once per close, at the close.
func (r *Recorder) Attribute(t time.Time, code, node int) int {
	best := r.attributePlanned(t, code, node)
	if best < 0 && r.det != nil {
		return r.det.attribute(r, t.Sub(r.start), code, node)
	}
	return best
}

// AttributeMessage returns the index of the chaos event a server message
// that told a client at t to leave, on node (-1: unknown), belongs to, or
// -1: the most recent started event, of any close code, on that node or on
// all nodes, whose window contains t. A protocol's "go away" message is its
// server's way of closing, whatever code the event planned.
func (r *Recorder) AttributeMessage(t time.Time, node int) int {
	return r.attributePlanned(t, anyCode, node)
}

// anyCode matches the planned events of every close code.
const anyCode = -1

func (r *Recorder) attributePlanned(t time.Time, code, node int) int {
	off := t.Sub(r.start)
	best, bestStart := -1, time.Duration(-1)
	for i := range r.plans {
		p := &r.plans[i]
		start, ok := r.EventStarted(i)
		if !ok || (code != anyCode && p.Code != code) || start > off || off > start+p.Window+attributionGrace {
			continue
		}
		if p.Node >= 0 && node >= 0 && p.Node != node {
			continue
		}
		if start > bestStart {
			best, bestStart = i, start
		}
	}
	return best
}

// Sample records the gauges' values at t (the last sample in a bucket wins).
func (r *Recorder) Sample(t time.Time, values []int64) {
	b := r.bucket(t)
	if len(r.gaugeNames) == 0 || b < 0 {
		return
	}
	r.gaugeMu.Lock()
	r.gauges = grow(r.gauges, b)
	if r.gauges[b] == nil {
		r.gauges[b] = make([]int64, len(r.gaugeNames))
	}
	copy(r.gauges[b], values)
	r.gaugeMu.Unlock()
}

// EndSeries closes the time series at t, the run's end: what clients record
// afterwards (their own closes on the way out) still counts in the counters
// and histograms, but no longer changes the series, which shows the run.
func (r *Recorder) EndSeries(t time.Time) {
	r.seriesEnd.CompareAndSwap(0, int64(t.Sub(r.start))+1)
}

// bucket returns the series bucket of t, or -1 once the series has ended.
func (r *Recorder) bucket(t time.Time) int {
	off := t.Sub(r.start)
	if end := r.seriesEnd.Load(); end != 0 && int64(off) >= end-1 {
		return -1
	}
	b := int(off / r.width)
	if b < 0 {
		return 0
	}
	if b >= r.buckets {
		return r.buckets - 1
	}
	return b
}

func (r *Recorder) addConnected(d int64) {
	v := r.connected.Add(d)
	for {
		p := r.peak.Load()
		if v <= p || r.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// Shard is one lock's worth of a Recorder. Its methods are safe for
// concurrent use and do not allocate once a code or reason has been seen.
type Shard struct {
	mu sync.Mutex
	r  *Recorder

	hist [numMetrics]*hdrhistogram.Histogram

	// counts are the shard's totals but for the failures, which are counted
	// by Reason so that recording one never spells its reason; see
	// addCounts.
	counts   Counters
	failures reasonCounts
	parts    Breakdown // of every reconnect
	// lastOther is the message of the shard's last Other failure (see
	// OtherMessage).
	lastOther string

	// The series grow as the run goes on (amortized, so recording does not
	// allocate in the steady state): memory follows the run's length, not
	// the horizon.
	series      []shardBucket
	closeSeries map[int]*sparseSeries // code → closes per bucket, from the code's first
	// common counts, and commonSeries places, the closes with the codes
	// from commonBase on, outside counts.Closes and closeSeries: the codes
	// RFC 6455 and the IANA registry define up to 1015 are nearly every
	// close a run sees, and an array costs a close less than a map.
	common       [commonCodes]int64
	commonSeries [commonCodes]*sparseSeries
	events       []shardEvent

	_ [64]byte // keeps neighbouring shards' locks off one cache line
}

type shardBucket struct {
	attempts, connects, failures, connDelta int32
	// intended counts the attempts the clients meant to start in the
	// bucket (see Bucket.Intended).
	intended int32
}

type shardEvent struct {
	affected, reconnected, attempts int64
	reconnectAt                     *hdrhistogram.Histogram // µs from the event's start to each reconnect; nil until one
	// closeAt is µs from a planned event's start to each close of its
	// clients: how long they took to notice it; nil until one.
	closeAt *hdrhistogram.Histogram
	// pending holds the reconnect offsets (µs) of a detected burst until it
	// is confirmed as an event: the bursts that never are (a lone 1006 now
	// and then) must not cost a histogram each.
	pending []int64
	// attemptSeries counts attempts per bucket from the first on: an event's
	// attempts come in the minutes after it, not over the run.
	attemptSeries sparseSeries
	failures      *reasonCounts // nil until a failure
	// firstAttempts counts the clients' first attempts after their closes,
	// intended places them by their intended start, from the event's start
	// bucket on (they are recorded when they happen, not in intended order).
	firstAttempts int64
	queued        int64 // attempts that waited for a dial slot
	intended      sparseSeries
	dialLag       *hdrhistogram.Histogram // nil until an attempt
	// pendingLag holds the dial lags (µs) of a detected burst's attempts
	// until it is confirmed as an event, as pending its reconnects.
	pendingLag []int64
	parts      Breakdown
}

// sparseSeries counts per bucket from bucket base on: a series that starts
// late in a long run (an event's attempts, a close code first seen in the
// last minute) costs only what it covers.
type sparseSeries struct {
	base   int
	counts []int32
}

// add counts one in bucket b (b before base counts in base).
func (s *sparseSeries) add(b int) {
	i := max(b-s.base, 0)
	s.counts = grow(s.counts, i)
	s.counts[i]++
}

// addTo adds the counts to dst, a bucket past last counting in last.
func (s *sparseSeries) addTo(dst *BucketCounts, last int) {
	s.each(func(b int, v int32) {
		if v != 0 {
			dst.Add(min(b, last), int64(v))
		}
	})
}

// each calls f for every bucket with its count.
func (s *sparseSeries) each(f func(b int, n int32)) {
	for i, n := range s.counts {
		f(s.base+i, n)
	}
}

func (s *Shard) init(r *Recorder) {
	s.r = r
	for m := range s.hist {
		s.hist[m] = NewHistogram()
	}
	s.counts.Closes = make(map[int]int64)
	s.closeSeries = make(map[int]*sparseSeries)
	s.events = make([]shardEvent, len(r.plans))
}

// addCounts adds the shard's totals to c, whose maps must not be nil.
// The caller holds s.mu.
func (s *Shard) addCounts(c *Counters) {
	c.Add(&s.counts)
	for i, n := range s.common {
		if n != 0 {
			c.Closes[commonBase+i] += n
		}
	}
	s.failures.addTo(c.ConnectFailures)
}

// grow extends a series so that index b exists.
func grow[T any](series []T, b int) []T {
	if b < len(series) {
		return series
	}
	return append(series, make([]T, b+1-len(series))...)
}

// bucketAt returns the shard's series bucket b, growing the series to it.
func (s *Shard) bucketAt(b int) *shardBucket {
	s.series = grow(s.series, b)
	return &s.series[b]
}

// attempt counts one attempt of the event's clients in bucket b.
func (e *shardEvent) attempt(b int) {
	e.attempts++
	if b < 0 {
		return
	}
	if e.attemptSeries.counts == nil {
		e.attemptSeries.base = b
	}
	e.attemptSeries.add(b)
}

// intend counts one first attempt of the event's clients, meant for
// bucket b (-1: after the series), from the event's start bucket on.
func (e *shardEvent) intend(r *Recorder, ev, b int) {
	e.firstAttempts++
	if b < 0 {
		return
	}
	if e.intended.counts == nil {
		start, _ := r.EventStarted(ev)
		e.intended.base = r.bucket(r.start.Add(start))
	}
	e.intended.add(b)
}

// event returns the shard's record of event ev, growing the records to it
// (a detected event's slot is known only once its burst starts), or nil.
func (s *Shard) event(ev int) *shardEvent {
	if ev < 0 || ev >= len(s.r.eventStart) {
		return nil
	}
	s.events = grow(s.events, ev)
	return &s.events[ev]
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < HistMin {
		us = HistMin
	}
	if us > HistMax {
		us = HistMax
	}
	_ = h.RecordValue(us) // cannot fail: clamped to the histogram's range
}

// Attempt records a connect attempt that started at t, which the client
// meant to start at intended (its ramp slot, the end of its backoff): the
// difference is the generator's dial lag. ev is the event the client is
// recovering from (-1: none), and first says the attempt is the first the
// client meant (its first since its start, a close, or the end of a session
// it chose), not a retry after a failure: the intended herd counts those.
// queued says it waited for one of the fleet's dial slots (max_dialing):
// an event whose attempts did was shaped by the slots, not only by the CPU.
func (s *Shard) Attempt(intended, t time.Time, ev int, first, queued bool) {
	b, ib := s.r.bucket(t), -1
	if first {
		ib = s.r.bucket(intended)
	}
	lag := max(t.Sub(intended), 0)
	s.mu.Lock()
	s.counts.ConnectAttempts++
	if b >= 0 {
		s.bucketAt(b).attempts++
	}
	if ib >= 0 {
		s.bucketAt(ib).intended++
	}
	// Each lag is recorded once, in its event's histogram when it has one,
	// else in the shard's, or kept aside for a burst not yet confirmed: the
	// run's dial_lag merges them all (mergeLag).
	lagHist := s.hist[DialLag]
	if e := s.event(ev); e != nil {
		e.attempt(b)
		if first {
			e.intend(s.r, ev, ib)
		}
		if queued {
			e.queued++
		}
		if lagHist = e.lagHist(s.r, ev); lagHist == nil {
			e.pendingLag = append(e.pendingLag, lag.Microseconds())
		}
	}
	if lagHist != nil {
		record(lagHist, lag)
	}
	s.mu.Unlock()
}

// lagHist returns the histogram of event ev's dial lag, made on first use;
// nil for a detected burst not yet confirmed as an event, whose lags wait in
// pendingLag: the bursts that never are must not cost a histogram each.
func (e *shardEvent) lagHist(r *Recorder, ev int) *hdrhistogram.Histogram {
	if e.dialLag == nil {
		if ev >= len(r.plans) && !r.det.isConfirmed(ev) {
			return nil
		}
		e.dialLag = NewHistogram()
	}
	return e.dialLag
}

// mergeLag adds every dial lag the shard recorded to h: its own histogram's
// and its events'. The caller holds s.mu.
func (s *Shard) mergeLag(h *hdrhistogram.Histogram) {
	h.Merge(s.hist[DialLag])
	for i := range s.events {
		e := &s.events[i]
		if e.dialLag != nil {
			h.Merge(e.dialLag)
		}
		recordAll(h, e.pendingLag)
	}
}

// recordAll records values (µs) into h.
func recordAll(h *hdrhistogram.Histogram, values []int64) {
	for _, us := range values {
		_ = h.RecordValue(min(max(us, HistMin), HistMax)) // clamped: cannot fail
	}
}

// Connect records a successful handshake completed at t that took latency.
func (s *Shard) Connect(t time.Time, latency time.Duration) {
	b := s.r.bucket(t)
	s.mu.Lock()
	s.counts.Connects++
	if b >= 0 {
		sb := s.bucketAt(b)
		sb.connects++
		sb.connDelta++
	}
	record(s.hist[Connect], latency)
	s.mu.Unlock()
	s.r.addConnected(1)
}

// Failure records a failed connect attempt that ended at t.
func (s *Shard) Failure(t time.Time, reason Reason, ev int) {
	b := s.r.bucket(t)
	s.mu.Lock()
	s.failures.add(reason, 1)
	if b >= 0 {
		s.bucketAt(b).failures++
	}
	if e := s.event(ev); e != nil {
		if e.failures == nil {
			e.failures = new(reasonCounts)
		}
		e.failures.add(reason, 1)
	}
	s.mu.Unlock()
}

// The codes a shard counts in arrays: commonCodes of them from commonBase.
const commonBase, commonCodes = 1000, 16

// closeSeriesOf returns the series of code's closes, made to start at
// bucket b if it has none yet. The caller holds s.mu.
func (s *Shard) closeSeriesOf(code, b int) *sparseSeries {
	if i := code - commonBase; i >= 0 && i < commonCodes {
		if s.commonSeries[i] == nil {
			s.commonSeries[i] = &sparseSeries{base: b}
		}
		return s.commonSeries[i]
	}
	cs := s.closeSeries[code]
	if cs == nil {
		cs = &sparseSeries{base: b}
		s.closeSeries[code] = cs
	}
	return cs
}

// eachClose calls f with every close code the shard saw and its count.
// The caller holds s.mu.
func (s *Shard) eachClose(f func(code int, n int64)) {
	for code, n := range s.counts.Closes {
		f(code, n)
	}
	for i, n := range s.common {
		if n != 0 {
			f(commonBase+i, n)
		}
	}
}

// eachCloseSeries calls f with every close code the shard has a series of
// and the series. The caller holds s.mu.
func (s *Shard) eachCloseSeries(f func(code int, cs *sparseSeries)) {
	for code, cs := range s.closeSeries {
		f(code, cs)
	}
	for i, cs := range s.commonSeries {
		if cs != nil {
			f(commonBase+i, cs)
		}
	}
}

// OtherMessage keeps what a failure recorded as Other said, msg(), when it
// is one of the run's first MaxOtherMessages distinct ones: the reason names
// no cause, the message does. msg is called only while the run keeps
// messages, and a message the shard's last Other failure said too takes no
// lock but the shard's: a flood of one unknown error costs little. The
// message must hold nothing secret (no URL with its query, no header).
func (s *Shard) OtherMessage(msg func() string) {
	if s.r.others.full.Load() {
		return
	}
	m := msg()
	s.mu.Lock()
	seen := m == s.lastOther
	s.lastOther = m
	s.mu.Unlock()
	if !seen {
		s.r.others.keep(m)
	}
}

// Close records a close the client observed at t from the server or the
// network, with code, attributed to event ev (-1: none).
func (s *Shard) Close(t time.Time, code int, ev int) {
	b := s.r.bucket(t)
	s.mu.Lock()
	if i := code - commonBase; i >= 0 && i < commonCodes {
		s.common[i]++
	} else {
		s.counts.Closes[code]++
	}
	if b >= 0 {
		s.closeSeriesOf(code, b).add(b)
		s.bucketAt(b).connDelta--
	}
	s.affected(t, ev)
	s.mu.Unlock()
	s.r.addConnected(-1)
}

// affected counts a client closed at t by event ev (-1: none); under s.mu.
func (s *Shard) affected(t time.Time, ev int) {
	e := s.event(ev)
	if e == nil {
		return
	}
	e.affected++
	if start, ok := s.r.EventStarted(ev); ev < len(s.r.plans) && ok {
		// A detected event starts at its first close: its clients'
		// closes say nothing of how long they took to notice.
		if e.closeAt == nil {
			e.closeAt = NewHistogram()
		}
		record(e.closeAt, t.Sub(s.r.start)-start)
	}
}

// bump counts one k in *m, which it makes when needed: a client that never
// meets a protocol's stop holds no map.
func bump(m *map[string]int64, k string) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k]++
}

// ProtocolStop records a connected session that a server message ended for
// good at t, for reason, attributed to event ev (-1: none): the client is no
// longer connected, and stopped rather than lost.
func (s *Shard) ProtocolStop(t time.Time, reason string, ev int) {
	s.messageEnd(t, &s.counts.ProtocolStops, reason, ev)
}

// ProtocolStopOnly counts a stop for reason whose close or failed attempt
// is recorded already: a close code the protocol says forbids reconnecting,
// or a server's refusal during a session script.
func (s *Shard) ProtocolStopOnly(reason string) {
	s.mu.Lock()
	bump(&s.counts.ProtocolStops, reason)
	s.mu.Unlock()
}

// ProtocolReconnect records a session that a server message, for reason,
// told the client to leave at t and come back, attributed to event ev
// (-1: none): a close in all but its code.
func (s *Shard) ProtocolReconnect(t time.Time, reason string, ev int) {
	s.messageEnd(t, &s.counts.ProtocolReconnects, reason, ev)
}

// messageEnd records a connected session a server message ended at t,
// counted in *m under reason and attributed to event ev.
func (s *Shard) messageEnd(t time.Time, m *map[string]int64, reason string, ev int) {
	b := s.r.bucket(t)
	s.mu.Lock()
	bump(m, reason)
	if b >= 0 {
		s.bucketAt(b).connDelta--
	}
	s.affected(t, ev)
	s.mu.Unlock()
	s.r.addConnected(-1)
}

// ClientClose records a session the client ended itself at t.
func (s *Shard) ClientClose(t time.Time) {
	b := s.r.bucket(t)
	s.mu.Lock()
	s.counts.ClientCloses++
	if b >= 0 {
		s.bucketAt(b).connDelta--
	}
	s.mu.Unlock()
	s.r.addConnected(-1)
}

// Leave records a session closed at t because the run ended: the client is
// no longer connected, but no counter changes.
func (s *Shard) Leave(t time.Time) {
	b := s.r.bucket(t)
	s.mu.Lock()
	if b >= 0 {
		s.bucketAt(b).connDelta--
	}
	s.mu.Unlock()
	s.r.addConnected(-1)
}

// Reconnected records the first successful handshake, at t, after a close
// observed at closedAt and attributed to event ev (-1: none); parts take the
// reconnect apart.
func (s *Shard) Reconnected(t, closedAt time.Time, ev int, parts ReconnectParts) {
	s.mu.Lock()
	s.counts.Reconnects++
	record(s.hist[Reconnect], t.Sub(closedAt))
	s.parts.add(parts)
	if e := s.event(ev); e != nil {
		e.reconnected++
		e.parts.add(parts)
		if start, ok := s.r.EventStarted(ev); ok {
			at := t.Sub(s.r.start) - start
			switch {
			case ev >= len(s.r.plans) && !s.r.det.isConfirmed(ev):
				e.pending = append(e.pending, at.Microseconds())
			default:
				if e.reconnectAt == nil {
					e.reconnectAt = NewHistogram()
				}
				record(e.reconnectAt, at)
			}
		}
	}
	s.mu.Unlock()
}

// Recovered records the time from a close to the first application message
// on the next connection.
func (s *Shard) Recovered(latency time.Duration) {
	s.mu.Lock()
	record(s.hist[Recovery], latency)
	s.mu.Unlock()
}

// GaveUp records a client that stopped reconnecting after too many attempts.
func (s *Shard) GaveUp() {
	s.mu.Lock()
	s.counts.GaveUp++
	s.mu.Unlock()
}

// Sent records a message sent.
func (s *Shard) Sent() {
	s.mu.Lock()
	s.counts.MessagesSent++
	s.mu.Unlock()
}

// Received records a message received that is not a timed echo.
func (s *Shard) Received() {
	s.mu.Lock()
	s.counts.MessagesReceived++
	s.mu.Unlock()
}

// Echo records a message received that echoes one sent, rtt after its
// scheduled send time.
func (s *Shard) Echo(rtt time.Duration) {
	s.mu.Lock()
	s.counts.MessagesReceived++
	record(s.hist[MessageRTT], rtt)
	s.mu.Unlock()
}
