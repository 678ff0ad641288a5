package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// maxChartPoints bounds the points of a chart's series, so that a 24-hour
// run's page stays small and quick to draw.
const maxChartPoints = 2000

// chartSection is one chart's place in the page: its heading, what it shows,
// and either the chart (Drawn) or a note saying why there is none.
type chartSection struct {
	ID, Title, About string
	Drawn            bool
	Notes            []string
}

// chartData is what the page's script draws one chart from. Every series
// has one value per x; null is a gap.
type chartData struct {
	ID      string        `json:"id"`
	Kind    string        `json:"kind"` // time: seconds of the run; percentile: x = 1/(1-q), log scale; since: seconds since an event
	YLabel  string        `json:"y_label"`
	YUnit   string        `json:"y_unit"`
	YMax    *float64      `json:"y_max,omitempty"`
	Steps   bool          `json:"steps,omitempty"` // each value holds until the next x, the last x closing the last step (a rate over a bucket); else samples joined by lines
	X       []num         `json:"x"`
	Series  []seriesData  `json:"series"`
	Markers []chartMarker `json:"markers"`
}

type seriesData struct {
	Label  string  `json:"label"`
	Color  string  `json:"color"`
	Width  float64 `json:"width"`
	Fill   string  `json:"fill,omitempty"`
	Dash   bool    `json:"dash,omitempty"`
	Values []num   `json:"values"`
}

// chartMarker is a vertical line at x, e.g. a chaos event's start.
type chartMarker struct {
	X     float64 `json:"x"`
	Label string  `json:"label"`
}

// num is a chart value; NaN is written as null, a gap in the line.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// Colours of the series; the page's CSS uses the same.
const (
	colorConnected = "#2563eb"
	colorAttempts  = "#ea580c"
	colorConnects  = "#16a34a"
	colorFailures  = "#dc2626"
	colorIntended  = "#7c3aed"
)

// chartSource is a result set as the charts read it.
type chartSource struct {
	*results.ResultSet
	rows  int     // the time series' rows
	width float64 // its bucket width, seconds
}

// newChartSource reads rs's time series' length and bucket width once.
func newChartSource(rs *results.ResultSet) *chartSource {
	t := rs.Column("t_s")
	return &chartSource{ResultSet: rs, rows: len(t), width: bucketWidth(t)}
}

// eventMarkers marks each chaos event's start on a chart of the run.
func (r *chartSource) eventMarkers() []chartMarker {
	out := []chartMarker{}
	for i := range r.Summary.Events {
		e := &r.Summary.Events[i]
		out = append(out, chartMarker{X: e.AtS, Label: fmt.Sprintf("#%d %s", e.Index, shortWhat(e))})
	}
	return out
}

// shortWhat is an event's marker label: "rolling_restart node 0",
// "crash node 1", "close 1000", "detected 1012". It names the action, since
// a node's event is no longer always a restart.
func shortWhat(e *results.EventSummary) string {
	switch {
	case e.Action == stats.DetectedAction:
		return e.Action + " " + strconv.Itoa(e.Code)
	case e.Node != nil:
		return e.Action + " node " + strconv.Itoa(*e.Node)
	default:
		return e.Action + " " + strconv.Itoa(e.Code)
	}
}

// connectedChart draws connected clients, and each node's connections when
// the embedded target ran, over the run.
func (r *chartSource) connectedChart() (chartSection, *chartData) {
	sec := chartSection{ID: "connected", Title: "Connected clients",
		About: "Clients holding an open connection at the end of each 100 ms bucket, and each node's connections when the embedded target ran (sampled once in each bucket, so a node's line can trail the clients' by up to 100 ms); dashed lines mark the chaos events."}
	if r.rows == 0 || r.Column("connected") == nil {
		sec.Notes = append(sec.Notes, "timeseries.csv has no rows: the run ended before its first 100 ms bucket.")
		return sec, nil
	}
	group := groupSize(r.rows)
	c := &chartData{ID: sec.ID, Kind: "time", YLabel: "connections", Markers: r.eventMarkers()}
	// A bucket's connected count is the count at its end, so each value is
	// placed at its bucket's end: a close at 4.0 s shows as a fall from
	// 4.0 s to 4.1 s, not before. A node's count, sampled at some moment in
	// the bucket, goes there too: never before the bucket it was seen in.
	c.X = downsample(r.bucketEnds(), group, last)
	// Levels keep each group's lowest value, so a dip is never hidden.
	c.Series = append(c.Series, seriesData{Label: "connected", Color: colorConnected, Width: 2, Fill: colorConnected + "1a",
		Values: downsample(r.Column("connected"), group, minOf)})
	var nodes []string
	for _, name := range r.Columns() {
		if strings.HasPrefix(name, "node") && strings.HasSuffix(name, "_conns") {
			nodes = append(nodes, name)
		}
	}
	colors := distinctColors(len(nodes))
	for i, name := range nodes {
		c.Series = append(c.Series, seriesData{Label: strings.TrimSuffix(name, "_conns"), Color: colors[i], Width: 1,
			Values: downsample(r.Column(name), group, minOf)})
	}
	if group > 1 {
		sec.Notes = append(sec.Notes, fmt.Sprintf("%d buckets shown as %d points: each point is the lowest value over %s, so no dip is hidden.",
			r.rows, len(c.X), secondsText(float64(group)*r.width)))
	}
	return sec, c
}

