package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/simulate"
)

// simulateCmd simulates a profile without sockets, optionally with a model
// calibrated from a real run, and writes results as a run does (marked
// simulated). Exit codes are run's.
func simulateCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("simulate", "wsstorm simulate [PROFILE] [--clients N] [--calibrate RESULT_DIR | --model FILE] [--model-set key=value]... [--out DIR] [--set key=value]... [--junit FILE]", stderr)
	clients := fs.Int("clients", 0, "simulate `N` clients instead of the profile's fleet.clients")
	calibrate := fs.String("calibrate", "", "fit the model to the real run whose results are in `RESULT_DIR` (its profile, unless PROFILE is given), and write it to model.json")
	modelPath := fs.String("model", "", "read the model from `FILE` (a model.json written by --calibrate)")
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>-simulated/<UTC time>/)")
	junit := fs.String("junit", "", "also write the thresholds' verdicts as JUnit XML to `FILE`")
	var sets, modelSets stringList
	fs.Var(&sets, "set", "override a profile key, e.g. --set fleet.reconnect.max=10s (repeatable)")
	fs.Var(&modelSets, "model-set", "override a model key, e.g. --model-set workers=16 (repeatable; keys as in model.json)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "wsstorm simulate: one profile at a time, got %d: %v\n", len(pos), pos)
		return exitUsage
	}
	if *calibrate != "" && *modelPath != "" {
		fmt.Fprintln(stderr, "wsstorm simulate: --calibrate fits a model and --model reads one: give one of them")
		return exitUsage
	}
	if *clients < 0 || *clients > profile.MaxClients {
		fmt.Fprintf(stderr, "wsstorm simulate: --clients %d: want 1 to %d\n", *clients, profile.MaxClients)
		return exitUsage
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	context.AfterFunc(ctx, cancel) // a second signal ends the process at once

	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	model := simulate.DefaultModel()
	var src *simulate.CalibrationSource
	switch {
	case *modelPath != "":
		if model, err = simulate.LoadModel(*modelPath); err != nil {
			fmt.Fprintf(stderr, "wsstorm simulate: --model: %v\n", err)
			return exitUsage
		}
	case *calibrate != "":
		if src, err = simulate.ReadSource(*calibrate); err != nil {
			fmt.Fprintf(stderr, "wsstorm simulate: --calibrate: %v\n", err)
			return exitUsage
		}
		if path == "" {
			path = filepath.Join(*calibrate, results.ProfileFile)
		}
	}
	// The overrides' keys and values are checked now, so that a bad one
	// costs neither a calibration nor a results directory; a model at hand
	// is checked whole with them.
	overrides, err := simulate.ParseModelSets(modelSets)
	if err == nil && src == nil {
		model, err = model.With(overrides)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm simulate: --model-set: %v\n", err)
		return exitUsage
	}
	if *clients > 0 {
		// An override like any: validated, and recorded in the results'
		// profile reference, so compare tells the fleets apart.
		sets = append(sets, fmt.Sprintf("fleet.clients=%d", *clients))
	}
	p, err := profile.Load(path, sets)
	if err != nil {
		printProfileError(stderr, err)
		return exitUsage
	}
	if err := simulate.CheckProfile(p); err != nil {
		fmt.Fprintf(stderr, "wsstorm simulate: %v\n", err)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		dir = uniqueDir(results.DefaultDir("results", p.Name+"-simulated", time.Now()))
	}
	if err := checkWritable(dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot write results to %s: %v; choose another directory with --out\n", dir, err)
		return exitCannotRun
	}
	logw := lines.Prefixed(lines.Redacted(stderr, p.Redact), "wsstorm: ")

	if src != nil {
		fmt.Fprintf(stderr, "wsstorm: calibrating from %s (%d clients)\n", src.Dir, src.Profile.Fleet.Clients)
		cal, err := simulate.Calibrate(ctx, src, logw)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm: calibration: %v\n", err)
			_ = os.Remove(dir)
			if ctx.Err() != nil {
				return exitInterrupted
			}
			return exitCannotRun
		}
		_ = cal.WriteText(stdout)
		// The fitted model with the overrides is the one simulated, and
		// the one model.json holds; calibration.json keeps the fit.
		if model, err = cal.Model.With(overrides); err != nil {
			fmt.Fprintf(stderr, "wsstorm simulate: --model-set on the fitted model: %v\n", err)
			_ = os.Remove(dir)
			return exitUsage
		}
		if err := cal.WriteFiles(dir, model); err != nil {
			fmt.Fprintf(stderr, "wsstorm: %v\n", err)
			return exitCannotRun
		}
		fmt.Fprintf(stderr, "wsstorm: model written to %s: simulate with --model %s\n",
			filepath.Join(dir, simulate.ModelFile), filepath.Join(dir, simulate.ModelFile))
	}
	fmt.Fprintf(stderr, "wsstorm: simulating profile %s (%s): %d clients for %s\n", p.Name, p.Path, p.Fleet.Clients, p.Duration.D())
	opts := simulate.Options{Log: logw}
	if src != nil {
		opts.CalibratedFrom = src.Dir
	}
	run, err := simulate.Run(ctx, p, model, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		_ = os.Remove(dir)
		return exitUsage
	}
	return finishRun(stdout, stderr, dir, p, run, *junit)
}
