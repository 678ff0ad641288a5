package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// SegmentFile is what a segment of a split run writes beside its results
// so that `wsstorm merge` can merge the segments exactly: what summary.json
// rounds (times to the millisecond, rates) or leaves out.
const SegmentFile = "segment.json"

// SegmentSchema identifies the layout of segment.json.
const SegmentSchema = "wsstorm.segment/v1"

// Segment says which part of a split run (`wsstorm run --segment I/N`) a
// run was: the clients whose global index is Index modulo Count.
type Segment struct {
	Index, Count int
	StartAt      time.Time // the shared --start-at; zero if none
	Chaos        bool      // this segment drove the chaos
	Clients      int       // clients in this segment
}

// Merged says how a run's results were merged from its segments.
type Merged struct {
	Segments int
	// ChaosSegment is the index of the segment that drove the chaos, whose
	// event starts the merged events have; -1: none did.
	ChaosSegment int
	// StartSpread is the latest segment's wall-clock start minus the
	// earliest's.
	StartSpread time.Duration
	// EventShift is the largest shift, either way, applied to a segment's
	// reconnect offsets to make them relative to the merged event start.
	EventShift time.Duration
}

// SegmentSummary is summary.json's "segment" block.
type SegmentSummary struct {
	Index   int        `json:"index"`
	Count   int        `json:"count"`
	StartAt *Timestamp `json:"start_at"` // null without --start-at
	Chaos   bool       `json:"chaos"`
	Clients int        `json:"clients"`
}

// MergedSummary is summary.json's "merged" block, in results that `wsstorm
// merge` wrote.
type MergedSummary struct {
	Segments     int     `json:"segments"`
	ChaosSegment *int    `json:"chaos_segment"` // null: no segment drove the chaos
	StartSpreadS float64 `json:"start_spread_s"`
	EventShiftS  float64 `json:"event_shift_s"`
}

func segmentSummary(s *Segment) *SegmentSummary {
	if s == nil {
		return nil
	}
	out := &SegmentSummary{Index: s.Index, Count: s.Count, Chaos: s.Chaos, Clients: s.Clients}
	if !s.StartAt.IsZero() {
		out.StartAt = &Timestamp{s.StartAt.UTC()}
	}
	return out
}

func mergedSummary(m *Merged) *MergedSummary {
	if m == nil {
		return nil
	}
	out := &MergedSummary{Segments: m.Segments, StartSpreadS: Round(m.StartSpread.Seconds(), 6), EventShiftS: Round(m.EventShift.Seconds(), 6)}
	if m.ChaosSegment >= 0 {
		c := m.ChaosSegment
		out.ChaosSegment = &c
	}
	return out
}

// segmentFile is segment.json. Times are in nanoseconds, as recorded.
type segmentFile struct {
	Schema  string     `json:"schema"`
	Index   int        `json:"index"`
	Count   int        `json:"count"`
	StartAt *time.Time `json:"start_at"` // null without --start-at
	Chaos   bool       `json:"chaos"`
	Clients int        `json:"clients"`
	// StartedAt is the run's wall-clock start, to the nanosecond: the
	// reference of every offset here and of the time series.
	StartedAt     time.Time `json:"started_at"`
	ElapsedNS     int64     `json:"elapsed_ns"`
	BucketWidthNS int64     `json:"bucket_width_ns"`
	// ImbalanceGauges name the time series' gauge columns whose max/mean is
	// the imbalance.
	ImbalanceGauges []string       `json:"imbalance_gauges"`
	Events          []segmentEvent `json:"events"`
	// Breakdown sums the parts of every reconnect of the segment, in ns.
	Breakdown segmentBreakdown `json:"breakdown"`
}

