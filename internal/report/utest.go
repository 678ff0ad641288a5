package report

import (
	"math"
	"slices"
)

// MinRepeats is the fewest runs a side for a rank test to decide: the
// smallest two-sided p-value of the Mann-Whitney U test is 2/C(m+n, m),
// 0.10 for 3 runs against 3, so 3 can never show a change; 4 against 4
// reach 0.029 only when every run of one side beats every run of the
// other, a test that misses most real changes; 5 against 5 reach 0.008,
// and one run out of place still gives 0.016.
const MinRepeats = 5

// Alpha is the significance level of a comparison of repeated runs, as
// benchstat's default (golang.org/x/perf/cmd/benchstat, -alpha 0.05).
const Alpha = 0.05

// UTest is the two-sided Mann-Whitney U test of samples a and b: the
// probability of ranks at least as far apart as theirs if both came from
// one distribution. It is exact without ties and up to 50 values a side
// (the distribution of U counted by recurrence), and exact with ties up to
// 20 values in all (every split of the mid-ranks enumerated: histograms'
// buckets make ties common); beyond, it is the normal approximation with
// the ties' correction and a continuity correction (Hollander & Wolfe,
// Nonparametric Statistical Methods, §4.1). It returns 1 when a side is
// empty or every value is the same.
func UTest(a, b []float64) float64 {
	m, n := len(a), len(b)
	if m == 0 || n == 0 {
		return 1
	}
	ranks, ties := rank(a, b)
	var ra float64
	for _, r := range ranks[:m] {
		ra += r
	}
	u := ra - float64(m*(m+1))/2 // U of a: pairs (x in a, y in b) with x > y, ties halved
	switch {
	case !ties && m <= 50 && n <= 50:
		return exactU(u, m, n)
	case m+n <= 20:
		return enumeratedU(ra, m, ranks)
	}
	return normalU(u, m, n, ranks)
}

// enumeratedU is the two-sided p-value of the rank sum ra of the first m
// of ranks, from every way of choosing m of the ranks: twice the smaller
// tail, at most 1. The sums are compared with a little slack, since
// mid-ranks are halves.
func enumeratedU(ra float64, m int, ranks []float64) float64 {
	var total, low, high float64
	var walk func(from, left int, sum float64)
	walk = func(from, left int, sum float64) {
		if left == 0 {
			total++
			if sum <= ra+1e-9 {
				low++
			}
			if sum >= ra-1e-9 {
				high++
			}
			return
		}
		for i := from; i <= len(ranks)-left; i++ {
			walk(i+1, left-1, sum+ranks[i])
		}
	}
	walk(0, m, 0)
	return math.Min(1, 2*math.Min(low, high)/total)
}

// rank returns the mid-ranks (1-based) of a then b in their joint order,
// and whether any value occurs more than once.
func rank(a, b []float64) ([]float64, bool) {
	all := append(slices.Clone(a), b...)
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmpFloat(all[i], all[j]) })
	ranks := make([]float64, len(all))
	ties := false
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && all[order[j]] == all[order[i]] {
			j++
		}
		if j-i > 1 {
			ties = true
		}
		mid := float64(i+j+1) / 2 // the mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			ranks[order[k]] = mid
		}
		i = j
	}
	return ranks, ties
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// exactU is the two-sided p-value of U for samples of m and n values
// without ties: twice the smaller tail of U's exact distribution, at most 1.
func exactU(u float64, m, n int) float64 {
	counts := uCounts(m, n)
	var total, low, high float64
	k := int(math.Round(u))
	for v, c := range counts {
		total += c
		if v <= k {
			low += c
		}
		if v >= k {
			high += c
		}
	}
	return math.Min(1, 2*math.Min(low, high)/total)
}

// uCounts returns, for every value v of U (0..m·n), the number of the
// C(m+n, m) arrangements of m and n values that give U = v, by the
// recurrence f(m, n, v) = f(m-1, n, v-n) + f(m, n-1, v): the largest value
// belongs either to the first sample (and exceeds all n of the second) or
// to the second.
func uCounts(m, n int) []float64 {
	// prev[j] holds f(i-1, j, ·), cur[j] f(i, j, ·).
	prev := make([][]float64, n+1)
	for j := range prev {
		prev[j] = []float64{1} // f(0, j, 0) = 1
	}
	for i := 1; i <= m; i++ {
		cur := make([][]float64, n+1)
		cur[0] = []float64{1} // f(i, 0, 0) = 1
		for j := 1; j <= n; j++ {
			f := make([]float64, i*j+1)
			for v := range f {
				if v-j >= 0 && v-j < len(prev[j]) {
					f[v] += prev[j][v-j]
				}
				if v < len(cur[j-1]) {
					f[v] += cur[j-1][v]
				}
			}
			cur[j] = f
		}
		prev = cur
	}
	return prev[n]
}

// normalU is the two-sided p-value of U from its normal approximation,
// with the variance corrected for ties and a continuity correction of 1/2.
func normalU(u float64, m, n int, ranks []float64) float64 {
	mf, nf := float64(m), float64(n)
	N := mf + nf
	// Σ(t³ - t) over groups of tied ranks.
	seen := map[float64]float64{}
	for _, r := range ranks {
		seen[r]++
	}
	var tie float64
	for _, t := range seen {
		tie += t*t*t - t
	}
	variance := mf * nf / 12 * ((N + 1) - tie/(N*(N-1)))
	if variance <= 0 {
		return 1 // every value the same
	}
	d := math.Abs(u-mf*nf/2) - 0.5
	if d < 0 {
		d = 0
	}
	z := d / math.Sqrt(variance)
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}
