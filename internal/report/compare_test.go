package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"

	"github.com/wsstorm/wsstorm/internal/profile"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCompare checks each verdict of single runs on one metric moved by a
// known amount: reconnect.p99 from 1 s (floor ±20ms), the event's t99
// (floor ±100ms), the connect failures (counting noise).
func TestCompare(t *testing.T) {
	base := summarize(fixtureRun(t))
	*base.LatencyMS.Reconnect.P99 = 1000
	ten, _ := ParseTolerance("+10%")
	for _, tc := range []struct {
		name        string
		change      func(s *results.Summary)
		tolerances  map[string]Tolerance
		metric      string
		verdict     string
		regressions int
	}{
		{"identical", func(s *results.Summary) {}, nil, "reconnect.p99", VerdictSame, 0},
		{"improvement", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 = 500 }, nil, "reconnect.p99", VerdictBetter, 0},
		{"within the noise floor", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 = 1015 }, nil, "reconnect.p99", VerdictSame, 0},
		{"within tolerance", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 = 1050 }, nil, "reconnect.p99", VerdictWorse, 0},
		{"beyond tolerance", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 = 1200 }, nil, "reconnect.p99", VerdictRegression, 1},
		{"wider tolerance for the metric", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 = 1200 },
			map[string]Tolerance{"reconnect.p99": {Percent: 25, Text: "+25%"}}, "reconnect.p99", VerdictWorse, 0},
		{"absolute tolerance", func(s *results.Summary) { *s.Events[0].T99S += 0.3 },
			map[string]Tolerance{"events.t99": {Absolute: 500, IsAbs: true, Text: "+500ms"}}, "events[0].t99", VerdictWorse, 0},
		{"a value lost", func(s *results.Summary) { s.Events[0].T99S = nil }, nil, "events[0].t99", VerdictRegression, 1},
		{"a few failures from none: counting noise", func(s *results.Summary) { s.Counters.ConnectFailures["refused"] = 3 }, nil, "connect_failures", VerdictSame, 0},
		{"many failures from none", func(s *results.Summary) { s.Counters.ConnectFailures["refused"] = 30 }, nil, "connect_failures", VerdictRegression, 1},
		// An interrupted run that never reached the event: its five metrics
		// lost their values.
		{"an event missing", func(s *results.Summary) { s.Events = nil }, nil, "events[0].t50", VerdictRegression, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := summarize(fixtureRun(t))
			*next.LatencyMS.Reconnect.P99 = 1000
			tc.change(next)
			c := Compare([]*results.Summary{base}, []*results.Summary{next}, tc.tolerances, ten)
			if c.Regressions != tc.regressions {
				t.Errorf("regressions = %d, want %d: %+v", c.Regressions, tc.regressions, c.Changes)
			}
			for _, ch := range c.Changes {
				if ch.Metric == tc.metric && (ch.Verdict != tc.verdict || ch.Regression != (tc.verdict == VerdictRegression) || ch.DecidedBy == "") {
					t.Errorf("%s: verdict %q (%s), regression %v; want %q", ch.Metric, ch.Verdict, ch.DecidedBy, ch.Regression, tc.verdict)
				}
			}
		})
	}
}

// TestCompareKeepsOrder checks that the rows of an event only one run has
// sit with the other events, before the counts.
func TestCompareKeepsOrder(t *testing.T) {
	base := summarize(fixtureRun(t))
	next := summarize(fixtureRun(t))
	next.Events = nil
	ten, _ := ParseTolerance("+10%")
	var names []string
	for _, ch := range Compare([]*results.Summary{base}, []*results.Summary{next}, nil, ten).Changes {
		names = append(names, ch.Metric)
	}
	i, j := slices.Index(names, "events[0].t50"), slices.Index(names, "connect_failures")
	if i < 0 || j < i || slices.Index(names, "message_rtt.p99") > i {
		t.Errorf("rows in order %q", names)
	}
}

