package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestRunRepeat runs a short profile twice with --repeat 2, the second
// time failing a threshold on purpose: both runs are kept under one
// directory with repeats.json, the exit code says a threshold failed, the
// JUnit file holds both runs' cases, compare takes the directory as a side,
// and a directory that already holds repeats, or a run, is refused.
func TestRunRepeat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 5.5 s storms")
	}
	prof := filepath.Join(t.TempDir(), "repeat.toml")
	// One threshold every run passes, one none does: exit 1 with both runs.
	if err := os.WriteFile(prof, []byte(sweepProfile+"[thresholds]\n\"events.t100\" = \"< 10s\"\n\"connect.p50\" = \"< 1us\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "reps")
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, stdout, stderr := wsstorm(t, "run", prof, "--repeat", "2", "--quiet", "--out", dir, "--junit", junit)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (a threshold failed)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "2 of 2 repeats ran, 0 passed; combined summary: "+filepath.Join(dir, results.RepeatsFile)) {
		t.Errorf("stderr:\n%s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, results.RepeatsFile))
	if err != nil {
		t.Fatal(err)
	}
	var r results.Repeats
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Schema != results.RepeatsSchema || r.Requested != 2 || len(r.Runs) != 2 || r.Passed || r.Runs[1].Dir != "run-2" || len(r.Metrics) == 0 {
		t.Fatalf("repeats.json: %+v", r)
	}
	for _, m := range r.Metrics {
		if m.Metric == "connect.p50" && (len(m.Values) != 2 || m.Median == nil) {
			t.Errorf("connect.p50 over the runs: %+v", m)
		}
	}
	xml, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{`name="run-1: connect.p50 &lt; 1us"`, `name="run-2: events.t100 &lt; 10s"`} {
		if !strings.Contains(string(xml), c) {
			t.Errorf("JUnit lacks %s:\n%s", c, xml)
		}
	}
	// 2 against 2: judged by the floors on the medians, and said so.
	code, stdout, stderr = wsstorm(t, "compare", dir, dir)
	if code != exitPassed || !strings.Contains(stdout, "2 against 2 runs") || !strings.Contains(stderr, "a rank test needs 5 a side") {
		t.Errorf("compare of the repeats with themselves: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, out := range []string{dir, filepath.Join(dir, results.RunDir(1))} {
		code, _, stderr = wsstorm(t, "run", prof, "--repeat", "2", "--quiet", "--out", out)
		if code != exitUsage || !strings.Contains(stderr, "already holds results") {
			t.Errorf("--out %s again: exit %d\n%s", out, code, stderr)
		}
	}
}
