package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestJUnitShape reads the file back in the common JUnit XML shape
// (testsuites/testsuite/testcase/failure) and checks the counts.
func TestJUnitShape(t *testing.T) {
	base := summarize(fixtureRun(t))
	next := summarize(fixtureRun(t))
	*next.LatencyMS.Reconnect.P99 += 100 // 1.5 ms to 101.5: beyond its floor and +10%
	ten, _ := ParseTolerance("+10%")
	c := Compare([]*results.Summary{base}, []*results.Summary{next}, nil, ten)
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := WriteJUnit(path, "compare", CompareCases(c)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				ClassName string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	if len(doc.Suites) != 1 || doc.Tests != len(c.Changes) || doc.Failures != 1 || doc.Suites[0].Failures != 1 || len(doc.Suites[0].Cases) != len(c.Changes) {
		t.Fatalf("shape: %+v", doc)
	}
	failed := 0
	for _, tc := range doc.Suites[0].Cases {
		if tc.Name == "" || tc.ClassName != "wsstorm.compare" {
			t.Errorf("case %+v", tc)
		}
		if tc.Failure != nil {
			failed++
			if tc.Name != "reconnect.p99" || tc.Failure.Message == "" {
				t.Errorf("failure on %s: %+v", tc.Name, tc.Failure)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d failing cases, want 1", failed)
	}
}

func TestThresholdCases(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Thresholds = append(s.Thresholds, results.Threshold{Expr: "gave_up > 0", Value: ptr(0), OK: false})
	s.Interrupted = true
	cases := ThresholdCases(s)
	if len(cases) != 3 || cases[0].Failure != "" || cases[1].Failure != "threshold missed: gave_up > 0, measured 0" || cases[2].Failure == "" {
		t.Fatalf("cases %+v", cases)
	}
}

// TestJUnitInconclusiveIsSkipped: an inconclusive comparison is neither a
// pass nor a failure: a skipped case, counted as such.
func TestJUnitInconclusiveIsSkipped(t *testing.T) {
	c := &Comparison{Changes: []Change{
		{Metric: "connect.p99", Verdict: VerdictInconclusive, DecidedBy: "busy"},
		{Metric: "connect.p50", Verdict: VerdictRegression, Regression: true, DecidedBy: "beyond"},
		{Metric: "reconnect.p50", Verdict: VerdictSame},
	}}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := WriteJUnit(path, "compare", CompareCases(c)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`failures="1" skipped="1"`, `<testcase name="connect.p99" classname="wsstorm.compare">`, `<skipped message="inconclusive: connect.p99`, `<failure message="regression: connect.p50`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, b)
		}
	}
}
