package stats

import (
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Results merges every shard into the run's results. started is the run's
// wall-clock start and elapsed its length; the series is cut at elapsed,
// and a planned event whose start was recorded after elapsed is left out.
// It may be called while clients still record (each shard is read under its
// lock), but is meant for the end of the run.
func (r *Recorder) Results(started time.Time, elapsed time.Duration) *Results {
	n := min(int((elapsed+r.width-1)/r.width), r.buckets)
	n = max(n, 1)
	res := &Results{
		Started:         started,
		Elapsed:         elapsed,
		BucketWidth:     r.width,
		PeakConnected:   r.peak.Load(),
		GaugeNames:      append([]string(nil), r.gaugeNames...),
		ImbalanceGauges: append([]int(nil), r.imbalanceIx...),
		Counters: Counters{
			ConnectFailures: map[string]int64{},
			Closes:          map[int]int64{},
		},
	}
	for m := range res.Histograms {
		res.Histograms[m] = NewHistogram()
	}
	res.CloseCodes = r.closeCodes()
	// The detected bursts, taken before the shards: a burst that starts
	// while they are read is left out whole.
	var bursts []detectedBurst
	var unattributed int64
	if r.det != nil {
		bursts, unattributed = r.det.snapshot()
	}
	sum := newShardSum(n, res.CloseCodes, len(r.plans)+len(bursts))
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for m := range s.hist {
			if Metric(m) == DialLag {
				s.mergeLag(res.Histograms[m])
				continue
			}
			res.Histograms[m].Merge(s.hist[m])
		}
		s.addCounts(&res.Counters)
		sum.add(s)
		s.mu.Unlock()
	}
	res.Counters.OtherFailures = r.others.list()
	process, machine := r.cpuRows(n)
	res.Series = sum.rows(r.width, r.gaugeRows(n), process, machine)
	if r.det != nil {
		res.Detect = &DetectReport{Gap: r.det.gap, MinCloses: int(r.det.minCloses), Unattributed: unattributed}
	}
	res.Events = sum.reports(r.spans(elapsed, bursts, sum.events, res.Detect))
	res.Breakdown = sum.parts
	res.Analyze()
	return res
}

// closeCodes returns the close codes that get a series column. They come
// from the totals, so that codes without a column of their own fold into
// OtherCodes without a series each.
func (r *Recorder) closeCodes() []int {
	totals := map[int]int64{}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.eachClose(func(code int, v int64) { totals[code] += v })
		s.mu.Unlock()
	}
	return SeriesCodes(totals)
}

// shardSum is what Results sums over the shards by bucket and by event.
type shardSum struct {
	n         int // buckets; later records count in the last
	series    []shardBucket
	column    map[int]int // close code → its column in closeCols
	closeCols [][]int64   // by column, by bucket
	events    []shardEvent
	evSeries  []BucketCounts // attempts of each event's clients per bucket
	intended  []BucketCounts // first attempts of each event's clients per intended bucket
	parts     Breakdown      // of every reconnect
}

func newShardSum(n int, codes []int, slots int) *shardSum {
	sum := &shardSum{
		n:         n,
		series:    make([]shardBucket, n),
		column:    make(map[int]int, len(codes)),
		closeCols: make([][]int64, len(codes)),
		events:    make([]shardEvent, slots),
		evSeries:  make([]BucketCounts, slots),
		intended:  make([]BucketCounts, slots),
	}
	for j, code := range codes {
		sum.column[code] = j
		sum.closeCols[j] = make([]int64, n)
	}
	return sum
}

// add adds shard s's series and events. The caller holds s.mu.
func (sum *shardSum) add(s *Shard) {
	n := sum.n
	for b := range s.series {
		sb := &sum.series[min(b, n-1)]
		sb.attempts += s.series[b].attempts
		sb.connects += s.series[b].connects
		sb.failures += s.series[b].failures
		sb.connDelta += s.series[b].connDelta
		sb.intended += s.series[b].intended
	}
	s.eachCloseSeries(func(code int, cs *sparseSeries) {
		j, ok := sum.column[code]
		if !ok {
			if j, ok = sum.column[OtherCodes]; !ok {
				return // first seen after the totals were taken
			}
		}
		dst := sum.closeCols[j]
		cs.each(func(b int, v int32) { dst[min(b, n-1)] += int64(v) })
	})
	sum.parts.Merge(s.parts)
	for e := range min(len(s.events), len(sum.events)) {
		src, dst := &s.events[e], &sum.events[e]
		dst.affected += src.affected
		dst.reconnected += src.reconnected
		dst.attempts += src.attempts
		dst.firstAttempts += src.firstAttempts
		dst.queued += src.queued
		dst.parts.Merge(src.parts)
		dst.dialLag = mergeInto(dst.dialLag, src.dialLag)
		src.intended.addTo(&sum.intended[e], n-1)
		dst.pending = append(dst.pending, src.pending...)
		dst.pendingLag = append(dst.pendingLag, src.pendingLag...)
		dst.closeAt = mergeInto(dst.closeAt, src.closeAt)
		dst.reconnectAt = mergeInto(dst.reconnectAt, src.reconnectAt)
		if src.failures != nil {
			if dst.failures == nil {
				dst.failures = new(reasonCounts)
			}
			dst.failures.merge(src.failures)
		}
		src.attemptSeries.addTo(&sum.evSeries[e], n-1)
	}
}

