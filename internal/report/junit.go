package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
)

// JUnit test report, in the shape CI systems read: testsuites > testsuite >
// testcase (> failure).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnitCase is one check: a threshold or a compared metric.
type JUnitCase struct {
	Name    string
	Failure string // "" when it passed
	// Skipped says why the case could not be judged (an inconclusive
	// comparison): neither a pass nor a failure.
	Skipped string
}

// ThresholdCases are the thresholds of a run as JUnit cases; an interrupted
// run adds a failing case, since its verdicts cover only part of the run.
func ThresholdCases(s *results.Summary) []JUnitCase {
	var cases []JUnitCase
	for _, t := range s.Thresholds {
		c := JUnitCase{Name: t.Expr}
		if !t.OK {
			c.Failure = fmt.Sprintf("threshold missed: %s, measured %s", t.Expr, measuredText(t))
		}
		cases = append(cases, c)
	}
	if s.Interrupted {
		cases = append(cases, JUnitCase{Name: "run completed", Failure: "the run was interrupted"})
	}
	return cases
}

// CompareCases are the compared metrics as JUnit cases.
func CompareCases(c *Comparison) []JUnitCase {
	cases := make([]JUnitCase, 0, len(c.Changes))
	for _, ch := range c.Changes {
		jc := JUnitCase{Name: ch.Metric}
		text := fmt.Sprintf("%s: %s from %s to %s (%s), tolerance %s: %s",
			strings.ToLower(ch.Verdict), ch.Metric, fmtValue(ch.Base, ch.Unit), fmtValue(ch.New, ch.Unit), fmtChange(ch), ch.Tolerance, ch.DecidedBy)
		switch ch.Verdict {
		case VerdictRegression:
			jc.Failure = text
		case VerdictInconclusive:
			jc.Skipped = text
		}
		cases = append(cases, jc)
	}
	return cases
}

// WriteJUnit writes cases as one JUnit suite to path, atomically.
func WriteJUnit(path, suite string, cases []JUnitCase) error {
	s := junitSuite{Name: suite, Tests: len(cases)}
	for _, c := range cases {
		jc := junitCase{Name: c.Name, ClassName: "wsstorm." + suite}
		if c.Failure != "" {
			jc.Failure = &junitFailure{Message: c.Failure, Text: c.Failure}
			s.Failures++
		}
		if c.Skipped != "" {
			jc.Skipped = &junitSkipped{Message: c.Skipped}
			s.Skipped++
		}
		s.Cases = append(s.Cases, jc)
	}
	doc := junitSuites{Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	return results.WriteFile(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		enc := xml.NewEncoder(w)
		enc.Indent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	})
}
