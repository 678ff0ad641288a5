package backoff

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const draws = 10_000

// reconnect is a strategy and its parameters, as a profile's
// fleet.reconnect gives them.
type reconnect struct {
	Strategy            string
	Min, Max, Base, Cap time.Duration
}

func newBackoff(r reconnect) (Backoff, error) {
	return New(r.Strategy, Params{Min: r.Min, Max: r.Max, Base: r.Base, Cap: r.Cap})
}

// clientRand returns a random stream of its own for each (seed, client),
// as the fleet gives each client one.
func clientRand(seed uint64, client int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(client)))
}

// reconnectFor returns a valid reconnect for strategy: window [1s, 5s],
// base 100ms, cap 30s.
func reconnectFor(strategy string) reconnect {
	return reconnect{
		Strategy: strategy,
		Min:      time.Second,
		Max:      5 * time.Second,
		Base:     100 * time.Millisecond,
		Cap:      30 * time.Second,
	}
}

func mustBackoff(t testing.TB, r reconnect) Backoff {
	t.Helper()
	b, err := newBackoff(r)
	if err != nil {
		t.Fatalf("New(%+v): %v", r, err)
	}
	return b
}

// sample draws n values and returns their minimum, maximum and mean.
func sample(n int, draw func() time.Duration) (lo, hi time.Duration, mean float64) {
	lo, hi = time.Duration(math.MaxInt64), time.Duration(math.MinInt64)
	var sum float64
	for range n {
		d := draw()
		lo, hi = min(lo, d), max(hi, d)
		sum += float64(d)
	}
	return lo, hi, sum / float64(n)
}

func TestBackoffStrategiesAllConstruct(t *testing.T) {
	names := Names()
	if len(names) != 7 {
		t.Fatalf("Names() = %v, want 7 names", names)
	}
	for _, name := range names {
		if _, err := newBackoff(reconnectFor(name)); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	names[0] = "changed"
	if Names()[0] != "none" {
		t.Error("Names() shares its slice between calls")
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	with := func(strategy string, edit func(*reconnect)) reconnect {
		r := reconnectFor(strategy)
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		r    reconnect
	}{
		{"empty strategy", with("", func(*reconnect) {})},
		{"unknown strategy", with("linear", func(*reconnect) {})},
		{"strategy case", with("Window", func(*reconnect) {})},
		{"constant negative base", with("constant", func(r *reconnect) { r.Base = -time.Second })},
		{"window negative min", with("window", func(r *reconnect) { r.Min = -time.Second })},
		{"window max below min", with("window", func(r *reconnect) { r.Max = time.Millisecond })},
		{"exponential zero base", with("exponential", func(r *reconnect) { r.Base = 0 })},
		{"exponential cap below base", with("exponential", func(r *reconnect) { r.Cap = time.Millisecond })},
		{"full_jitter negative base", with("full_jitter", func(r *reconnect) { r.Base = -time.Second })},
		{"equal_jitter cap below base", with("equal_jitter", func(r *reconnect) { r.Cap = 0 })},
		{"decorrelated_jitter zero base", with("decorrelated_jitter", func(r *reconnect) { r.Base = 0 })},
		{"decorrelated_jitter cap below base", with("decorrelated_jitter", func(r *reconnect) { r.Cap = time.Millisecond })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := newBackoff(tt.r)
			if err == nil {
				t.Fatalf("New(%+v) = %T, want an error", tt.r, b)
			}
		})
	}
}

func TestBackoffFixedStrategies(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name string
		r    reconnect
		want map[int]time.Duration // attempt → delay
	}{
		{"none", reconnectFor("none"), map[int]time.Duration{1: 0, 2: 0, 100: 0}},
		{"constant", reconnectFor("constant"), map[int]time.Duration{1: 100 * ms, 2: 100 * ms, 1000: 100 * ms}},
		{"exponential doubles until cap", reconnectFor("exponential"), map[int]time.Duration{
			-5: 100 * ms, 0: 100 * ms, // attempts below 1 count as 1
			1: 100 * ms, 2: 200 * ms, 3: 400 * ms, 4: 800 * ms, 5: 1600 * ms,
			6: 3200 * ms, 7: 6400 * ms, 8: 12800 * ms, 9: 25600 * ms,
			10: 30 * time.Second, 11: 30 * time.Second,
			62: 30 * time.Second, 63: 30 * time.Second, 64: 30 * time.Second,
			1000: 30 * time.Second, math.MaxInt: 30 * time.Second,
		}},
		{"exponential cap equal to base", reconnect{
			Strategy: "exponential", Base: time.Second, Cap: time.Second,
		}, map[int]time.Duration{1: time.Second, 2: time.Second, 64: time.Second}},
		{"exponential with the largest cap", reconnect{
			Strategy: "exponential", Base: time.Hour, Cap: math.MaxInt64,
		}, map[int]time.Duration{
			1: time.Hour, 2: 2 * time.Hour,
			22: time.Hour << 21,
			23: math.MaxInt64, // time.Hour << 22 overflows int64
			64: math.MaxInt64, math.MaxInt: math.MaxInt64,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBackoff(t, tt.r)
			rng := clientRand(1, 0)
			for attempt, want := range tt.want {
				if got := b.Delay(attempt, 0, rng); got != want {
					t.Errorf("Delay(%d) = %v, want %v", attempt, got, want)
				}
			}
		})
	}
}

