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

func TestCompare(t *testing.T) {
	base := summarize(fixtureRun(t))
	ten, _ := ParseTolerance("+10%")
	for _, tc := range []struct {
		name        string
		change      func(s *results.Summary)
		tolerances  map[string]Tolerance
		metric      string
		regression  bool
		regressions int
	}{
		{"identical", func(s *results.Summary) {}, nil, "reconnect.p99", false, 0},
		{"improvement", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 /= 2 }, nil, "reconnect.p99", false, 0},
		{"within tolerance", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 *= 1.05 }, nil, "reconnect.p99", false, 0},
		{"beyond tolerance", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 *= 1.2 }, nil, "reconnect.p99", true, 1},
		{"wider tolerance for the metric", func(s *results.Summary) { *s.LatencyMS.Reconnect.P99 *= 1.2 },
			map[string]Tolerance{"reconnect.p99": {Percent: 25, Text: "+25%"}}, "reconnect.p99", false, 0},
		{"absolute tolerance", func(s *results.Summary) { *s.Events[0].T99S += 0.04 },
			map[string]Tolerance{"events.t99": {Absolute: 50, IsAbs: true, Text: "+50ms"}}, "events[0].t99", false, 0},
		{"a value lost", func(s *results.Summary) { s.Events[0].T99S = nil }, nil, "events[0].t99", true, 1},
		{"failures from none", func(s *results.Summary) { s.Counters.ConnectFailures["refused"] = 3 }, nil, "connect_failures", true, 1},
		// An interrupted run that never reached the event: its five metrics
		// lost their values.
		{"an event missing", func(s *results.Summary) { s.Events = nil }, nil, "events[0].t50", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := summarize(fixtureRun(t))
			tc.change(next)
			c := Compare(base, next, tc.tolerances, ten)
			if c.Regressions != tc.regressions {
				t.Errorf("regressions = %d, want %d: %+v", c.Regressions, tc.regressions, c.Changes)
			}
			for _, ch := range c.Changes {
				if ch.Metric == tc.metric && ch.Regression != tc.regression {
					t.Errorf("%s: regression %v, want %v (%+v)", ch.Metric, ch.Regression, tc.regression, ch)
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
	for _, ch := range Compare(base, next, nil, ten).Changes {
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
	*next.LatencyMS.Reconnect.P99 *= 1.3
	*next.Events[0].T50S *= 0.8
	next.Counters.ConnectFailures["http_503"] = 30
	ten, _ := ParseTolerance("+10%")
	var b bytes.Buffer
	if err := Compare(base, next, map[string]Tolerance{"connect_failures": {Absolute: 20, IsAbs: true, Text: "+20"}}, ten).WriteMarkdown(&b); err != nil {
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
	if !strings.Contains(md.String(), "no regression in 19 metrics\n\n**Warning:** "+warning+".\n\n| metric |") {
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
