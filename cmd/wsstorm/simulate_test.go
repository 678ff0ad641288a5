package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/simulate"
	"github.com/wsstorm/wsstorm/internal/sweep"
)

// TestSimulateCalibrated calibrates the simulator from a small real run,
// simulates the run's profile with the fitted model and then ten times the
// clients with the model file, and reads both back as any results.
func TestSimulateCalibrated(t *testing.T) {
	if testing.Short() {
		t.Skip("a real run and a calibration (~11 s): the full suite runs it")
	}
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if code, _, stderr := wsstorm(t, append([]string{"run", "--quiet", "--out", real}, small...)...); code != exitPassed {
		t.Fatalf("real run: exit %d\n%s", code, stderr)
	}
	// Calibrated, with an override: model.json holds the fit with it,
	// calibration.json the fit alone.
	sim := filepath.Join(root, "sim")
	code, stdout, stderr := wsstorm(t, "simulate", "--calibrate", real, "--model-set", "workers=7", "--out", sim)
	if code != exitPassed {
		t.Fatalf("simulate --calibrate: exit %d\n%s", code, stderr)
	}
	if m, err := simulate.LoadModel(filepath.Join(sim, simulate.ModelFile)); err != nil || m.Workers != 7 {
		t.Errorf("model.json after --model-set workers=7: %+v, %v", m, err)
	}
	for _, want := range []string{"calibrated from " + real, "connect latency", "p99.9", "simulated: no sockets; target and network modeled (calibrated from " + real + ")", "results: " + sim} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{results.SummaryFile, results.HistogramsFile, results.TimeseriesFile, results.ProfileFile, results.HTMLFile, simulate.ModelFile, simulate.CalibrationFile} {
		if _, err := os.Stat(filepath.Join(sim, f)); err != nil {
			t.Errorf("simulated results lack %s: %v", f, err)
		}
	}
	s, err := results.ReadSummary(sim)
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, s)
	if s.Simulated == nil || s.Simulated.CalibratedFrom != real || s.Simulated.SimEvents == 0 {
		t.Errorf("simulated block %+v", s.Simulated)
	}
	var m simulate.Model
	if err := json.Unmarshal(s.Simulated.Model, &m); err != nil || m.Validate() != nil {
		t.Errorf("summary's model %s: %v", s.Simulated.Model, err)
	}
	var cal simulate.Calibration
	if b, err := os.ReadFile(filepath.Join(sim, simulate.CalibrationFile)); err != nil || json.Unmarshal(b, &cal) != nil || cal.From != real || len(cal.RealMS) != len(cal.Quantiles) || cal.Model == m {
		t.Errorf("calibration.json: %+v (%v)", cal, err)
	}
	if m.Workers != 7 {
		t.Errorf("the simulation ran with %d workers, not the override's 7", m.Workers)
	}

	// The model file, ten times the clients.
	big := filepath.Join(root, "big")
	code, _, stderr = wsstorm(t, "simulate", "--model", filepath.Join(sim, simulate.ModelFile), "--clients", "3000", "--out", big, "--set", "duration=9s",
		"--set", "fleet.ramp=1s", "--set", "chaos.0.at=2s", "--set", "chaos.0.interval=2s", "--set", "chaos.0.downtime=500ms", "--set", "chaos.1.at=8s")
	if code != exitPassed && code != exitFailed {
		t.Fatalf("simulate --model: exit %d\n%s", code, stderr)
	}
	// (Ten times the clients may exceed the capacity fitted to the run,
	// under the race detector above all: how many connect is not the point.)
	if s, err := results.ReadSummary(big); err != nil || s.Clients != 3000 || s.Simulated == nil || !slices.Contains(s.Profile.Overrides, "fleet.clients=3000") {
		t.Errorf("3000 simulated clients: %+v, %v", s, err)
	}
	// Results like any: report renders them, compare compares them.
	code, text, _ := wsstorm(t, "report", sim)
	if code != exitPassed || !strings.Contains(text, "simulated: no sockets") {
		t.Errorf("wsstorm report of simulated results: exit %d\n%s", code, text)
	}
	if code, out, stderr := wsstorm(t, "compare", real, sim, "--force"); code != exitPassed && code != exitFailed ||
		!strings.Contains(stderr, "warning: the new run was simulated and the other side was not") {
		t.Errorf("wsstorm compare real simulated: exit %d\n%s%s", code, out, stderr)
	}
	// A bad model override stops before the calibration, leaving nothing.
	bad := filepath.Join(root, "bad-set")
	code, _, stderr = wsstorm(t, "simulate", "--calibrate", real, "--model-set", "workers=x", "--out", bad)
	if code != exitUsage || !strings.Contains(stderr, "workers wants a number") || strings.Contains(stderr, "calibrating") {
		t.Errorf("calibrate with a bad --model-set: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("a bad --model-set left %s behind", bad)
	}
	// A simulation is no ground to calibrate from.
	code, _, stderr = wsstorm(t, "simulate", "--calibrate", sim, "--out", filepath.Join(root, "again"))
	if code != exitUsage || !strings.Contains(stderr, "holds simulated results: calibrate from a real run's results") {
		t.Errorf("calibrate from simulated results: exit %d\n%s", code, stderr)
	}
}

