package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// herd is a run's figures for the study, taken over its events whose
// clients the library brings back, as `wsstorm sweep` takes them: the
// highest peak attempt rate and herd factor, the slowest t99 (nil when an
// event never reached it), the run's 503s (the ramp's included), the
// clients that gave up after the library's attempt limit, and those the
// library stopped for a reason of its own (counters.protocol_stops: a
// fatal close code, graphql-ws's refused connect, SignalR's failed start).
type herd struct {
	peak, factor float64
	// oneBucket: an event with the highest herd factor had every client
	// back within one time-series bucket of its restart, so its mean rate
	// is taken over that one bucket and the factor is 1 (or less) because
	// the whole herd came at once, not because it was spread.
	oneBucket bool
	t99       *float64
	refused   int64 // attempts refused with 503
	gaveUp    int64
	stopped   int64
	connected int64 // the most clients connected at once
	never     int64 // the events' clients still away when the run ended
	affected  int64 // the clients the events closed, summed over the events
	limited   bool  // the generator shaped the run
}

func figures(s *results.Summary) herd {
	h := herd{
		refused:   s.Counters.ConnectFailures["http_503"],
		gaveUp:    s.Counters.GaveUp,
		connected: s.PeakConnected,
		limited:   s.GeneratorLimited != nil,
	}
	for _, n := range s.Counters.ProtocolStops {
		h.stopped += n
	}
	width := stats.DefaultBucketWidth.Seconds()
	first := true
	for _, e := range s.Events {
		if !e.ReconnectExpected {
			continue
		}
		h.peak = max(h.peak, e.PeakAttemptRate)
		oneBucket := e.T100S != nil && *e.T100S <= width
		switch {
		case e.HerdFactor > h.factor:
			h.factor, h.oneBucket = e.HerdFactor, oneBucket
		case e.HerdFactor == h.factor:
			h.oneBucket = h.oneBucket || oneBucket
		}
		h.never += e.NeverReconnected
		h.affected += e.Affected
		switch {
		case e.T99S == nil:
			h.t99, first = nil, false
		case first || (h.t99 != nil && *e.T99S > *h.t99):
			t := *e.T99S
			h.t99, first = &t, false
		}
	}
	return h
}

// oneBucketMark follows a herd factor of a whole herd inside one bucket;
// oneBucketNote, printed under a table that has one, says what it means.
const (
	oneBucketMark = "‡"
	oneBucketNote = "‡ the whole restart came back inside one 100 ms bucket, so its peak is its mean: a factor of 1.0 here is the sharpest herd, not none."
)

// The columns of the table, each with a cell per results directory.
var columns = []struct {
	head string
	cell func(herd) string
}{
	{"peak attempts/s", func(h herd) string { return count(h.peak) }},
	{"herd factor", func(h herd) string {
		f := strconv.FormatFloat(h.factor, 'f', 1, 64)
		if h.oneBucket {
			f += oneBucketMark
		}
		return f
	}},
	{"t99", func(h herd) string { return seconds(h.t99) }},
	{"503s", func(h herd) string { return count(float64(h.refused)) }},
	{"gave up", func(h herd) string { return count(float64(h.gaveUp)) }},
	{"stopped", func(h herd) string { return count(float64(h.stopped)) }},
	{"peak connected", func(h herd) string { return count(float64(h.connected)) }},
	{"still away, of closed", func(h herd) string {
		return count(float64(h.never)) + " of " + count(float64(h.affected))
	}},
}

// writeTable writes one markdown row per library, each cell the figures of
// its directories joined by " · "; a run the generator shaped is marked †.
// Under the table, a note explains the mark of a one-bucket herd factor
// when a cell has it.
func writeTable(w io.Writer, libs []library) error {
	var b strings.Builder
	b.WriteString("| library |")
	for _, c := range columns {
		b.WriteString(" " + c.head + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("--:|", len(columns)))
	b.WriteString("\n")
	marked := false
	for _, lib := range libs {
		hs := make([]herd, len(lib.sets))
		for i, rs := range lib.sets {
			hs[i] = figures(rs.Summary)
			marked = marked || hs[i].oneBucket
		}
		fmt.Fprintf(&b, "| `%s` |", lib.name)
		for _, c := range columns {
			cells := make([]string, len(hs))
			for i, h := range hs {
				cells[i] = c.cell(h)
				if h.limited {
					cells[i] += "†"
				}
			}
			b.WriteString(" " + strings.Join(cells, " · ") + " |")
		}
		b.WriteString("\n")
	}
	if marked {
		b.WriteString("\n" + oneBucketNote + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// count writes a whole number with thousands separated by commas.
func count(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// seconds writes a time in s, as ms under one second; "–" when none.
func seconds(v *float64) string {
	switch {
	case v == nil:
		return "–"
	case *v < 1:
		return strconv.FormatFloat(*v*1000, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + " s"
}
