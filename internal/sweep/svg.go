package sweep

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SVGFile is the chart of sweep.html as a static image.
const SVGFile = "sweep.svg"

// The SVG chart's geometry, in pixels: the plot area is inside the margins.
const (
	svgWidth   = 640
	svgEdge    = 24  // where the title, the legend and the note start
	svgHeight  = 420 // without the note under the chart
	svgLeft    = 64
	svgRight   = svgWidth - svgEdge
	svgTop     = 58
	svgBottom  = svgHeight - 62
	noteLine   = 15 // height of a line of the note
	noteRunes  = 100
	noteLines  = 4 // at most; the rest is counted
	labelRunes = 28
	titleRunes = 80
)

// Colours, as on sweep.html.
const (
	colorSetting     = "#36c"
	colorFront       = "#2a7"
	colorRecommended = "#c33"
	colorAxis        = "#555"
	colorGrid        = "#e5e5e5"
)

// WriteSVG writes sweep.html's chart as a self-contained SVG image, for
// pages where scripts do not run (docs, pull requests): recovery time (t99)
// against peak attempt rate, one labelled point per setting, the Pareto
// front joined, the recommended setting ringed and the limit dashed.
// Settings without a t99 are listed under the chart. The same sweep always
// gives the same bytes.
func (s *Sweep) WriteSVG(w io.Writer) error {
	var pts, missing []*Result
	for i := range s.Settings {
		if s.Settings[i].plotted() {
			pts = append(pts, &s.Settings[i])
		} else {
			missing = append(missing, &s.Settings[i])
		}
	}
	slices.SortStableFunc(pts, func(a, b *Result) int {
		return cmp.Compare(bounded(a.PeakAttemptRate.Median), bounded(b.PeakAttemptRate.Median))
	})
	labels := shortLabels(s.Axes)
	note := missingNote(missing, labels)
	height := svgHeight
	if len(note) > 0 {
		height += len(note)*noteLine + 6
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" font-size="11" fill="#222">`+"\n",
		svgWidth, height, svgWidth, height)
	title := s.Title()
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", svgWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="600">%s</text>`+"\n", svgEdge, esc(truncate(title, titleRunes)))
	writeLegend(&b, s.Recommendation.Slug != "", s.Limit > 0)

	if len(pts) == 0 {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`+"\n",
			svgLeft, svgTop, svgRight-svgLeft, svgBottom-svgTop, colorGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" fill="%s">No setting has a recovery time to plot.</text>`+"\n",
			(svgLeft+svgRight)/2, (svgTop+svgBottom)/2, colorAxis)
	} else {
		s.writePlot(&b, pts, labels)
	}

	for i, line := range note {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", svgEdge, svgHeight+(i+1)*noteLine, colorAxis, esc(line))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writePlot draws the axes, the limit, the Pareto front and the points,
// pts sorted by peak attempt rate.
func (s *Sweep) writePlot(b *bytes.Buffer, pts []*Result, labels func(Setting) string) {
	xLo, xHi, yLo, yHi := 0.0, 0.0, 0.0, 0.0
	for _, r := range pts {
		x, y := bounded(r.PeakAttemptRate.Median), bounded(r.T99S.Median)
		xLo, xHi = min(xLo, x), max(xHi, x)
		yLo, yHi = min(yLo, y), max(yHi, y)
	}
	limit := bounded(s.Limit)
	if limit > 0 {
		xHi = max(xHi, limit)
	}
	// A little headroom, so that no point sits on the plot's edge.
	xTicks, xText := niceTicks(xLo, xHi*1.05)
	yTicks, yText := niceTicks(yLo, yHi*1.05)
	xOf := scale(xTicks[0], xTicks[len(xTicks)-1], svgLeft, svgRight)
	yOf := scale(yTicks[0], yTicks[len(yTicks)-1], svgBottom, svgTop)

	// Grid and ticks.
	b.WriteString(`<g stroke="` + colorGrid + `" stroke-width="1">` + "\n")
	for _, v := range xTicks {
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", num(xOf(v)), svgTop, num(xOf(v)), svgBottom)
	}
	for _, v := range yTicks {
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", svgLeft, num(yOf(v)), svgRight, num(yOf(v)))
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<g fill="%s">`+"\n", colorAxis)
	for _, v := range xTicks {
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", num(xOf(v)), svgBottom+16, xText(v))
	}
	for _, v := range yTicks {
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", svgLeft-6, num(yOf(v)+4), yText(v))
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<path d="M%d %dV%dH%d" fill="none" stroke="%s"/>`+"\n", svgLeft, svgTop, svgBottom, svgRight, colorAxis)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="12">peak attempt rate (attempts/s)</text>`+"\n", (svgLeft+svgRight)/2, svgBottom+40)
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(-90)" text-anchor="middle" font-size="12">recovery t99 (s)</text>`+"\n", svgLeft-46, (svgTop+svgBottom)/2)

	if limit > 0 {
		x := num(xOf(limit))
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n", x, svgTop, x, svgBottom, colorRecommended)
		anchor, dx := "end", -4.0
		if xOf(limit) < svgLeft+80 {
			anchor, dx = "start", 4
		}
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="%s" fill="%s">limit %s/s</text>`+"\n", num(xOf(limit)+dx), svgTop+12, anchor, colorRecommended, rate(limit))
	}

	var front []string
	for _, r := range pts {
		if r.Pareto {
			front = append(front, num(xOf(bounded(r.PeakAttemptRate.Median)))+","+num(yOf(bounded(r.T99S.Median))))
		}
	}
	if len(front) > 1 {
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(front, " "), colorFront)
	}

	for _, r := range pts {
		x, y := xOf(bounded(r.PeakAttemptRate.Median)), yOf(bounded(r.T99S.Median))
		chosen := r.Slug != "" && r.Slug == s.Recommendation.Slug
		color := colorSetting
		if r.Pareto {
			color = colorFront
		}
		b.WriteString(`<g class="setting">`)
		fmt.Fprintf(b, "<title>%s: t99 %s, peak %s attempts/s</title>", esc(cmp.Or(r.Label, r.Setting.Label())), secs(finite(r.T99S.Median)), rate(finite(r.PeakAttemptRate.Median)))
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="4.5" fill="%s"/>`, num(x), num(y), color)
		if chosen {
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="9" fill="none" stroke="%s" stroke-width="2.5"/>`, num(x), num(y), colorRecommended)
		}
		// Right of the point, or left of it near the right edge; clear of
		// the ring.
		gap, weight := 8.0, ""
		if chosen {
			gap, weight = 11, ` font-weight="600"`
		}
		anchor, dx := "start", gap
		if x > svgRight-110 {
			anchor, dx = "end", -gap
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`, num(x+dx), num(y-6), anchor, weight, esc(truncate(labels(r.Setting), labelRunes)))
		b.WriteString("</g>\n")
	}
}