// gaugeRows returns the sampled gauges of the first n buckets, -1 where a
// bucket has no sample, or nil when the run has no gauges.
func (r *Recorder) gaugeRows(n int) [][]int64 {
	if len(r.gaugeNames) == 0 {
		return nil
	}
	r.gaugeMu.Lock()
	defer r.gaugeMu.Unlock()
	gauges := make([][]int64, n)
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
	return gauges
}

// rows returns the time series, buckets width apart, with gauges (nil:
// none) and the percent of the cores busy.
func (sum *shardSum) rows(width time.Duration, gauges [][]int64, cpu, machine []int64) []Bucket {
	out := make([]Bucket, sum.n)
	var connected int64
	for b := range out {
		connected += int64(sum.series[b].connDelta)
		row := Bucket{
			Start:      time.Duration(b) * width,
			Connected:  connected,
			Attempts:   int64(sum.series[b].attempts),
			Connects:   int64(sum.series[b].connects),
			Failures:   int64(sum.series[b].failures),
			Intended:   int64(sum.series[b].intended),
			CPU:        cpu[b],
			MachineCPU: machine[b],
			Closes:     make([]int64, len(sum.closeCols)),
		}
		for j := range sum.closeCols {
			row.Closes[j] = sum.closeCols[j][b]
		}
		if gauges != nil {
			row.Gauges = gauges[b]
		}
		out[b] = row
	}
	return out
}

// spans returns the events that started within elapsed: the planned ones,
// then the detected bursts with enough closes by events (the shards' sum).
// It counts the bursts it drops in det (nil without detection).
func (r *Recorder) spans(elapsed time.Duration, bursts []detectedBurst, events []shardEvent, det *DetectReport) []eventSpan {
	spans := make([]eventSpan, 0, len(events))
	for i, p := range r.plans {
		// A participant that does not drive the chaos marks an event begun
		// at its planned start ahead of time: if the run ended before that,
		// the event never began within it.
		start, ok := r.EventStarted(i)
		if !ok || start > elapsed {
			continue // the run ended before this event began
		}
		spans = append(spans, eventSpan{slot: i, EventReport: EventReport{Index: i, PlannedAt: p.At, At: start,
			Action: p.Action, Node: p.Node, Code: p.Code, Settle: p.Settle}})
	}
	n := 0
	for _, b := range bursts {
		if events[b.slot].affected < r.det.minCloses {
			det.DroppedBursts++
			det.DroppedCloses += events[b.slot].affected
			continue
		}
		// Its own closes are its drain: imbalance is judged after the last.
		spans = append(spans, eventSpan{slot: b.slot, EventReport: EventReport{Index: len(r.plans) + n, PlannedAt: b.start, At: b.start,
			Action: DetectedAction, Node: b.node, Code: b.code, Settle: b.last - b.start}})
		n++
	}
	return spans
}

// reports returns the reports of spans with what the shards recorded of
// each.
func (sum *shardSum) reports(spans []eventSpan) []EventReport {
	out := make([]EventReport, 0, len(spans))
	for _, sp := range spans {
		e := &sum.events[sp.slot]
		ev := sp.EventReport
		ev.Affected, ev.Reconnected, ev.Attempts = e.affected, e.reconnected, e.attempts
		ev.AttemptSeries = sum.evSeries[sp.slot]
		ev.FirstAttempts, ev.IntendedSeries, ev.Queued = e.firstAttempts, sum.intended[sp.slot], e.queued
		ev.DialLag, ev.Breakdown = e.dialLag, e.parts
		ev.FailedAttempts = make(map[string]int64)
		if e.failures != nil {
			e.failures.addTo(ev.FailedAttempts)
		}
		ev.CloseAt = e.closeAt
		ev.ReconnectAt = e.reconnectAt
		if ev.ReconnectAt == nil {
			ev.ReconnectAt = NewHistogram()
		}
		recordAll(ev.ReconnectAt, e.pending)
		if len(e.pendingLag) > 0 {
			if ev.DialLag == nil {
				ev.DialLag = NewHistogram()
			}
			recordAll(ev.DialLag, e.pendingLag)
		}
		out = append(out, ev)
	}
	return out
}

// eventSpan is a started event, planned or a detected burst with enough
// closes, with what the herd analysis reads of it before its records.
type eventSpan struct {
	slot int // its records in the shards
	EventReport
}

// MaxCloseColumns bounds the close codes the series has a column for: a
// server cycling through thousands of codes must not blow up the series.
const MaxCloseColumns = 32

// OtherCodes stands in Results.CloseCodes for the codes without a column.
const OtherCodes = -1

