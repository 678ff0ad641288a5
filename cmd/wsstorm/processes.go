package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/supervise"
)

// runProcesses runs p, loaded from path, as --processes segment processes
// of this program on this machine, with an embedded target as wsstorm
// serve processes (internal/supervise), and writes their merged results as
// one run's.
func (rf *runFlags) runProcesses(ctx context.Context, p *profile.Profile, path string, stdout, stderr io.Writer) error {
	plan, err := supervise.New(p, rf.split.Processes, lines.Prefixed(stderr, "wsstorm: "))
	if err != nil {
		return cannotRunf("wsstorm: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return cannotRunf("wsstorm: cannot find this program to start its processes: %v", err)
	}
	dir, err := resultsDir(rf.out, p.Name)
	if err != nil {
		return err
	}
	stderr = lines.Redacted(stderr, p.Redact)
	// The first signal is passed on to the segments once; a second one ends
	// this process at once, and its children then get SIGTERM (the
	// parent-death signal), their second, and end at once too.
	ctx, stop := untilSignal(ctx)
	defer stop()
	var args []string // the profile and its overrides, for every process
	if path != "" {
		args = append(args, path)
	}
	for _, s := range rf.sets {
		args = append(args, "--set", s)
	}
	run, merged, err := plan.Run(ctx, supervise.Options{Program: self, Args: args, Dir: dir, Log: lines.Prefixed(stderr, "wsstorm: ")})
	switch {
	case errors.Is(err, supervise.ErrInterrupted):
		_ = os.Remove(dir) // only if empty: nothing was measured
		return interruptedf("wsstorm: %v", err)
	case err != nil:
		return cannotRunf("wsstorm: %v", err)
	}
	return finishRun(stdout, stderr, dir, merged, run, rf.junit)
}