// herdChart draws connect attempts, connects and failures per second, and
// the attempts the clients intended when timeseries.csv has them.
func (r *chartSource) herdChart() (chartSection, *chartData) {
	sec := chartSection{ID: "herd", Title: "The herd: connect attempts per second",
		About: "Connect attempts, successful connects and failed attempts per second, in 100 ms buckets, and, dashed, the attempts the clients intended, placed by when each client meant to start it (its ramp slot, the end of its backoff; retries after failures left out). Where the attempts trail the intended line, wsstorm itself held the herd back (see dial lag in the latency table). Dashed vertical lines mark the chaos events."}
	if r.rows == 0 || r.Column("attempts") == nil {
		sec.Notes = append(sec.Notes, "timeseries.csv has no rows: the run ended before its first 100 ms bucket.")
		return sec, nil
	}
	group := groupSize(r.rows)
	perSecond := 1 / r.width
	rate := func(col []float64) []num {
		out := downsample(col, group, maxOf) // peaks stay visible
		for i, v := range out {
			out[i] = num(math.Round(float64(v)*perSecond*1000) / 1000)
		}
		return out
	}
	// A rate is over its whole bucket: a step from the bucket's start to its
	// end, the last x closing the last bucket.
	c := &chartData{ID: sec.ID, Kind: "time", YLabel: "per second", YUnit: "/s", Markers: r.eventMarkers(), Steps: true}
	ends := r.bucketEnds()
	c.X = append(downsample(r.Column("t_s"), group, first), num(ends[len(ends)-1]))
	c.Series = []seriesData{
		{Label: "attempts/s", Color: colorAttempts, Width: 2, Fill: colorAttempts + "24", Values: rate(r.Column("attempts"))},
		{Label: "connects/s", Color: colorConnects, Width: 1.5, Values: rate(r.Column("connects"))},
		{Label: "failures/s", Color: colorFailures, Width: 1.5, Values: rate(r.Column("failures"))},
	}
	if intended := r.Column(results.IntendedColumn); intended != nil {
		// Dashed and last, so it is drawn over the attempts it often equals.
		c.Series = append(c.Series, seriesData{Label: "intended attempts/s", Color: colorIntended, Width: 1.5, Dash: true, Values: rate(intended)})
	} else {
		sec.Notes = append(sec.Notes, "timeseries.csv has no "+results.IntendedColumn+" column (results of an older wsstorm): the intended attempts are not drawn.")
	}
	for i := range c.Series {
		v := c.Series[i].Values
		c.Series[i].Values = append(v, v[len(v)-1])
	}
	if group > 1 {
		sec.Notes = append(sec.Notes, fmt.Sprintf("%d buckets shown as %d steps: each step is the highest rate over %s, so no peak is hidden.",
			r.rows, len(c.X)-1, secondsText(float64(group)*r.width)))
	}
	return sec, c
}

