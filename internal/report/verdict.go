package report

import (
	"fmt"
	"math"

	"github.com/wsstorm/wsstorm/internal/results"
)

// judgeChange gives one metric its verdict. Every compared metric is worse when
// it is higher, and a value a run does not have (a recovery time it never
// reached) is +Inf, the worst.
//
// Single runs, or fewer than MinRepeats a side, are judged on the medians
// by the metric's noise floor: a change within it is `~`; beyond it, a
// fall is better and a rise is a REGRESSION when it also exceeds the
// tolerance. With MinRepeats or more a side, the Mann-Whitney U test
// decides whether there is a change at all (p < Alpha), and a worse one is
// a REGRESSION when its medians differ by more than the tolerance and than
// the floor shrunk by √runs, the spread of a median of that many runs.
//
// busy says the new runs were measured while other work kept the machine
// busy: a regression within the busy floor (busyFloorsMS) is then
// inconclusive.
func judgeChange(r *compareRow, tol Tolerance, busy string) Change {
	bv, nv := runValues(r.base), runValues(r.new)
	b, n := results.Median(bv), results.Median(nv)
	ch := Change{Metric: r.name, Unit: r.unit, Base: finitePtr(b), New: finitePtr(n), Tolerance: tol.Text}
	if len(bv) > 1 || len(nv) > 1 {
		ch.BaseRuns, ch.NewRuns = runList(bv), runList(nv)
	}
	if ch.Base != nil && ch.New != nil && b != 0 {
		ch.Percent = ptr(math.Round((n/b-1)*1000) / 10)
	}
	floor, _ := floorOf(r.key, metricValue{b, results.Median(counts(r.base))}, metricValue{n, results.Median(counts(r.new))})
	repeats := len(bv) >= MinRepeats && len(nv) >= MinRepeats
	if repeats {
		floor /= math.Sqrt(float64(min(len(bv), len(nv))))
	}
	if !math.IsInf(floor, 1) {
		ch.Floor = ptr(results.Round(floor, 3))
	}
	ft := floorText(floor, r.unit)
	switch {
	case math.IsInf(b, 1) && math.IsInf(n, 1):
		ch.Verdict, ch.DecidedBy = VerdictSame, "no value on either side"
		return ch
	case repeats:
		p := UTest(bv, nv)
		ch.PValue = ptr(results.Round(p, 4))
		ch.Verdict, ch.DecidedBy = verdictRepeats(b, n, p, floor, tol, ft)
	default:
		ch.Verdict, ch.DecidedBy = verdictSingle(b, n, floor, tol, ft)
	}
	if bf, ok := busyFloorsMS[r.key]; ok && busy != "" && ch.Verdict == VerdictRegression {
		if repeats {
			bf /= math.Sqrt(float64(min(len(bv), len(nv))))
		}
		if n-b <= bf {
			ch.Verdict = VerdictInconclusive
			ch.DecidedBy += fmt.Sprintf("; within %s, which other work on the machine moves it by", floorText(bf, r.unit))
		}
	}
	ch.Regression = ch.Verdict == VerdictRegression
	return ch
}

// verdictSingle judges the medians b and n by the noise floor and the
// tolerance.
func verdictSingle(b, n, floor float64, tol Tolerance, ft string) (string, string) {
	switch {
	case math.IsInf(n, 1):
		return VerdictRegression, "lost its value"
	case math.IsInf(b, 1):
		return VerdictBetter, "the base had no value"
	case math.Abs(n-b) <= floor:
		return VerdictSame, "within noise " + ft
	case n < b:
		return VerdictBetter, "beyond noise " + ft
	case tol.Allows(b, n):
		return VerdictWorse, "beyond noise " + ft
	}
	return VerdictRegression, fmt.Sprintf("beyond %s and noise %s", tol.Text, ft)
}

// verdictRepeats judges two sides of repeated runs: p from the rank test,
// b and n their medians.
func verdictRepeats(b, n, p, floor float64, tol Tolerance, ft string) (string, string) {
	pt := fmt.Sprintf("p=%.3f", p)
	switch {
	case p >= Alpha:
		return VerdictSame, pt
	case n < b:
		return VerdictBetter, pt
	case n == b:
		// Significant by ranks, yet the medians agree: no change to judge.
		return VerdictSame, pt + ", equal medians"
	case math.IsInf(n, 1):
		return VerdictRegression, pt + ", lost its value"
	case n-b <= floor:
		// Significant, yet smaller than one run's noise shrunk by the runs:
		// no change worth judging, as a single run would say.
		return VerdictSame, pt + ", within noise " + ft
	case tol.Allows(b, n):
		return VerdictWorse, pt + ", beyond noise " + ft
	}
	return VerdictRegression, fmt.Sprintf("%s, beyond %s and %s", pt, tol.Text, ft)
}

func runValues(ms []metricValue) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.v
	}
	return out
}

func counts(ms []metricValue) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.count
	}
	return out
}

// runList is the runs' values in run order, null where a run has none.
func runList(vs []float64) []*float64 {
	out := make([]*float64, len(vs))
	for i, v := range vs {
		if !math.IsInf(v, 0) {
			out[i] = ptr(results.Round(v, 3))
		}
	}
	return out
}

func finitePtr(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
