// Package report renders a run's results for people and CI: the
// end-of-run text summary, markdown for a pull request, the JSON of
// summary.json, one self-contained HTML page (report.html), JUnit cases,
// and the comparison of two runs. It also judges a profile's thresholds on
// a run's summary, and Write writes a run's whole results directory: the
// results package's files with the profile.toml and report.html that need
// the profile and the renderer.
package report

import (
	"errors"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
)

// Write writes the results directory of run, a run of profile p (nil: it
// has none), as results.Write writes it, with profile.toml (p's effective
// profile, secrets redacted) and report.html, rendered from the files just
// written as `wsstorm report DIR --format html` renders it. It returns the
// summary, p's thresholds judged, even when writing fails, so the caller
// can still print it; an error that is a *results.ExtrasError means only
// profile.toml or report.html failed, one that is a *results.FallbackError
// says where the files dir could not take went instead.
func Write(dir string, p *profile.Profile, run *results.Run) (*results.Summary, error) {
	if run == nil || run.Results == nil {
		return nil, errors.New("report: no results to write")
	}
	s := Summarize(p, run)
	extras := results.Extras{Page: WriteHTML}
	if p != nil {
		extras.Profile = p.WriteTOML
	}
	return s, results.Write(dir, run, s, extras)
}

// Summarize turns run, a run of profile p (nil: it has none), into its
// summary, with p's thresholds judged.
func Summarize(p *profile.Profile, run *results.Run) *results.Summary {
	if p == nil {
		return results.BuildSummary(run, nil)
	}
	s := results.BuildSummary(run, &results.RunProfile{
		Name: p.Name, Path: p.Path, SHA256: p.SHA256, Overrides: p.RedactedOverrides(), Scale: p.ScaleExact,
		Seed: p.Seed, Clients: p.Fleet.Clients, InsecureSkipVerify: p.Target.TLS.InsecureSkipVerify,
	})
	if run != nil {
		s.SetThresholds(judge(s, p.ParsedThresholds()))
	}
	return s
}
