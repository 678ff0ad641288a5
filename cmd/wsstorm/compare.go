package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/report"
)

func compareCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", "wsstorm compare BASE NEW [--tolerance metric=+10%]... [--default-tolerance +10%] [--format text|markdown|json] [--force] [--junit FILE]", stderr)
	var tols stringList
	fs.Var(&tols, "tolerance", "how much worse `metric=+10%` (or +50ms, +5) may get before it is a regression (repeatable)")
	def := fs.String("default-tolerance", "+10%", "tolerance of the metrics no --tolerance names")
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
	defTol, err := report.ParseTolerance(*def)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: --default-tolerance: %v\n", err)
		return exitUsage
	}
	tolerances := map[string]report.Tolerance{}
	for _, t := range tols {
		key, val, ok := strings.Cut(t, "=")
		if !ok || !slices.Contains(report.CompareKeys(), key) {
			fmt.Fprintf(stderr, "wsstorm compare: --tolerance %q: write metric=+10%%, with a metric among %s\n", t, strings.Join(report.CompareKeys(), ", "))
			return exitUsage
		}
		tol, err := report.ParseTolerance(val)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm compare: --tolerance %s: %v\n", key, err)
			return exitUsage
		}
		tolerances[key] = tol
	}
	base, err := report.ReadSummary(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: base: %v\n", err)
		return exitUsage
	}
	next, err := report.ReadSummary(pos[1])
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm compare: new: %v\n", err)
		return exitUsage
	}
	if base.Profile.Name != next.Profile.Name && !*force {
		fmt.Fprintf(stderr, "wsstorm compare: the runs are of different profiles (%q and %q): compare runs of one profile, or pass --force\n",
			base.Profile.Name, next.Profile.Name)
		return exitUsage
	}
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
