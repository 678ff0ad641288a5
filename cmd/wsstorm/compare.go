package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/report"
)

// compareCmd compares a run (or repeats) against a baseline, metric by
// metric, by noise floors or a rank test and tolerances: exit 1 when a
// metric regressed.
func compareCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "wsstorm compare BASE NEW [--tolerance metric=+10%]... [--default-tolerance +10%] [--profile FILE] [--format text|markdown|json] [--force] [--junit FILE]", stderr)
	var o report.CompareOptions
	fs.Var((*stringList)(&o.Tolerances), "tolerance", "how much worse `metric=+10%` (or +50ms, +5) may get before it is a regression (repeatable; overrides the profile's [compare] table)")
	fs.StringVar(&o.Default, "default-tolerance", "+10%", "tolerance of the metrics nothing else names")
	fs.StringVar(&o.Profile, "profile", "", "take tolerances from the [compare] table of profile `FILE` (default: the profile.toml in NEW's directory, if any)")
	format := fs.String("format", "text", "output: text, markdown (for a pull-request comment) or json")
	fs.BoolVar(&o.Force, "force", false, "compare runs of different profiles")
	junit := fs.String("junit", "", "also write one JUnit test case per compared metric to `FILE`")
	pos, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return err
	case len(pos) != 2:
		return usagef("wsstorm compare: name two results, BASE and NEW (results directories, summary.json files, or directories of repeats from run --repeat); got %d", len(pos))
	case !slices.Contains([]string{"text", "markdown", "json"}, *format):
		return usagef("wsstorm compare: --format %q: use text, markdown or json", *format)
	}
	fs.Visit(func(f *flag.Flag) { o.DefaultGiven = o.DefaultGiven || f.Name == "default-tolerance" })
	o.Log = lines.Prefixed(stderr, "wsstorm compare: ")
	c, err := report.CompareRuns(pos[0], pos[1], o)
	var table *report.ToleranceTableError
	switch {
	case errors.As(err, &table):
		return profileError("", table.Err)
	case err != nil:
		return usagef("wsstorm compare: %v", err)
	}
	switch *format {
	case "markdown":
		err = c.WriteMarkdown(stdout)
	case "json":
		err = c.WriteJSON(stdout)
	default:
		err = c.WriteText(stdout)
	}
	if err != nil {
		return cannotRunf("wsstorm compare: %v", err)
	}
	if *junit != "" {
		if err := report.WriteJUnit(*junit, "compare", report.CompareCases(c)); err != nil {
			return cannotRunf("wsstorm compare: writing the JUnit file: %v", err)
		}
	}
	switch {
	case c.Regressions > 0:
		return &failedError{}
	case c.Inconclusive > 0:
		// Neither a pass nor a regression: the measurement must be redone.
		return cannotRunf("wsstorm compare: %d metrics got worse, but %s", c.Inconclusive, c.InconclusiveText())
	}
	return nil
}
