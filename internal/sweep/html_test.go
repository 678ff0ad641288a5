package sweep

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
)

// pageData is the chart's data a rendered sweep.html holds, as its script
// reads it.
type pageData struct {
	Labels []string  `json:"labels"`
	Names  []string  `json:"names"`
	X      []float64 `json:"x"`
}

var pageDataPattern = regexp.MustCompile(`var d = (\{.*\});`)

// TestHTMLLabelsEveryPoint: sweep.html names every point with its setting,
// in the words sweep.svg uses, and places the names over the plot; a
// setting without a point has no name on it.
func TestHTMLLabelsEveryPoint(t *testing.T) {
	sw := finished(600,
		[3]float64{1, 1000, 0},   // k=a
		[3]float64{4, 100, 0},    // k=b
		[3]float64{2, 500, 0},    // k=c: recommended
		[3]float64{0.5, 300, 40}, // k=d: some never came back, still plotted
	)
	// k=e: no run had every client back, so no t99 and no point.
	sw.Settings = append(sw.Settings, synthetic(600, [3]float64{0, 200, 5})...)
	sw.Settings[4].Assign[0], sw.Settings[4].Slug = "fleet.reconnect.k=e", "e"
	sw.Settings[4].Runs[0].T99S = nil
	sw.Settings[4].Aggregate()
	sw.Finish()

	var b bytes.Buffer
	if err := sw.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	m := pageDataPattern.FindSubmatch(b.Bytes())
	if m == nil {
		t.Fatalf("no chart data in the page:\n%s", b.String())
	}
	var d pageData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	// By peak attempt rate, as drawn.
	want := []string{"k=b", "k=d", "k=c", "k=a"}
	if !slices.Equal(d.Names, want) || len(d.X) != len(want) {
		t.Errorf("names %q for %d points, want %q", d.Names, len(d.X), want)
	}

	_, doc := renderSVG(t, sw)
	var svgNames []string
	for _, g := range doc.Settings {
		if g.Title != "" {
			svgNames = append(svgNames, g.Label)
		}
	}
	if !slices.Equal(svgNames, d.Names) {
		t.Errorf("sweep.html names the points %q, sweep.svg %q", d.Names, svgNames)
	}
	for _, want := range []string{`className = "setting-label"`, "u.over.appendChild", "draw: [limitLine, placeNames]"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("the page's script lacks %q: it does not place the names", want)
		}
	}
}
