package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestWriteText(t *testing.T) {
	var b strings.Builder
	if err := WriteText(&b, summarize(fixtureRun(t)), "results/default/20261125T150102Z"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("\n%s", out)
	for _, want := range []string{
		"wsstorm: profile default, 2000 clients, 45.0s, seed 1 — passed\n",
		"connects 2687 (attempts 2702, failures: http_503=15)   closes: 1000=200 1012=2000   client closes 1800   gave up 0\n",
		"latency (ms)   count     p50     p90     p99    p99.9      max\n",
		"connect           10    0.50    0.90    1.00     1.00     1.00\n",
		"reconnect       1000    1.50    1.50    1.50  4952.06  4952.06\n",
		"recovery           0       -       -       -        -        -\n",
		"  #0 10.0s rolling_restart node 0 code 1012: affected 667, reconnected 667, t50 3.02s t90 4.10s t99 4.95s t100 5.01s, peak 412/s (intended 6070/s), herd ×2.1, failed http_503=15, imbalance 1.02\n",
		"     in ms: mean reconnect = backoff 2900.0 + dial lag 4.0 + failed attempts 1.1 + handshake 1.5; dial lag p50 3.0 p99 9.5 (bound 247.5)\n",
		"dial_lag        2000    0.12    0.12    0.12     8.00     8.00\n",
		"mean reconnect (ms): backoff 1.2 + dial lag 0.150 + failed attempts 0.000 + handshake 0.150\n",
		"  #1 38.0s close all nodes code 1000: affected 200, reconnected 0, not expected back: 200 (1000 ends the session), t50 - t90 - t99 - t100 -, peak 0/s, herd -\n",
		"  ok    reconnect.p99 < 5s   (measured 0.0015s)\n",
		"  node 0: accepted 900, rejected 15, connections at end 667\n",
		"results: results/default/20261125T150102Z\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text summary lacks %q", want)
		}
	}
}

// TestWriteTextFailureNotes: what the other failures said follows the
// failure counts, with a hint for a reason the user can fix, once.
func TestWriteTextFailureNotes(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Counters.ConnectFailures["too_many_open_files"] = 27
	s.Counters.ConnectFailures["other"] = 2
	s.Counters.OtherFailures = []string{`malformed HTTP response "HELLO"`}
	var b strings.Builder
	if err := WriteText(&b, s, ""); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "failures: http_503=15 other=2 too_many_open_files=27)   closes: 1000=200 1012=2000   client closes 1800   gave up 0\n" +
		"  other: malformed HTTP response \"HELLO\"\n" +
		"  hint: too_many_open_files: out of file descriptors: raise the open-file limit (ulimit -n), or split the run with --processes\n" +
		"reconnects "
	if !strings.Contains(out, want) {
		t.Errorf("text summary lacks\n%s\ngot\n%s", want, out)
	}
	if strings.Count(out, "hint:") != 1 {
		t.Errorf("want one hint:\n%s", out)
	}
}

func TestWriteTextVerdict(t *testing.T) {
	tests := []struct {
		name string
		run  *testRun
		want string
	}{
		{"interrupted", bare(&results.Run{Results: emptyResults(), Interrupted: true}), "— INTERRUPTED (not passed)\n"},
		{"failed", &testRun{Profile: &profile.Profile{Thresholds: map[string]string{"connects": ">= 0", "gave_up": "> 0"}}, Run: &results.Run{Results: emptyResults()}}, "— FAILED (1 of 2 thresholds)\n"},
		{"passed", bare(&results.Run{Results: emptyResults()}), "— passed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteText(&b, summarize(tt.run), ""); err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(b.String(), "\n")
			if !strings.HasSuffix(first+"\n", tt.want) {
				t.Errorf("first line %q, want it to end with %q", first, tt.want)
			}
			if strings.Contains(b.String(), "results:") {
				t.Error("results line without a directory")
			}
		})
	}
}

