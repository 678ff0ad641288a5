package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/results/resultstest"
)

// observedRun is fixtureRun as observe mode reports it against an external
// target (resultstest.Observed): two detected events, one burst too small to
// be an event, no target side.
func observedRun(t *testing.T) *testRun {
	run := fixtureRun(t)
	run.Target = nil
	run.Profile.Thresholds = map[string]string{"events.t99": "< 6s"}
	run.Results = resultstest.Observed(t)
	return run
}

// TestDetectedThresholds: events.* thresholds judge detected events as
// they judge planned ones.
func TestDetectedThresholds(t *testing.T) {
	_, data := writeFixture(t, observedRun(t))
	var doc struct {
		Thresholds []results.Threshold `json:"thresholds"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// The worst t99 is the first event's 4.95 s.
	if len(doc.Thresholds) != 1 || !doc.Thresholds[0].OK || doc.Thresholds[0].Value == nil || *doc.Thresholds[0].Value != 4950 {
		t.Errorf("thresholds %+v", doc.Thresholds)
	}
}

// TestDetectedRenderings: text, markdown and HTML name detected events by
// what was seen and say how observe mode found them.
func TestDetectedRenderings(t *testing.T) {
	dir, _ := writeFixture(t, observedRun(t))
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	const observe = "observe mode: events are bursts of at least 5 closes with one code, each within 1s of the last; 1 smaller burst (3 closes) was not an event"

	var text strings.Builder
	if err := WriteText(&text, s, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  #0 10.0s detected code 1012: affected 667, reconnected 667",
		"  #1 38.0s detected on node 2 code 1001: affected 200, reconnected 200",
		observe + "\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	var md strings.Builder
	if err := WriteMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 0 | 10.0 s | detected | 1012 | 667 |", "| 1 | 38.0 s | detected on node 2 | 1001 | 200 |", observe} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}

	page := renderDir(t, dir)
	if !bytes.Contains(page, []byte(observe)) {
		t.Error("the page does not say how observe mode found its events")
	}
	byID := map[string]int{}
	pc := chartsOf(t, page)
	for i, c := range pc.Charts {
		byID[c.ID] = i
	}
	markers := pc.Charts[byID["connected"]].Markers
	if len(markers) != 2 || markers[0].Label != "#0 detected 1012" || markers[0].X != 10 || markers[1].Label != "#1 detected 1001" {
		t.Errorf("markers %+v", markers)
	}
	if rec, ok := byID["recovery"]; !ok || len(pc.Charts[rec].Series) != 2 {
		t.Errorf("the recovery chart does not draw both detected events")
	}
}
