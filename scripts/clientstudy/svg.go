package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The chart's geometry, in pixels: the plot, then the legend on its right.
const (
	chartWidth  = 760
	chartHeight = 420
	plotLeft    = 58
	plotRight   = 560
	plotTop     = 48
	plotBottom  = 360
	legendLeft  = 578
)

// Line colours (Okabe–Ito, with grey and brown for the yellow that white
// hides), then dash patterns, so that lines that coincide (two libraries
// that come back at once) stay told apart.
var (
	lineColors = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#222222", "#8c564b"}
	lineDashes = []string{"", "6 3", "2 2", "8 3 2 3"}
)

// writeSVG draws the curves against a log time axis from curveFrom to the
// first 1, 2 or 5 × 10^k s by which every curve has come back. Reconnects
// sooner than curveFrom count at the left edge. The same curves always
// give the same bytes.
func writeSVG(w io.Writer, title string, curves []curve) error {
	end := 1.0
	for _, c := range curves {
		end = max(end, c.last)
	}
	end = roundUp(end)
	lo, hi := math.Log10(curveFrom), math.Log10(end)
	xOf := func(t float64) float64 {
		return plotLeft + (math.Log10(max(t, curveFrom))-lo)/(hi-lo)*(plotRight-plotLeft)
	}
	yOf := func(share float64) float64 { return plotBottom - share*(plotBottom-plotTop) }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" font-size="11" fill="#222">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", chartWidth, chartHeight)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="600">%s</text>`+"\n", plotLeft-34, esc(title))
	writeAxes(&b, xOf, yOf, end)
	for i, c := range curves {
		pts := make([]string, 0, len(c.at))
		for j, t := range c.at {
			if t > end*1.0001 {
				break
			}
			pts = append(pts, num(xOf(t))+","+num(yOf(c.share[j])))
		}
		color, dash := lineColors[i%len(lineColors)], lineDashes[i/2%len(lineDashes)]
		dashAttr := ""
		if dash != "" {
			dashAttr = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s><title>%s</title></polyline>`+"\n",
			strings.Join(pts, " "), color, dashAttr, esc(c.name))
		y := plotTop + 8 + i*20
		fmt.Fprintf(&b, `<path d="M%d %dH%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d">%s</text>`+"\n",
			legendLeft, y, legendLeft+24, color, dashAttr, legendLeft+30, y+4, esc(c.name))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeAxes draws the grid, the ticks (each decade of time, every 20 % of
// share) and the axes' names.
func writeAxes(b *bytes.Buffer, xOf, yOf func(float64) float64, end float64) {
	var xTicks []float64
	for t := curveFrom; t <= end*1.0001; t *= 10 {
		xTicks = append(xTicks, t)
	}
	// The axis's end is labelled too, unless it would crowd the last
	// decade's label.
	if last := xTicks[len(xTicks)-1]; end > last*1.0001 && xOf(end)-xOf(last) > 40 {
		xTicks = append(xTicks, end)
	}
	b.WriteString(`<g stroke="#e5e5e5" stroke-width="1">` + "\n")
	for _, t := range xTicks {
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", num(xOf(t)), plotTop, num(xOf(t)), plotBottom)
	}
	for s := 0; s <= 100; s += 20 {
		y := num(yOf(float64(s) / 100))
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft, y, plotRight, y)
	}
	b.WriteString("</g>\n<g fill=\"#555\">\n")
	for _, t := range xTicks {
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", num(xOf(t)), plotBottom+16, duration(t))
	}
	for s := 0; s <= 100; s += 20 {
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end">%d %%</text>`+"\n", plotLeft-6, num(yOf(float64(s)/100)+4), s)
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<path d="M%d %dV%dH%d" fill="none" stroke="#555"/>`+"\n", plotLeft, plotTop, plotBottom, plotRight)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="12">time since the node's restart (log scale; sooner than 1 ms at the left edge)</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+38)
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(-90)" text-anchor="middle" font-size="12">its clients back</text>`+"\n", plotLeft-44, (plotTop+plotBottom)/2)
}

// roundUp returns the first of 1, 2 and 5 × 10^k at or above v > 0.
func roundUp(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v*0.9999 {
			return m * p
		}
	}
	return 10 * p
}

// duration labels a tick: ms under a second, else s.
func duration(t float64) string {
	if t < 1 {
		return strconv.FormatFloat(math.Round(t*1000), 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(t, 'f', -1, 64) + " s"
}

// num formats a coordinate to a tenth of a pixel.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // not -0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc escapes s for an XML element's content.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