// segmentEvent is what the herd analysis of an event reads beyond its
// summary and its histograms.hlog interval.
type segmentEvent struct {
	Index     int   `json:"index"`
	StartNS   int64 `json:"start_ns"`   // from started_at
	PlannedNS int64 `json:"planned_ns"` // planned start (detected: first close)
	SettleNS  int64 `json:"settle_ns"`  // how long after its start its own effects last
	Attempts  int64 `json:"attempts"`   // connect attempts of its clients
	// AttemptSeries counts those attempts per time-series bucket from
	// bucket AttemptsFrom on.
	AttemptsFrom  int     `json:"attempts_from"`
	AttemptSeries []int64 `json:"attempt_series"`
	// FirstAttempts are the attempts its clients meant after their closes;
	// IntendedSeries counts them per bucket of their intended start, from
	// bucket IntendedFrom on.
	FirstAttempts  int64   `json:"first_attempts"`
	IntendedFrom   int     `json:"intended_from"`
	IntendedSeries []int64 `json:"intended_series"`
	// Breakdown sums the parts of its reconnects, in ns.
	Breakdown segmentBreakdown `json:"breakdown"`
	// Queued counts its clients' attempts that waited for a dial slot.
	Queued int64 `json:"queued"`
}

// segmentBreakdown is a stats.Breakdown in segment.json, exact.
type segmentBreakdown struct {
	Reconnects  int64 `json:"reconnects"`
	BackoffNS   int64 `json:"backoff_ns"`
	LagNS       int64 `json:"lag_ns"`
	FailedNS    int64 `json:"failed_ns"`
	HandshakeNS int64 `json:"handshake_ns"`
}

func toSegmentBreakdown(b stats.Breakdown) segmentBreakdown {
	return segmentBreakdown{Reconnects: b.Reconnects, BackoffNS: int64(b.Backoff), LagNS: int64(b.Lag),
		FailedNS: int64(b.Failed), HandshakeNS: int64(b.Handshake)}
}

func (b segmentBreakdown) stats() stats.Breakdown {
	return stats.Breakdown{Reconnects: b.Reconnects, Backoff: time.Duration(b.BackoffNS), Lag: time.Duration(b.LagNS),
		Failed: time.Duration(b.FailedNS), Handshake: time.Duration(b.HandshakeNS)}
}

// writeSegmentJSON writes segment.json for the segment seg of the run r.
func writeSegmentJSON(w io.Writer, seg *Segment, r *stats.Results) error {
	f := segmentFile{
		Schema: SegmentSchema, Index: seg.Index, Count: seg.Count, Chaos: seg.Chaos, Clients: seg.Clients,
		StartedAt: r.Started.UTC(), ElapsedNS: int64(r.Elapsed), BucketWidthNS: int64(r.BucketWidth),
		ImbalanceGauges: []string{}, Events: []segmentEvent{}, Breakdown: toSegmentBreakdown(r.Breakdown),
	}
	if !seg.StartAt.IsZero() {
		t := seg.StartAt.UTC()
		f.StartAt = &t
	}
	for _, i := range r.ImbalanceGauges {
		if i >= 0 && i < len(r.GaugeNames) {
			f.ImbalanceGauges = append(f.ImbalanceGauges, r.GaugeNames[i])
		}
	}
	for i := range r.Events {
		e := &r.Events[i]
		f.Events = append(f.Events, segmentEvent{
			Index: e.Index, StartNS: int64(e.At), PlannedNS: int64(e.PlannedAt), SettleNS: int64(e.Settle),
			Attempts: e.Attempts, AttemptsFrom: e.AttemptSeries.From, AttemptSeries: append([]int64{}, e.AttemptSeries.Counts...),
			FirstAttempts: e.FirstAttempts, IntendedFrom: e.IntendedSeries.From, IntendedSeries: append([]int64{}, e.IntendedSeries.Counts...),
			Breakdown: toSegmentBreakdown(e.Breakdown), Queued: e.Queued,
		})
	}
	// Compact: an event's attempt series has a number per bucket.
	return json.NewEncoder(w).Encode(&f)
}

