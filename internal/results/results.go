// Package results is the model and the files of a run's results: the
// summary (summary.json, whose layout is a contract), the histograms
// (histograms.hlog), the time series (timeseries.csv) and, for a segment of
// a split run, segment.json. It builds the summary from what a run
// recorded, writes a results directory atomically and reads one back.
//
// It knows nothing of profiles: what the summary records of the profile a
// run used (RunProfile, and the thresholds as judged) the caller fills in
// as plain values. The files beside the results that are not part of the
// contract, profile.toml and report.html, are written from functions the
// caller gives (Extras). Its errors begin "report: ", as they did when this
// was part of package report: the command line's messages quote them.
package results

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// The files of a results directory.
const (
	SummaryFile    = "summary.json"
	HistogramsFile = "histograms.hlog"
	TimeseriesFile = "timeseries.csv"
	// ProfileFile is the effective profile of a run, written beside its
	// results.
	ProfileFile = "profile.toml"
	// HTMLFile is the run's report as one self-contained HTML page.
	HTMLFile = "report.html"
)

// Run is everything a finished (or interrupted) run hands over for its
// results: what it recorded and how it ended. The profile it ran is not
// part of it; BuildSummary takes what the summary records of it.
type Run struct {
	Results     *stats.Results
	Interrupted bool
	Target      *TargetSide // nil unless the embedded target ran
	// Hooks are the restart hooks' runs, by event index (external targets).
	Hooks map[int]*HookResult
	// Aborted says why the run ended early on its own, or is empty.
	Aborted string
	// Segment is set when the run was one segment of a split run: Write
	// then also writes segment.json, which merging the segments needs.
	Segment *Segment
	// Merged is set when the run was merged from a split run's segments.
	Merged *Merged
	// Simulated is set when wsstorm simulate computed the results; nil for
	// a real run.
	Simulated *Simulated
}

// RunProfile is what a summary records of the profile a run used, as plain
// values the caller, which holds the profile, fills in.
type RunProfile struct {
	Name   string
	Path   string
	SHA256 string // of the file as read, before --set
	// Overrides are the --set key=value pairs applied after reading, in
	// order, their secrets redacted.
	Overrides []string
	// Scale is the factor --scale or --quick multiplied the timeline by,
	// as an exact fraction ("4/9"); "": as written.
	Scale              string
	Seed               uint64
	Clients            int
	InsecureSkipVerify bool // TLS certificates were not verified
}

// DefaultDir returns where a run's results go without --out:
// root/<profile name>/<start in UTC as yyyymmddThhmmssZ>. Characters of the
// name other than letters, digits, '.', '_' and '-' become '_', so a name
// cannot leave root.
func DefaultDir(root, profileName string, started time.Time) string {
	return filepath.Join(root, dirName(profileName), started.UTC().Format("20060102T150405Z"))
}

func dirName(name string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
	if strings.Trim(clean, ".") == "" {
		return "unnamed"
	}
	return clean
}