func TestSimulateBadInput(t *testing.T) {
	root := t.TempDir()
	badModel := filepath.Join(root, "bad.json")
	if err := os.WriteFile(badModel, []byte(`{"network_median_ms": 1, "cores": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	observe := filepath.Join(root, "observe.toml")
	if err := os.WriteFile(observe, []byte("name = \"o\"\nduration = \"10s\"\n[target]\nmode = \"external\"\nurl = \"ws://127.0.0.1:9/\"\n[fleet]\nclients = 10\n[detect]\nenabled = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown model key", []string{"--model-set", "cpus=4"}, `unknown key "cpus": want one of`},
		{"model value", []string{"--model-set", "workers=1.5"}, "workers wants a whole number"},
		{"model pool", []string{"--model-set", "pool=rack"}, `model pool is "rack"`},
		{"model file missing", []string{"--model", filepath.Join(root, "none.json")}, "--model: open"},
		{"model file unknown field", []string{"--model", badModel}, `unknown field "cores"`},
		{"calibrate not results", []string{"--calibrate", root}, "no summary.json"},
		{"both", []string{"--calibrate", root, "--model", badModel}, "give one of them"},
		{"negative clients", []string{"--clients", "-1"}, "--clients -1: want 1 to 1000000"},
		{"too many clients", []string{"--clients", "2000000"}, "want 1 to 1000000"},
		{"bad profile key", []string{"--set", "fleet.clientz=3"}, "fleet.clientz"},
		{"observe mode", []string{observe}, "observe mode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(root, strings.ReplaceAll(c.name, " ", "-"))
			code, _, stderr := wsstorm(t, append([]string{"simulate", "--out", out}, c.args...)...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, exitUsage, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("left %s behind", out)
			}
		})
	}
}

// TestSweepSimulated sweeps the reconnect window of 20,000 simulated
// clients: wider windows lower the herd and lengthen recovery,
// and the sweep says it was simulated.
func TestSweepSimulated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	code, stdout, stderr := wsstorm(t, "sweep", "--simulate", "--quiet", "--out", out,
		"--set", "fleet.clients=20000", "--set", "fleet.ramp=4s", "--set", "fleet.max_dialing=4096",
		"--set", "target.capacity.accept_rate=4000",
		"--vary", "fleet.reconnect.max=1s,2s,4s,8s", "--set", "fleet.reconnect.min=0s")
	if code != exitPassed {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, sweep.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var sw sweep.Sweep
	if err := json.Unmarshal(b, &sw); err != nil {
		t.Fatal(err)
	}
	if !sw.Simulated || len(sw.Model) == 0 || len(sw.Settings) != 4 {
		t.Fatalf("sweep.json: simulated %v, model %s, %d settings", sw.Simulated, sw.Model, len(sw.Settings))
	}
	for i := 1; i < len(sw.Settings); i++ {
		a, b := sw.Settings[i-1], sw.Settings[i]
		if a.T99S == nil || b.T99S == nil || a.PeakAttemptRate == nil || b.PeakAttemptRate == nil {
			t.Fatalf("%s or %s lacks t99 or peak", a.Label, b.Label)
		}
		if !(b.PeakAttemptRate.Median < a.PeakAttemptRate.Median) || !(b.T99S.Median > a.T99S.Median) {
			t.Errorf("%s → %s: peak %.0f → %.0f, t99 %.2f → %.2f: want the peak lower and t99 longer", a.Label, b.Label,
				a.PeakAttemptRate.Median, b.PeakAttemptRate.Median, a.T99S.Median, b.T99S.Median)
		}
	}
	if !strings.Contains(stdout, "simulated: no sockets") {
		t.Errorf("stdout does not say the sweep was simulated:\n%s", stdout)
	}
	if code, _, stderr := wsstorm(t, "sweep", "--model", "m.json", "--vary", "fleet.reconnect.max=2s,5s"); code != exitUsage || !strings.Contains(stderr, "give --simulate with it") {
		t.Errorf("--model without --simulate: exit %d\n%s", code, stderr)
	}
}