// ErrNotSegment is the error, wrapped, of a results directory that is not a
// segment's: a normal run's, or merged results.
var ErrNotSegment = errors.New("not the results of a segment (wsstorm run --segment I/N)")

// SegmentResults is a segment's results directory read back for a merge.
type SegmentResults struct {
	Dir     string
	Summary *Summary
	Segment Segment
	// ProfileTOML is the effective profile the segment wrote; empty if none.
	ProfileTOML string
	// Results are the segment's results as its recorder had them: exact
	// counters, histograms, series, and each event's records; the herd
	// figures are the summary's, rounded (Results.Analyze recomputes them).
	Results *stats.Results
}

// ReadSegment reads the results directory dir of a segment. An error names
// the file at fault (a *FileError), or wraps ErrNotResults or ErrNotSegment.
func ReadSegment(dir string) (*SegmentResults, error) {
	if err := checkResultsDir(dir); err != nil {
		return nil, err
	}
	segPath := filepath.Join(dir, SegmentFile)
	data, err := os.ReadFile(segPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %s: %w: it has no %s", dir, ErrNotSegment, SegmentFile)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: segPath, Err: unwrapPath(err)})
	}
	var f segmentFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: segPath, Err: err, Hint: "the file is damaged or was edited: run the segment again"})
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: segPath, Err: err, Hint: "the file is damaged or was edited: run the segment again"})
	}
	rs, err := ReadResultSet(dir)
	if err != nil {
		return nil, err
	}
	s := rs.Summary
	if s.Segment == nil {
		// A segment.json left over from an earlier run in the directory.
		return nil, fmt.Errorf("report: %s: %w: its %s has no segment block", dir, ErrNotSegment, SummaryFile)
	}
	if s.Segment.Index != f.Index || s.Segment.Count != f.Count {
		return nil, fmt.Errorf("report: %w", &FileError{Path: segPath,
			Err:  fmt.Errorf("segment %d/%d, but %s says %d/%d", f.Index, f.Count, SummaryFile, s.Segment.Index, s.Segment.Count),
			Hint: "the directory mixes the files of two runs: run the segment again"})
	}
	seg := Segment{Index: f.Index, Count: f.Count, Chaos: f.Chaos, Clients: f.Clients}
	if f.StartAt != nil {
		seg.StartAt = f.StartAt.UTC()
	}
	res, err := rs.segmentResults(&f)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &SegmentResults{Dir: dir, Summary: s, Segment: seg, ProfileTOML: rs.ProfileTOML, Results: res}, nil
}

// check reports a segment.json that cannot be a segment's.
func (f *segmentFile) check() error {
	switch {
	case f.Schema == "":
		return errors.New("no schema field: not a wsstorm segment file")
	case f.Schema != SegmentSchema:
		return fmt.Errorf("schema %q is not supported by this version of wsstorm (it reads %q)", f.Schema, SegmentSchema)
	case f.Count < 1 || f.Index < 0 || f.Index >= f.Count:
		return fmt.Errorf("segment %d/%d: the index must be in 0..count-1", f.Index, f.Count)
	case f.BucketWidthNS <= 0:
		return fmt.Errorf("bucket_width_ns %d: must be above 0", f.BucketWidthNS)
	case f.ElapsedNS < 0:
		return fmt.Errorf("elapsed_ns %d: must not be negative", f.ElapsedNS)
	case f.StartedAt.IsZero():
		return errors.New("no started_at")
	}
	for _, e := range f.Events {
		if e.AttemptsFrom < 0 || e.IntendedFrom < 0 || e.StartNS < 0 || e.SettleNS < 0 {
			return fmt.Errorf("event %d: negative offsets", e.Index)
		}
	}
	return nil
}

