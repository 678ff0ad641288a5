package stats

import (
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Results merges every shard into the run's results. started is the run's
// wall-clock start and elapsed its length; the series is cut at elapsed.
// It may be called while clients still record (each shard is read under its
// lock), but is meant for the end of the run.
func (r *Recorder) Results(started time.Time, elapsed time.Duration) *Results {
	n := min(int((elapsed+r.width-1)/r.width), r.buckets)
	n = max(n, 1)
	res := &Results{
		Started:       started,
		Elapsed:       elapsed,
		BucketWidth:   r.width,
		PeakConnected: r.peak.Load(),
		GaugeNames:    append([]string(nil), r.gaugeNames...),
		Counters: Counters{
			ConnectFailures: map[string]int64{},
			Closes:          map[int]int64{},
		},
	}
	for m := range res.Histograms {
		res.Histograms[m] = NewHistogram()
	}
	series := make([]shardBucket, n)
	// The close-code columns come from the totals, so that codes without a
	// column of their own fold into OtherCodes without a series each.
	totals := map[int]int64{}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for code, v := range s.closes {
			totals[code] += v
		}
		s.mu.Unlock()
	}
	res.CloseCodes = seriesCodes(totals)
	column := make(map[int]int, len(res.CloseCodes))
	closeCols := make([][]int64, len(res.CloseCodes))
	for j, code := range res.CloseCodes {
		column[code] = j
		closeCols[j] = make([]int64, n)
	}
	// The detected bursts, taken before the shards: a burst that starts
	// while they are read is left out whole.
	var bursts []detectedBurst
	var unattributed int64
	if r.det != nil {
		bursts, unattributed = r.det.snapshot()
	}
	slots := len(r.plans) + len(bursts)
	events := make([]shardEvent, slots)
	// Attempts of each event's clients per bucket, from the run's start.
	evSeries := make([][]int64, slots)

	c := &res.Counters
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for m := range s.hist {
			res.Histograms[m].Merge(s.hist[m])
		}
		c.ConnectAttempts += s.attempts
		c.Connects += s.connects
		c.ClientCloses += s.clientCloses
		c.Reconnects += s.reconnects
		c.GaveUp += s.gaveUp
		c.MessagesSent += s.sent
		c.MessagesReceived += s.received
		for reason, v := range s.failures {
			c.ConnectFailures[reason.String()] += v
		}
		for code, v := range s.closes {
			c.Closes[code] += v
		}
		for b := range s.series {
			sb := &series[min(b, n-1)]
			sb.attempts += s.series[b].attempts
			sb.connects += s.series[b].connects
			sb.failures += s.series[b].failures
			sb.connDelta += s.series[b].connDelta
		}
		for code, cs := range s.closeSeries {
			j, ok := column[code]
			if !ok {
				if j, ok = column[OtherCodes]; !ok {
					continue // first seen after the totals were taken
				}
			}
			dst := closeCols[j]
			cs.each(func(b int, v int32) { dst[min(b, n-1)] += int64(v) })
		}
		for e := range min(len(s.events), slots) {
			src, dst := &s.events[e], &events[e]
			dst.affected += src.affected
			dst.reconnected += src.reconnected
			dst.attempts += src.attempts
			dst.pending = append(dst.pending, src.pending...)
			if src.reconnectAt != nil {
				if dst.reconnectAt == nil {
					dst.reconnectAt = NewHistogram()
				}
				dst.reconnectAt.Merge(src.reconnectAt)
			}
			for reason, v := range src.failures {
				if dst.failures == nil {
					dst.failures = map[Reason]int64{}
				}
				dst.failures[reason] += v
			}
			src.attemptSeries.each(func(b int, v int32) {
				b = min(b, n-1)
				evSeries[e] = grow(evSeries[e], b)
				evSeries[e][b] += int64(v)
			})
		}
		s.mu.Unlock()
	}

	var gauges [][]int64
	if len(r.gaugeNames) > 0 {
		r.gaugeMu.Lock()
		gauges = make([][]int64, n)
		for b := range gauges {
			row := make([]int64, len(r.gaugeNames))
			if b < len(r.gauges) && r.gauges[b] != nil {
				copy(row, r.gauges[b])
			} else {
				for j := range row {
					row[j] = -1 // no sample in this bucket
				}
			}
			gauges[b] = row
		}
		r.gaugeMu.Unlock()
	}

	res.Series = make([]Bucket, n)
	var connected int64
	for b := range res.Series {
		connected += int64(series[b].connDelta)
		row := Bucket{
			Start:     time.Duration(b) * r.width,
			Connected: connected,
			Attempts:  int64(series[b].attempts),
			Connects:  int64(series[b].connects),
			Failures:  int64(series[b].failures),
			Closes:    make([]int64, len(res.CloseCodes)),
		}
		for j := range res.CloseCodes {
			row.Closes[j] = closeCols[j][b]
		}
		if gauges != nil {
			row.Gauges = gauges[b]
		}
		res.Series[b] = row
	}

	spans := make([]eventSpan, 0, slots)
	for i, p := range r.plans {
		start, ok := r.EventStarted(i)
		if !ok {
			continue // the run ended before this event began
		}
		spans = append(spans, eventSpan{slot: i, index: i, order: p.At, start: start,
			action: p.Action, node: p.Node, code: p.Code, settle: p.Settle})
	}
	if r.det != nil {
		res.Detect = &DetectReport{Gap: r.det.gap, MinCloses: int(r.det.minCloses), Unattributed: unattributed}
		n := 0
		for _, b := range bursts {
			if events[b.slot].affected < r.det.minCloses {
				res.Detect.DroppedBursts++
				res.Detect.DroppedCloses += events[b.slot].affected
				continue
			}
			// Its own closes are its drain: imbalance is judged after the last.
			spans = append(spans, eventSpan{slot: b.slot, index: len(r.plans) + n, order: b.start, start: b.start,
				action: DetectedAction, node: b.node, code: b.code, settle: b.last - b.start})
			n++
		}
	}
	res.Events = make([]EventReport, 0, len(spans))
	for _, sp := range spans {
		res.Events = append(res.Events, r.herd(sp, spans, &events[sp.slot], evSeries[sp.slot], res))
	}
	return res
}

