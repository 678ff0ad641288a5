package report

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// synthRun is a run made of synthetic histograms whose answer is known:
// connect and message round trips log-normal around 0.3 ms and 0.6 ms,
// reconnects uniform in a 200 ms – 1 s window, each over 2,000 samples
// drawn from one seed, as a seeded profile repeats its delays, and the
// run's own machine noise, a delay of up to jitter ms added to every
// sample of the run, drawn from noise. shift ms is added to every latency.
func synthRun(noise *rand.Rand, shift, jitter float64) *results.Summary {
	s := &results.Summary{Profile: results.ProfileRef{Name: "synthetic", SHA256: "0123456789abcdef"}}
	machine := noise.Float64() * jitter
	rng := rand.New(rand.NewPCG(1, 1))
	draw := []struct {
		m stats.Metric
		f func() float64
	}{
		{stats.Connect, func() float64 { return 0.3 * math.Exp(0.3*rng.NormFloat64()) }},
		{stats.Reconnect, func() float64 { return 200 + 800*rng.Float64() }},
		{stats.MessageRTT, func() float64 { return 0.6 * math.Exp(0.3*rng.NormFloat64()) }},
	}
	for _, d := range draw {
		m, f := d.m, d.f
		h := hdrhistogram.New(1, 3_600_000_000, 3) // µs, as the recorder's
		for range 2000 {
			h.RecordValue(int64((f() + machine + shift) * 1000))
		}
		l := s.LatencyMS.Of(m)
		l.Count = h.TotalCount()
		for _, q := range []struct {
			p *(*float64)
			q float64
		}{{&l.P50, 50}, {&l.P90, 90}, {&l.P99, 99}} {
			v := float64(h.ValueAtQuantile(q.q)) / 1000
			*q.p = &v
		}
	}
	s.LatencyMS.Recovery = s.LatencyMS.Reconnect
	return s
}

func synthRuns(rng *rand.Rand, n int, shift, jitter float64) []*results.Summary {
	out := make([]*results.Summary, n)
	for i := range out {
		out[i] = synthRun(rng, shift, jitter)
	}
	return out
}

// verdicts maps each compared metric to its verdict.
func verdicts(c *Comparison) map[string]string {
	out := map[string]string{}
	for _, ch := range c.Changes {
		out[ch.Metric] = ch.Verdict
	}
	return out
}

// TestVerdictsOnSyntheticSingleRuns: two runs of one seeded distribution
// are `~` on every metric, whatever the machine noise within the floors; a
// shift of known size is a
// REGRESSION where it is beyond floor and tolerance, and worse within
// tolerance where only the floor is passed.
func TestVerdictsOnSyntheticSingleRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	ten, _ := ParseTolerance("+10%")
	for trial := range 50 {
		c := Compare(synthRuns(rng, 1, 0, 1), synthRuns(rng, 1, 0, 1), nil, ten)
		for m, v := range verdicts(c) {
			if v != VerdictSame {
				t.Fatalf("trial %d: one distribution, %s judged %q", trial, m, v)
			}
		}
	}
	// +10 ms: connect (0.3 ms) and message_rtt far beyond both; reconnect
	// (600 ms) beyond its 5 ms floor, within +10%; its p99 (992 ms) within
	// its 20 ms floor.
	c := Compare(synthRuns(rng, 1, 0, 1), synthRuns(rng, 1, 10, 1), nil, ten)
	want := map[string]string{
		"connect.p50": VerdictRegression, "connect.p99": VerdictSame,
		"message_rtt.p90":   VerdictRegression,
		"reconnect.p50":     VerdictWorse,
		"reconnect.p99":     VerdictSame,
		"connect_failures":  VerdictSame,
		"never_reconnected": VerdictSame,
	}
	got := verdicts(c)
	for m, v := range want {
		if _, ok := got[m]; !ok {
			t.Fatalf("no row %s in %v", m, got)
		}
		if got[m] != v {
			t.Errorf("+10 ms: %s judged %q, want %q", m, got[m], v)
		}
	}
	// -100 ms: better everywhere it can tell (connect cannot fall that far).
	c = Compare(synthRuns(rng, 1, 100, 1), synthRuns(rng, 1, 0, 1), nil, ten)
	if v := verdicts(c)["reconnect.p50"]; v != VerdictBetter || c.Regressions != 0 {
		t.Errorf("100 ms faster: reconnect.p50 %q, %d regressions", v, c.Regressions)
	}
}

