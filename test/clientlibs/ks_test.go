package clientlibs_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The two-sample Kolmogorov-Smirnov test, written here rather than taken
// from a statistics library (wsstorm has none, and this is 40 lines).

// ksAlpha is the test's level: the α = 0.01.
const ksAlpha = 0.01

// ksStatistic returns D = sup |F_a(x) − F_b(x)| of two samples' empirical
// distribution functions. Tied values are stepped over together on both
// sides before the functions are compared, so D is exact with ties too.
func ksStatistic(a, b []float64) float64 {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	na, nb := float64(len(a)), float64(len(b))
	d := 0.0
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d
}

// kolmogorovQ is the survival function of Kolmogorov's limiting
// distribution, Q(λ) = P(K > λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}. Below
// λ = 1.18 that alternating series converges slowly, and 1 − the theta
// form of the distribution function, √(2π)/λ Σ_{j≥1} e^{−(2j−1)²π²/(8λ²)},
// is used instead (both to double precision in a few terms).
func kolmogorovQ(lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 1
	case lambda < 1.18:
		s := 0.0
		for j := 1; j <= 10; j++ {
			k := float64(2*j - 1)
			s += math.Exp(-k * k * math.Pi * math.Pi / (8 * lambda * lambda))
		}
		return 1 - math.Sqrt(2*math.Pi)/lambda*s
	default:
		s := 0.0
		for j := 1; j <= 100; j++ {
			term := math.Exp(-2 * float64(j*j) * lambda * lambda)
			if j%2 == 0 {
				term = -term
			}
			s += term
			if term == 0 || math.Abs(term) < 1e-17 {
				break
			}
		}
		return min(1, max(0, 2*s))
	}
}

// ksTest returns D and its asymptotic p-value: Q(√(nm/(n+m)) · D).
func ksTest(a, b []float64) (d, p float64) {
	d = ksStatistic(a, b)
	n, m := float64(len(a)), float64(len(b))
	return d, kolmogorovQ(math.Sqrt(n*m/(n+m)) * d)
}

// ksCritical is the D above which the samples differ at level alpha:
// c(α)·√((n+m)/(nm)), c(α) = √(−ln(α/2)/2) (1.628 for α = 0.01).
func ksCritical(n, m int, alpha float64) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) * math.Sqrt(float64(n+m)/float64(n*m))
}

// TestKSStatistic: D of samples worked out by hand.
func TestKSStatistic(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 1},
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0},
		// F_a − F_b at 1: 2/3 − 1/3, at 2: 1 − 1.
		{[]float64{1, 1, 2}, []float64{1, 2, 2}, 1.0 / 3},
		// At 0.5: a has 5/5, b 2/6 (0.35, 0.45): 1 − 1/3.
		{[]float64{0.1, 0.2, 0.3, 0.4, 0.5}, []float64{0.35, 0.45, 0.55, 0.65, 0.75, 0.85}, 2.0 / 3},
		// Interleaved: at 1: 1/4 − 0, at 2: 1/4 − 1/4, ... never more than 1/4.
		{[]float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.25},
		// Order does not matter.
		{[]float64{3, 1, 2}, []float64{2, 2, 1}, 1.0 / 3},
	} {
		if got := ksStatistic(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("D(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestKolmogorovQ: Q against its series summed by hand (Q(1) = 2(e⁻² −
// e⁻⁸ + e⁻¹⁸), Q(1.5) = 2(e^−4.5 − e⁻¹⁸), Q(2) = 2(e⁻⁸ − e⁻³²), Q(0.5) = 1 −
// √(2π)/0.5 · (e^{−π²/2} + e^{−9π²/2})) and the tables' critical values
// (Q(1.3581) = 0.05, Q(1.6276) = 0.01); both branches meet at 1.18.
func TestKolmogorovQ(t *testing.T) {
	for _, c := range []struct{ lambda, want, tol float64 }{
		{0, 1, 0},
		{0.5, 0.963945, 1e-6},
		{1.0, 0.270000, 1e-6},
		{1.5, 0.022218, 1e-6},
		{2.0, 0.000671, 1e-6},
		{1.3581, 0.05, 1e-4},
		{1.6276, 0.01, 1e-4},
	} {
		if got := kolmogorovQ(c.lambda); math.Abs(got-c.want) > c.tol {
			t.Errorf("Q(%v) = %.6f, want %.6f", c.lambda, got, c.want)
		}
	}
	if lo, hi := kolmogorovQ(1.18-1e-9), kolmogorovQ(1.18); math.Abs(lo-hi) > 1e-9 {
		t.Errorf("the branches of Q differ at 1.18: %v, %v", lo, hi)
	}
	if c := ksCritical(1000, 1000, 0.01); math.Abs(c-1.6276*math.Sqrt(2.0/1000)) > 1e-4 {
		t.Errorf("critical D for 1000, 1000 at 0.01 = %v", c)
	}
}

// TestKSTellsApart: two samples of one distribution pass at α = 0.01, the
// same shifted by a tenth of its spread or with its jitter halved do not,
// and p < α exactly when D is over the critical value.
func TestKSTellsApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	draw := func(n int, f func() float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = f()
		}
		return out
	}
	uniform := func(lo, hi float64) func() float64 {
		return func() float64 { return lo + rng.Float64()*(hi-lo) }
	}
	a := draw(1000, uniform(500, 1500))
	for _, c := range []struct {
		name string
		b    []float64
		same bool
	}{
		{"same distribution", draw(1200, uniform(500, 1500)), true},
		{"shifted by 100", draw(1200, uniform(600, 1600)), false},
		{"half the jitter", draw(1200, uniform(750, 1250)), false},
	} {
		d, p := ksTest(a, c.b)
		if (p >= ksAlpha) != c.same {
			t.Errorf("%s: D %.4f, p %.3g: want same=%v", c.name, d, p, c.same)
		}
		if (d > ksCritical(len(a), len(c.b), ksAlpha)) != (p < ksAlpha) {
			t.Errorf("%s: D %.4f against critical %.4f disagrees with p %.3g", c.name, d, ksCritical(len(a), len(c.b), ksAlpha), p)
		}
	}
}

// TestBins: a deterministic delay keeps its 50 ms bin from 5 ms early to
// 44 ms late; no binning leaves it as it is.
func TestBins(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	for _, c := range []struct{ d, want float64 }{
		{0, 0}, {44, 0}, {45, 50}, {46, 50}, {94, 50}, {95, 100},
		{10, 0}, {49.9, 50}, {4995.5, 5000}, {5044, 5000}, {5045, 5050},
	} {
		if got := roundMs(ms(c.d), 50*time.Millisecond); got != c.want {
			t.Errorf("the bin of %v ms = %v, want %v", c.d, got, c.want)
		}
	}
	if got := roundMs(ms(12.5), 0); got != 12.5 {
		t.Errorf("unbinned 12.5 ms = %v", got)
	}
}