// TestBackoffRandomStrategies checks each random strategy against its formula,
// attempt by attempt: every draw within [lo, hi], the draws reaching close to
// both ends, and their mean close to the formula's expectation.
func TestBackoffRandomStrategies(t *testing.T) {
	const base, limit = 100 * time.Millisecond, 30 * time.Second
	step := func(attempt int) time.Duration { // min(cap, base·2^(attempt-1))
		return min(limit, base*time.Duration(math.Pow(2, float64(attempt-1))))
	}
	tests := []struct {
		strategy string
		bounds   func(attempt int) (lo, hi time.Duration)
		mean     func(attempt int) float64
	}{
		{
			"window",
			func(int) (time.Duration, time.Duration) { return time.Second, 5 * time.Second },
			func(int) float64 { return float64(3 * time.Second) }, // (min+max)/2
		},
		{
			"full_jitter",
			func(a int) (time.Duration, time.Duration) { return 0, step(a) },
			func(a int) float64 { return float64(step(a)) / 2 },
		},
		{
			"equal_jitter",
			func(a int) (time.Duration, time.Duration) { return step(a) / 2, step(a) },
			func(a int) float64 { return 3 * float64(step(a)) / 4 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			b := mustBackoff(t, reconnectFor(tt.strategy))
			rng := clientRand(7, 3)
			for attempt := 1; attempt <= 12; attempt++ {
				wantLo, wantHi := tt.bounds(attempt)
				lo, hi, mean := sample(draws, func() time.Duration { return b.Delay(attempt, 0, rng) })
				span := float64(wantHi - wantLo)
				if lo < wantLo || hi > wantHi {
					t.Errorf("attempt %d: draws in [%v, %v], want within [%v, %v]", attempt, lo, hi, wantLo, wantHi)
				}
				if float64(lo-wantLo) > 0.01*span || float64(wantHi-hi) > 0.01*span {
					t.Errorf("attempt %d: draws in [%v, %v] do not cover [%v, %v]", attempt, lo, hi, wantLo, wantHi)
				}
				// The standard error of the mean is span/sqrt(12·draws) ≈ 0.003·span.
				if want := tt.mean(attempt); math.Abs(mean-want) > 0.02*span {
					t.Errorf("attempt %d: mean %v, want %v ± %v", attempt,
						time.Duration(mean), time.Duration(want), time.Duration(0.02*span))
				}
			}
		})
	}
}

// TestBackoffJitterEnds checks both ends of the draws on steps of a few
// nanoseconds, where rounding shows: both ends are reachable and an odd step
// never yields more than itself.
func TestBackoffJitterEnds(t *testing.T) {
	exp := func(strategy string, base, limit time.Duration) reconnect {
		return reconnect{Strategy: strategy, Base: base, Cap: limit}
	}
	tests := []struct {
		r          reconnect
		attempt    int
		prev       time.Duration
		wantValues []time.Duration // every value the draws take
	}{
		{reconnect{Strategy: "window", Min: 4, Max: 6}, 1, 0, []time.Duration{4, 5, 6}},
		{reconnect{Strategy: "window", Min: 4, Max: 4}, 1, 0, []time.Duration{4}},
		{exp("full_jitter", 1, 1), 1, 0, []time.Duration{0, 1}},
		{exp("full_jitter", 3, 3), 1, 0, []time.Duration{0, 1, 2, 3}},
		{exp("equal_jitter", 3, 3), 1, 0, []time.Duration{2, 3}}, // ceil(3/2) + U(0, 1)
		{exp("equal_jitter", 1, 1), 1, 0, []time.Duration{1}},    // ceil(1/2) + U(0, 0)
		{exp("equal_jitter", 2, 8), 2, 0, []time.Duration{2, 3, 4}},
		{exp("decorrelated_jitter", 2, 5), 1, 0, []time.Duration{2, 3, 4, 5}},               // min(5, U(2, 6))
		{exp("decorrelated_jitter", 2, 100), 2, 3, []time.Duration{2, 3, 4, 5, 6, 7, 8, 9}}, // U(2, 9)
	}
	for _, tt := range tests {
		b := mustBackoff(t, tt.r)
		rng := clientRand(2, 2)
		seen := make(map[time.Duration]bool)
		for range 1000 {
			seen[b.Delay(tt.attempt, tt.prev, rng)] = true
		}
		if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, tt.wantValues) {
			t.Errorf("%+v attempt %d prev %d: values %v, want %v", tt.r, tt.attempt, tt.prev, got, tt.wantValues)
		}
	}
}

