package sweep

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is the part of the SVG the tests read.
type svgDoc struct {
	XMLName  xml.Name `xml:"svg"`
	Title    string   `xml:"title"`
	Settings []struct {
		Title   string `xml:"title"`
		Circles []struct {
			CX string `xml:"cx,attr"`
			CY string `xml:"cy,attr"`
		} `xml:"circle"`
		Label string `xml:"text"`
	} `xml:"g"`
	Polylines []struct {
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
	Texts []string `xml:"text"`
}

// renderSVG renders sw and checks what every SVG must be: well-formed XML
// from start to end, and free of NaN and infinities.
func renderSVG(t *testing.T, sw *Sweep) (string, svgDoc) {
	t.Helper()
	var b bytes.Buffer
	if err := sw.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	dec := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
	}
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(out, bad) {
			t.Errorf("the SVG holds %q:\n%s", bad, out)
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := sw.WriteSVG(&again); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Errorf("a second rendering differs (err %v)", err)
	}
	return out, doc
}

// finished builds a sweep from synthetic settings and finishes it.
func finished(limit float64, pts ...[3]float64) *Sweep {
	sw := &Sweep{Repeat: 1, Limit: limit, LimitSource: "[sweep] max_attempt_rate", Settings: synthetic(limit, pts...),
		Axes: []Axis{{Key: "fleet.reconnect.k"}}}
	for i := range sw.Settings {
		sw.Settings[i].Assign[0] = "fleet.reconnect." + sw.Settings[i].Assign[0]
	}
	sw.Profile.Name = "window-sweep"
	sw.Finish()
	return sw
}

// points returns each plotted setting's tooltip and the centre of its dot.
func points(t *testing.T, doc svgDoc) map[string][2]float64 {
	t.Helper()
	out := map[string][2]float64{}
	for _, g := range doc.Settings {
		if g.Title == "" {
			continue // the legend
		}
		if len(g.Circles) == 0 {
			t.Fatalf("setting %q has no dot", g.Title)
		}
		x, errX := strconv.ParseFloat(g.Circles[0].CX, 64)
		y, errY := strconv.ParseFloat(g.Circles[0].CY, 64)
		if errX != nil || errY != nil {
			t.Fatalf("setting %q: dot at %q,%q", g.Title, g.Circles[0].CX, g.Circles[0].CY)
		}
		label, _, _ := strings.Cut(g.Title, ":")
		out[label] = [2]float64{x, y}
	}
	return out
}

