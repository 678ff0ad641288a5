package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/sweep"
)

// sweepProfile: 400 clients on two embedded nodes of 150 handshakes/s each
// (a burst big enough that no handshake is refused, so t99 is the reconnect
// window itself), node 0 restarted once: about 200 clients reconnect after a
// uniform random delay in [0, max]. The limit is the capacity, 300/s.
const sweepProfile = `
name = "sweep-window"
duration = "5500ms"
[target]
nodes = 2
[target.capacity]
accept_rate = 150
accept_burst = 2000
[fleet]
clients = 400
ramp = "500ms"
[fleet.session]
send_interval = "500ms"
[fleet.reconnect]
strategy = "window"
min = "0s"
max = "1s"
[[chaos]]
at = "1200ms"
action = "restart"
node = 0
downtime = "300ms"
`

// TestSweepReconnectWindow sweeps the reconnect window: the wider it is,
// the lower the herd's peak and the later the last clients are back, and the
// recommendation is the narrowest window whose herd stays under the
// target's capacity.
func TestSweepReconnectWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("a sweep of real runs (~22 s): the full suite runs it")
	}
	prof := filepath.Join(t.TempDir(), "sweep.toml")
	if err := os.WriteFile(prof, []byte(sweepProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	windows := []string{"100ms", "300ms", "1500ms", "3s"}
	code, stdout, stderr := wsstorm(t, "sweep", prof, "--vary", "fleet.reconnect.max="+strings.Join(windows, ","), "--out", dir, "--quiet")
	t.Logf("stdout:\n%s", stdout)
	if code != exitPassed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	f, err := os.Open(filepath.Join(dir, sweep.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sw, err := sweep.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Settings) != len(windows) || sw.Limit != 300 {
		t.Fatalf("%d settings, limit %v; want %d and 300", len(sw.Settings), sw.Limit, len(windows))
	}
	var peaks, t99s []float64
	for i, r := range sw.Settings {
		if r.Assign[0] != "fleet.reconnect.max="+windows[i] || len(r.Runs) != 1 || r.T99S == nil || r.PeakAttemptRate == nil {
			t.Fatalf("setting %d: %+v", i, r)
		}
		if r.NeverReconnected.Max != 0 || r.Runs[0].Events != 1 {
			t.Fatalf("%s: %+v", r.Label, r.Runs[0])
		}
		s, err := results.ReadSummary(filepath.Join(dir, r.Runs[0].Dir))
		if err != nil {
			t.Fatal(err)
		}
		if s.Events[0].Affected < 100 {
			t.Fatalf("%s: only %d clients affected", r.Label, s.Events[0].Affected)
		}
		peaks = append(peaks, r.PeakAttemptRate.Median)
		t99s = append(t99s, r.T99S.Median)
	}
	t.Logf("peaks %v, t99 %v", peaks, t99s)
	// The extremes strictly and far apart; in between a trend, with room
	// for noise.
	if peaks[0] < 3*peaks[3] || t99s[3] < 3*t99s[0] {
		t.Fatalf("no clear trend: peaks %v, t99 %v", peaks, t99s)
	}
	for i := 1; i < len(windows); i++ {
		if peaks[i] > 1.2*peaks[i-1] || t99s[i] < 0.8*t99s[i-1] {
			t.Errorf("%s → %s: peak %.0f → %.0f, t99 %.3g → %.3g: not monotonic", windows[i-1], windows[i], peaks[i-1], peaks[i], t99s[i-1], t99s[i])
		}
	}
	if want := "fleet.reconnect.max=1500ms"; sw.Recommendation.Label != want {
		t.Fatalf("recommended %q, want %q: %s", sw.Recommendation.Label, want, sw.Recommendation.Text)
	}
	for _, f := range []string{sweep.MarkdownFile, sweep.HTMLFile, sweep.SVGFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "recommendation: fleet.reconnect.max=1500ms") {
		t.Errorf("stdout lacks the recommendation:\n%s", stdout)
	}
	// Each setting's directory is a directory of repeats, with its combined
	// summary, that compare takes as a side: the widest window against the
	// narrowest recovers later, beyond any floor.
	first, last := filepath.Join(dir, sw.Settings[0].Slug), filepath.Join(dir, sw.Settings[3].Slug)
	for _, d := range []string{first, last} {
		if _, err := os.Stat(filepath.Join(d, results.RepeatsFile)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, stderr = wsstorm(t, "compare", first, last, "--force")
	if code != exitFailed || !strings.Contains(stdout, "events[0].t99") || !regexp.MustCompile(`events\[0\]\.t99 .*REGRESSION`).MatchString(stdout) {
		t.Errorf("compare of the narrowest window with the widest: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestSweepBadVary: a key or value the profile rejects stops the sweep
// before anything runs, naming it.
func TestSweepBadVary(t *testing.T) {
	for _, tc := range []struct{ vary, want string }{
		{"fleet.reconnect.maxx=1s,2s", "fleet.reconnect.maxx"},
		{"fleet.reconnect.max=1s,banana", "banana"},
		{"fleet.reconnect.max", "KEY=V1,V2"},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		code, _, stderr := wsstorm(t, "sweep", "--vary", tc.vary, "--out", dir)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("--vary %s: exit %d, want %d naming %q:\n%s", tc.vary, code, exitUsage, tc.want, stderr)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("--vary %s: %s was created", tc.vary, dir)
		}
	}
}

// clientSweepProfile: 200 clients with socket.io-client's loop on two
// embedded nodes, node 0 restarted once; after the close the library waits
// reconnectionDelay ± half of it (randomizationFactor 0.5), capped at 5 s.
const clientSweepProfile = `
name = "sweep-client"
duration = "8s"
[target]
nodes = 2
[target.capacity]
accept_rate = 0
[fleet]
clients = 200
ramp = "400ms"
client = "socket.io-client@4"
[fleet.session]
send_interval = "0s"
[[chaos]]
at = "1s"
action = "restart"
node = 0
downtime = "0s"
`

// TestSweepClientOption sweeps a client preset's option by its library
// name, simulated and real: each setting's clients come back no sooner
// than the shortest delay the library draws, and the longer it waits, the
// later the last are back.
func TestSweepClientOption(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "sweep.toml")
	if err := os.WriteFile(prof, []byte(clientSweepProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		flags  []string
		delays []float64 // ms
	}{
		{"simulated", []string{"--simulate"}, []float64{1000, 2000, 4000}},
		{"real", nil, []float64{1000, 4000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.flags == nil && testing.Short() {
				t.Skip("a sweep of real runs (~15 s): the full suite runs it")
			}
			vals := make([]string, len(tc.delays))
			for i, d := range tc.delays {
				vals[i] = strconv.FormatFloat(d, 'f', -1, 64)
			}
			dir := t.TempDir()
			args := append([]string{"sweep", prof, "--vary", "fleet.client_options.reconnectionDelay=" + strings.Join(vals, ","), "--out", dir, "--quiet"}, tc.flags...)
			code, stdout, stderr := wsstorm(t, args...)
			if code != exitPassed {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			f, err := os.Open(filepath.Join(dir, sweep.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sw, err := sweep.ReadJSON(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(sw.Settings) != len(tc.delays) {
				t.Fatalf("%d settings, want %d", len(sw.Settings), len(tc.delays))
			}
			prev := 0.0
			for i, r := range sw.Settings {
				if r.Assign[0] != "fleet.client_options.reconnectionDelay="+vals[i] || r.T99S == nil || r.NeverReconnected.Max != 0 {
					t.Fatalf("setting %d: %+v", i, r)
				}
				s, err := results.ReadSummary(filepath.Join(dir, r.Runs[0].Dir))
				if err != nil {
					t.Fatal(err)
				}
				wait := tc.delays[i] / 2 / 1000 // the jitter takes off up to half
				// HdrHistogram keeps 3 significant digits: its min may read 0.1% low.
				if m := s.LatencyMS.Reconnect.Min; m == nil || *m/1000 < wait*0.999 {
					t.Errorf("%s: a client came back %v ms after its close, before the library's %.3fs", r.Label, fmtMS(m), wait)
				}
				if r.T99S.Median <= prev {
					t.Errorf("%s: t99 %.3fs, not later than the shorter delay's %.3fs", r.Label, r.T99S.Median, prev)
				}
				prev = r.T99S.Median
			}
		})
	}
}

func fmtMS(v *float64) string {
	if v == nil {
		return "no"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}