// writeLegend explains the marks in one line under the title: the ring
// and the limit only when drawn.
func writeLegend(b *bytes.Buffer, recommended, limit bool) {
	y := 42
	x := svgEdge
	fmt.Fprintf(b, `<g fill="%s">`, colorAxis)
	fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="4.5" fill="%s"/><text x="%d" y="%d">setting</text>`, x+4, y-4, colorSetting, x+12, y)
	x += 70
	fmt.Fprintf(b, `<path d="M%d %dH%d" stroke="%s" stroke-width="2"/><circle cx="%d" cy="%d" r="4.5" fill="%s"/><text x="%d" y="%d">Pareto front</text>`,
		x, y-4, x+20, colorFront, x+10, y-4, colorFront, x+26, y)
	x += 110
	if recommended {
		fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="7" fill="none" stroke="%s" stroke-width="2"/><text x="%d" y="%d">recommended</text>`, x+7, y-4, colorRecommended, x+19, y)
		x += 110
	}
	if limit {
		fmt.Fprintf(b, `<path d="M%d %dV%d" stroke="%s" stroke-width="1.5" stroke-dasharray="3 2"/><text x="%d" y="%d">attempt-rate limit</text>`, x+4, y-11, y+2, colorRecommended, x+12, y)
	}
	b.WriteString("</g>\n")
}

