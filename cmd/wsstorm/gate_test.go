package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// The project's own performance gate (.ci/run): profiles/ci-gate.toml run
// against the embedded target and compared with the committed baseline.
const (
	gateProfile  = "../../profiles/ci-gate.toml"
	gateBaseline = "../../results/baselines/ci-gate"
)

// TestGateBaselineIsCurrent checks that the committed baseline was recorded
// with the gate profile as it is now: editing the profile without recording
// a new baseline would compare two different storms.
func TestGateBaselineIsCurrent(t *testing.T) {
	data, err := os.ReadFile(gateProfile)
	if err != nil {
		t.Fatal(err)
	}
	base, err := results.ReadSummary(gateBaseline)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); base.Profile.SHA256 != got || base.Profile.Name != "ci-gate" || len(base.Profile.Overrides) != 0 {
		t.Fatalf("the baseline ran profile %q (sha256 %s, overrides %v); profiles/ci-gate.toml now has sha256 %s: record a new baseline (CONTRIBUTING.md, CI and the performance gate)",
			base.Profile.Name, base.Profile.SHA256, base.Profile.Overrides, got)
	}
	if !base.Passed || base.Interrupted {
		t.Fatal("the baseline run did not pass: a gate must start from a good run")
	}
}

// TestGateCatchesSlowdown runs the gate twice under the same conditions: as
// it is, which must pass, and with a real regression injected, a handshake
// 10 ms slower, which must fail with exit code 1 on the latencies it moves.
// Like .ci/run, it runs a plain build of wsstorm: the race detector, which
// this test binary may carry, slows the clients themselves by more than the
// tolerances allow.
func TestGateCatchesSlowdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 12 s storms")
	}
	bin := filepath.Join(t.TempDir(), "wsstorm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	plain := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	gate := func(name string, sets ...string) (int, string, string) {
		out := filepath.Join(t.TempDir(), name)
		args := append([]string{"run", gateProfile, "--quiet", "--out", out}, sets...)
		if code, stdout, stderr := plain(args...); code != exitPassed {
			t.Fatalf("%s run: exit %d\n%s\n%s", name, code, stdout, stderr)
		}
		// As the gate runs it; --force only for the slowed run, which
		// carries an override the baseline lacks.
		cmp := []string{"compare", gateBaseline, out, "--profile", gateProfile}
		if len(sets) > 0 {
			cmp = append(cmp, "--force")
		}
		return plain(cmp...)
	}
	switch code, stdout, stderr := gate("control"); {
	case code == exitCannotRun && strings.Contains(stderr, "other processes kept the machine busy"):
		// Not a pass, but no false regression either: the gate saw the
		// machine's other work and declined to judge the tails it moved.
		t.Logf("control inconclusive on a busy machine:\n%s\n%s", stdout, stderr)
	case code != exitPassed:
		t.Fatalf("the gate fails wsstorm as it is (exit %d): its floors are too tight for this machine\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := gate("slow", "--set", "target.capacity.handshake_delay=10ms")
	if code != exitFailed {
		t.Fatalf("the gate let a 10 ms slower handshake through: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Connects move by the full 10 ms, beyond their floors (3 and 5 ms) and
	// tolerance; reconnects move by the same 10 ms, 2% of theirs: within
	// tolerance, no regression.
	for _, metric := range []string{"connect.p50", "connect.p90"} {
		if !strings.Contains(lineOf(stdout, metric), "REGRESSION") {
			t.Errorf("%s not flagged:\n%s", metric, stdout)
		}
	}
	if strings.Contains(lineOf(stdout, "reconnect.p50"), "REGRESSION") {
		t.Errorf("reconnect.p50 flagged for 2%%:\n%s", stdout)
	}
}

// lineOf returns the first line of text that starts with prefix.
func lineOf(text, prefix string) string {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