func TestBackoffNeverExceedsCap(t *testing.T) {
	for _, name := range []string{"exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"} {
		t.Run(name, func(t *testing.T) {
			r := reconnectFor(name)
			b := mustBackoff(t, r)
			rng := clientRand(11, 0)
			for run := range 100 {
				var prev time.Duration
				for attempt := 1; attempt <= 100; attempt++ {
					d := b.Delay(attempt, prev, rng)
					if d < 0 || d > r.Cap {
						t.Fatalf("run %d attempt %d: Delay = %v, want within [0, %v]", run, attempt, d, r.Cap)
					}
					prev = d
				}
			}
		})
	}
}

func TestBackoffDecorrelatedJitter(t *testing.T) {
	const base, limit = 100 * time.Millisecond, 30 * time.Second
	b := mustBackoff(t, reconnectFor("decorrelated_jitter"))
	rng := clientRand(5, 9)

	// expected returns the mean of min(limit, U(base, 3·prev)).
	expected := func(prev time.Duration) float64 {
		lo, hi, c := float64(base), 3*float64(max(prev, base)), float64(limit)
		if hi <= c {
			return (lo + hi) / 2
		}
		return ((c*c-lo*lo)/2 + c*(hi-c)) / (hi - lo)
	}
	tests := []struct {
		name    string
		attempt int
		prev    time.Duration
		lo, hi  time.Duration // bounds of the draws
	}{
		{"first attempt starts from base", 1, 0, base, 3 * base},
		{"first attempt ignores prev", 1, 10 * time.Second, base, 3 * base},
		{"prev below base counts as base", 2, 0, base, 3 * base},
		{"prev below base counts as base (nonzero)", 2, base / 2, base, 3 * base},
		{"prev of one second", 5, time.Second, base, 3 * time.Second},
		{"prev of 9s", 5, 9 * time.Second, base, 27 * time.Second},
		{"3·prev above cap clips at cap", 5, 20 * time.Second, base, limit},
		{"prev at cap", 50, limit, base, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, mean := sample(draws, func() time.Duration { return b.Delay(tt.attempt, tt.prev, rng) })
			if lo < tt.lo || hi > tt.hi {
				t.Errorf("draws in [%v, %v], want within [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			span := float64(tt.hi - tt.lo)
			if float64(lo-tt.lo) > 0.01*span || float64(tt.hi-hi) > 0.01*span {
				t.Errorf("draws in [%v, %v] do not cover [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			prev := tt.prev
			if tt.attempt <= 1 {
				prev = base
			}
			if want := expected(prev); math.Abs(mean-want) > 0.02*span {
				t.Errorf("mean %v, want %v", time.Duration(mean), time.Duration(want))
			}
		})
	}

	t.Run("chain stays in [base, cap] and reaches cap", func(t *testing.T) {
		var prev time.Duration
		capped := 0
		for attempt := 1; attempt <= draws; attempt++ {
			d := b.Delay(attempt, prev, rng)
			if d < base || d > limit {
				t.Fatalf("attempt %d after %v: Delay = %v, want within [%v, %v]", attempt, prev, d, base, limit)
			}
			if d == limit {
				capped++
			}
			prev = d
		}
		if capped == 0 {
			t.Errorf("no delay of %d chained attempts reached the cap %v", draws, limit)
		}
	})
}

// delays returns the first n delays of b for rng, each attempt fed the
// previous delay.
func delays(b Backoff, rng *rand.Rand, n int) []time.Duration {
	out := make([]time.Duration, n)
	var prev time.Duration
	for i := range out {
		out[i] = b.Delay(i+1, prev, rng)
		prev = out[i]
	}
	return out
}

func TestBackoffDeterminism(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			b := mustBackoff(t, reconnectFor(name))
			first := delays(b, clientRand(42, 7), 100)
			if again := delays(b, clientRand(42, 7), 100); !slices.Equal(first, again) {
				t.Errorf("seed 42 client 7 gave two sequences:\n%v\n%v", first, again)
			}
			if name == "none" || name == "constant" || name == "exponential" {
				return // nothing random to differ
			}
			if other := delays(b, clientRand(42, 8), 100); slices.Equal(first, other) {
				t.Errorf("clients 7 and 8 of seed 42 gave the same sequence %v", first)
			}
			if other := delays(b, clientRand(43, 7), 100); slices.Equal(first, other) {
				t.Errorf("seeds 42 and 43 gave client 7 the same sequence %v", first)
			}
		})
	}
}