// TestCompareMarkdownGolden checks the markdown a pull-request comment gets.
// Run with -args -update to rewrite testdata/compare.md after an intended change.
func TestCompareMarkdownGolden(t *testing.T) {
	base := summarize(fixtureRun(t))
	next := summarize(fixtureRun(t))
	*next.LatencyMS.Reconnect.P99 += 100
	*next.Events[0].T50S *= 0.8
	next.Counters.ConnectFailures["http_503"] = 60
	ten, _ := ParseTolerance("+10%")
	var b bytes.Buffer
	if err := Compare([]*results.Summary{base}, []*results.Summary{next}, map[string]Tolerance{"connect_failures": {Absolute: 20, IsAbs: true, Text: "+20"}}, ten).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "compare.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report/ -run Golden -args -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("markdown differs from %s:\n%s", golden, b.String())
	}
}

// TestCompareKeysMatchProfile keeps the metrics a comparison produces and
// the keys a profile's [compare] table accepts one list.
func TestCompareKeysMatchProfile(t *testing.T) {
	if got, want := CompareKeys(), profile.CompareMetrics(); !slices.Equal(got, want) {
		t.Fatalf("compare produces %q\nprofiles accept %q", got, want)
	}
}

// TestCompareGeneratorLimited checks that a side the load generator shaped
// is warned of on the log and in the markdown and JSON, and judged as
// usual: its dial lag is no row, its herd no regression of the target.
func TestCompareGeneratorLimited(t *testing.T) {
	base, _ := writeFixture(t, limitedRun(t))
	next, _ := writeFixture(t, fixtureRun(t))
	var log bytes.Buffer
	c, err := CompareRuns(base, next, CompareOptions{Default: "+10%", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	const warning = "the base run was generator-limited (event #0: dial lag p99 9.5 ms, bound 5.0 ms): its herd is partly wsstorm's own; compare runs that are not"
	if got := log.String(); got != "warning: "+warning+"\n" {
		t.Errorf("log %q, want the one warning", got)
	}
	if len(c.Warnings) != 1 || c.Warnings[0] != warning || c.Regressions != 0 {
		t.Errorf("warnings %q, regressions %d; want the base's warning and none", c.Warnings, c.Regressions)
	}
	for _, ch := range c.Changes {
		if strings.HasPrefix(ch.Metric, "dial_lag") {
			t.Errorf("dial lag compared: %+v", ch)
		}
	}
	var md, js bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "no regression in 19 metrics (single runs, judged by noise floors)\n\n**Warning:** "+warning+".\n\n| metric |") {
		t.Errorf("markdown lacks the warning under its verdict:\n%s", md.String())
	}
	var doc struct{ Warnings []string }
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Warnings) != 1 {
		t.Errorf("JSON warnings %q, %v", doc.Warnings, err)
	}

	// Neither side limited: no warning, no key.
	log.Reset()
	if c, err = CompareRuns(next, next, CompareOptions{Default: "+10%", Log: &log}); err != nil || c.Warnings != nil || log.Len() != 0 {
		t.Errorf("warnings %q, log %q, err %v; want none", c.Warnings, log.String(), err)
	}
}

