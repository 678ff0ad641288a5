package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
)

func compareCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", "wsstorm compare BASE NEW [--tolerance metric=+10%]... [--default-tolerance +10%] [--profile FILE] [--format text|markdown|json] [--force] [--junit FILE]", stderr)
	var tols stringList
	fs.Var(&tols, "tolerance", "how much worse `metric=+10%` (or +50ms, +5) may get before it is a regression (repeatable; overrides the profile's [compare] table)")
	def := fs.String("default-tolerance", "+10%", "tolerance of the metrics nothing else names")
	profilePath := fs.String("profile", "", "take tolerances from the [compare] table of profile `FILE` (default: the profile.toml in NEW's directory, if any)")
	format := fs.String("format", "text", "output: text, markdown (for a pull-request comment) or json")
	force := fs.Bool("force", false, "compare runs of different profiles")
	junit := fs.String("junit", "", "also write one JUnit test case per compared metric to `FILE`")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "wsstorm compare: name two results (directories or summary.json files), BASE and NEW; got %d\n", len(pos))
		return exitUsage
	}
	if !slices.Contains([]string{"text", "markdown", "json"}, *format) {
		fmt.Fprintf(stderr, "wsstorm compare: --format %q: use text, markdown or json\n", *format)
		return exitUsage
	}
	defTol, err := profile.ParseToleranceFor(profile.DefaultToleranceKey, *def)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: --default-tolerance: %v\n", err)
		return exitUsage
	}
	flagTols := map[string]report.Tolerance{}
	for _, t := range tols {
		key, val, ok := strings.Cut(t, "=")
		if !ok || !slices.Contains(report.CompareKeys(), key) {
			fmt.Fprintf(stderr, "wsstorm compare: --tolerance %q: write metric=+10%%, with a metric among %s\n", t, strings.Join(report.CompareKeys(), ", "))
			return exitUsage
		}
		tol, err := profile.ParseToleranceFor(key, val)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm compare: --tolerance %s: %v\n", key, err)
			return exitUsage
		}
		flagTols[key] = tol
	}
	base, err := results.ReadSummary(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: base: %v\n", err)
		return exitUsage
	}
	next, err := results.ReadSummary(pos[1])
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: new: %v\n", err)
		return exitUsage
	}
	if diff := profileDifference(base.Profile, next.Profile); diff != "" && !*force {
		fmt.Fprintf(stderr, "wsstorm compare: the runs are of different profiles (%s): compare runs of one profile, or pass --force\n", diff)
		return exitUsage
	}
	for _, r := range []struct {
		name string
		s    *results.Summary
	}{{"base", base}, {"new", next}} {
		if r.s.Interrupted {
			fmt.Fprintf(stderr, "wsstorm compare: warning: the %s run was interrupted; what it did not reach counts as lost\n", r.name)
		}
		if r.s.Simulated != nil && (base.Simulated == nil || next.Simulated == nil) {
			fmt.Fprintf(stderr, "wsstorm compare: warning: the %s run was simulated and the other was not: the difference includes the model's\n", r.name)
		}
	}
	// The profile's [compare] table first; flags override it.
	tolerances, tableDef, found, err := profileTolerances(*profilePath, pos[1], stderr)
	if err != nil {
		printProfileError(stderr, err)
		return exitUsage
	}
	if found && !flagGiven(fs, "default-tolerance") {
		defTol = tableDef
	}
	maps.Copy(tolerances, flagTols)
	c := report.Compare(base, next, tolerances, defTol)
	switch *format {
	case "markdown":
		err = c.WriteMarkdown(stdout)
	case "json":
		err = c.WriteJSON(stdout)
	default:
		err = c.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: %v\n", err)
		return exitCannotRun
	}
	if *junit != "" {
		if err := report.WriteJUnit(*junit, "compare", report.CompareCases(c)); err != nil {
			fmt.Fprintf(stderr, "wsstorm compare: writing the JUnit file: %v\n", err)
			return exitCannotRun
		}
	}
	if c.Regressions > 0 {
		return exitFailed
	}
	return exitPassed
}

// profileTolerances reads the [compare] table of the profile at path or,
// when path is empty, of the profile.toml the run in newRun wrote. It says
// on w where the tolerances came from.
func profileTolerances(path, newRun string, w io.Writer) (map[string]report.Tolerance, report.Tolerance, bool, error) {
	if path == "" {
		fi, err := os.Stat(newRun)
		if err != nil || !fi.IsDir() {
			return map[string]report.Tolerance{}, report.Tolerance{}, false, nil
		}
		path = filepath.Join(newRun, results.ProfileFile)
		if _, err := os.Stat(path); err != nil {
			return map[string]report.Tolerance{}, report.Tolerance{}, false, nil
		}
	}
	per, def, hasDef, err := profile.ReadTolerances(path)
	if err != nil {
		return nil, report.Tolerance{}, false, err
	}
	if len(per) > 0 || hasDef {
		what := fmt.Sprintf("%d metrics", len(per))
		if hasDef {
			what += ", default " + def.Text
		}
		fmt.Fprintf(w, "wsstorm compare: tolerances from the [compare] table of %s (%s)\n", path, what)
	}
	return per, def, hasDef, nil
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// profileDifference says how two runs' profiles differ (name, file digest or
// --set overrides), or "" when they are the same.
func profileDifference(a, b results.ProfileRef) string {
	short := func(h string) string { return h[:min(len(h), 12)] }
	switch {
	case a.Name != b.Name:
		return fmt.Sprintf("%q and %q", a.Name, b.Name)
	case a.SHA256 != b.SHA256:
		return fmt.Sprintf("two versions of %q: sha256 %s and %s", a.Name, short(a.SHA256), short(b.SHA256))
	case !slices.Equal(a.Overrides, b.Overrides):
		return fmt.Sprintf("%q with different --set overrides: %q and %q", a.Name, a.Overrides, b.Overrides)
	}
	return ""
}
