package report

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
)

// CompareOptions are a comparison's tolerances and checks as `wsstorm
// compare` takes them.
type CompareOptions struct {
	// Tolerances are metric=+10% overrides; they win over the profile's
	// [compare] table.
	Tolerances []string
	// Default is the tolerance of the metrics nothing else names;
	// DefaultGiven says it was given, so that it wins over the table's.
	Default      string
	DefaultGiven bool
	// Profile is the profile whose [compare] table applies; "" is the
	// profile.toml in the new run's directory, if there is one.
	Profile string
	// Force compares runs of different profiles.
	Force bool
	// Log receives the warnings and where the tolerances came from.
	Log io.Writer
}

// ToleranceTableError is a [compare] table that could not be read; Err
// lists its problems (a profile.Errors, one per line, or the file's error).
type ToleranceTableError struct{ Err error }

// Error returns the table's problems.
func (e *ToleranceTableError) Error() string { return e.Err.Error() }

// Unwrap returns the table's problems, for errors.As.
func (e *ToleranceTableError) Unwrap() error { return e.Err }

// CompareRuns reads the results at basePath and newPath (results
// directories, summary.json files or directories of repeats) and compares them under the tolerances o gives. It
// warns on o.Log of what makes them less comparable: an interrupted or
// simulated side, a side its load generator shaped.
func CompareRuns(basePath, newPath string, o CompareOptions) (*Comparison, error) {
	def, err := profile.ParseToleranceFor(profile.DefaultToleranceKey, o.Default)
	if err != nil {
		return nil, fmt.Errorf("--default-tolerance: %w", err)
	}
	flagTols, err := parseTolerances(o.Tolerances)
	if err != nil {
		return nil, err
	}
	base, next, newDir, err := readCompared(basePath, newPath, o)
	if err != nil {
		return nil, err
	}
	tolerances, tableDef, found, err := tableTolerances(o.Profile, newDir, o.Log)
	if err != nil {
		return nil, &ToleranceTableError{err}
	}
	if found && !o.DefaultGiven {
		def = tableDef
	}
	maps.Copy(tolerances, flagTols)
	c := Compare(base, next, tolerances, def)
	for _, w := range c.Warnings {
		fmt.Fprintf(o.Log, "warning: %s\n", w)
	}
	return c, nil
}

// parseTolerances reads metric=+10% overrides.
func parseTolerances(tols []string) (map[string]Tolerance, error) {
	out := map[string]Tolerance{}
	for _, t := range tols {
		key, val, ok := strings.Cut(t, "=")
		if !ok || !slices.Contains(CompareKeys(), key) {
			return nil, fmt.Errorf("--tolerance %q: write metric=+10%%, with a metric among %s", t, strings.Join(CompareKeys(), ", "))
		}
		tol, err := profile.ParseToleranceFor(key, val)
		if err != nil {
			return nil, fmt.Errorf("--tolerance %s: %w", key, err)
		}
		out[key] = tol
	}
	return out, nil
}

// readCompared reads the two sides' runs (a run each, or repeats) and
// checks that they are all runs of one profile (unless o.Force), warning of
// what makes them less comparable. It returns the new side's first run's
// directory, whose profile.toml may hold the tolerances.
func readCompared(basePath, newPath string, o CompareOptions) (base, next []*results.Summary, newDir string, err error) {
	base, _, err = results.ReadRuns(basePath)
	if err != nil {
		return nil, nil, "", fmt.Errorf("base: %w", err)
	}
	next, dirs, err := results.ReadRuns(newPath)
	if err != nil {
		return nil, nil, "", fmt.Errorf("new: %w", err)
	}
	for _, s := range append(base[1:], next...) {
		if diff := profileDifference(base[0].Profile, s.Profile); diff != "" && !o.Force {
			return nil, nil, "", fmt.Errorf("the runs are of different profiles (%s): compare runs of one profile, or pass --force", diff)
		}
	}
	for _, side := range []struct {
		name string
		runs []*results.Summary
	}{{"base", base}, {"new", next}} {
		for i, s := range side.runs {
			run := "the " + side.name + " run" + runNumber(i, len(side.runs))
			if s.Interrupted {
				fmt.Fprintf(o.Log, "warning: %s was interrupted; what it did not reach counts as lost\n", run)
			}
			if s.Simulated != nil && (base[0].Simulated == nil || next[0].Simulated == nil) {
				fmt.Fprintf(o.Log, "warning: %s was simulated and the other side was not: the difference includes the model's\n", run)
			}
		}
	}
	if m, n := len(base), len(next); (m > 1 || n > 1) && (m < MinRepeats || n < MinRepeats) {
		fmt.Fprintf(o.Log, "warning: %d against %d runs: a rank test needs %d a side, so the medians are judged by the noise floors as single runs are\n", m, n, MinRepeats)
	}
	return base, next, dirs[0], nil
}

// tableTolerances reads the [compare] table of the profile at path or,
// when path is empty, of the profile.toml the run in newRun wrote. It says
// on w where the tolerances came from.
func tableTolerances(path, newRun string, w io.Writer) (map[string]Tolerance, Tolerance, bool, error) {
	if path == "" {
		fi, err := os.Stat(newRun)
		if err != nil || !fi.IsDir() {
			return map[string]Tolerance{}, Tolerance{}, false, nil
		}
		path = filepath.Join(newRun, results.ProfileFile)
		if _, err := os.Stat(path); err != nil {
			return map[string]Tolerance{}, Tolerance{}, false, nil
		}
	}
	per, def, hasDef, err := profile.ReadTolerances(path)
	if err != nil {
		return nil, Tolerance{}, false, err
	}
	if len(per) > 0 || hasDef {
		what := fmt.Sprintf("%d metrics", len(per))
		if hasDef {
			what += ", default " + def.Text
		}
		fmt.Fprintf(w, "tolerances from the [compare] table of %s (%s)\n", path, what)
	}
	return per, def, hasDef, nil
}

// profileDifference says how two runs' profiles differ (name, file digest,
// --set overrides or the timeline's scale), or "" when they are the same.
func profileDifference(a, b results.ProfileRef) string {
	short := func(h string) string { return h[:min(len(h), 12)] }
	switch {
	case a.Name != b.Name:
		return fmt.Sprintf("%q and %q", a.Name, b.Name)
	case a.SHA256 != b.SHA256:
		return fmt.Sprintf("two versions of %q: sha256 %s and %s", a.Name, short(a.SHA256), short(b.SHA256))
	case !slices.Equal(a.Overrides, b.Overrides):
		return fmt.Sprintf("%q with different --set overrides: %q and %q", a.Name, a.Overrides, b.Overrides)
	case a.Scale != b.Scale:
		return fmt.Sprintf("%q with its timeline at different scales (--scale or --quick): %s and %s", a.Name, scaleText(a.Scale), scaleText(b.Scale))
	}
	return ""
}

// scaleText writes a run's timeline scale: "1 (as written)" when none.
func scaleText(f string) string {
	if f == "" {
		return "1 (as written)"
	}
	return f
}