// latencyChart draws the reconnect and recovery latency distributions the
// HdrHistogram way: latency against percentile, the percentile on a log
// scale of 1/(1-q), so the tail gets as much room as the median.
func (r *chartSource) latencyChart() (chartSection, *chartData) {
	sec := chartSection{ID: "latency", Title: "Reconnect and recovery latency by percentile",
		About: "Reconnect: a close seen by a client → its next handshake. Recovery: the close → the first message on the new connection. The percentile axis is logarithmic (HdrHistogram style): each step right is ten times rarer."}
	var hs []*hdrhistogram.Histogram
	var names []string
	for _, m := range []stats.Metric{stats.Reconnect, stats.Recovery} {
		h := r.Histogram(m.String())
		if h == nil || h.TotalCount() == 0 {
			sec.Notes = append(sec.Notes, fmt.Sprintf("No %s latency was recorded.", m))
			continue
		}
		hs = append(hs, h)
		names = append(names, m.String())
	}
	if len(hs) == 0 {
		sec.Notes = []string{"No reconnect or recovery latency was recorded: no client came back after a close."}
		return sec, nil
	}
	x, ys := percentileCurves(hs)
	c := &chartData{ID: sec.ID, Kind: "percentile", YLabel: "latency (ms)", YUnit: " ms", X: x, Markers: []chartMarker{}}
	same := len(ys) == 2 && coincide(ys[0], ys[1])
	for i := range hs {
		s := seriesData{Label: names[i], Color: colorConnected, Width: 3, Values: ys[i]}
		if names[i] == stats.Recovery.String() {
			// Dashed and on top: recovery often equals reconnect, and would
			// hide it drawn solid.
			s.Color, s.Width, s.Dash = colorAttempts, 2, true
			if same {
				s.Label = "recovery (coincides with reconnect)"
			}
		}
		c.Series = append(c.Series, s)
	}
	if same {
		sec.Notes = append(sec.Notes, "Recovery coincides with reconnect: at every percentile the two differ by less than a line's width here, "+
			"as when the target's first message comes with the handshake (the embedded target's welcome). The dashed recovery line lies on the reconnect line.")
	}
	return sec, c
}

// coincide reports whether two curves over the same x would be drawn one
// on the other: gaps in the same places, and values nowhere apart by more
// than half a percent of the larger curve's highest value (about a line's
// width on a chart 320 px high).
func coincide(a, b []num) bool {
	top := 0.0
	for i := range a {
		for _, v := range []num{a[i], b[i]} {
			if !math.IsNaN(float64(v)) {
				top = max(top, float64(v))
			}
		}
	}
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) != math.IsNaN(y) || math.Abs(x-y) > 0.005*top {
			return false
		}
	}
	return true
}

// percentileCurves samples each histogram at percentiles q = 1 - 2^(-k/5)
// (five steps per halving of the remaining share, as HdrHistogram's
// percentile output does) up to its last value, which is its maximum. The x
// values are 1/(1-q); the curves share them, and a curve ends (null) where
// its histogram has no finer percentile. Values are in milliseconds.
func percentileCurves(hs []*hdrhistogram.Histogram) ([]num, [][]num) {
	const ticksPerHalf = 5
	var maxCount int64
	ends := map[float64]bool{}
	for _, h := range hs {
		maxCount = max(maxCount, h.TotalCount())
		ends[float64(h.TotalCount())] = true
	}
	grid := map[float64]bool{}
	for k := 0; ; k++ {
		x := math.Pow(2, float64(k)/ticksPerHalf)
		if x >= float64(maxCount) {
			break
		}
		grid[x] = true
	}
	maps.Copy(grid, ends)
	xs := slices.Sorted(maps.Keys(grid))
	ys := make([][]num, len(hs))
	for i, h := range hs {
		n := float64(h.TotalCount())
		ys[i] = make([]num, len(xs))
		for j, x := range xs {
			switch {
			case x > n:
				ys[i][j] = num(math.NaN())
			case x == n:
				ys[i][j] = num(results.MicrosToMillis(h.Max()))
			default:
				ys[i][j] = num(results.MicrosToMillis(h.ValueAtQuantile(100 * (1 - 1/x))))
			}
		}
	}
	out := make([]num, len(xs))
	for i, x := range xs {
		out[i] = num(x)
	}
	return out, ys
}

// recoveryPoints is the resolution of the recovery curves.
const recoveryPoints = 1000

