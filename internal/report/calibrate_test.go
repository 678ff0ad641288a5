package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestNoiseCalibration measures the noise floors on runs of one profile
// made one after the other on one machine (docs/compare.md says how), and
// checks them: set WSSTORM_CALIBRATION to a directory of such runs' results
// directories (and WSSTORM_CALIBRATION_GLOB to pick them, default "*").
// For each headline metric it prints the runs' median, the largest
// difference between consecutive runs, on a quiet machine and when other
// work kept it busy, and the floor; then the smallest shift (in its unit) that 1, 5 and
// 10 runs a side report as a REGRESSION in 9 of 10 resampled comparisons,
// at the default +10% tolerance and at +0%. It fails when consecutive
// identical runs would be reported as a regression.
func TestNoiseCalibration(t *testing.T) {
	dir := os.Getenv("WSSTORM_CALIBRATION")
	if dir == "" {
		t.Skip("set WSSTORM_CALIBRATION to a directory of identical runs")
	}
	glob := orDefault(os.Getenv("WSSTORM_CALIBRATION_GLOB"), "*")
	paths, _ := filepath.Glob(filepath.Join(dir, glob))
	slices.Sort(paths)
	var runs []*results.Summary
	for _, p := range paths {
		if s, err := results.ReadSummary(p); err == nil {
			runs = append(runs, s)
		}
	}
	if len(runs) < 10 {
		t.Fatalf("%d runs in %s: calibrate on 10 or more", len(runs), dir)
	}
	ten, _ := ParseTolerance("+10%")
	for i := 1; i < len(runs); i++ {
		if c := Compare(runs[i-1:i], runs[i:i+1], nil, ten); c.Regressions > 0 {
			t.Errorf("runs %d and %d: %d regressions", i, i+1, c.Regressions)
		}
	}
	rows := gatherRows(runs, runs)
	fmt.Printf("%d runs, %d with the machine busy elsewhere\n", len(runs), countBusy(runs))
	fmt.Printf("%-28s %10s %12s %12s %9s | %s\n", "metric", "median", "max Δ quiet", "max Δ busy", "floor", "shift a REGRESSION 9 in 10 times, +10%: 1, 5, 10 runs a side; +0%: 1, 5, 10")
	rng := rand.New(rand.NewPCG(1, 2))
	zero, _ := ParseTolerance("+0%")
	for _, r := range rows {
		vals := runValues(r.base)
		quiet, busy := maxSteps(runs, vals)
		med := results.Median(vals)
		floor, _ := floorOf(r.key, metricValue{med, results.Median(counts(r.base))}, metricValue{med, results.Median(counts(r.base))})
		var shifts []string
		for _, tol := range []Tolerance{ten, zero} {
			var s []string
			for _, n := range []int{1, 5, 10} {
				s = append(s, detectable(rng, r, runs, n, tol))
			}
			shifts = append(shifts, strings.Join(s, " "))
		}
		fmt.Printf("%-28s %10.3f %12.3f %12.3f %9.3f | %s; %s\n", r.name, med, quiet, busy, floor, shifts[0], shifts[1])
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func countBusy(runs []*results.Summary) int {
	n := 0
	for _, s := range runs {
		if s.BusyElsewhere() != "" {
			n++
		}
	}
	return n
}

// maxSteps returns the largest difference between consecutive runs'
// values, for pairs whose new run had a quiet machine and for the others.
func maxSteps(runs []*results.Summary, vals []float64) (quiet, busy float64) {
	for i := 1; i < len(vals); i++ {
		d := math.Abs(vals[i] - vals[i-1])
		if math.IsInf(d, 0) || math.IsNaN(d) {
			continue
		}
		if runs[i].BusyElsewhere() != "" {
			busy = max(busy, d)
		} else {
			quiet = max(quiet, d)
		}
	}
	return quiet, busy
}

// detectable returns the smallest shift, in the metric's unit, that n
// resampled runs a side, the new ones shifted, report as a REGRESSION in
// at least 9 of 10 comparisons ("-" when none up to 50 times the floor).
func detectable(rng *rand.Rand, r *compareRow, runs []*results.Summary, n int, tol Tolerance) string {
	if 2*n > len(runs) {
		return "-"
	}
	med := results.Median(runValues(r.base))
	if math.IsInf(med, 0) {
		return "-"
	}
	floor, _ := floorOf(r.key, metricValue{med, results.Median(counts(r.base))}, metricValue{med, results.Median(counts(r.base))})
	for shift := max(med*0.005, 0.01); shift <= 50*floor; shift *= 1.1 {
		hit := 0
		for range 40 {
			idx := rng.Perm(len(runs))
			row := &compareRow{name: r.name, key: r.key, unit: r.unit}
			var news []*results.Summary
			for _, i := range idx[:n] {
				row.base = append(row.base, r.base[i])
			}
			for _, i := range idx[n : 2*n] {
				v := r.base[i]
				v.v += shift
				row.new = append(row.new, v)
				news = append(news, runs[i])
			}
			if judgeChange(row, tol, busyElsewhere(news)).Verdict == VerdictRegression {
				hit++
			}
		}
		if hit >= 36 {
			return strconv.FormatFloat(shift, 'g', 2, 64)
		}
	}
	return "-"
}
