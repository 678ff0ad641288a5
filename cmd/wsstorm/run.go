package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/live"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/storm"
	"github.com/wsstorm/wsstorm/internal/supervise"
)

// runFlags are the flags of `wsstorm run`.
type runFlags struct {
	out, junit, metricsAddr string
	sets                    stringList
	quiet                   bool
	split                   storm.Split
	repeat                  int
	scale                   scaleFlags
}

// runCmd runs a storm: the whole fleet in this process, one segment of
// it, or the fleet split over --processes (runProcesses).
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "wsstorm run [PROFILE] [--out DIR] [--set key=value]... [--scale F | --quick] [--repeat N] [--quiet] [--metrics-addr ADDR] [--processes N | --segment I/N [--start-at TIME] [--chaos on|off] [--target-admin URL,...]]", stderr)
	var rf runFlags
	fs.StringVar(&rf.out, "out", "", "write results to `DIR` (default results/<profile>/<UTC time>/)")
	fs.StringVar(&rf.junit, "junit", "", "also write the thresholds' verdicts as JUnit XML to `FILE`")
	fs.Var(&rf.sets, "set", "override a profile key, e.g. --set fleet.clients=5000 (repeatable)")
	fs.BoolVar(&rf.quiet, "quiet", false, "show no live status on stderr during the run")
	fs.StringVar(&rf.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics during the run (a missing host is 127.0.0.1)")
	fs.IntVar(&rf.repeat, "repeat", 1, "run the profile `N` times, one after the other, into run-1 ... run-N under one results directory with a combined summary (repeats.json); wsstorm compare judges such a directory by a rank test")
	rf.scale.register(fs)
	registerSplit(fs, &rf.split)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case rf.repeat < 1:
		return usagef("wsstorm run: --repeat %d: give 1 or more runs", rf.repeat)
	case rf.repeat > 1 && rf.split.Segments > 0:
		return usagef("wsstorm run: --repeat is not available with --segment: repeat the split run itself, or use --processes")
	}
	if rf.metricsAddr != "" {
		if rf.metricsAddr, err = live.ListenAddr(rf.metricsAddr); err != nil {
			return usagef("wsstorm run: --metrics-addr: %v", err)
		}
	}
	path, err := onePath("run", pos)
	if err != nil {
		return err
	}
	sc, err := rf.scale.scale("run")
	if err != nil {
		return err
	}
	warn := stderr
	if rf.split.Segments > 0 {
		warn = nil // the run that started the segment warned
	}
	p, err := loadScaled(path, rf.sets, sc, warn)
	if err != nil {
		return err
	}
	if err := rf.split.Check(p); err != nil {
		return usagef("wsstorm run: %v", err)
	}
	if rf.split.Processes > 0 && rf.metricsAddr != "" {
		return usagef("wsstorm run: --metrics-addr is not available with --processes, whose segments each have their own numbers: run the segments yourself with --segment and give each its own --metrics-addr")
	}
	switch {
	case rf.repeat > 1:
		return redacted(rf.runRepeats(ctx, p, path, stdout, stderr), p.Redact)
	case rf.split.Processes > 0:
		return redacted(rf.runProcesses(ctx, p, path, stdout, stderr), p.Redact)
	}
	return redacted(rf.runOne(ctx, p, stdout, stderr), p.Redact)
}

// runOne runs p (or one segment of it) in this process.
func (rf *runFlags) runOne(ctx context.Context, p *profile.Profile, stdout, stderr io.Writer) error {
	sp := &rf.split
	// Limits first: a run that cannot fit leaves nothing behind.
	if err := storm.CheckLimits(p, sp.Limits()); err != nil {
		return cannotRunf("wsstorm: %v", err)
	}
	if w := storm.PortsWarning(p, sp.Limits()); w != "" {
		fmt.Fprintf(stderr, "wsstorm: warning: %s\n", w)
	}
	dir, err := resultsDir(rf.out, p.Name)
	if err != nil {
		return err
	}
	clients := storm.SegmentClients(p.Fleet.Clients, sp.Segment, sp.Segments)
	watch, err := live.StartWatch(live.WatchOptions{
		Out: stderr, Prefix: "wsstorm: ", Redact: p.Redact, Status: !rf.quiet,
		MetricsAddr: rf.metricsAddr, Clients: clients, Duration: p.Duration.D(),
	})
	if err != nil {
		_ = os.Remove(dir) // only if empty: nothing was measured
		return cannotRunf("wsstorm: %v", err)
	}
	defer watch.Stop()

	ctx, stop := untilSignal(ctx)
	defer stop()
	if sp.Segments > 0 {
		fmt.Fprintf(stderr, "wsstorm: running segment %d/%d of profile %s (%s): %d of its %d clients for %s, chaos %s\n",
			sp.Segment, sp.Segments, p.Name, p.Path, clients, p.Fleet.Clients, p.Duration.D(), onOff(sp.Drives()))
	} else {
		fmt.Fprintf(stderr, "wsstorm: running profile %s (%s): %d clients for %s\n", p.Name, p.Path, p.Fleet.Clients, p.Duration.D())
	}
	stderr = lines.Redacted(stderr, p.Redact)
	opts := storm.Options{Log: watch.Log(), Observe: watch.Observe}
	if err := sp.Apply(ctx, &opts); err != nil {
		_ = os.Remove(dir)
		return cannotRunf("wsstorm: %v", err)
	}
	run, err := storm.Run(ctx, p, opts)
	if err != nil {
		_ = os.Remove(dir) // only if empty: nothing was measured
		if errors.Is(err, storm.ErrNotStarted) {
			return interruptedf("wsstorm: %v", err)
		}
		return cannotRunf("wsstorm: %v", err)
	}
	if sp.Segments > 0 {
		run.Segment = &results.Segment{Index: sp.Segment, Count: sp.Segments, StartAt: sp.StartAt, Chaos: sp.Drives(), Clients: clients}
	}
	return finishRun(stdout, stderr, dir, p, run, rf.junit)
}

