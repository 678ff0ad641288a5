package results

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results/resultstest"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// fixtureStart has a fraction of a millisecond, which the summary drops.
var fixtureStart = resultstest.Start()

func f64(v float64) *float64 { return &v }

// testRun is a run with what its summary records of the profile it ran:
// the plain values a caller that holds the profile fills in.
type testRun struct {
	*Run
	profile    *RunProfile // nil: no profile
	thresholds []Threshold // as judged; nil: none
}

// fixtureRun is resultstest's run, of profile "default" (seed 1, 2000
// clients) with one threshold, reconnect.p99 < 5s, met at 1.5 ms, on the
// embedded target.
func fixtureRun(t testing.TB) *testRun {
	t.Helper()
	return &testRun{
		Run: &Run{
			Results: resultstest.Results(t),
			Target: &TargetSide{
				Nodes: []NodeSide{
					{Index: 0, Accepted: 900, Rejected: 15, ConnectionsEnd: 667},
					{Index: 1, Accepted: 890, Rejected: 0, ConnectionsEnd: 667},
					{Index: 2, Accepted: 897, Rejected: 0, ConnectionsEnd: 666},
				},
				ImbalanceEnd: f64(1.00050),
			},
		},
		profile: &RunProfile{
			Name:    "default",
			Path:    "profiles/default.toml",
			SHA256:  "5f1c0e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
			Seed:    1,
			Clients: 2000,
		},
		thresholds: []Threshold{{Expr: "reconnect.p99 < 5s", Value: f64(1.5), Unit: "ms", OK: true}},
	}
}

// bare is run without a profile.
func bare(run *Run) *testRun { return &testRun{Run: run} }

// emptyResults is a run that recorded nothing: no histograms, nil maps.
func emptyResults() *stats.Results { return resultstest.Empty() }

// summary is the run's summary, its thresholds recorded.
func (r *testRun) summary() *Summary {
	s := BuildSummary(r.Run, r.profile)
	if r.thresholds != nil {
		s.SetThresholds(r.thresholds)
	}
	return s
}

// extras stand in for profile.toml, when the run has a profile, and
// report.html, which names the profile the summary read back names.
func (r *testRun) extras() Extras {
	e := Extras{Page: func(w io.Writer, rs *ResultSet) error {
		_, err := fmt.Fprintf(w, "<h1>%s</h1>\n", rs.Summary.Profile.Name)
		return err
	}}
	if r.profile != nil {
		e.Profile = func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "name = %q\n", r.profile.Name)
			return err
		}
	}
	return e
}

// write writes run into dir and returns its summary.
func (r *testRun) write(dir string) (*Summary, error) {
	s := r.summary()
	return s, Write(dir, r.Run, s, r.extras())
}

// writeFixture writes run into a fresh directory and returns it with the raw
// summary.json.
func writeFixture(t *testing.T, run *testRun) (string, []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "results")
	if _, err := run.write(dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, data
}