// TestFreezeEventLine: a freeze's line keeps the others' fields where they
// are and ends with how many connections froze and when the clients that
// noticed did.
func TestFreezeEventLine(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	node := 0
	e := results.EventSummary{Index: 1, AtS: 5, Action: "freeze", Node: &node, Code: 1006, Affected: 28, Reconnected: 28,
		PeakAttemptRate: 40, HerdFactor: 1.5, FailedAttempts: map[string]int64{}, Frozen: 30,
		DetectionMS: &results.LatencySummary{Count: 28, Min: ms(310.5), P50: ms(480), Max: ms(694.8)}}
	var b strings.Builder
	writeEvent(&b, &e)
	line := b.String()
	if !strings.Contains(line, "code 1006: affected 28, reconnected 28,") ||
		!strings.HasSuffix(line, ", frozen 30, noticed in 0.31s–0.69s (p50 0.48s)\n") {
		t.Errorf("freeze line %q", line)
	}
	e.Frozen, e.Action = 0, "restart"
	b.Reset()
	writeEvent(&b, &e)
	if strings.Contains(b.String(), "noticed") {
		t.Errorf("a restart's line says when clients noticed: %q", b.String())
	}
}

// TestGeneratorWarning checks the warning's figures: those of where the
// dial lag passed its bound, not the run's when only an event's did.
func TestGeneratorWarning(t *testing.T) {
	if w := GeneratorWarning(summarize(fixtureRun(t))); w != "" {
		t.Errorf("a run within bounds warned: %q", w)
	}
	w := GeneratorWarning(summarize(limitedRun(t)))
	want := "the load generator shaped this run (event #0: dial lag p99 9.5 ms, bound 5.0 ms), so the attempt peaks and reconnect times are partly wsstorm's own doing"
	if !strings.HasPrefix(w, want) || !strings.HasSuffix(w, "for the dial slots: "+SlotsFix) {
		t.Errorf("warning\n%q\nwant it to start %q and end with the fix for dial slots", w, want)
	}
	// The same lag with no attempt waiting for a slot is the CPU's: timers
	// and goroutines waiting for a core.
	run := limitedRun(t)
	run.Results.Events[0].Queued = 0
	if w := GeneratorWarning(summarize(run)); !strings.HasSuffix(w, "for the CPU: "+CPUFix) || strings.Contains(w, SlotsFix) {
		t.Errorf("lag without a queue: %q", w)
	}
	// Attempts that failed on the generator's own limits name them, and
	// their fix.
	local := limitedRun(t)
	local.Results.Counters.ConnectFailures["too_many_open_files"] = 7
	local.Results.Generator.LocalFailures = 7
	if w := GeneratorWarning(summarize(local)); !strings.Contains(w, "over the run: 7 attempts failed for want of its own ports or files (no_source_port, too_many_open_files)") ||
		!strings.HasSuffix(w, "for the failures: "+LocalFix) {
		t.Errorf("local failures: %q", w)
	}
	// A simulation has no late timers, processes or machines: only its
	// modeled dial slots.
	run.Simulated = &results.Simulated{}
	if w := GeneratorWarning(summarize(run)); !strings.HasPrefix(w, "the simulated generator shaped this run (event #0:") ||
		!strings.HasSuffix(w, "; raise fleet.max_dialing") || strings.Contains(w, "--processes") {
		t.Errorf("simulated: %q", w)
	}
}