// segmentResults rebuilds the segment's stats.Results from its files and
// segment.json f.
func (rs *ResultSet) segmentResults(f *segmentFile) (*stats.Results, error) {
	s := rs.Summary
	segPath := filepath.Join(rs.Dir, SegmentFile)
	hPath := filepath.Join(rs.Dir, HistogramsFile)
	res := &stats.Results{
		Started:       f.StartedAt.UTC(),
		Elapsed:       time.Duration(f.ElapsedNS),
		BucketWidth:   time.Duration(f.BucketWidthNS),
		PeakConnected: s.PeakConnected,
		Counters: stats.Counters{
			ConnectAttempts:  s.Counters.ConnectAttempts,
			Connects:         s.Counters.Connects,
			ConnectFailures:  copyCounts(s.Counters.ConnectFailures),
			OtherFailures:    append([]string(nil), s.Counters.OtherFailures...),
			Closes:           make(map[int]int64, len(s.Counters.Closes)),
			ClientCloses:     s.Counters.ClientCloses,
			Reconnects:       s.Counters.Reconnects,
			GaveUp:           s.Counters.GaveUp,
			MessagesSent:     s.Counters.MessagesSent,
			MessagesReceived: s.Counters.MessagesReceived,
		},
	}
	if len(s.Counters.ProtocolStops) > 0 {
		res.Counters.ProtocolStops = copyCounts(s.Counters.ProtocolStops)
	}
	if len(s.Counters.ProtocolReconnects) > 0 {
		res.Counters.ProtocolReconnects = copyCounts(s.Counters.ProtocolReconnects)
	}
	for code, n := range s.Counters.Closes {
		res.Counters.Closes[code] = n
	}
	for _, m := range stats.Metrics {
		res.Histograms[m] = rs.Histogram(m.String())
	}
	if err := rs.series.toBuckets(res); err != nil {
		return nil, &FileError{Path: filepath.Join(rs.Dir, TimeseriesFile), Err: err, Hint: damagedHint}
	}
	for _, name := range f.ImbalanceGauges {
		i := slices.Index(res.GaugeNames, name)
		if i < 0 {
			return nil, &FileError{Path: segPath, Err: fmt.Errorf("imbalance gauge %q is not a column of %s", name, TimeseriesFile), Hint: "the directory mixes the files of two runs: run the segment again"}
		}
		res.ImbalanceGauges = append(res.ImbalanceGauges, i)
	}
	if d := s.Detect; d != nil {
		res.Detect = &stats.DetectReport{Gap: time.Duration(math.Round(d.GapS * 1e9)), MinCloses: d.MinCloses,
			DroppedBursts: d.DroppedBursts, DroppedCloses: d.DroppedCloses, Unattributed: d.UnattributedCloses}
	}
	res.Breakdown = f.Breakdown.stats()
	records := make(map[int]*segmentEvent, len(f.Events))
	for i := range f.Events {
		records[f.Events[i].Index] = &f.Events[i]
	}
	for i := range s.Events {
		se := &s.Events[i]
		rec := records[se.Index]
		if rec == nil {
			return nil, &FileError{Path: segPath, Err: fmt.Errorf("no record of event %d, which %s reports", se.Index, SummaryFile), Hint: "the directory mixes the files of two runs: run the segment again"}
		}
		h := rs.Histogram(EventTag(se.Index))
		if h == nil {
			return nil, &FileError{Path: hPath, Err: fmt.Errorf("no interval tagged %s", EventTag(se.Index)), Hint: damagedHint}
		}
		ev := stats.EventReport{
			Index: se.Index, At: time.Duration(rec.StartNS), Action: se.Action, Node: -1, Code: se.Code,
			Affected: se.Affected, Reconnected: se.Reconnected, FailedAttempts: copyCounts(se.FailedAttempts),
			ReconnectExpected: se.ReconnectExpected, ReconnectAt: h, CloseAt: rs.Histogram(CloseTag(se.Index)), Frozen: se.Frozen,
			Attempts:      rec.Attempts,
			AttemptSeries: stats.BucketCounts{From: rec.AttemptsFrom, Counts: append([]int64(nil), rec.AttemptSeries...)},
			PlannedAt:     time.Duration(rec.PlannedNS), Settle: time.Duration(rec.SettleNS),
			FirstAttempts:  rec.FirstAttempts,
			IntendedSeries: stats.BucketCounts{From: rec.IntendedFrom, Counts: append([]int64(nil), rec.IntendedSeries...)},
			DialLag:        rs.Histogram(LagTag(se.Index)),
			Breakdown:      rec.Breakdown.stats(),
			Queued:         rec.Queued,
		}
		if se.Node != nil {
			ev.Node = *se.Node
		}
		res.Events = append(res.Events, ev)
	}
	res.Analyze()
	return res, nil
}

