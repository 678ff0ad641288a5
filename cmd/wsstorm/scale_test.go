package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestQuickRun runs the built-in default with --quick: a 20 s storm that
// passes its thresholds, each with a value, and records its scale so that
// compare refuses to set it against a full run.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 s storm of 2000 clients: the full suite runs it")
	}
	dir := t.TempDir()
	code, stdout, stderr := wsstorm(t, "run", "--quick", "--quiet", "--out", dir)
	if code != exitPassed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "running profile default ((built-in)): 2000 clients for 20s") {
		t.Errorf("stderr does not announce a 20s run:\n%s", stderr)
	}
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.DurationS < 19.5 || s.DurationS > 21 || !s.Passed || len(s.Thresholds) != 3 {
		t.Errorf("ran %.1fs, passed %v, %d thresholds; want 20s, passed, 3", s.DurationS, s.Passed, len(s.Thresholds))
	}
	for _, th := range s.Thresholds {
		if th.Value == nil || !th.OK {
			t.Errorf("threshold %s: value %v, ok %v", th.Expr, th.Value, th.OK)
		}
	}
	if s.Profile.Scale != "4/9" || len(s.Profile.Overrides) != 0 {
		t.Errorf("scale %v, overrides %q; want 4/9 and none", s.Profile.Scale, s.Profile.Overrides)
	}
	full := writeSummary(t, "default", 1000, func(f *results.Summary) { f.Profile.SHA256 = s.Profile.SHA256 })
	if code, _, stderr := wsstorm(t, "compare", full, dir); code != exitUsage || !strings.Contains(stderr, `its timeline at different scales (--scale or --quick): 1 (as written) and 4/9`) {
		t.Errorf("compare of a full run with a quick one: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, stderr := wsstorm(t, "compare", full, dir, "--force"); code == exitUsage {
		t.Errorf("compare --force of a full run with a quick one: exit %d, stderr:\n%s", code, stderr)
	}
}

// movedSteps is the new user's 25 s run of the default, with the steps moved
// to fit: the last restart, at 19s, is over at 21s, and a client may wait 5s.
var movedSteps = []string{"--set", "duration=25s", "--set", "chaos.0.at=5s", "--set", "chaos.0.interval=7s", "--set", "chaos.1.at=22s"}

// lateWarning is the start of the warning of movedSteps.
const lateWarning = "wsstorm: warning: (built-in):48: chaos.0: the run may end before the clients of this rolling_restart are back: its event on node 2 at 19s lasts until 21s"

// TestValidateBuiltin: validate with no profile validates the built-in
// default, scaled with --quick as run would scale it, and warns of clients
// that may not be back before the run ends.
func TestValidateBuiltin(t *testing.T) {
	code, stdout, stderr := wsstorm(t, "validate")
	if code != exitPassed || stdout != "the built-in default profile (built-in): ok (profile default: 2000 clients, 3 embedded nodes, 2 chaos steps, 45s)\n" || stderr != "" {
		t.Errorf("validate: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = wsstorm(t, "validate", "--quick")
	if code != exitPassed || !strings.Contains(stdout, "2 chaos steps, 20s)") {
		t.Errorf("validate --quick: exit %d\nstdout:\n%s", code, stdout)
	}
	code, stdout, stderr = wsstorm(t, append([]string{"validate"}, movedSteps...)...)
	if code != exitPassed || !strings.Contains(stdout, ": ok (") || !strings.HasPrefix(stderr, lateWarning) ||
		!strings.Contains(stderr, "lengthen duration to 26s or more, or start the step 1s earlier\n") {
		t.Errorf("validate of a run that ends before its clients are back: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestRunWarnsBeforeStarting: run prints the profile's warnings before it
// starts anything (here it then cannot write its results: exit 3).
func TestRunWarnsBeforeStarting(t *testing.T) {
	args := append([]string{"run", "--out", filepath.Join("/dev/null", "results")}, movedSteps...)
	code, _, stderr := wsstorm(t, args...)
	if code != exitCannotRun || !strings.HasPrefix(stderr, lateWarning) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestScaleFlagsRefused: --scale and --quick together, or a factor that is
// no factor, are bad usage, said in one line.
func TestScaleFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--quick", "--scale", "0.5"}, "wsstorm run: --quick is a scale of its own: give --scale or --quick, not both"},
		{[]string{"validate", "--scale", "-1"}, `wsstorm validate: --scale "-1": give a factor above 0`},
		{[]string{"run", "--scale", "0"}, `wsstorm run: --scale "0": give a factor above 0`},
		{[]string{"simulate", "--scale", "0", "--quick", "--scale", "2"}, "wsstorm simulate: --quick is a scale of its own"},
		{[]string{"sweep", "--quick", "--scale", "2", "--vary", "fleet.reconnect.max=1s,2s"}, "wsstorm sweep: --quick is a scale of its own"},
		{[]string{"sweep", "--quick", "--simulate", "--vary", "duration=45s,90s"}, "wsstorm sweep: --quick scales setting duration=45s by 4/9 and setting duration=90s by 2/9"},
	} {
		code, _, stderr := wsstorm(t, tc.args...)
		if code != exitUsage || !strings.HasPrefix(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line starting %q", tc.args, code, stderr, tc.want)
		}
	}
}