// missingNote lists the settings that have no point, in at most
// noteLines lines of at most noteRunes runes; the settings that do not fit
// are counted.
func missingNote(missing []*Result, labels func(Setting) string) []string {
	if len(missing) == 0 {
		return nil
	}
	lines := []string{"Not plotted, no t99 (not every client came back, or no run counted):"}
	for i, r := range missing {
		item := truncate(labels(r.Setting), labelRunes)
		if i < len(missing)-1 {
			item += ";"
		}
		room := noteRunes
		if len(lines) == noteLines && i < len(missing)-1 {
			room -= len(" and 999 more")
		}
		last := &lines[len(lines)-1]
		switch {
		case utf8.RuneCountInString(*last)+1+utf8.RuneCountInString(item) <= room:
			*last += " " + item
		case len(lines) == noteLines:
			*last += fmt.Sprintf(" and %d more", len(missing)-i)
			return lines
		default:
			lines = append(lines, item)
		}
	}
	return lines
}

// shortLabels returns a function that names a setting on the chart by the
// last part of each key and its value ("max=1s, strategy=window"), or by
// the whole keys when the last parts of two axes' keys are the same.
func shortLabels(axes []Axis) func(Setting) string {
	seen := map[string]bool{}
	whole := false
	for _, a := range axes {
		k := lastPart(a.Key)
		whole = whole || seen[k]
		seen[k] = true
	}
	return func(st Setting) string {
		parts := make([]string, len(st.Assign))
		for i, a := range st.Assign {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				parts[i] = a
				continue
			}
			if !whole {
				k = lastPart(k)
			}
			parts[i] = k + "=" + v
		}
		return strings.Join(parts, ", ")
	}
}

func lastPart(key string) string {
	if i := strings.LastIndex(key, "."); i >= 0 {
		return key[i+1:]
	}
	return key
}

// niceTicks returns round tick values from at or below lo to at or above
// hi, about five steps of 1, 2 or 5 times a power of ten, and how to label
// them: as many decimals as the step needs, thousands as "2k" when the step
// is. An empty range becomes [lo, lo+1].
func niceTicks(lo, hi float64) ([]float64, func(float64) string) {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	p := math.Pow(10, float64(decimals))
	start, end := math.Floor(lo/step), math.Ceil(hi/step)
	ticks := make([]float64, 0, int(end-start)+1)
	for i := start; i <= end; i++ {
		ticks = append(ticks, math.Round(i*step*p)/p)
	}
	text := func(v float64) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
	if step >= 1000 {
		text = func(v float64) string {
			if v == 0 {
				return "0"
			}
			return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
		}
	}
	return ticks, text
}

// scale maps [lo, hi] onto [from, to] linearly; lo < hi.
func scale(lo, hi, from, to float64) func(float64) float64 {
	return func(v float64) float64 { return from + (v-lo)/(hi-lo)*(to-from) }
}

// bounded keeps a value finite, at most 1e12 and, unless 0, at least 1e-9
// in magnitude, so that no tick or coordinate is NaN or infinite (a
// hand-edited sweep.json can hold anything).
func bounded(v float64) float64 {
	v = max(-1e12, min(1e12, finite(v)))
	if math.Abs(v) < 1e-9 {
		return 0
	}
	return v
}

// num formats a coordinate to a tenth of a pixel.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // not -0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc escapes s for the content of an XML element; characters XML cannot
// hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// truncate cuts s to n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