// SeriesCodes picks the close codes that get a series column, from the
// closes by code: all of them, ascending, or the most frequent
// MaxCloseColumns-1 and OtherCodes for the rest.
func SeriesCodes(closes map[int]int64) []int {
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

// Analyze computes each event's herd analysis — NeverReconnected, T50 to
// T100, the attempt rates (achieved and intended), HerdFactor,
// AttemptsPerClient, ImbalanceAfter and the lag verdict — from what its
// clients recorded (Affected, Reconnected, Attempts, AttemptSeries,
// IntendedSeries, ReconnectAt, DialLag, FailedAttempts), its place in the
// timeline (At, PlannedAt, Settle) and the series, then the verdict on the
// generator over the run. Recorder.Results calls it, and so does the merge
// of a split run's segments: one computation for both.
func (r *Results) Analyze() {
	for i := range r.Events {
		r.herd(&r.Events[i])
	}
	r.judgeGenerator()
}

func (r *Results) width() time.Duration {
	if r.BucketWidth <= 0 {
		return DefaultBucketWidth
	}
	return r.BucketWidth
}

// herd computes the analysis of ev, one of r.Events.
func (r *Results) herd(ev *EventReport) {
	start := ev.At
	if ev.ReconnectAt == nil {
		ev.ReconnectAt = NewHistogram()
	}
	if ev.FailedAttempts == nil {
		ev.FailedAttempts = map[string]int64{}
	}
	ev.NeverReconnected = ev.Affected - ev.Reconnected
	ev.T50 = timeToShare(ev.ReconnectAt, ev.Affected, 0.50)
	ev.T90 = timeToShare(ev.ReconnectAt, ev.Affected, 0.90)
	ev.T99 = timeToShare(ev.ReconnectAt, ev.Affected, 0.99)
	ev.T100 = timeToShare(ev.ReconnectAt, ev.Affected, 1)

	width := r.width()
	ev.PeakAttemptRate, ev.MeanAttemptRate, ev.HerdFactor, ev.AttemptsPerClient = 0, 0, 0, 0
	last := -1 // bucket of the event's clients' last attempt
	for i, v := range ev.AttemptSeries.Counts {
		ev.PeakAttemptRate = max(ev.PeakAttemptRate, float64(v)/width.Seconds())
		if v > 0 {
			last = ev.AttemptSeries.From + i
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
		span = time.Duration(last+1)*width - start
	}
	span = max(span, width)
	if ev.Attempts > 0 {
		ev.MeanAttemptRate = float64(ev.Attempts) / span.Seconds()
	}
	if ev.MeanAttemptRate > 0 {
		ev.HerdFactor = ev.PeakAttemptRate / ev.MeanAttemptRate
	}
	if ev.Affected > 0 {
		ev.AttemptsPerClient = float64(ev.Attempts) / float64(ev.Affected)
	}
	ev.IntendedPeakRate = 0
	for _, v := range ev.IntendedSeries.Counts {
		ev.IntendedPeakRate = max(ev.IntendedPeakRate, float64(v)/width.Seconds())
	}
	// An event without attempts has no herd for a busy CPU to shape (its
	// closes may be what kept the CPU busy).
	ev.CPUBusy, ev.MachineBusy, ev.CPUSaturated = nil, nil, false
	if ev.Attempts > 0 {
		r.judgeCPU(ev, int(start/width), int((start+span)/width))
	}
	ev.ImbalanceAfter = r.imbalanceAfter(ev)
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

// imbalanceAfter is max/mean of the imbalance gauges once event ev settled:
// after its own effects (drain and downtime) and after its last client came
// back, but before the next event starts.
func (r *Results) imbalanceAfter(ev *EventReport) *float64 {
	if len(r.ImbalanceGauges) == 0 || len(r.Series) == 0 {
		return nil
	}
	start, width := ev.At, r.width()
	// The window ends where the next event starts: events of one batch
	// start together and do not end each other's windows.
	limit := r.Elapsed
	for i := range r.Events {
		if o := &r.Events[i]; o.PlannedAt > ev.PlannedAt && o.At < limit {
			limit = o.At
		}
	}
	settle := limit
	if ev.T100 != nil {
		settle = min(max(start+ev.Settle, start+*ev.T100)+width, limit)
	}
	// The last sampled bucket at or before the settle time. The bucket in
	// which the next event starts may hold a sample taken after it began.
	b := int(settle / width)
	if limit < r.Elapsed {
		b = min(b, int(limit/width)-1)
	}
	b = min(b, len(r.Series)-1)
	for ; b >= 0; b-- {
		if v := Imbalance(r.Series[b].Gauges, r.ImbalanceGauges); v != nil {
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

// mergeInto adds src to dst, which it makes when nil, and returns dst; a
// nil src leaves dst as it is.
func mergeInto(dst, src *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if src == nil {
		return dst
	}
	if dst == nil {
		dst = NewHistogram()
	}
	dst.Merge(src)
	return dst
}
