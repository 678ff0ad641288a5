package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/simulate"
	"github.com/wsstorm/wsstorm/internal/storm"
	"github.com/wsstorm/wsstorm/internal/sweep"
)

// sweepCmd runs (or, with --simulate, simulates) a profile once per
// combination of --vary values (times --repeat), each run a normal result
// directory, then writes sweep.json, sweep.md, sweep.html and sweep.svg
// (after every run too, so a second Ctrl-C keeps what finished). Exit: 0 a
// setting is recommended, 1 none is (none keeps the herd under the limit
// with every client back), 2 bad usage or a bad --vary key or value, 3 a run
// could not be carried out, 130 interrupted (the finished runs are kept and
// summed up).
func sweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", "wsstorm sweep [PROFILE] --vary KEY=V1,V2,... [--vary ...] [--repeat R] [--simulate [--model FILE]] [--out DIR] [--set key=value]... [--scale F | --quick] [--quiet]", stderr)
	var varies, sets stringList
	fs.Var(&varies, "vary", "run with each of a profile key's values, e.g. --vary fleet.reconnect.max=1s,5s,10s (repeatable: every combination)")
	fs.Var(&sets, "set", "override a profile key in every run, e.g. --set fleet.clients=5000 (repeatable)")
	var sf scaleFlags
	sf.register(fs)
	repeat := fs.Int("repeat", 1, "run each setting `R` times")
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>-sweep/<UTC time>/)")
	quiet := fs.Bool("quiet", false, "print only each run's one-line outcome and the table")
	simulated := fs.Bool("simulate", false, "simulate each run (wsstorm simulate) instead of running it: no sockets, any number of clients")
	modelPath := fs.String("model", "", "with --simulate: the model to simulate with, a model.json from wsstorm simulate --calibrate (default: the built-in model)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	cfg := sweep.Config{Sets: sets, Repeat: *repeat, Simulated: *simulated, Model: simulate.DefaultModel()}
	if cfg.Path, err = onePath("sweep", pos); err != nil {
		return err
	}
	if cfg.Scale, err = sf.scale("sweep"); err != nil {
		return err
	}
	switch {
	case *repeat < 1:
		return usagef("wsstorm sweep: --repeat %d: at least 1", *repeat)
	case *modelPath != "" && !*simulated:
		return usagef("wsstorm sweep: --model is the simulator's: give --simulate with it")
	case *modelPath != "":
		if cfg.Model, err = simulate.LoadModel(*modelPath); err != nil {
			return usagef("wsstorm sweep: --model: %v", err)
		}
	}
	for _, v := range varies {
		a, err := sweep.ParseVary(v)
		if err != nil {
			return usagef("wsstorm sweep: %v", err)
		}
		cfg.Axes = append(cfg.Axes, a)
	}
	d, err := sweep.New(cfg)
	var invalid *sweep.InvalidSettingError
	switch {
	case errors.As(err, &invalid):
		return profileError(fmt.Sprintf("wsstorm sweep: setting %s is not a valid profile:", invalid.Setting), invalid.Err)
	case errors.Is(err, storm.ErrCannotRun):
		return cannotRunf("wsstorm sweep: %v", err)
	case err != nil:
		return usagef("wsstorm sweep: %v", err)
	}
	for _, w := range d.Warnings() {
		fmt.Fprintf(stderr, "wsstorm: warning: %s\n", w)
	}
	dir, err := resultsDir(*out, d.Base().Name+"-sweep")
	if err != nil {
		return err
	}

	ctx, stop := untilSignal(ctx)
	defer stop()
	sw, err := d.Run(ctx, sweep.RunOptions{Dir: dir, Log: lines.Prefixed(stderr, "wsstorm: "), Quiet: *quiet, Write: report.Write})
	if werr := sw.WriteFiles(dir); werr != nil {
		return cannotRunf("wsstorm: writing the sweep's results to %s: %v", dir, werr)
	}
	if err := sw.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
	}
	fmt.Fprintf(stdout, "results: %s\n", dir)
	switch {
	case errors.Is(err, sweep.ErrInterrupted):
		return &interruptedError{}
	case err != nil:
		return &cannotRunError{} // the sweep's log has said why
	case sw.Recommendation.Slug == "":
		return &failedError{}
	}
	return nil
}