// finishRun writes the results of run, a run of profile p, to dir, prints
// its summary and returns the error of its outcome, if any.
func finishRun(stdout, stderr io.Writer, dir string, p *profile.Profile, run *results.Run, junit string) error {
	sum, werr := report.Write(dir, p, run)
	// The summary is printed even when the files could not be written.
	if err := report.WriteText(stdout, sum, dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
	}
	if w := report.GeneratorWarning(sum); w != "" {
		fmt.Fprintf(stderr, "wsstorm: warning: %s\n", w)
	}
	var extras *results.ExtrasError
	if errors.As(werr, &extras) {
		// summary.json and the rest of the contract are written: the verdict stands.
		fmt.Fprintf(stderr, "wsstorm: warning: results are in %s, but %v\n", dir, werr)
		werr = nil
	}
	if werr != nil {
		return resultsError("wsstorm: ", dir, werr)
	}
	if junit != "" {
		if err := report.WriteJUnit(junit, "thresholds", report.ThresholdCases(sum)); err != nil {
			return cannotRunf("wsstorm: writing the JUnit file: %v", err)
		}
	}
	if msg := sum.Unreachable(); msg != "" {
		return cannotRunf("wsstorm: %s", msg)
	}
	switch {
	case run.Interrupted:
		return &interruptedError{}
	case !sum.Passed:
		return &failedError{}
	}
	return nil
}

// resultsDir is where a run's results go: out, or a new directory named
// for the run (name: the profile's, or the sweep's) and the time. It is
// created and checked now, not after the run.
func resultsDir(out, name string) (string, error) {
	dir, err := results.NewDir(out, "results", name, time.Now())
	if err != nil {
		return "", cannotRunf("wsstorm: cannot write results to %s: %v; choose another directory with --out", dir, err)
	}
	return dir, nil
}

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
	// this process at once, and on Linux its children then get SIGTERM (the
	// parent-death signal): the segments' second signal, which ends them at
	// once, and the serve processes' first, which shuts them down.
	ctx, stop := untilSignal(ctx)
	defer stop()
	run, merged, err := plan.Run(ctx, supervise.Options{Program: self, Path: path, Sets: rf.sets, Scale: p.ScaleExact, Dir: dir, Log: lines.Prefixed(stderr, "wsstorm: ")})
	switch {
	case errors.Is(err, supervise.ErrInterrupted):
		_ = os.Remove(dir) // only if empty: nothing was measured
		return interruptedf("wsstorm: %v", err)
	case err != nil:
		_ = os.Remove(dir) // only if empty: a run that could not start leaves nothing
		return cannotRunf("wsstorm: %v", err)
	}
	return finishRun(stdout, stderr, dir, merged, run, rf.junit)
}

// registerSplit defines the flags of `wsstorm run` that spread one fleet
// over several processes, into s: --processes on this machine, or
// --segment on many.
func registerSplit(fs *flag.FlagSet, s *storm.Split) {
	fs.IntVar(&s.Processes, "processes", 0, "run the fleet as `N` processes of wsstorm on this machine (and the embedded target as wsstorm serve processes), then merge their results into one")
	fs.Func("segment", "run only segment `I/N` of the fleet: the clients whose index modulo N is I; merge the N results with wsstorm merge", s.SetSegment)
	fs.Func("start-at", "begin the run's timeline at `TIME` (RFC 3339, e.g. 2026-11-25T20:00:00Z), so that segments on other processes or machines run the same one", s.SetStartAt)
	fs.Func("chaos", "`on|off`: whether this segment drives the profile's chaos (default: segment 0 does, the others record the events' times)", s.SetChaos)
	fs.Func("target-admin", "the profile's embedded target runs as wsstorm serve processes with these admin `URLs` (comma-separated): connect to them and drive the chaos through them", s.AddTargetAdmin)
}

// onOff writes a flag of on|off.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
