package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/simulate"
)

// simulateCmd simulates a profile without sockets, optionally with a model
// calibrated from a real run, and writes results as a run does (marked
// simulated). Exit codes are run's.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", "wsstorm simulate [PROFILE] [--clients N] [--calibrate RESULT_DIR | --model FILE] [--model-set key=value]... [--out DIR] [--set key=value]... [--scale F | --quick] [--junit FILE]", stderr)
	clients := fs.Int("clients", 0, "simulate `N` clients instead of the profile's fleet.clients")
	calibrate := fs.String("calibrate", "", "fit the model to the real run whose results are in `RESULT_DIR` (its profile, unless PROFILE is given), and write it to model.json")
	modelPath := fs.String("model", "", "read the model from `FILE` (a model.json written by --calibrate)")
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>-simulated/<UTC time>/)")
	junit := fs.String("junit", "", "also write the thresholds' verdicts as JUnit XML to `FILE`")
	var sets, modelSets stringList
	fs.Var(&sets, "set", "override a profile key, e.g. --set fleet.reconnect.max=10s (repeatable)")
	var sf scaleFlags
	sf.register(fs)
	fs.Var(&modelSets, "model-set", "override a model key, e.g. --model-set workers=16 (repeatable; keys as in model.json)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, err := onePath("simulate", pos)
	sc, scaleErr := sf.scale("simulate")
	switch {
	case err != nil:
		return err
	case scaleErr != nil:
		return scaleErr
	case *calibrate != "" && *modelPath != "":
		return usagef("wsstorm simulate: --calibrate fits a model and --model reads one: give one of them")
	case *clients < 0 || *clients > profile.MaxClients:
		return usagef("wsstorm simulate: --clients %d: want 1 to %d", *clients, profile.MaxClients)
	}
	ctx, stop := untilSignal(ctx)
	defer stop()

	model := simulate.DefaultModel()
	var src *simulate.CalibrationSource
	switch {
	case *modelPath != "":
		if model, err = simulate.LoadModel(*modelPath); err != nil {
			return usagef("wsstorm simulate: --model: %v", err)
		}
	case *calibrate != "":
		if src, err = simulate.ReadSource(*calibrate); err != nil {
			return usagef("wsstorm simulate: --calibrate: %v", err)
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
		return usagef("wsstorm simulate: --model-set: %v", err)
	}
	if *clients > 0 {
		// An override like any: validated, and recorded in the results'
		// profile reference, so compare tells the fleets apart.
		sets = append(sets, fmt.Sprintf("fleet.clients=%d", *clients))
	}
	p, err := loadScaled(path, sets, sc, stderr)
	if err != nil {
		return err
	}
	if err := simulate.CheckProfile(p); err != nil {
		return usagef("wsstorm simulate: %v", err)
	}
	dir, err := resultsDir(*out, p.Name+"-simulated")
	if err != nil {
		return err
	}
	logw := lines.Prefixed(lines.Redacted(stderr, p.Redact), "wsstorm: ")
	opts := simulate.Options{Log: logw}
	if src != nil {
		if model, err = calibrated(ctx, src, overrides, dir, logw, stdout, stderr); err != nil {
			return err
		}
		opts.CalibratedFrom = src.Dir
	}
	fmt.Fprintf(stderr, "wsstorm: simulating profile %s (%s): %d clients for %s\n", p.Name, p.Path, p.Fleet.Clients, p.Duration.D())
	run, err := simulate.Run(ctx, p, model, opts)
	if err != nil {
		_ = os.Remove(dir)
		return usagef("wsstorm: %v", err)
	}
	return finishRun(stdout, stderr, dir, p, run, *junit)
}

// calibrated fits a model to the run in src, prints the fit, and writes it
// into dir: the fitted model with the overrides is the one simulated, and
// the one model.json holds; calibration.json keeps the fit.
func calibrated(ctx context.Context, src *simulate.CalibrationSource, overrides []simulate.ModelSet, dir string, logw, stdout, stderr io.Writer) (simulate.Model, error) {
	fmt.Fprintf(stderr, "wsstorm: calibrating from %s (%d clients)\n", src.Dir, src.Profile.Fleet.Clients)
	cal, err := simulate.Calibrate(ctx, src, logw)
	if err != nil {
		_ = os.Remove(dir) // only if empty: nothing was written
		if ctx.Err() != nil {
			return simulate.Model{}, interruptedf("wsstorm: calibration: %v", err)
		}
		return simulate.Model{}, cannotRunf("wsstorm: calibration: %v", err)
	}
	_ = cal.WriteText(stdout)
	model, err := cal.Model.With(overrides)
	if err != nil {
		_ = os.Remove(dir)
		return model, usagef("wsstorm simulate: --model-set on the fitted model: %v", err)
	}
	if err := cal.WriteFiles(dir, model); err != nil {
		return model, cannotRunf("wsstorm: %v", err)
	}
	fmt.Fprintf(stderr, "wsstorm: model written to %s: simulate with --model %s\n",
		filepath.Join(dir, simulate.ModelFile), filepath.Join(dir, simulate.ModelFile))
	return model, nil
}
