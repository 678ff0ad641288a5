package report

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestUTestKnownValues checks the test against values published elsewhere:
// SciPy's documentation of scipy.stats.mannwhitneyu (method="exact") and
// the smallest p-values 2/C(m+n, m) of fully separated samples.
func TestUTestKnownValues(t *testing.T) {
	cases := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"scipy's example", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 0.1111111},
		{"3 against 3, separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1},
		{"4 against 4, separated", []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 2.0 / 70},
		{"5 against 5, separated", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, 2.0 / 252},
		{"interleaved", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 48.0 / 70}, // U = 6: 24 of 70 arrangements have U ≤ 6
		{"empty side", nil, []float64{1}, 1},
		{"all equal", []float64{2, 2, 2}, []float64{2, 2}, 1},
	}
	for _, c := range cases {
		if got := UTest(c.a, c.b); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: p = %.7f, want %.7f", c.name, got, c.want)
		}
	}
}

// TestUTestExactMatchesEnumeration checks the recurrence against the
// definition: every way of splitting m+n distinct ranks into the two
// samples, counted one by one.
func TestUTestExactMatchesEnumeration(t *testing.T) {
	for m := 1; m <= 6; m++ {
		for n := 1; n <= 6; n++ {
			want := make([]float64, m*n+1)
			for mask := 0; mask < 1<<(m+n); mask++ {
				if popcount(mask) != m {
					continue
				}
				// U: pairs (first-sample rank, second-sample rank) with the first larger.
				u, below := 0, 0
				for r := 0; r < m+n; r++ {
					if mask&(1<<r) != 0 {
						u += below
					} else {
						below++
					}
				}
				want[u]++
			}
			got := uCounts(m, n)
			for v := range want {
				if got[v] != want[v] {
					t.Fatalf("m=%d n=%d: %d arrangements give U=%d, enumeration counts %v", m, n, int(got[v]), v, want[v])
				}
			}
		}
	}
}

func popcount(x int) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// TestUTestWithTies checks the enumeration used with ties on small samples:
// fully separated samples keep the smallest p whatever their ties, and a
// case counted by hand.
func TestUTestWithTies(t *testing.T) {
	if got := UTest([]float64{1, 1, 2, 2, 2}, []float64{5, 5, 6, 6, 7}); math.Abs(got-2.0/252) > 1e-9 {
		t.Errorf("separated with ties: p = %v, want 2/252", got)
	}
	// a = {1, 2}, b = {2, 3}: mid-ranks 1, 2.5 | 2.5, 4; rank sum of a 3.5.
	// The 6 splits' sums: {1,2.5} 3.5, {1,2.5} 3.5, {1,4} 5, {2.5,2.5} 5,
	// {2.5,4} 6.5, {2.5,4} 6.5: 2 at most 3.5, so p = 2·2/6.
	if got := UTest([]float64{1, 2}, []float64{2, 3}); math.Abs(got-4.0/6) > 1e-9 {
		t.Errorf("ties counted by hand: p = %v, want 2/3", got)
	}
}

// TestUTestNormalApproximation checks the approximation used with ties
// against the exact test where both apply (no ties, 30 a side), and its
// tie correction against a value worked by hand.
func TestUTestNormalApproximation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		a, b := make([]float64, 30), make([]float64, 30)
		for i := range a {
			a[i], b[i] = rng.NormFloat64(), rng.NormFloat64()+0.5
		}
		ranks, _ := rank(a, b)
		var ra float64
		for _, r := range ranks[:30] {
			ra += r
		}
		u := ra - 30*31/2
		exact, approx := exactU(u, 30, 30), normalU(u, 30, 30, ranks)
		if math.Abs(exact-approx) > 0.01 {
			t.Errorf("U=%v: exact p %.4f, normal approximation %.4f", u, exact, approx)
		}
	}
	// Beyond 20 values with ties: a = {1, 2, 2}, b = {2, 3, 3} with
	// normalU called directly. Mid-ranks 1, 3, 3 | 3, 5.5, 5.5; U = 7 - 6 = 1;
	// ties: a group of 3 (24) and one of 2 (6), so the variance is
	// 3·3/12·(7 - 30/30) = 4.5 and z = (|1 - 4.5| - 0.5)/√4.5 = 1.41421.
	want := math.Erfc(1.4142136 / math.Sqrt2)
	if got := normalU(1, 3, 3, []float64{1, 3, 3, 3, 5.5, 5.5}); math.Abs(got-want) > 1e-6 {
		t.Errorf("with ties: p = %.6f, want %.6f", got, want)
	}
}
