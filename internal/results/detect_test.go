package results

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results/resultstest"
)

// observedRun is fixtureRun as observe mode reports it against an external
// target (resultstest.Observed): two detected events, one burst too small to
// be an event, no target side.
func observedRun(t *testing.T) *testRun {
	run := fixtureRun(t)
	run.Target = nil
	run.thresholds = nil
	run.Results = resultstest.Observed(t)
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
		Detect json.RawMessage `json:"detect"`
		Target any             `json:"target"`
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
	if doc.Target != nil {
		t.Errorf("an external target has a target side: %v", doc.Target)
	}

	_, planned := writeFixture(t, fixtureRun(t))
	if bytes.Contains(planned, []byte(`"detect"`)) {
		t.Error("a planned run's summary has a detect object")
	}
}