func TestSVGPlacesPoints(t *testing.T) {
	sw := finished(600,
		[3]float64{1, 1000, 0},   // k=a: front, over the limit
		[3]float64{4, 100, 0},    // k=b: front
		[3]float64{2, 500, 0},    // k=c: front, recommended
		[3]float64{3, 600, 0},    // k=d: dominated by c
		[3]float64{0.5, 300, 40}, // k=e: never reconnected some: plotted, off the front
	)
	out, doc := renderSVG(t, sw)
	pts := points(t, doc)
	if len(pts) != 5 {
		t.Fatalf("%d points, want 5: %v", len(pts), pts)
	}
	peak := map[string]float64{}
	t99 := map[string]float64{}
	for _, r := range sw.Settings {
		peak[r.Label], t99[r.Label] = r.PeakAttemptRate.Median, r.T99S.Median
	}
	for a := range pts {
		for b := range pts {
			if peak[a] > peak[b] && !(pts[a][0] > pts[b][0]) {
				t.Errorf("%s (peak %v) is at x %v, not right of %s (peak %v) at x %v", a, peak[a], pts[a][0], b, peak[b], pts[b][0])
			}
			// SVG's y grows downwards: a slower recovery is higher up.
			if t99[a] > t99[b] && !(pts[a][1] < pts[b][1]) {
				t.Errorf("%s (t99 %v) is at y %v, not above %s (t99 %v) at y %v", a, t99[a], pts[a][1], b, t99[b], pts[b][1])
			}
		}
	}
	for _, want := range []string{
		"peak attempt rate (attempts/s)", "recovery t99 (s)", "limit 600/s", "wsstorm sweep: window-sweep",
		`stroke-dasharray="6 4"`, // the limit
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if len(doc.Polylines) != 1 || strings.Count(doc.Polylines[0].Points, ",") != 3 {
		t.Errorf("Pareto front %+v, want one line through 3 points", doc.Polylines)
	}
	// The front joins its points from the lowest peak to the highest.
	var xs []float64
	for _, p := range strings.Fields(doc.Polylines[0].Points) {
		x, _, _ := strings.Cut(p, ",")
		v, _ := strconv.ParseFloat(x, 64)
		xs = append(xs, v)
	}
	if !(xs[0] < xs[1] && xs[1] < xs[2]) || xs[0] != pts["fleet.reconnect.k=b"][0] || xs[2] != pts["fleet.reconnect.k=a"][0] {
		t.Errorf("front at x %v; points %v", xs, pts)
	}
	// Only the recommended setting is ringed; its label says which it is.
	var ringed []string
	for _, g := range doc.Settings {
		if len(g.Circles) == 2 && g.Title != "" {
			ringed = append(ringed, g.Label)
		}
	}
	if sw.Recommendation.Label != "fleet.reconnect.k=c" || len(ringed) != 1 || ringed[0] != "k=c" {
		t.Errorf("ringed %q; recommended %q", ringed, sw.Recommendation.Label)
	}
}

// TestSVGTicks: the axes' ticks are round numbers, and the highest is at or
// above the highest value (or the limit).
func TestSVGTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 1000, []string{"0", "200", "400", "600", "800", "1000"}},
		{0, 4.95, []string{"0", "1", "2", "3", "4", "5"}},
		{0, 0.37, []string{"0.0", "0.1", "0.2", "0.3", "0.4"}},
		{0, 12000, []string{"0", "5k", "10k", "15k"}},
		{0, 0, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{-3, 7, []string{"-4", "-2", "0", "2", "4", "6", "8"}},
	} {
		ticks, text := niceTicks(tt.lo, tt.hi)
		var got []string
		for _, v := range ticks {
			got = append(got, text(v))
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("niceTicks(%v, %v) = %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestSVGEscapes(t *testing.T) {
	hostile := `</text><script>alert("x")</script>&amp;'` + "\x01"
	sw := &Sweep{Axes: []Axis{{Key: "fleet.reconnect.max"}}, Repeat: 1,
		Settings: synthetic(0, [3]float64{1, 100, 0}, [3]float64{2, 50, 0}, [3]float64{3, 10, 0})}
	sw.Settings[0].Assign = []string{"fleet.reconnect.max=" + hostile}
	sw.Settings[1].Runs[0].T99S = nil // not plotted: in the note
	sw.Settings[1].Assign = []string{"fleet.reconnect.max=<b>&"}
	sw.Profile.Name = `<svg onload="x">&`
	sw.Finish()
	out, doc := renderSVG(t, sw)
	if strings.Contains(out, "<script") || strings.Contains(out, "<b>") || strings.Contains(out, `<svg onload`) {
		t.Errorf("text is not escaped:\n%s", out)
	}
	// The text reads back as it was, but for the control character, which
	// XML cannot hold.
	readable := strings.ReplaceAll(hostile, "\x01", "\uFFFD")
	if _, ok := points(t, doc)["fleet.reconnect.max="+readable]; !ok {
		t.Errorf("no point labelled %q: %v", readable, points(t, doc))
	}
	if doc.Title != `wsstorm sweep: <svg onload="x">&` {
		t.Errorf("title %q", doc.Title)
	}
	if note := strings.Join(doc.Texts, "\n"); !strings.Contains(note, "Not plotted") || !strings.Contains(note, "max=<b>&") {
		t.Errorf("the note does not list the setting without a t99:\n%s", note)
	}
}

func TestSVGEdgeCases(t *testing.T) {
	oneSetting := finished(0, [3]float64{1.5, 412, 0})
	equal := finished(300, [3]float64{2, 200, 0}, [3]float64{2, 200, 0})
	zero := finished(0, [3]float64{0, 0, 0}, [3]float64{0, 0, 0})
	noRecovery := finished(0, [3]float64{1, 100, 0}, [3]float64{2, 50, 0})
	for i := range noRecovery.Settings {
		noRecovery.Settings[i].T99S = nil
	}
	many := finished(0)
	for i := range 40 {
		many.Settings = append(many.Settings, Result{Setting: Setting{Slug: strconv.Itoa(i), Assign: []string{"fleet.reconnect.k=" + strings.Repeat("v", i)}}})
	}
	many.Finish()
	tooLong := finished(0, [3]float64{1, 1, 0})
	tooLong.Settings[0].Assign[0] = "fleet.reconnect.k=" + strings.Repeat("é", 200)
	tooLong.Finish()
	huge := finished(math.MaxFloat64, [3]float64{math.MaxFloat64, math.MaxFloat64, 0}, [3]float64{5e-324, -math.MaxFloat64, 0})
	for _, tt := range []struct {
		name   string
		sw     *Sweep
		points int
		want   []string
	}{
		{"empty", &Sweep{}, 0, []string{"No setting has a recovery time to plot."}},
		{"one setting", oneSetting, 1, []string{"k=a"}},
		{"all equal", equal, 2, []string{"limit 300/s"}},
		{"all zero", zero, 2, nil},
		{"no recovery", noRecovery, 0, []string{"No setting has a recovery time to plot.", "Not plotted", "k=a; k=b"}},
		{"many unplotted", many, 0, []string{"k=vvv;", " and 19 more</text>"}},
		{"out of range", huge, 2, nil},
		{"long label", tooLong, 1, []string{">k=" + strings.Repeat("é", 25) + "…</text>"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, doc := renderSVG(t, tt.sw)
			if got := len(points(t, doc)); got != tt.points {
				t.Errorf("%d points, want %d", got, tt.points)
			}
			if got := strings.Count(out, `<g class="setting">`); got != tt.points {
				t.Errorf("%d settings drawn, want %d", got, tt.points)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("the SVG lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
