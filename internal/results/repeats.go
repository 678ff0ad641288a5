package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// RepeatsFile is the combined summary of a directory of repeated runs.
const RepeatsFile = "repeats.json"

// RepeatsSchema names the format of repeats.json.
const RepeatsSchema = "wsstorm.repeats/v1"

// RunDir is the name of repeat r (from 1) under a directory of repeats, as
// `wsstorm run --repeat` and a sweep's settings lay them out.
func RunDir(r int) string { return fmt.Sprintf("run-%d", r) }

// Repeats is the combined summary of repeated runs of one profile: each
// run's verdict, and each headline metric's median and spread over them.
type Repeats struct {
	Schema  string     `json:"schema"`
	Profile ProfileRef `json:"profile"`
	// Requested is how many runs were asked for; Runs the ones that wrote
	// results (fewer when the repeats were interrupted or one could not run).
	Requested int         `json:"requested"`
	Runs      []RepeatRun `json:"runs"`
	// Passed: every requested run wrote results, passed its thresholds and
	// was not interrupted.
	Passed      bool `json:"passed"`
	Interrupted bool `json:"interrupted"`
	// Metrics are the compared metrics (`wsstorm compare`'s rows) over the
	// runs, in compare's order.
	Metrics []RepeatMetric `json:"metrics"`
}

// RepeatRun is one run of the repeats.
type RepeatRun struct {
	Dir              string  `json:"dir"` // relative to the repeats' directory
	Seed             uint64  `json:"seed"`
	Passed           bool    `json:"passed"`
	Interrupted      bool    `json:"interrupted"`
	GeneratorLimited bool    `json:"generator_limited"`
	DurationS        float64 `json:"duration_s"`
}

// RepeatMetric is one metric over the runs: the median, the spread and
// each run's value (null where a run has none, e.g. a t99 never reached).
// A value a run lacks counts as the slowest, as `wsstorm compare` counts
// it: the median is null when half the runs or more lack it; Min and Max
// are over the runs that have it.
type RepeatMetric struct {
	Metric string     `json:"metric"`
	Unit   string     `json:"unit,omitempty"`
	Median *float64   `json:"median"`
	Min    *float64   `json:"min"`
	Max    *float64   `json:"max"`
	Values []*float64 `json:"values"`
}

// WriteRepeats writes r as dir/repeats.json, atomically.
func WriteRepeats(dir string, r *Repeats) error {
	r.Schema = RepeatsSchema
	return WriteFile(filepath.Join(dir, RepeatsFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
}

// ErrNoRuns says a path holds neither a run's summary.json nor repeats.
var ErrNoRuns = errors.New("no summary.json, and no repeats (run-1/summary.json, ...)")

// ReadRuns reads the summaries at path: a summary.json file, a run's
// results directory, or a directory of repeated runs (run-1, run-2, ...:
// `wsstorm run --repeat`, or one setting of a sweep), in run order. It
// returns each run's directory (or file) beside its summary.
func ReadRuns(path string) ([]*Summary, []string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		s, err := ReadSummary(path)
		return []*Summary{s}, []string{path}, err
	}
	if _, err := os.Stat(filepath.Join(path, SummaryFile)); err == nil {
		s, err := ReadSummary(path)
		return []*Summary{s}, []string{path}, err
	}
	dirs, err := repeatDirs(path)
	if err != nil {
		return nil, nil, err
	}
	if len(dirs) == 0 {
		return nil, nil, fmt.Errorf("%s: %w", path, ErrNoRuns)
	}
	var out []*Summary
	for _, d := range dirs {
		s, err := ReadSummary(d)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	return out, dirs, nil
}

// repeatDirs lists dir's run-N subdirectories that hold a summary.json,
// by N. A run that was killed before its summary is left out.
func repeatDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type numbered struct {
		n    int
		path string
	}
	var runs []numbered
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "run-")
		n, err := strconv.Atoi(rest)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, SummaryFile)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		runs = append(runs, numbered{n, p})
	}
	slices.SortFunc(runs, func(a, b numbered) int { return a.n - b.n })
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.path
	}
	return out, nil
}

// CombineRepeats combines the summaries of repeated runs (dirs: each run's
// directory relative to the repeats' directory) into their Repeats;
// requested is how many runs were asked for.
func CombineRepeats(runs []*Summary, dirs []string, requested int) *Repeats {
	r := &Repeats{Schema: RepeatsSchema, Requested: requested, Passed: len(runs) == requested && requested > 0, Runs: []RepeatRun{}, Metrics: []RepeatMetric{}}
	if len(runs) > 0 {
		r.Profile = runs[0].Profile
	}
	byName := map[string]int{}
	for i, s := range runs {
		r.Runs = append(r.Runs, RepeatRun{Dir: dirs[i], Seed: s.Seed, Passed: s.Passed, Interrupted: s.Interrupted,
			GeneratorLimited: s.GeneratorLimited != nil, DurationS: s.DurationS})
		r.Passed = r.Passed && s.Passed && !s.Interrupted
		r.Interrupted = r.Interrupted || s.Interrupted
		for _, h := range Headlines(s) {
			j, ok := byName[h.Name]
			if !ok {
				j = len(r.Metrics)
				byName[h.Name] = j
				r.Metrics = append(r.Metrics, RepeatMetric{Metric: h.Name, Unit: h.Unit, Values: make([]*float64, len(runs))})
			}
			if !math.IsInf(h.Value, 0) {
				v := h.Value
				r.Metrics[j].Values[i] = &v
			}
		}
	}
	for i := range r.Metrics {
		r.Metrics[i].Median, r.Metrics[i].Min, r.Metrics[i].Max = spread(r.Metrics[i].Values)
	}
	return r
}

// spread returns the median of values, a missing one counting as the
// slowest (nil when the median is one), and the least and greatest of
// those present.
func spread(values []*float64) (med, lo, hi *float64) {
	all := make([]float64, len(values))
	var present []float64
	for i, v := range values {
		all[i] = math.Inf(1)
		if v != nil {
			all[i] = *v
			present = append(present, *v)
		}
	}
	if len(present) == 0 {
		return nil, nil, nil
	}
	if m := Median(all); !math.IsInf(m, 0) {
		med = &m
	}
	l, h := slices.Min(present), slices.Max(present)
	return med, &l, &h
}

// HasRuns reports whether dir already holds results ReadRuns would read
// (a run's summary.json, a run-N directory) or repeats.json, so that new
// repeats would mix with old ones.
func HasRuns(dir string) bool {
	for _, f := range []string{RepeatsFile, SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name(), "run-"); ok && e.IsDir() {
			if _, err := strconv.Atoi(rest); err == nil {
				return true
			}
		}
	}
	return false
}

// Median returns the median of values (the mean of the middle two for an
// even count); NaN when there are none. +Inf, a value a run lacks, sorts
// last, so it is the median only when half the values or more are +Inf.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	v := slices.Sorted(slices.Values(values))
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