// TestCompareRepeats reads two directories of repeats (run-1 ... run-5, as
// `wsstorm run --repeat 5` writes them) and judges them by the rank test:
// the same runs are `~`; runs whose reconnects all got 100 ms slower are a
// REGRESSION with the smallest p of 5 against 5; 3 against 3 fall back to
// the floors on the medians, and say so.
func TestCompareRepeats(t *testing.T) {
	write := func(n int, slower float64) string {
		dir := t.TempDir()
		var sums []*results.Summary
		var rel []string
		for r := 1; r <= n; r++ {
			run := fixtureRun(t)
			sum := summarize(run)
			d := filepath.Join(dir, results.RunDir(r))
			*sum.LatencyMS.Reconnect.P50 += slower + float64(r)/10 // distinct values: no ties
			if err := results.Write(d, run.Run, sum, results.Extras{}); err != nil {
				t.Fatal(err)
			}
			sums, rel = append(sums, sum), append(rel, results.RunDir(r))
		}
		if err := results.WriteRepeats(dir, results.CombineRepeats(sums, rel, n)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	base, same, slower := write(5, 0), write(5, 0.05), write(5, 100)
	var log bytes.Buffer
	c, err := CompareRuns(base, same, CompareOptions{Default: "+10%", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseCount != 5 || c.NewCount != 5 || c.Regressions != 0 || !strings.HasPrefix(c.Method, "Mann-Whitney U test") {
		t.Fatalf("same runs: %d against %d, %d regressions, method %q", c.BaseCount, c.NewCount, c.Regressions, c.Method)
	}
	c, err = CompareRuns(base, slower, CompareOptions{Default: "+10%", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range c.Changes {
		regressed := ch.Verdict == VerdictRegression
		if regressed != (ch.Metric == "reconnect.p50") {
			t.Errorf("%s: %s (%s)", ch.Metric, ch.Verdict, ch.DecidedBy)
		}
		if ch.Metric == "reconnect.p50" && (ch.PValue == nil || *ch.PValue != 0.0079 || len(ch.NewRuns) != 5) {
			t.Errorf("reconnect.p50: %+v", ch)
		}
	}
	log.Reset()
	if c, err = CompareRuns(write(3, 0), write(3, 100), CompareOptions{Default: "+10%", Log: &log}); err != nil {
		t.Fatal(err)
	}
	if c.Regressions != 1 || !strings.Contains(log.String(), "3 against 3 runs: a rank test needs 5 a side") {
		t.Errorf("3 against 3: %d regressions, log %q", c.Regressions, log.String())
	}
}

// TestCompareBusyMachine: a new run measured while other processes kept
// the machine busy gets no REGRESSION on a tail by as much as that work
// moves it, but an inconclusive verdict that says so; a change beyond
// that, and its failures, are still judged.
func TestCompareBusyMachine(t *testing.T) {
	base := summarize(fixtureRun(t))
	next := summarize(fixtureRun(t))
	machine, own := 100.0, 10.0
	next.Events[0].MachineCPUBusyPct, next.Events[0].CPUBusyPct = &machine, &own
	*next.LatencyMS.Connect.P99 += 200
	*next.LatencyMS.Connect.P50 += 10
	next.Counters.ConnectFailures["refused"] = 100
	ten, _ := ParseTolerance("+10%")
	c := Compare([]*results.Summary{base}, []*results.Summary{next}, nil, ten)
	got := verdicts(c)
	if got["connect.p99"] != VerdictInconclusive || got["connect.p50"] != VerdictRegression || got["connect_failures"] != VerdictRegression || c.Inconclusive != 1 || c.Regressions != 2 {
		t.Fatalf("connect.p99 %q, connect.p50 %q, connect_failures %q, %d inconclusive, %d regressions", got["connect.p99"], got["connect.p50"], got["connect_failures"], c.Inconclusive, c.Regressions)
	}
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "1 inconclusive: the new run measured them while other processes kept the machine busy (event #0: machine 100%, wsstorm 10%); run it again") {
		t.Errorf("text:\n%s", b.String())
	}
	// The same load on this process's own account is the run's: judged.
	own = 95
	if c = Compare([]*results.Summary{base}, []*results.Summary{next}, nil, ten); c.Inconclusive != 0 || c.Regressions != 3 {
		t.Errorf("wsstorm's own load: %d inconclusive, %d regressions", c.Inconclusive, c.Regressions)
	}
}

// TestProfileDifferenceScale: runs of one profile at different scales
// (--scale, --quick) are different runs, said in the scale's own words.
func TestProfileDifferenceScale(t *testing.T) {
	a := results.ProfileRef{Name: "default", SHA256: "abc"}
	b := a
	b.Scale = "4/9"
	if got := profileDifference(a, b); got != `"default" with its timeline at different scales (--scale or --quick): 1 (as written) and 4/9` {
		t.Errorf("%q", got)
	}
	if got := profileDifference(b, b); got != "" {
		t.Errorf("same scale: %q", got)
	}
}