// TestVerdictsOnSyntheticRepeats: 5 runs against 5 of one distribution,
// each run with its own machine noise of up to 2 ms, within the single
// runs' floors as the measured noise is, give no regression in 200
// trials, and the rank test's false changes stay near its level; a shift
// of 80 ms, 13% of the reconnect median, is a REGRESSION with the smallest
// p of 5 against 5 when it stands out of that noise.
func TestVerdictsOnSyntheticRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	ten, _ := ParseTolerance("+10%")
	significant, judged := 0, 0
	for trial := range 200 {
		c := Compare(synthRuns(rng, 5, 0, 2), synthRuns(rng, 5, 0, 2), nil, ten)
		if c.Regressions != 0 {
			t.Fatalf("trial %d: one distribution, %d regressions: %+v", trial, c.Regressions, c.Changes)
		}
		if c.Method != "Mann-Whitney U test, 5 against 5 runs, alpha 0.05" {
			t.Fatalf("method %q", c.Method)
		}
		for _, ch := range c.Changes {
			if ch.PValue == nil || ch.Unit != "ms" {
				continue // the counts are all 0: p = 1 always
			}
			judged++
			if *ch.PValue < Alpha {
				significant++
			}
		}
	}
	// Under one distribution p < 0.05 happens at most 5% of the time (the
	// exact test is conservative); allow for the trials' own spread.
	if rate := float64(significant) / float64(judged); rate > 0.07 {
		t.Errorf("one distribution: %.1f%% of %d comparisons significant, want about 5%% or fewer", 100*rate, judged)
	}

	c := Compare(synthRuns(rng, 5, 0, 1), synthRuns(rng, 5, 80, 1), nil, ten)
	found := false
	for _, ch := range c.Changes {
		if ch.Metric != "reconnect.p50" {
			continue
		}
		found = true
		if ch.Verdict != VerdictRegression || ch.PValue == nil || math.Abs(*ch.PValue-2.0/252) > 1e-4 {
			t.Errorf("80 ms slower: %+v", ch)
		}
	}
	if !found {
		t.Error("no reconnect.p50 row")
	}
}

// TestEveryTimeHasAFloor: a metric in ms without a measured floor would
// get the counting floor of a count, in milliseconds.
func TestEveryTimeHasAFloor(t *testing.T) {
	probe := &results.Summary{Events: []results.EventSummary{{ReconnectExpected: true}}}
	for _, h := range results.Headlines(probe) {
		if _, ok := latencyFloorsMS[h.Key]; (h.Unit == "ms") != ok {
			t.Errorf("%s (unit %q): floor in latencyFloorsMS %v", h.Key, h.Unit, ok)
		}
	}
	for k := range busyFloorsMS {
		if _, ok := latencyFloorsMS[k]; !ok || busyFloorsMS[k] < latencyFloorsMS[k] {
			t.Errorf("busy floor of %s: not above a floor of its own", k)
		}
	}
}

// TestRepeatsWithinShrunkFloor: 5 runs against 5, every new one 0.1 ms
// slower on a 0.2 ms connect median: significant (p = 2/252) and +50%, but
// within the floor shrunk by √5 (3 ms / √5 = 1.34 ms): `~`, as a single run
// would say, even with no tolerance at all.
func TestRepeatsWithinShrunkFloor(t *testing.T) {
	row := &compareRow{name: "connect.p50", key: "connect.p50", unit: "ms"}
	for i := range 5 {
		row.base = append(row.base, metricValue{v: 0.20 + float64(i)/100})
		row.new = append(row.new, metricValue{v: 0.30 + float64(i)/100})
	}
	zero, _ := ParseTolerance("+0%")
	ch := judgeChange(row, zero, "")
	if ch.Verdict != VerdictSame || ch.PValue == nil || *ch.PValue >= Alpha || !strings.Contains(ch.DecidedBy, "within noise ±1.342ms") {
		t.Errorf("%+v (%s)", ch, ch.DecidedBy)
	}
}

// TestCountingFloors checks the counting floors against values worked by
// hand: a peak of 820/s against 860/s is 82 and 86 attempts in a 100 ms
// bucket, so 2·√169 = 26 attempts, 260/s; the herd factor 1.4 made of the
// same peaks moves by 2·√(1/82 + 1/86) of itself, 0.4336; 0 failures
// against 3 by 2·√4 = 4.
func TestCountingFloors(t *testing.T) {
	for _, c := range []struct {
		key       string
		base, new metricValue
		want      float64
	}{
		{"events.peak_attempt_rate", metricValue{820, 82}, metricValue{860, 86}, 260},
		{"events.herd_factor", metricValue{1.4, 82}, metricValue{1.5, 86}, 1.4 * 2 * math.Sqrt(1.0/82+1.0/86)},
		{"connect_failures", metricValue{v: 0}, metricValue{v: 3}, 4},
		{"connect.p50", metricValue{v: 0.2}, metricValue{v: 9}, 3},
	} {
		if got, _ := floorOf(c.key, c.base, c.new); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: floor %v, want %v", c.key, got, c.want)
		}
	}
}
