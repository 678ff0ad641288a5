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
	dir, err := resultsDir(rf.out, p.Name)
	if err != nil {
		return err
	}
	one := *rf
	one.repeat, one.junit = 1, "" // the JUnit file gets every run's cases, below
	var failed, stop error
	for r := 1; r <= rf.repeat && stop == nil; r++ {
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
			stop = err
		}
		if ctx.Err() != nil && stop == nil {
			stop = &interruptedError{}
		}
	}
	if err := rf.finishRepeats(dir, stderr); err != nil {
		return errors.Join(stop, err)
	}
	if stop != nil {
		return stop
	}
	return failed
}

// finishRepeats writes the combined summary of the runs in dir and the
// JUnit file of their thresholds, and says where they are.
func (rf *runFlags) finishRepeats(dir string, stderr io.Writer) error {
	runs, dirs, err := results.ReadRuns(dir)
	if errors.Is(err, results.ErrNoRuns) {
		return nil // no run finished: nothing to combine
	}
	if err != nil {
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
	combined := results.CombineRepeats(runs, rel, rf.repeat)
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
