package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wsstorm/wsstorm/internal/merge"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
)

// startSpreadWarning is how far apart the segments' starts may be before
// merge warns: their events' herds then overlap less than one run's would.
// Further apart than 10% of the duration, merge.Dirs refuses them.
const startSpreadWarning = time.Second

// mergeCmd merges the results of a split run's segments into one run's.
func mergeCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", "wsstorm merge DIR... --out DIR [--junit FILE]", stderr)
	out := fs.String("out", "", "write the merged results to `DIR` (required)")
	junit := fs.String("junit", "", "also write the thresholds' verdicts as JUnit XML to `FILE`")
	dirs, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return err
	case len(dirs) == 0:
		return usagef("wsstorm merge: name the results directories of a split run's segments (wsstorm run --segment I/N), one per segment")
	case *out == "":
		return usagef("wsstorm merge: --out DIR is missing: name the directory the merged results go to")
	}
	if err := merge.CheckOut(dirs, *out); err != nil {
		return usagef("wsstorm merge: %v", err)
	}
	run, p, err := merge.Dirs(dirs)
	if err != nil {
		return usagef("wsstorm merge: %v", err)
	}
	if err := results.CheckWritable(*out); err != nil {
		return cannotRunf("wsstorm merge: cannot write results to %s: %v; choose another directory with --out", *out, err)
	}
	m := run.Merged
	chaos := "no segment drove the chaos"
	if m.ChaosSegment >= 0 {
		chaos = fmt.Sprintf("the chaos from segment %d", m.ChaosSegment)
	}
	fmt.Fprintf(stderr, "wsstorm merge: %d segments of profile %s, %s\n", m.Segments, p.Name, chaos)
	if m.StartSpread > startSpreadWarning {
		fmt.Fprintf(stderr, "wsstorm merge: warning: the segments started %.1fs apart; give them one --start-at so that the merge is one run's\n", m.StartSpread.Seconds())
	}
	sum, werr := report.Write(*out, p, run)
	if err := report.WriteText(stdout, sum, *out); err != nil {
		fmt.Fprintf(stderr, "wsstorm merge: %v\n", err)
	}
	var extras *results.ExtrasError
	if errors.As(werr, &extras) {
		// The contract files are written: the verdict stands.
		fmt.Fprintf(stderr, "wsstorm merge: warning: results are in %s, but %v\n", *out, werr)
		werr = nil
	}
	if werr != nil {
		return resultsError("wsstorm merge: ", *out, werr)
	}
	if *junit != "" {
		if err := report.WriteJUnit(*junit, "thresholds", report.ThresholdCases(sum)); err != nil {
			return cannotRunf("wsstorm merge: writing the JUnit file: %v", err)
		}
	}
	// An interrupted segment makes the merged run not passed (exit 1): it is
	// the merge's verdict, not this command that was interrupted.
	if !sum.Passed {
		return &failedError{}
	}
	return nil
}