// eventSpan is a started event as the herd analysis needs it: a planned
// one, or a detected burst with enough closes.
type eventSpan struct {
	slot   int           // its records in the shards
	index  int           // its index in the results
	order  time.Duration // its place in the timeline: planned start, or first close
	start  time.Duration // actual start, from the run's start
	action string
	node   int
	code   int
	settle time.Duration // how long after its start its own effects last
}

// MaxCloseColumns bounds the close codes the series has a column for: a
// server cycling through thousands of codes must not blow up the series.
const MaxCloseColumns = 32

// OtherCodes stands in Results.CloseCodes for the codes without a column.
const OtherCodes = -1

// seriesCodes picks the codes that get a series column: all of them, or the
// most frequent MaxCloseColumns-1 and OtherCodes for the rest.
func seriesCodes(closes map[int]int64) []int {
	codes := make([]int, 0, len(closes))
	for code := range closes {
		codes = append(codes, code)
	}
	if len(codes) > MaxCloseColumns {
		slices.SortFunc(codes, func(a, b int) int {
			if closes[a] != closes[b] {
				return int(closes[b] - closes[a])
			}
			return a - b
		})
		codes = codes[:MaxCloseColumns-1]
		slices.Sort(codes)
		return append(codes, OtherCodes)
	}
	slices.Sort(codes)
	return codes
}

