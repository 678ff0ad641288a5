package real_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// The real-server tests run wsstorm as a user does: its binary, built once
// for the test process (without the race detector, whose slowdown would be
// the instrument's, not the servers'), on a profile of profiles/real, from
// the repository's root, with the stack's directory in WSSTORM_REAL_DIR for
// its restart hooks.

var build struct {
	once sync.Once
	dir  string // removed when the tests end
	path string
	err  error
	out  []byte
}

// TestMain removes the binary the tests built (21 MB a run).
func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		if err := os.RemoveAll(build.dir); err != nil {
			fmt.Fprintln(os.Stderr, "test/real:", err)
		}
	}
	os.Exit(code)
}

// repoRoot is the repository's root directory.
func repoRoot() string { return filepath.Dir(filepath.Dir(filepath.Dir(realtest.Script("up.sh")))) }

// wsstormBinary builds wsstorm once and returns its path.
func wsstormBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "wsstorm-real-bin")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "wsstorm")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/wsstorm")
		cmd.Dir = repoRoot()
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build ./cmd/wsstorm: %v\n%s", build.err, build.out)
	}
	return build.path
}

// stormRun is a finished wsstorm run: its exit code, what it printed, and
// its results.
type stormRun struct {
	code   int
	stdout string
	rs     *results.ResultSet
}

// storm runs `wsstorm run PROFILE --out DIR --set ...` against stack s and
// reads its results; the run must end within limit.
func storm(t *testing.T, s *realtest.Stack, profile string, limit time.Duration, sets ...string) *stormRun {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results")
	args := []string{"run", profile, "--out", out}
	for _, set := range sets {
		args = append(args, "--set", set)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, wsstormBinary(t), args...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "WSSTORM_REAL_DIR="+s.Dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := &stormRun{stdout: stdout.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("wsstorm %v: %v\n%s", args, err, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("wsstorm %v did not end within %v", args, limit)
	}
	t.Logf("wsstorm %v: exit %d\n%s", args, r.code, r.stdout)
	rs, err := results.ReadResultSet(out)
	if err != nil {
		t.Fatalf("wsstorm %v wrote no results: %v\nstderr: %s", args, err, stderr.String())
	}
	r.rs = rs
	return r
}

// connectedAt is the clients wsstorm counted connected at t (the
// timeseries' 100 ms bucket that holds t), and whether the count held
// steady over the second around it.
func (r *stormRun) connectedAt(t time.Time) (n int64, steady bool) {
	ts, conn := r.rs.Column("t_s"), r.rs.Column("connected")
	at := t.Sub(r.rs.Summary.StartedAt.Time).Seconds()
	var window []int64
	for i := range ts {
		if math.Abs(ts[i]-at) <= 0.5 {
			window = append(window, int64(conn[i]))
		}
		if ts[i] <= at {
			n = int64(conn[i])
		}
	}
	return n, len(window) > 0 && slices.Min(window) == slices.Max(window)
}

// nearestRank is the p-th percentile of sorted values by nearest rank: the
// smallest value with at least p% of the values at or below it, as an HDR
// histogram's ValueAtPercentile reads one.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// rollingAlone: the rolling-restart tests are not parallel. Go runs them one
// after the other, before the parallel tests, so that each herd is measured
// on a generator no other storm shares the two cores with. Run together,
// three storms of 2,000 clients saturated wsstorm's CPU in a herd
// (GENERATOR-LIMITED), and checkPercentiles refuses such a run.

// checkPercentiles holds run r's reconnect p50, p90 and p99 against who's,
// from server sorted, within max(5 ms, 5%). The run must not be
// generator-limited: the figures held against the servers are to be the
// clients', not shaped by wsstorm's dial queue or CPU, as the recipes say.
func checkPercentiles(t *testing.T, who string, server []time.Duration, r *stormRun) {
	t.Helper()
	if g := r.rs.Summary.GeneratorLimited; g != nil {
		t.Errorf("the run was generator-limited (dial lag p99 %.1f ms, bound %.1f ms, CPU-saturated events %v, local failures %d): its herd is partly wsstorm's own",
			g.DialLagP99MS, g.BoundMS, g.CPUSaturatedEvents, g.LocalFailures)
	}
	l := r.rs.Summary.LatencyMS.Reconnect
	for _, q := range []struct {
		p  float64
		at *float64
	}{{50, l.P50}, {90, l.P90}, {99, l.P99}} {
		theirs, ws := nearestRank(server, q.p), ms(q.at)
		t.Logf("reconnect p%v: %s %v, wsstorm %v (%+.1f ms)", q.p, who, theirs.Round(time.Microsecond), ws.Round(time.Microsecond), float64(theirs-ws)/1e6)
		if !withinTolerance(theirs, ws) {
			t.Errorf("reconnect p%v: %s %v, wsstorm %v: more than max(5 ms, 5%%) apart", q.p, who, theirs, ws)
		}
	}
}

// withinTolerance says whether a server's figure and wsstorm's agree within
// max(5 ms, 5%) of wsstorm's, the bound for latencies from two
// observers.
func withinTolerance(server, wsstorm time.Duration) bool {
	tol := max(5*time.Millisecond, time.Duration(0.05*float64(wsstorm)))
	return (server - wsstorm).Abs() <= tol
}

// ms is a summary's milliseconds as a duration.
func ms(v *float64) time.Duration {
	if v == nil {
		return 0
	}
	return time.Duration(*v * float64(time.Millisecond))
}