// TestTextLegend: the summary ends, before where its results are, with one
// short legend of the words it used; a 1000 close's clients read as not
// expected back, never as "never reconnected" beside a never_reconnected
// threshold that leaves them out.
func TestTextLegend(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Thresholds = append(s.Thresholds, results.Threshold{Expr: "never_reconnected == 0", Value: f64(0), OK: true})
	var b strings.Builder
	if err := WriteText(&b, s, "results/x"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	_, legend, ok := strings.Cut(out, "\nlegend: ")
	if !ok {
		t.Fatalf("no legend:\n%s", out)
	}
	legend, rest, _ := strings.Cut(legend, "results: ")
	if rest != "results/x\n" {
		t.Errorf("the legend is not the summary's end, before where its results are:\n%s", out)
	}
	if n := strings.Count(legend, "\n"); n > 6 {
		t.Errorf("the legend has %d lines, want a few:\n%s", n, legend)
	}
	for _, word := range []string{"t50…t100 = seconds", "reconnected", "herd ×N =", "imbalance =", "dial lag =",
		"not expected back = closed with a code that ends the session (1000): never_reconnected leaves them out"} {
		if !strings.Contains(legend, word) {
			t.Errorf("the legend does not explain %q:\n%s", word, legend)
		}
	}
	if strings.Contains(out, "never reconnected") {
		t.Errorf("a 1000 close's clients read as never reconnected beside never_reconnected == 0:\n%s", out)
	}

	// An event whose clients were expected back and stayed away is
	// "never reconnected", what the threshold counts.
	s.Events[0].Reconnected, s.Events[0].NeverReconnected = 660, 7
	b.Reset()
	if err := WriteText(&b, s, ""); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "reconnected 660, never reconnected 7,") ||
		!strings.Contains(out, "        never reconnected = clients expected back that never returned: what never_reconnected counts\n") {
		t.Errorf("an expected event's clients that stayed away:\n%s", out)
	}

	// No events, no target, no dial lag: nothing to explain.
	b.Reset()
	if err := WriteText(&b, summarize(bare(&results.Run{Results: emptyResults()})), ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "legend") {
		t.Errorf("a legend of nothing:\n%s", b.String())
	}
}

// TestTextOneUnitPerLine: no line of the summary sets seconds beside
// milliseconds, so no figure has to be read against another's unit.
func TestTextOneUnitPerLine(t *testing.T) {
	seconds := regexp.MustCompile(`\d(\.\d+)?s\b`)
	millis := regexp.MustCompile(`\d ?ms\b|\bms\b|\(ms\)`)
	freeze := summarize(fixtureRun(t))
	node := 0
	freeze.Events = append(freeze.Events, results.EventSummary{Index: 2, AtS: 40, Action: "freeze", Node: &node, Code: 1006,
		Affected: 28, Reconnected: 28, ReconnectExpected: true, FailedAttempts: map[string]int64{}, Frozen: 30,
		DetectionMS: &results.LatencySummary{Count: 28, Min: f64(310.5), P50: f64(480), Max: f64(694.8)},
		Hook:        &results.HookResult{Name: "freeze", Kind: "command", DurationS: 0.2}})
	freeze.Thresholds = append(freeze.Thresholds, results.Threshold{Expr: "events.t100 < 3s", Value: f64(1017), Unit: "ms", OK: true})
	for name, s := range map[string]*results.Summary{"fixture": summarize(fixtureRun(t)), "limited": summarize(limitedRun(t)), "freeze and hook": freeze} {
		var b strings.Builder
		if err := WriteText(&b, s, ""); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if seconds.MatchString(line) && millis.MatchString(line) {
				t.Errorf("%s: a line in both seconds and ms:\n%s", name, line)
			}
		}
	}
}

// TestWriteTextProtocolEnds: the sessions the protocol ended are said by
// reason, after the failures, only when there are some.
func TestWriteTextProtocolEnds(t *testing.T) {
	s := summarize(fixtureRun(t))
	var b strings.Builder
	if err := WriteText(&b, s, ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "protocol") {
		t.Errorf("a run without protocol ends mentions them:\n%s", b.String())
	}
	s.Counters.ProtocolStops = map[string]int64{"io server disconnect": 7, "centrifugo: 3501 bad request": 2}
	b.Reset()
	if err := WriteText(&b, s, ""); err != nil {
		t.Fatal(err)
	}
	want := "gave up 0\nended by the protocol: stopped \"centrifugo: 3501 bad request\" 2, \"io server disconnect\" 7; sent away to reconnect none\nreconnects "
	if !strings.Contains(b.String(), want) {
		t.Errorf("text summary lacks\n%s\ngot\n%s", want, b.String())
	}
}
