package live

import (
	"slices"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// plan is the default profile's chaos plan: a rolling restart of three
// nodes, then a 1000 close of every node's clients.
var plan = []stats.EventPlan{
	{At: 10 * time.Second, Action: "rolling_restart", Node: 0, Code: 1012},
	{At: 18 * time.Second, Action: "rolling_restart", Node: 1, Code: 1012},
	{At: 26 * time.Second, Action: "rolling_restart", Node: 2, Code: 1012},
	{At: 38 * time.Second, Action: "close", Node: -1, Code: 1000},
}

// started returns the first n events of plan as started 5 ms late.
func started(n int) []stats.EventStart {
	var out []stats.EventStart
	for i, p := range plan[:n] {
		out = append(out, stats.EventStart{Index: i, Action: p.Action, Node: p.Node, Code: p.Code, Start: p.At + 5*time.Millisecond})
	}
	return out
}

func TestChaosStep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		plan    []stats.EventPlan
		started []stats.EventStart
		want    string
	}{
		{"no plan", nil, nil, "none"},
		{"before the first", plan, nil, "next #0 rolling_restart node 0 code 1012 at 10.0s"},
		{"during", plan, started(2), "#1 rolling_restart node 1 code 1012 at 18.0s (event 2 of 4); next #2 rolling_restart node 2 code 1012 at 26.0s"},
		{"before the close", plan, started(3), "#2 rolling_restart node 2 code 1012 at 26.0s (event 3 of 4); next #3 close all nodes code 1000 at 38.0s"},
		{"all started", plan, started(4), "#3 close all nodes code 1000 at 38.0s (event 4 of 4)"},
		{"detected", nil, []stats.EventStart{
			{Index: 0, Action: "detected", Node: 1, Code: 1012, Start: 8 * time.Second},
			{Index: 1, Action: "detected", Node: -1, Code: 1012, Start: 12300 * time.Millisecond},
		}, "#1 detected code 1012 at 12.3s (2 detected)"},
		{"detected on one node", nil, []stats.EventStart{{Index: 0, Action: "detected", Node: 1, Code: 1001, Start: 8 * time.Second}},
			"#0 detected node 1 code 1001 at 8.0s (1 detected)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChaosStep(tc.plan, tc.started); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestStatusRates feeds known snapshots and checks each frame's rates (over
// the interval since the previous snapshot) and text.
func TestStatusRates(t *testing.T) {
	st := Status{Clients: 2000, Duration: 45 * time.Second, Plan: plan}
	for _, tc := range []struct {
		snap     stats.Snapshot
		attempts float64
		failures float64
		plain    string
		terminal []string
	}{
		{
			// The first frame's rates run from the start.
			snap:     stats.Snapshot{Elapsed: 5 * time.Second, Connected: 2000, Attempts: 2000, Connects: 2000},
			attempts: 400, failures: 0,
			plain: "5.0s/45.0s  connected 2000/2000  attempts 400/s  failures 0.0/s  closes none  chaos: next #0 rolling_restart node 0 code 1012 at 10.0s",
			terminal: []string{
				"5.0s/45.0s  connected 2000/2000  attempts 400/s  failures 0.0/s",
				"closes none",
				"chaos: next #0 rolling_restart node 0 code 1012 at 10.0s",
			},
		},
		{
			snap: stats.Snapshot{Elapsed: 12 * time.Second, Connected: 1400, Attempts: 2400, Connects: 2330,
				Failures: map[string]int64{"http_503": 60, "refused": 10}, Closes: map[int]int64{1012: 670},
				Events: started(1)},
			attempts: 400.0 / 7, failures: 10,
			plain: "12.0s/45.0s  connected 1400/2000  attempts 57/s  failures 10/s (http_503=60 refused=10)  closes 1012=670  chaos: #0 rolling_restart node 0 code 1012 at 10.0s (event 1 of 4); next #1 rolling_restart node 1 code 1012 at 18.0s",
			terminal: []string{
				"12.0s/45.0s  connected 1400/2000  attempts 57/s  failures 10/s",
				"closes 1012=670  failures so far: http_503=60 refused=10",
				"chaos: #0 rolling_restart node 0 code 1012 at 10.0s  (event 1 of 4)",
				"next: #1 rolling_restart node 1 code 1012 at 18.0s",
			},
		},
		{
			snap: stats.Snapshot{Elapsed: 14 * time.Second, Connected: 2000, Attempts: 2401, Connects: 2331,
				Failures: map[string]int64{"http_503": 60, "refused": 10}, Closes: map[int]int64{1012: 670},
				Events: started(1)},
			attempts: 0.5, failures: 0,
			plain: "14.0s/45.0s  connected 2000/2000  attempts 0.5/s  failures 0.0/s (http_503=60 refused=10)  closes 1012=670  chaos: #0 rolling_restart node 0 code 1012 at 10.0s (event 1 of 4); next #1 rolling_restart node 1 code 1012 at 18.0s",
			terminal: []string{
				"14.0s/45.0s  connected 2000/2000  attempts 0.5/s  failures 0.0/s",
				"closes 1012=670  failures so far: http_503=60 refused=10",
				"chaos: #0 rolling_restart node 0 code 1012 at 10.0s  (event 1 of 4)",
				"next: #1 rolling_restart node 1 code 1012 at 18.0s",
			},
		},
		{
			// Past the planned end (winding down): elapsed stops at the duration.
			snap: stats.Snapshot{Elapsed: 45300 * time.Millisecond, Connected: 1800, Attempts: 2401, Connects: 2331,
				Failures: map[string]int64{"http_503": 60, "refused": 10}, Closes: map[int]int64{1000: 200, 1012: 670},
				Events: started(4)},
			attempts: 0, failures: 0,
			plain: "45.0s/45.0s  connected 1800/2000  attempts 0.0/s  failures 0.0/s (http_503=60 refused=10)  closes 1000=200 1012=670  chaos: #3 close all nodes code 1000 at 38.0s (event 4 of 4)",
			terminal: []string{
				"45.0s/45.0s  connected 1800/2000  attempts 0.0/s  failures 0.0/s",
				"closes 1000=200 1012=670  failures so far: http_503=60 refused=10",
				"chaos: #3 close all nodes code 1000 at 38.0s  (event 4 of 4)",
			},
		},
	} {
		f := st.Next(tc.snap)
		approx(t, "attempt rate", f.AttemptRate, tc.attempts)
		approx(t, "failure rate", f.FailureRate, tc.failures)
		if got := f.PlainLine(); got != tc.plain {
			t.Errorf("plain line\ngot  %q\nwant %q", got, tc.plain)
		}
		if !slices.Equal(f.TerminalLines(), tc.terminal) {
			t.Errorf("terminal lines\ngot  %q\nwant %q", f.TerminalLines(), tc.terminal)
		}
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                         "0.0s",
		1234 * time.Millisecond:   "1.2s",
		59 * time.Second:          "59.0s",
		125400 * time.Millisecond: "2m5s",
		time.Hour:                 "1h0m0s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

func approx(t *testing.T, name string, got, want float64) {
	t.Helper()
	if d := got - want; d > 1e-9 || d < -1e-9 {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}