// recoveryChart draws, for each chaos event whose clients came back, the
// share of its affected clients back against the time since the event
// started. A curve that stays below 100% is clients that never came back.
func (r *chartSource) recoveryChart() (chartSection, *chartData) {
	sec := chartSection{ID: "recovery", Title: "Recovery after each chaos event",
		About: "Share of each event's affected clients that had reconnected, by time since the event started. A curve that levels off below 100% is clients that never came back."}
	type curve struct {
		e     *results.EventSummary
		h     *hdrhistogram.Histogram
		color string
	}
	var curves []curve
	var tMax int64
	colors := distinctColors(len(r.Summary.Events))
	for i := range r.Summary.Events {
		e := &r.Summary.Events[i]
		h := r.Histogram(results.EventTag(e.Index))
		switch {
		case e.Affected == 0:
			sec.Notes = append(sec.Notes, fmt.Sprintf("#%d %s: no client was connected to it.", e.Index, eventWhat(e)))
		case h == nil:
			sec.Notes = append(sec.Notes, fmt.Sprintf("#%d %s: histograms.hlog has no recovery data for it (a results directory of an older wsstorm).", e.Index, eventWhat(e)))
		case h.TotalCount() == 0 && !e.ReconnectExpected:
			sec.Notes = append(sec.Notes, fmt.Sprintf("#%d %s (code %d): none of its %d clients came back, as the close-code policy says for %d.", e.Index, eventWhat(e), e.Code, e.Affected, e.Code))
		case h.TotalCount() == 0:
			sec.Notes = append(sec.Notes, fmt.Sprintf("#%d %s (code %d): none of its %d clients came back.", e.Index, eventWhat(e), e.Code, e.Affected))
		default:
			curves = append(curves, curve{e, h, colors[len(curves)]})
			tMax = max(tMax, h.Max())
		}
	}
	if len(curves) == 0 {
		if len(r.Summary.Events) == 0 {
			sec.Notes = []string{"The run had no chaos events."}
		}
		return sec, nil
	}
	// A little beyond the last reconnect, so that the plateau shows.
	end := float64(tMax) * 1.05
	c := &chartData{ID: sec.ID, Kind: "since", YLabel: "affected clients back (%)", YUnit: "%", Markers: []chartMarker{}}
	hundred := 100.0
	c.YMax = &hundred
	c.X = make([]num, recoveryPoints)
	for j := range c.X {
		c.X[j] = num(math.Round(end*float64(j)/(recoveryPoints-1)) / 1e6)
	}
	for _, cv := range curves {
		values := make([]num, recoveryPoints)
		bars := cv.h.Distribution()
		var back int64
		k := 0
		for j := range values {
			t := end * float64(j) / (recoveryPoints - 1)
			// A client counts as back once t reaches the highest value its
			// bucket stands for, so the curve never runs ahead of the data.
			for k < len(bars) && float64(bars[k].To) <= t {
				back += bars[k].Count
				k++
			}
			values[j] = num(math.Round(1000*100*float64(back)/float64(cv.e.Affected)) / 1000)
		}
		c.Series = append(c.Series, seriesData{
			Label: fmt.Sprintf("#%d %s (%d affected)", cv.e.Index, eventWhat(cv.e), cv.e.Affected),
			Color: cv.color, Width: 2, Values: values,
		})
	}
	return sec, c
}

// bucketWidth is the bucket width in seconds of a series whose buckets
// start at t: the smallest step between rows, 0.1 s when there are too few
// rows to tell.
func bucketWidth(t []float64) float64 {
	w := math.Inf(1)
	for i := 1; i < len(t); i++ {
		if d := t[i] - t[i-1]; d > 1e-9 && d < w {
			w = d
		}
	}
	if math.IsInf(w, 1) {
		return 0.1
	}
	return math.Round(w*1000) / 1000
}

// bucketEnds is where each row's bucket ends, in seconds: its start plus
// the bucket width, and for the last the end of the run when that comes
// sooner (the series is cut there).
func (r *chartSource) bucketEnds() []float64 {
	starts := r.Column("t_s")
	w := r.width
	ends := make([]float64, len(starts))
	for i, t := range starts {
		ends[i] = math.Round((t+w)*1000) / 1000
	}
	if n := len(ends); n > 0 {
		if d := r.Summary.DurationS; d > starts[n-1] && d < ends[n-1] {
			ends[n-1] = d
		}
	}
	return ends
}

// groupSize is how many rows one point of a chart stands for, so that a
// chart has at most maxChartPoints points.
func groupSize(rows int) int { return max(1, (rows+maxChartPoints-1)/maxChartPoints) }

// downsample reduces values to one per group of rows with agg; NaN cells
// are skipped, and a group of only NaN is NaN.
func downsample(values []float64, group int, agg func(a, b float64) float64) []num {
	out := make([]num, 0, (len(values)+group-1)/group)
	for i := 0; i < len(values); i += group {
		v := math.NaN()
		for _, x := range values[i:min(i+group, len(values))] {
			switch {
			case math.IsNaN(x):
			case math.IsNaN(v):
				v = x
			default:
				v = agg(v, x)
			}
		}
		out = append(out, num(v))
	}
	return out
}

func first(a, _ float64) float64 { return a }
func last(_, b float64) float64  { return b }
func minOf(a, b float64) float64 { return math.Min(a, b) }
func maxOf(a, b float64) float64 { return math.Max(a, b) }

func secondsText(s float64) string {
	return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64) + " s"
}
