package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
)

// runRepeats runs p rf.repeat times, one after the other with the same
// seed, each into its own run-N directory under one results directory,
// and writes their combined summary (repeats.json) there, also when a run
// was interrupted or could not be carried out. `wsstorm compare` takes
// the directory as one side: its runs are judged by a rank test.
func (rf *runFlags) runRepeats(ctx context.Context, p *profile.Profile, path string, stdout, stderr io.Writer) error {
	if rf.out != "" && results.HasRuns(rf.out) {
		return usagef("wsstorm run: --out %s already holds results (a run, run-N directories or %s), which would mix with these repeats: choose a new directory", rf.out, results.RepeatsFile)
	}
	dir, err := resultsDir(rf.out, p.Name)
	if err != nil {
		return err
	}
	// One signal ends the repeats: the run under way stops and writes its
	// results, and no other starts.
	ctx, stop := untilSignal(ctx)
	defer stop()
	one := *rf
	one.repeat, one.junit = 1, "" // the JUnit file gets every run's cases, below
	var failed, end error
	var notRun []report.JUnitCase
	for r := 1; r <= rf.repeat && end == nil; r++ {
		if ctx.Err() != nil {
			end = &interruptedError{}
			break
		}
		fmt.Fprintf(stderr, "wsstorm: repeat %d of %d\n", r, rf.repeat)
		one.out = filepath.Join(dir, results.RunDir(r))
		var err error
		if rf.split.Processes > 0 {
			err = one.runProcesses(ctx, p, path, stdout, stderr)
		} else {
			err = one.runOne(ctx, p, stdout, stderr)
		}
		var f *failedError
		switch {
		case errors.As(err, &f):
			failed = err // the thresholds failed: the next repeats still run
		case err != nil:
			end = err
			// An interrupted run that wrote results has its case among its
			// thresholds' (ThresholdCases); any other stop gets one here.
			if msg := err.Error(); msg != "" {
				notRun = append(notRun, report.JUnitCase{Name: results.RunDir(r) + ": carried out", Failure: msg})
			}
		}
	}
	var ie *interruptedError
	if err := rf.finishRepeats(dir, notRun, errors.As(end, &ie), stderr); err != nil {
		if end == nil {
			return err
		}
		fmt.Fprintf(stderr, "%v\n", err) // the error returned is the one that stopped the repeats
	}
	if end != nil {
		return end
	}
	return failed
}

// finishRepeats writes the combined summary of the runs in dir (with none,
// when none finished) and the JUnit file of their thresholds, with the
// cases of the runs that could not be carried out, and says where they are.
//
// interrupted says a signal stopped the repeats, between runs or before
// one started, which no run's summary may record.
func (rf *runFlags) finishRepeats(dir string, notRun []report.JUnitCase, interrupted bool, stderr io.Writer) error {
	runs, dirs, err := results.ReadRuns(dir)
	if err != nil && !errors.Is(err, results.ErrNoRuns) {
		return cannotRunf("wsstorm: reading the repeats in %s: %v", dir, err)
	}
	rel := make([]string, len(dirs))
	var cases []report.JUnitCase
	for i, d := range dirs {
		rel[i] = filepath.Base(d)
		for _, c := range report.ThresholdCases(runs[i]) {
			c.Name = rel[i] + ": " + c.Name
			cases = append(cases, c)
		}
	}
	cases = append(cases, notRun...)
	combined := results.CombineRepeats(runs, rel, rf.repeat)
	if interrupted {
		combined.Interrupted, combined.Passed = true, false
	}
	if err := results.WriteRepeats(dir, combined); err != nil {
		return cannotRunf("wsstorm: writing %s: %v", filepath.Join(dir, results.RepeatsFile), err)
	}
	passed := 0
	for _, r := range combined.Runs {
		if r.Passed && !r.Interrupted {
			passed++
		}
	}
	fmt.Fprintf(stderr, "wsstorm: %d of %d repeats ran, %d passed; combined summary: %s\n",
		len(runs), rf.repeat, passed, filepath.Join(dir, results.RepeatsFile))
	if rf.junit != "" {
		if err := report.WriteJUnit(rf.junit, "thresholds", cases); err != nil {
			return cannotRunf("wsstorm: writing the JUnit file: %v", err)
		}
	}
	return nil
}
