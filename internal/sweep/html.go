package sweep

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"

	"github.com/wsstorm/wsstorm/internal/uplot"
)

// page is what the HTML template renders.
type page struct {
	Title          string
	Facts          []string
	Recommendation string
	Header         []string
	Rows           [][]string
	LibraryCSS     template.CSS
	LibraryJS      template.JS
	Data           template.JS
}

// chart is the scatter's data: one point per setting with a recovery time,
// sorted by peak attempt rate (uPlot wants ascending x).
type chart struct {
	Labels []string   `json:"labels"`
	Names  []string   `json:"names"`  // each point's label on the chart, as sweep.svg's
	X      []float64  `json:"x"`      // peak attempt rate, median
	T99    []float64  `json:"t99"`    // every setting
	Front  []*float64 `json:"front"`  // Pareto front only
	Chosen []*float64 `json:"chosen"` // the recommended setting only
	Limit  float64    `json:"limit"`  // 0: none
}

// WriteHTML writes the sweep as one self-contained page: the recommendation,
// the table and a chart of recovery time (t99) against peak attempt rate,
// one point per setting labelled with it, as on sweep.svg, with the Pareto
// front joined and the limit drawn.
// The charting library is report.html's uPlot (package uplot), inlined;
// the page fetches nothing.
func (s *Sweep) WriteHTML(w io.Writer) error {
	css, js, err := uplot.Library()
	if err != nil {
		return err
	}
	header, rows := s.Rows()
	p := page{
		Title:          s.Title(),
		Facts:          []string{fmt.Sprintf("%d settings × %d repeat(s)", len(s.Settings), s.Repeat), s.limitText()},
		Recommendation: s.Recommendation.Text,
		Header:         header, Rows: rows, LibraryCSS: css, LibraryJS: js,
	}
	if g := s.generatorText(); g != "" {
		p.Facts = append(p.Facts, g)
	}
	if s.Interrupted {
		p.Facts = append(p.Facts, "interrupted: only the finished runs are counted")
	}
	var pts []*Result
	for i := range s.Settings {
		if s.Settings[i].plotted() {
			pts = append(pts, &s.Settings[i])
		}
	}
	slices.SortStableFunc(pts, func(a, b *Result) int {
		return cmp.Compare(a.PeakAttemptRate.Median, b.PeakAttemptRate.Median)
	})
	names := shortLabels(s.Axes)
	c := chart{Labels: []string{}, Names: []string{}, X: []float64{}, T99: []float64{}, Front: []*float64{}, Chosen: []*float64{}, Limit: finite(s.Limit)}
	for _, r := range pts {
		t := finite(r.T99S.Median)
		c.Labels = append(c.Labels, r.Label)
		c.Names = append(c.Names, truncate(names(r.Setting), labelRunes))
		c.X = append(c.X, finite(r.PeakAttemptRate.Median))
		c.T99 = append(c.T99, t)
		var front, chosen *float64
		if r.Pareto {
			front = &t
		}
		if r.Slug != "" && r.Slug == s.Recommendation.Slug {
			chosen = &t
		}
		c.Front = append(c.Front, front)
		c.Chosen = append(c.Chosen, chosen)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sweep: encode the chart's data: %w", err)
	}
	p.Data = template.JS(data)
	t, err := template.New("sweep").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("sweep: page template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return fmt.Errorf("sweep: render the HTML page: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.LibraryCSS}}</style>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.rec { background: #eef6ee; border-left: 4px solid #2a7; padding: 0.5rem 0.75rem; }
#point { min-height: 1.2em; font-size: 0.9rem; color: #555; }
.setting-label { position: absolute; font-size: 11px; white-space: nowrap; pointer-events: none; background: rgba(255, 255, 255, 0.75); padding: 0 2px; }
.setting-label.chosen { font-weight: 600; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<ul>{{range .Facts}}<li>{{.}}</li>{{end}}</ul>
<p class="rec"><strong>Recommendation:</strong> {{.Recommendation}}</p>
<h2>Recovery time against herd</h2>
<p>One point per setting, labelled with it: t99 of the slowest event (median over repeats) against its peak connect attempt rate. The Pareto front (no setting both faster and gentler) is joined; the dashed line is the attempt-rate limit.</p>
<div id="chart"></div>
<div id="point"></div>
<h2>Settings</h2>
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table>
<p>Medians over repeats, spread (min–max) in parentheses.</p>
<script>{{.LibraryJS}}</script>
<script>
(function () {
  var d = {{.Data}};
  var el = document.getElementById("chart");
  if (!d.x.length) { el.textContent = "No setting has a recovery time to plot."; return; }
  var point = document.getElementById("point");
  // Each point's setting, as text over the plot: right of the point and
  // above it, or left of it where it would pass the plot's right edge, and
  // kept inside the plot. Moved on every draw, so a resize keeps them.
  var names = [];
  var placeNames = function (u) {
    if (!names.length) {
      d.names.forEach(function (n, i) {
        var s = document.createElement("span");
        s.className = "setting-label" + (d.chosen[i] != null ? " chosen" : "");
        s.textContent = n;
        u.over.appendChild(s);
        names.push(s);
      });
    }
    var w = u.over.clientWidth, h = u.over.clientHeight;
    names.forEach(function (s, i) {
      var x = u.valToPos(d.x[i], "x"), y = u.valToPos(d.t99[i], "y");
      var gap = d.chosen[i] != null ? 11 : 8;
      var left = x + gap;
      if (left + s.offsetWidth > w) left = x - gap - s.offsetWidth;
      s.style.left = Math.max(0, Math.min(left, w - s.offsetWidth)) + "px";
      s.style.top = Math.max(0, Math.min(y - 6 - s.offsetHeight, h - s.offsetHeight)) + "px";
    });
  };
  var limitLine = function (u) {
    if (!d.limit) return;
    var x = Math.round(u.valToPos(d.limit, "x", true));
    var ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#c33"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    ctx.restore();
  };
  var xmax = Math.max.apply(null, d.x.concat([d.limit || 0])) * 1.1 || 1;
  new uPlot({
    width: Math.min(900, window.innerWidth - 40), height: 400,
    scales: { x: { time: false, range: [0, xmax] }, y: { range: function (u, lo, hi) { return [0, hi * 1.1 || 1]; } } },
    axes: [{ label: "peak attempts/s" }, { label: "t99 (s)" }],
    series: [
      { label: "peak attempts/s" },
      { label: "settings", stroke: "#36c", paths: function () { return null; }, points: { show: true, size: 8 } },
      { label: "Pareto front", stroke: "#2a7", width: 2, spanGaps: true, points: { show: true, size: 10 } },
      { label: "recommended", stroke: "#c33", paths: function () { return null; }, points: { show: true, size: 16, width: 3, fill: "transparent" } }
    ],
    hooks: {
      draw: [limitLine, placeNames],
      setCursor: [function (u) {
        var i = u.cursor.idx;
        point.textContent = i == null ? "" : d.labels[i] + ": t99 " + d.t99[i] + "s, peak " + d.x[i] + " attempts/s";
      }]
    }
  }, [d.x, d.t99, d.front, d.chosen], el);
})();
</script>
<script>
// In a script of its own, so that it runs even if the chart's failed: a
// browser test waits for it.
document.body.dataset.rendered = "true";
</script>
</body>
</html>
`
