package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// writeSummary writes a summary.json whose event 0 reached t99 at t99 s
// (nil: never), under dir.
func writeSummary(t *testing.T, dir string, t99 *float64, passed bool) {
	t.Helper()
	s := Summary{Schema: "wsstorm.summary/v1", Profile: ProfileRef{Name: "p"}, Passed: passed,
		Events: []EventSummary{{Index: 0, ReconnectExpected: true, T99S: t99}}}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func f(v float64) *float64 { return &v }

// TestReadRunsInOrder: run-10 sorts after run-9, a run without a
// summary.json (killed) and other directories are left out, and a plain
// results directory or summary.json is one run.
func TestReadRunsInOrder(t *testing.T) {
	dir := t.TempDir()
	for r := 1; r <= 10; r++ {
		writeSummary(t, filepath.Join(dir, RunDir(r)), f(float64(r)), true)
	}
	if err := os.MkdirAll(filepath.Join(dir, RunDir(11)), 0o755); err != nil { // killed: no summary
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "run-x"), 0o755); err != nil {
		t.Fatal(err)
	}
	runs, dirs, err := ReadRuns(dir)
	if err != nil || len(runs) != 10 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for i, d := range dirs {
		if filepath.Base(d) != "run-"+strconv.Itoa(i+1) || *runs[i].Events[0].T99S != float64(i+1) {
			t.Errorf("run %d: %s", i+1, d)
		}
	}
	if runs, _, err := ReadRuns(filepath.Join(dir, RunDir(3))); err != nil || len(runs) != 1 {
		t.Errorf("a results directory: %d runs, %v", len(runs), err)
	}
	if runs, _, err := ReadRuns(filepath.Join(dir, RunDir(3), SummaryFile)); err != nil || len(runs) != 1 {
		t.Errorf("a summary.json: %d runs, %v", len(runs), err)
	}
	if _, _, err := ReadRuns(t.TempDir()); err == nil {
		t.Error("an empty directory read as runs")
	}
	if !HasRuns(dir) || !HasRuns(filepath.Join(dir, RunDir(3))) || HasRuns(t.TempDir()) {
		t.Error("HasRuns: repeats, a run, an empty directory")
	}
}

// TestCombineRepeats: a value a run lacks counts as the slowest, as compare
// counts it, so the median is null once half the runs lack it; min and max
// are over the runs that have it; fewer runs than requested do not pass.
func TestCombineRepeats(t *testing.T) {
	dir := t.TempDir()
	t99s := []*float64{f(1.2), nil, f(1.0), f(1.1), nil}
	for i, v := range t99s {
		writeSummary(t, filepath.Join(dir, RunDir(i+1)), v, true)
	}
	runs, dirs, err := ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := CombineRepeats(runs, dirs, 5)
	var m *RepeatMetric
	for i := range r.Metrics {
		if r.Metrics[i].Metric == "events[0].t99" {
			m = &r.Metrics[i]
		}
	}
	if m == nil || m.Median == nil || *m.Median != 1200 || *m.Min != 1000 || *m.Max != 1200 || m.Values[1] != nil || *m.Values[0] != 1200 {
		t.Fatalf("t99 over 1.2, -, 1.0, 1.1, -: %+v", m)
	}
	if !r.Passed || len(r.Runs) != 5 {
		t.Errorf("passed %v with %d runs", r.Passed, len(r.Runs))
	}
	// 2 of 3 lack it: the median is a missing value.
	r = CombineRepeats(append(runs[:0:0], runs[1], runs[4], runs[0]), dirs[:3], 3)
	for _, m := range r.Metrics {
		if m.Metric == "events[0].t99" && (m.Median != nil || *m.Min != 1200) {
			t.Errorf("t99 over -, -, 1.2: median %v min %v", m.Median, *m.Min)
		}
	}
	// Fewer runs than requested: not passed, whatever they say.
	if r = CombineRepeats(runs[:2], dirs[:2], 5); r.Passed || r.Requested != 5 {
		t.Errorf("2 of 5 runs: passed %v", r.Passed)
	}
	if r = CombineRepeats(nil, nil, 5); r.Passed || r.Runs == nil || r.Metrics == nil {
		t.Errorf("no runs: %+v", r)
	}
}
