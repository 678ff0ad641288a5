package results

import (
	"fmt"
	"io"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// writeHistograms writes the run's histograms as an HdrHistogram interval log
// (format 1.3): one interval per metric, in the order of stats.Metrics, tagged
// with the metric's name and spanning the whole run. Empty histograms are
// written too, so every tag is always present. Values are microseconds.
//
// After the metrics comes one interval per chaos event that started, tagged
// event<i>_reconnect_at (EventTag): the time from the event's start to each
// of its clients' reconnects, the event's recovery curve; and for a planned
// event whose clients saw closes, one tagged event<i>_close_at (CloseTag):
// the time from its start to each close, how long they took to notice.
//
// The library writes BaseTime in whole seconds but subtracts the base time in
// milliseconds, so a base time with a fraction of a second would be read back
// wrong. The base is therefore the run's start rounded down to the second, and
// each interval starts at the start's fraction of a second.
//
// The Interval_Max column is the maximum divided by 1e6, the library's fixed
// nanoseconds-to-milliseconds ratio; for microsecond values that is seconds.
// Readers decode the histogram itself and ignore the column.
func writeHistograms(w io.Writer, r *stats.Results) error {
	startMs := r.Started.UnixMilli()
	endMs := startMs + r.Elapsed.Milliseconds()
	baseMs := floorSecond(startMs)

	lw := hdrhistogram.NewHistogramLogWriter(w)
	lw.SetBaseTime(baseMs)
	header := []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(startMs) },
		func() error { return lw.OutputBaseTime(baseMs) },
		func() error {
			return lw.OutputComment("[wsstorm: values in microseconds; one interval per metric, tagged with its name]")
		},
		lw.OutputLegend,
	}
	for _, out := range header {
		if err := out(); err != nil {
			return err
		}
	}
	interval := func(src *hdrhistogram.Histogram, tag string) error {
		// A copy: the tag and times must not leak into the caller's histograms.
		var h *hdrhistogram.Histogram
		if src != nil {
			h = src.Clone()
		} else {
			h = stats.NewHistogram()
		}
		h.SetTag(tag)
		h.SetStartTimeMs(startMs)
		h.SetEndTimeMs(endMs)
		return lw.OutputIntervalHistogram(h)
	}
	for _, m := range stats.Metrics {
		if err := interval(r.Histogram(m), m.String()); err != nil {
			return err
		}
	}
	for _, e := range r.Events {
		if err := interval(e.ReconnectAt, EventTag(e.Index)); err != nil {
			return err
		}
		if e.DialLag != nil {
			if err := interval(e.DialLag, LagTag(e.Index)); err != nil {
				return err
			}
		}
		if e.CloseAt == nil {
			continue
		}
		if err := interval(e.CloseAt, CloseTag(e.Index)); err != nil {
			return err
		}
	}
	return nil
}

// EventTag is the histograms.hlog tag of chaos event i's reconnect offsets.
func EventTag(i int) string { return fmt.Sprintf("event%d_reconnect_at", i) }

// CloseTag is the histograms.hlog tag of planned chaos event i's close
// offsets: how long after its start each of its clients saw its close.
func CloseTag(i int) string { return fmt.Sprintf("event%d_close_at", i) }

// LagTag is the histograms.hlog tag of chaos event i's dial lag: how late
// the generator started its clients' attempts.
func LagTag(i int) string { return fmt.Sprintf("event%d_dial_lag", i) }

// floorSecond rounds a Unix time in milliseconds down to a whole second.
func floorSecond(ms int64) int64 {
	r := ms % 1000
	if r < 0 {
		r += 1000
	}
	return ms - r
}