func TestFirstDelay(t *testing.T) {
	rng := clientRand(3, 1)
	for _, limit := range []time.Duration{0, -time.Second, math.MinInt64} {
		if got := FirstDelay(limit, rng); got != 0 {
			t.Errorf("FirstDelay(%v) = %v, want 0", limit, got)
		}
	}
	for _, limit := range []time.Duration{time.Nanosecond, time.Millisecond, 10 * time.Second, math.MaxInt64} {
		lo, hi, mean := sample(draws, func() time.Duration { return FirstDelay(limit, rng) })
		if lo < 0 || hi > limit {
			t.Errorf("FirstDelay(%v): draws in [%v, %v], want within [0, %v]", limit, lo, hi, limit)
		}
		if float64(lo) > 0.01*float64(limit) || float64(limit-hi) > 0.01*float64(limit) {
			t.Errorf("FirstDelay(%v): draws in [%v, %v] do not cover [0, %v]", limit, lo, hi, limit)
		}
		if want := float64(limit) / 2; math.Abs(mean-want) > 0.02*float64(limit) {
			t.Errorf("FirstDelay(%v): mean %v, want %v", limit, time.Duration(mean), time.Duration(want))
		}
	}
}

func TestBackoffDelayDoesNotAllocate(t *testing.T) {
	for _, name := range Names() {
		b := mustBackoff(t, reconnectFor(name))
		rng := clientRand(1, 0)
		var prev time.Duration
		attempt := 0
		allocs := testing.AllocsPerRun(1000, func() {
			attempt++
			prev = b.Delay(attempt, prev, rng)
		})
		if allocs != 0 {
			t.Errorf("%s: Delay allocates %v times per call, want 0", name, allocs)
		}
	}
}

func BenchmarkBackoffDelay(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			bo := mustBackoff(b, reconnectFor(name))
			rng := clientRand(1, 0)
			var prev time.Duration
			attempt := 0
			b.ReportAllocs()
			for b.Loop() {
				attempt = attempt%20 + 1 // across the doubling and the cap
				prev = bo.Delay(attempt, prev, rng)
			}
		})
	}
}

func BenchmarkFirstDelay(b *testing.B) {
	rng := clientRand(1, 0)
	b.ReportAllocs()
	for b.Loop() {
		FirstDelay(5*time.Second, rng)
	}
}

// TestFirstBound checks each strategy's bound on its first delay after a
// close against known parameters and against its own draws.
func TestFirstBound(t *testing.T) {
	cases := []struct {
		strategy string
		want     Bound
	}{
		{None, Bound{}},
		{Constant, Bound{100 * time.Millisecond, "base"}},
		{Window, Bound{5 * time.Second, "max"}},
		{Exponential, Bound{100 * time.Millisecond, "base"}},
		{FullJitter, Bound{100 * time.Millisecond, "base"}},
		{EqualJitter, Bound{100 * time.Millisecond, "base"}},
		{DecorrelatedJitter, Bound{300 * time.Millisecond, "3 × base"}},
	}
	for _, tc := range cases {
		r := reconnectFor(tc.strategy)
		p := Params{Min: r.Min, Max: r.Max, Base: r.Base, Cap: r.Cap}
		got, ok := FirstBound(tc.strategy, p)
		if !ok || got != tc.want {
			t.Errorf("FirstBound(%s) = %+v, %v; want %+v", tc.strategy, got, ok, tc.want)
			continue
		}
		b := mustBackoff(t, r)
		rng := clientRand(1, 0)
		_, hi, _ := sample(draws, func() time.Duration { return b.Delay(1, 0, rng) })
		if hi > got.Delay {
			t.Errorf("%s: a first delay of %v is above its bound %v", tc.strategy, hi, got.Delay)
		}
	}
	// A cap below 3 × base bounds decorrelated jitter's first draw.
	if got, _ := FirstBound(DecorrelatedJitter, Params{Base: time.Second, Cap: 2 * time.Second}); got != (Bound{2 * time.Second, "cap"}) {
		t.Errorf("decorrelated_jitter with cap 2s, base 1s: %+v, want 2s of cap", got)
	}
	if _, ok := FirstBound("nope", Params{}); ok {
		t.Error("FirstBound of an unknown strategy: ok")
	}
}