// toBuckets turns timeseries.csv back into res's Series, CloseCodes and
// GaugeNames: after t_s and the four counts come the closes_<code> columns
// (closes_other: stats.OtherCodes), then the gauges.
func (s *series) toBuckets(res *stats.Results) error {
	fixed := []string{"t_s", "connected", "attempts", "connects", "failures"}
	if len(s.header) < len(fixed) || !slices.Equal(s.header[:len(fixed)], fixed) {
		return fmt.Errorf("the header does not start with %s", strings.Join(fixed, ","))
	}
	var closeCols, gaugeCols []string
	// The columns written since the intended herd and the generator's CPU
	// were measured come last; older results lack them.
	_, hasIntended := s.cols[IntendedColumn]
	for _, name := range s.header[len(fixed):] {
		if name == IntendedColumn || name == CPUColumn || name == MachineColumn {
			continue
		}
		rest, ok := strings.CutPrefix(name, "closes_")
		switch {
		case ok && len(gaugeCols) == 0 && rest == "other":
			res.CloseCodes = append(res.CloseCodes, stats.OtherCodes)
		case ok && len(gaugeCols) == 0:
			code, err := strconv.Atoi(rest)
			if err != nil {
				return fmt.Errorf("column %q: not a close code", name)
			}
			res.CloseCodes = append(res.CloseCodes, code)
		default:
			gaugeCols = append(gaugeCols, name)
			continue
		}
		closeCols = append(closeCols, name)
	}
	res.GaugeNames = gaugeCols
	count := func(name string, row int) (int64, error) {
		v := s.cols[name][row]
		if math.IsNaN(v) || v != math.Trunc(v) {
			return 0, fmt.Errorf("row %d: %s is not a whole number", row+1, name)
		}
		return int64(v), nil
	}
	width := res.BucketWidth
	res.Series = make([]stats.Bucket, s.rows)
	for b := range res.Series {
		row := stats.Bucket{Start: time.Duration(b) * width, Closes: make([]int64, len(closeCols))}
		var err error
		for _, c := range []struct {
			name string
			v    *int64
		}{{"connected", &row.Connected}, {"attempts", &row.Attempts}, {"connects", &row.Connects}, {"failures", &row.Failures}} {
			if *c.v, err = count(c.name, b); err != nil {
				return err
			}
		}
		if hasIntended {
			if row.Intended, err = count(IntendedColumn, b); err != nil {
				return err
			}
		}
		row.CPU, row.MachineCPU = s.share(CPUColumn, b), s.share(MachineColumn, b)
		for j, name := range closeCols {
			if row.Closes[j], err = count(name, b); err != nil {
				return err
			}
		}
		if len(gaugeCols) > 0 {
			row.Gauges = make([]int64, len(gaugeCols))
			for j, name := range gaugeCols {
				v := s.cols[name][b]
				if math.IsNaN(v) {
					row.Gauges[j] = -1 // no sample
					continue
				}
				row.Gauges[j] = int64(v)
			}
		}
		res.Series[b] = row
	}
	return nil
}

// share is the percentage in column name of row b: -1 when the cell is
// empty, or the column absent (results written before it existed).
func (s *series) share(name string, b int) int64 {
	v, ok := s.cols[name]
	if !ok || math.IsNaN(v[b]) {
		return -1
	}
	return int64(v[b])
}
