package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// observedRun is fixtureRun as observe mode reports it against an external
// target: two detected events (the first's closes from several nodes, the
// second's all from node 2), one burst too small to be an event, no
// target side.
func observedRun(t *testing.T) *Run {
	run := fixtureRun(t)
	run.Target = nil
	run.Profile.Thresholds = map[string]string{"events.t99": "< 6s"}
	ev := run.Results.Events
	ev[0].Action, ev[0].Node = stats.DetectedAction, -1
	ev[1].Action, ev[1].Node, ev[1].Code = stats.DetectedAction, 2, 1001
	ev[1].Reconnected, ev[1].NeverReconnected = 200, 0
	ev[1].T50, ev[1].T99, ev[1].T100 = dur(500*time.Millisecond), dur(900*time.Millisecond), dur(time.Second)
	ev[1].ReconnectExpected = true
	ev[1].ReconnectAt = histogram(t, map[int64]int64{500_000: 100, 900_000: 98, 1_000_000: 2})
	run.Results.Detect = &stats.DetectReport{Gap: time.Second, MinCloses: 5, DroppedBursts: 1, DroppedCloses: 3}
	return run
}

// TestDetectedSummary: detected events are events like planned ones, with
// action "detected"; the detect object says how they were found.
func TestDetectedSummary(t *testing.T) {
	_, data := writeFixture(t, observedRun(t))
	var doc struct {
		Events []struct {
			Action string `json:"action"`
			Node   *int   `json:"node"`
			Code   int    `json:"code"`
		} `json:"events"`
		Detect     json.RawMessage `json:"detect"`
		Thresholds []Threshold     `json:"thresholds"`
		Target     any             `json:"target"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) != 2 || doc.Events[0].Action != "detected" || doc.Events[0].Node != nil ||
		doc.Events[1].Node == nil || *doc.Events[1].Node != 2 || doc.Events[1].Code != 1001 {
		t.Errorf("events %+v", doc.Events)
	}
	if got, want := objectKeys(t, doc.Detect), []string{"gap_s", "min_closes", "dropped_bursts", "dropped_closes", "unattributed_closes"}; !reflect.DeepEqual(got, want) {
		t.Errorf("detect keys %q, want %q", got, want)
	}
	var d map[string]float64
	if err := json.Unmarshal(doc.Detect, &d); err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"gap_s": 1, "min_closes": 5, "dropped_bursts": 1, "dropped_closes": 3, "unattributed_closes": 0}; !reflect.DeepEqual(d, want) {
		t.Errorf("detect %v, want %v", d, want)
	}
	// events.* thresholds judge detected events as they judge planned ones:
	// the worst t99 is the first event's 4.95 s.
	if len(doc.Thresholds) != 1 || !doc.Thresholds[0].OK || doc.Thresholds[0].Value == nil || *doc.Thresholds[0].Value != 4950 {
		t.Errorf("thresholds %+v", doc.Thresholds)
	}
	if doc.Target != nil {
		t.Errorf("an external target has a target side: %v", doc.Target)
	}

	_, planned := writeFixture(t, fixtureRun(t))
	if bytes.Contains(planned, []byte(`"detect"`)) {
		t.Error("a planned run's summary has a detect object")
	}
}

// TestDetectedRenderings: text, markdown and HTML name detected events by
// what was seen and say how observe mode found them.
func TestDetectedRenderings(t *testing.T) {
	dir, _ := writeFixture(t, observedRun(t))
	s, err := ReadSummary(dir)
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
