package sweep

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

func TestParseVary(t *testing.T) {
	a, err := ParseVary("chaos.0.nodes=[0,1], [1] ,\"a,b\"")
	if err != nil {
		t.Fatal(err)
	}
	if a.Key != "chaos.0.nodes" || !reflect.DeepEqual(a.Values, []string{"[0,1]", "[1]", `"a,b"`}) {
		t.Fatalf("%+v", a)
	}
	for _, bad := range []string{"novalues", "=1s", "k=1s,,2s"} {
		if _, err := ParseVary(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestExpand(t *testing.T) {
	got, err := Expand([]Axis{
		{Key: "fleet.reconnect.strategy", Values: []string{"window", "full_jitter"}},
		{Key: "fleet.reconnect.max", Values: []string{"1s", "5s", "10s"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d settings, want 6", len(got))
	}
	if want := []string{"fleet.reconnect.strategy=window", "fleet.reconnect.max=5s"}; !reflect.DeepEqual(got[1].Assign, want) {
		t.Errorf("second setting %v, want %v", got[1].Assign, want)
	}
	if got[5].Slug != "6-strategy-full_jitter_max-10s" {
		t.Errorf("slug %q", got[5].Slug)
	}
	seen := map[string]bool{}
	for _, s := range got {
		if seen[s.Slug] {
			t.Errorf("slug %q twice", s.Slug)
		}
		seen[s.Slug] = true
	}
	// Values that clean to the same slug still get their own directory.
	same, err := Expand([]Axis{{Key: "k", Values: []string{"a/b", "a:b"}}})
	if err != nil || same[0].Slug == same[1].Slug {
		t.Errorf("slugs %q %q, err %v", same[0].Slug, same[1].Slug, err)
	}
	if _, err := Expand(nil); err == nil {
		t.Error("no axes: no error")
	}
	if _, err := Expand([]Axis{{Key: "k", Values: []string{"1"}}, {Key: "k", Values: []string{"2"}}}); err == nil {
		t.Error("a key twice: no error")
	}
}

func f(v float64) *float64 { return &v }

func TestFromSummaryAndAggregate(t *testing.T) {
	s := &results.Summary{Events: []results.EventSummary{
		{ReconnectExpected: true, Affected: 10, T50S: f(0.5), T99S: f(1), T100S: f(1.2), PeakAttemptRate: 500, HerdFactor: 2, FailedAttempts: map[string]int64{"http_503": 3}},
		{ReconnectExpected: true, Affected: 10, T50S: f(0.7), T99S: f(2), T100S: f(2.5), PeakAttemptRate: 300, HerdFactor: 3, FailedAttempts: map[string]int64{"refused": 1}, NeverReconnected: 1},
		{ReconnectExpected: false, Affected: 10, T99S: f(9), PeakAttemptRate: 9000},
		{ReconnectExpected: true, Affected: 0, PeakAttemptRate: 7000}, // closed no one: no herd, no t99
	}}
	m := FromSummary("a/run-1", s)
	if m.Events != 2 || *m.T99S != 2 || *m.T50S != 0.7 || m.PeakAttemptRate != 500 || m.HerdFactor != 3 || m.FailedAttempts != 4 || m.NeverReconnected != 1 {
		t.Fatalf("%+v", m)
	}
	// An interrupted run is kept but not counted.
	r := Result{Runs: []RunMetrics{{T99S: f(3), PeakAttemptRate: 100}, {T99S: f(1), PeakAttemptRate: 300}, {Excluded: "interrupted", PeakAttemptRate: 0}}}
	r.Aggregate()
	if r.T99S == nil || *r.T99S != (Stat{Median: 2, Min: 1, Max: 3, N: 2}) || *r.PeakAttemptRate != (Stat{Median: 200, Min: 100, Max: 300, N: 2}) {
		t.Fatalf("t99 %+v peak %+v", r.T99S, r.PeakAttemptRate)
	}
	// A counted run whose clients did not all come back has no t99, and
	// the setting then has none: it must not read as a fast recovery.
	r = Result{Runs: []RunMetrics{{T99S: f(0.5), PeakAttemptRate: 100}, {T99S: nil, PeakAttemptRate: 200, NeverReconnected: 5}}}
	r.Aggregate()
	if r.T99S != nil {
		t.Errorf("t99 %+v, want none: one run did not recover", r.T99S)
	}
	if m := FromSummary("x", &results.Summary{Interrupted: true}); m.Excluded != "interrupted" {
		t.Errorf("an interrupted run: excluded %q", m.Excluded)
	}
	if m := FromSummary("x", &results.Summary{Events: []results.EventSummary{{ReconnectExpected: true, Affected: 5, Failed: true, T99S: f(1)}}}); m.Excluded == "" {
		t.Error("a run whose hook failed is counted")
	}
}

// TestParetoLeavesOutIncomplete: a setting that left clients away is on
// neither the front nor the recommendation, and does not push others off.
func TestParetoLeavesOutIncomplete(t *testing.T) {
	rs := synthetic(0,
		[3]float64{0.5, 100, 50}, // a: fast and gentle, but 50 clients never came back
		[3]float64{1, 500, 0},    // b
	)
	MarkPareto(rs)
	if rs[0].Pareto || !rs[1].Pareto {
		t.Errorf("pareto a %v b %v, want only b", rs[0].Pareto, rs[1].Pareto)
	}
	if rec := Recommend(rs); rec.Slug != "b" {
		t.Errorf("recommended %q, want b", rec.Slug)
	}
}

// synthetic builds settings from (t99, peak, never reconnected) triples.
func synthetic(limit float64, pts ...[3]float64) []Result {
	var rs []Result
	for i, p := range pts {
		r := Result{Setting: Setting{Slug: string(rune('a' + i)), Assign: []string{"k=" + string(rune('a'+i))}}, Limit: limit,
			Runs: []RunMetrics{{T99S: f(p[0]), PeakAttemptRate: p[1], NeverReconnected: int64(p[2])}}}
		rs = append(rs, r)
	}
	for i := range rs {
		rs[i].Aggregate()
	}
	return rs
}

func TestPareto(t *testing.T) {
	rs := synthetic(0,
		[3]float64{1, 1000, 0}, // a: front (fastest)
		[3]float64{2, 500, 0},  // b: front
		[3]float64{3, 600, 0},  // c: dominated by b
		[3]float64{4, 100, 0},  // d: front (gentlest)
		[3]float64{2, 500, 0},  // e: equal to b: not dominated
	)
	MarkPareto(rs)
	var front []string
	for _, r := range rs {
		if r.Pareto {
			front = append(front, r.Slug)
		}
	}
	if want := []string{"a", "b", "d", "e"}; !reflect.DeepEqual(front, want) {
		t.Fatalf("front %v, want %v", front, want)
	}
}

func TestRecommend(t *testing.T) {
	pts := [][3]float64{{1, 1000, 0}, {2, 500, 0}, {1.5, 400, 2}, {4, 100, 0}}
	if got := Recommend(synthetic(600, pts...)); got.Slug != "b" {
		t.Errorf("limit 600: %+v, want b (c is faster but left clients away)", got)
	}
	if got := Recommend(synthetic(0, pts...)); got.Slug != "a" {
		t.Errorf("no limit: %+v, want a", got)
	}
	if got := Recommend(synthetic(200, pts...)); got.Slug != "d" {
		t.Errorf("limit 200: %+v, want d", got)
	}
	got := Recommend(synthetic(50, pts...))
	if got.Slug != "" || !strings.Contains(got.Text, "no setting keeps the herd under 50") || !strings.Contains(got.Text, "k=d") {
		t.Errorf("limit 50: %+v", got)
	}
	got = Recommend(synthetic(450, [3]float64{1, 1000, 0}, [3]float64{1.5, 400, 2}))
	if got.Slug != "" || !strings.Contains(got.Text, "never reconnected") {
		t.Errorf("only an unreconnected setting under the limit: %+v", got)
	}
}

func TestWrite(t *testing.T) {
	sw := &Sweep{Repeat: 1, Limit: 600, LimitSource: "[sweep] max_attempt_rate",
		Settings: synthetic(600, [3]float64{1, 1000, 0}, [3]float64{2, 500, 0})}
	sw.Profile.Name = "p"
	sw.Finish()
	var j, txt, md, html bytes.Buffer
	for _, w := range []func() error{
		func() error { return sw.WriteJSON(&j) }, func() error { return sw.WriteText(&txt) },
		func() error { return sw.WriteMarkdown(&md) }, func() error { return sw.WriteHTML(&html) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ReadJSON(&j)
	if err != nil || back.Recommendation.Slug != "b" || len(back.Settings) != 2 {
		t.Fatalf("read back %+v, %v", back, err)
	}
	for _, want := range []string{"k=b", "recommended", "over limit", "600 attempts/s"} {
		if !strings.Contains(txt.String(), want) || !strings.Contains(md.String(), want) {
			t.Errorf("text or markdown lacks %q:\n%s\n%s", want, txt.String(), md.String())
		}
	}
	h := html.String()
	for _, want := range []string{"uPlot", "Pareto front", "k=b", `"limit":600`} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, "<script src") || strings.Contains(h, "<link") {
		t.Error("the HTML page fetches something")
	}
}

// TestGeneratorLimited checks that a run the load generator shaped is
// counted as usual, and that its setting is marked in the table, the text,
// the markdown, the page and sweep.json, and warned of on the log.
func TestGeneratorLimited(t *testing.T) {
	p99 := 30.0
	limited := &results.Summary{
		GeneratorLimited: &results.GeneratorSummary{DialLagP99MS: 1, BoundMS: 5, Events: []int{0}},
		Events: []results.EventSummary{{Index: 0, ReconnectExpected: true, Affected: 10, T99S: f(2), PeakAttemptRate: 400,
			DialLagMS: &results.LatencySummary{P99: &p99}, DialLagBoundMS: 5}},
	}
	m := FromSummary("a/run-1", limited)
	if !m.GeneratorLimited || m.GeneratorFigures != "event #0: dial lag p99 30.0 ms, bound 5.0 ms" || m.Excluded != "" {
		t.Fatalf("%+v: want limited, with the event's figures, and counted", m)
	}
	want := "warning: k=a run 1 was generator-limited (event #0: dial lag p99 30.0 ms, bound 5.0 ms): its herd is partly wsstorm's own; " + GeneratorFix(false)
	if got := limitedWarning("k=a", 1, m, false); got != want {
		t.Errorf("log line\n%q\nwant %q", got, want)
	}
	if got := limitedWarning("k=a", 1, m, true); !strings.HasSuffix(got, "; raise fleet.max_dialing (the model's dials in flight at once)") {
		t.Errorf("simulated: %q, want only the dial slots as the fix", got)
	}
	if got := limitedWarning("k=a", 1, FromSummary("a/run-2", &results.Summary{}), false); got != "" {
		t.Errorf("a run within bounds warned: %q", got)
	}

	sw := &Sweep{Repeat: 2, Settings: synthetic(0, [3]float64{1, 1000, 0}, [3]float64{2, 500, 0})}
	sw.Settings[0].Runs = append(sw.Settings[0].Runs, m)
	sw.Profile.Name = "p"
	sw.Finish()
	if got := sw.Settings[0].GeneratorLimitedRuns; got != 1 || sw.Settings[1].GeneratorLimitedRuns != 0 {
		t.Errorf("generator-limited runs %d and %d, want 1 and 0", got, sw.Settings[1].GeneratorLimitedRuns)
	}
	if *sw.Settings[0].T99S != (Stat{Median: 1.5, Min: 1, Max: 2, N: 2}) {
		t.Errorf("t99 %+v: the limited run must still count", sw.Settings[0].T99S)
	}
	_, rows := sw.Rows()
	if mark := rows[0][len(rows[0])-1]; !strings.Contains(mark, "generator-limited (1 of 2 runs)") {
		t.Errorf("mark %q", mark)
	}
	var j, txt, md, html bytes.Buffer
	for _, w := range []func() error{
		func() error { return sw.WriteJSON(&j) }, func() error { return sw.WriteText(&txt) },
		func() error { return sw.WriteMarkdown(&md) }, func() error { return sw.WriteHTML(&html) },
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	note := "generator-limited: the load generator shaped 1 of 3 runs (marked)"
	for name, out := range map[string]string{"text": txt.String(), "markdown": md.String(), "html": html.String()} {
		if !strings.Contains(out, note) || !strings.Contains(out, "generator-limited (1 of 2 runs)") {
			t.Errorf("%s lacks the note or the mark:\n%s", name, out)
		}
	}
	back, err := ReadJSON(&j)
	if err != nil || back.Settings[0].GeneratorLimitedRuns != 1 || !back.Settings[0].Runs[1].GeneratorLimited {
		t.Errorf("sweep.json read back: %v %+v", err, back)
	}
}

// TestScaledSweepSaysSo: a sweep run with --scale or --quick says so in its
// title, over the settings whose values are in the file's timeline.
func TestScaledSweepSaysSo(t *testing.T) {
	sw := &Sweep{Repeat: 1}
	sw.Profile.Name, sw.Profile.Scale = "default", "4/9"
	if got := sw.Title(); got != "wsstorm sweep: default (timeline scaled by 4/9)" {
		t.Errorf("title %q", got)
	}
	var b strings.Builder
	if err := sw.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "# Sweep of default (timeline scaled by 4/9)\n") {
		t.Errorf("markdown:\n%s", b.String())
	}
}
