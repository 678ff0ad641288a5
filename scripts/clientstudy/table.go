package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
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
	t99          *float64
	refused      int64 // attempts refused with 503
	gaveUp       int64
	stopped      int64
	never        int64 // the events' clients that never came back, given up or stopped
	limited      bool  // the generator shaped the run
	simulated    bool
}

func figures(s *results.Summary) herd {
	h := herd{
		refused:   s.Counters.ConnectFailures["http_503"],
		gaveUp:    s.Counters.GaveUp,
		limited:   s.GeneratorLimited != nil,
		simulated: s.Simulated != nil,
	}
	for _, n := range s.Counters.ProtocolStops {
		h.stopped += n
	}
	first := true
	for _, e := range s.Events {
		if !e.ReconnectExpected {
			continue
		}
		h.peak = max(h.peak, e.PeakAttemptRate)
		h.factor = max(h.factor, e.HerdFactor)
		h.never += e.NeverReconnected
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

// The columns of the table, each with a cell per results directory.
var columns = []struct {
	head string
	cell func(herd) string
}{
	{"peak attempts/s", func(h herd) string { return count(h.peak) }},
	{"herd factor", func(h herd) string { return strconv.FormatFloat(h.factor, 'f', 1, 64) }},
	{"t99", func(h herd) string { return seconds(h.t99) }},
	{"503s", func(h herd) string { return count(float64(h.refused)) }},
	{"gave up", func(h herd) string { return count(float64(h.gaveUp)) }},
	{"stopped", func(h herd) string { return count(float64(h.stopped)) }},
}

// writeTable writes one markdown row per library, each cell the figures of
// its directories joined by " · "; a run the generator shaped is marked †.
func writeTable(w io.Writer, libs []library) error {
	var b strings.Builder
	b.WriteString("| library |")
	for _, c := range columns {
		b.WriteString(" " + c.head + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("--:|", len(columns)))
	b.WriteString("\n")
	for _, lib := range libs {
		hs := make([]herd, len(lib.sets))
		for i, rs := range lib.sets {
			hs[i] = figures(rs.Summary)
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
