package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/results/resultstest"
	"github.com/wsstorm/wsstorm/internal/stats"
)

func f64(v float64) *float64 { return &v }

// testRun is a run and the profile it ran, as Write takes them.
type testRun struct {
	Profile *profile.Profile // nil: none
	*results.Run
}

// fixtureRun is resultstest's run, of a profile "default" with one
// threshold, reconnect.p99 < 5s, on the embedded target.
func fixtureRun(t testing.TB) *testRun {
	t.Helper()
	return &testRun{
		Profile: &profile.Profile{
			Name:       "default",
			Path:       "profiles/default.toml",
			SHA256:     "5f1c0e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
			Seed:       1,
			Fleet:      profile.Fleet{Clients: 2000},
			Thresholds: map[string]string{"reconnect.p99": "< 5s"},
		},
		Run: &results.Run{
			Results: resultstest.Results(t),
			Target: &results.TargetSide{
				Nodes: []results.NodeSide{
					{Index: 0, Accepted: 900, Rejected: 15, ConnectionsEnd: 667},
					{Index: 1, Accepted: 890, Rejected: 0, ConnectionsEnd: 667},
					{Index: 2, Accepted: 897, Rejected: 0, ConnectionsEnd: 666},
				},
				ImbalanceEnd: f64(1.00050),
			},
		},
	}
}

// limitedRun is the fixture run with a generator that shaped event #0: its
// dial lag p99 (9.5 ms) past a bound of 5 ms.
func limitedRun(t testing.TB) *testRun {
	run := fixtureRun(t)
	run.Results.Events[0].LagBound = 5 * time.Millisecond
	run.Results.Events[0].GeneratorLimited = true
	run.Results.Events[0].Queued = 600 // the clients waited for dial slots
	run.Results.Generator = stats.GeneratorVerdict{Limited: true, LagP99: 120 * time.Microsecond, Bound: 5 * time.Millisecond, Events: []int{0}}
	return run
}

// bare is run without a profile.
func bare(run *results.Run) *testRun { return &testRun{Run: run} }

// emptyResults is a run that recorded nothing: no histograms, nil maps.
func emptyResults() *stats.Results { return resultstest.Empty() }

// summarize is run's summary, its thresholds judged.
func summarize(run *testRun) *results.Summary { return Summarize(run.Profile, run.Run) }

// writeFixture writes run into a fresh directory and returns it with the raw
// summary.json.
func writeFixture(t *testing.T, run *testRun) (string, []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "results")
	if _, err := Write(dir, run.Profile, run.Run); err != nil {
		t.Fatalf("Write: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, data
}