// herd computes the herd analysis of event sp from its merged records;
// spans are all the events reported.
func (r *Recorder) herd(sp eventSpan, spans []eventSpan, e *shardEvent, attempts []int64, res *Results) EventReport {
	start := sp.start
	if e.reconnectAt == nil {
		e.reconnectAt = NewHistogram()
	}
	for _, us := range e.pending {
		_ = e.reconnectAt.RecordValue(min(max(us, HistMin), HistMax)) // clamped: cannot fail
	}
	ev := EventReport{
		Index:            sp.index,
		At:               start,
		Action:           sp.action,
		Node:             sp.node,
		Code:             sp.code,
		Affected:         e.affected,
		Reconnected:      e.reconnected,
		NeverReconnected: e.affected - e.reconnected,
		FailedAttempts:   map[string]int64{},
		ReconnectAt:      e.reconnectAt,
	}
	for reason, v := range e.failures {
		ev.FailedAttempts[reason.String()] += v
	}
	ev.T50 = timeToShare(e.reconnectAt, e.affected, 0.50)
	ev.T90 = timeToShare(e.reconnectAt, e.affected, 0.90)
	ev.T99 = timeToShare(e.reconnectAt, e.affected, 0.99)
	ev.T100 = timeToShare(e.reconnectAt, e.affected, 1)

	width := r.width.Seconds()
	last := -1 // bucket of the event's clients' last attempt
	for b, v := range attempts {
		ev.PeakAttemptRate = max(ev.PeakAttemptRate, float64(v)/width)
		if v > 0 {
			last = b
		}
	}
	// Every attempt attributed to the event happens while one of its clients
	// recovers, so all of them fall in [start, start+t100] when t100 exists;
	// when some clients never came back, the recovery lasted until their last
	// attempt. The span is never shorter than one bucket, the resolution of
	// the peak, so herd_factor stays ≥ 1.
	var span time.Duration
	switch {
	case ev.T100 != nil:
		span = *ev.T100
	case last >= 0:
		span = time.Duration(last+1)*r.width - start
	}
	span = max(span, r.width)
	if e.attempts > 0 {
		ev.MeanAttemptRate = float64(e.attempts) / span.Seconds()
	}
	if ev.MeanAttemptRate > 0 {
		ev.HerdFactor = ev.PeakAttemptRate / ev.MeanAttemptRate
	}
	if e.affected > 0 {
		ev.AttemptsPerClient = float64(e.attempts) / float64(e.affected)
	}
	ev.ImbalanceAfter = r.imbalanceAfter(sp, spans, ev.T100, res)
	return ev
}

// timeToShare returns the time from the event's start until share of the
// affected clients had reconnected: the k-th smallest reconnect offset with
// k = ceil(share·affected), or nil when fewer than k reconnected.
func timeToShare(h *hdrhistogram.Histogram, affected int64, share float64) *time.Duration {
	if affected == 0 {
		return nil
	}
	k := int64(share*float64(affected) + 0.999999)
	k = min(max(k, 1), affected)
	if k > h.TotalCount() {
		return nil
	}
	var seen int64
	for _, bar := range h.Distribution() {
		seen += bar.Count
		if seen >= k {
			d := time.Duration(bar.To) * time.Microsecond
			return &d
		}
	}
	return nil
}

// imbalanceAfter is max/mean of the imbalance gauges once event sp settled:
// after its own effects (drain and downtime) and after its last client came
// back, but before the next event starts.
func (r *Recorder) imbalanceAfter(sp eventSpan, spans []eventSpan, t100 *time.Duration, res *Results) *float64 {
	if len(r.imbalanceIx) == 0 || len(res.Series) == 0 {
		return nil
	}
	start := sp.start
	// The window ends where the next event starts: events of one batch
	// start together and do not end each other's windows.
	limit := res.Elapsed
	for _, o := range spans {
		if o.order > sp.order && o.start < limit {
			limit = o.start
		}
	}
	settle := limit
	if t100 != nil {
		settle = min(max(start+sp.settle, start+*t100)+r.width, limit)
	}
	// The last sampled bucket at or before the settle time. The bucket in
	// which the next event starts may hold a sample taken after it began.
	b := int(settle / r.width)
	if limit < res.Elapsed {
		b = min(b, int(limit/r.width)-1)
	}
	b = min(b, len(res.Series)-1)
	for ; b >= 0; b-- {
		if v := Imbalance(res.Series[b].Gauges, r.imbalanceIx); v != nil {
			return v
		}
	}
	return nil
}

// Imbalance returns max/mean of the gauges at ix, or nil when any is unsampled
// or all are zero.
func Imbalance(gauges []int64, ix []int) *float64 {
	if len(ix) == 0 {
		return nil
	}
	var sum, most int64
	for _, i := range ix {
		if i >= len(gauges) || gauges[i] < 0 {
			return nil
		}
		sum += gauges[i]
		most = max(most, gauges[i])
	}
	if sum == 0 {
		return nil
	}
	v := float64(most) / (float64(sum) / float64(len(ix)))
	return &v
}
