package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
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
func sweepCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sweep", "wsstorm sweep [PROFILE] --vary KEY=V1,V2,... [--vary ...] [--repeat R] [--simulate [--model FILE]] [--out DIR] [--set key=value]... [--quiet]", stderr)
	var varies, sets stringList
	fs.Var(&varies, "vary", "run with each of a profile key's values, e.g. --vary fleet.reconnect.max=1s,5s,10s (repeatable: every combination)")
	fs.Var(&sets, "set", "override a profile key in every run, e.g. --set fleet.clients=5000 (repeatable)")
	repeat := fs.Int("repeat", 1, "run each setting `R` times")
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>-sweep/<UTC time>/)")
	quiet := fs.Bool("quiet", false, "print only each run's one-line outcome and the table")
	simulated := fs.Bool("simulate", false, "simulate each run (wsstorm simulate) instead of running it: no sockets, any number of clients")
	modelPath := fs.String("model", "", "with --simulate: the model to simulate with, a model.json from wsstorm simulate --calibrate (default: the built-in model)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "wsstorm sweep: one profile at a time, got %d: %v\n", len(pos), pos)
		return exitUsage
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	if *repeat < 1 {
		fmt.Fprintf(stderr, "wsstorm sweep: --repeat %d: at least 1\n", *repeat)
		return exitUsage
	}
	if *modelPath != "" && !*simulated {
		fmt.Fprintln(stderr, "wsstorm sweep: --model is the simulator's: give --simulate with it")
		return exitUsage
	}
	model := simulate.DefaultModel()
	if *modelPath != "" {
		if model, err = simulate.LoadModel(*modelPath); err != nil {
			fmt.Fprintf(stderr, "wsstorm sweep: --model: %v\n", err)
			return exitUsage
		}
	}
	var axes []sweep.Axis
	for _, v := range varies {
		a, err := sweep.ParseVary(v)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm sweep: %v\n", err)
			return exitUsage
		}
		axes = append(axes, a)
	}
	settings, err := sweep.Expand(axes)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm sweep: %v\n", err)
		return exitUsage
	}

	// Every setting is loaded and checked before anything runs: a bad key
	// or value stops the sweep at once, naming it.
	profiles := make([]*profile.Profile, len(settings))
	for i, s := range settings {
		p, err := profile.Load(path, append(slices.Clone([]string(sets)), s.Assign...))
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm sweep: setting %s is not a valid profile:\n", s.Label())
			printProfileError(stderr, err)
			return exitUsage
		}
		if p.Detect.Enabled {
			fmt.Fprintln(stderr, "wsstorm sweep: observe mode ([detect] enabled) triggers nothing, so a sweep has no herd of its own to compare; give the profile [[chaos]] steps")
			return exitUsage
		}
		if *simulated {
			// No sockets: no limits of this machine apply.
		} else if err := storm.CheckLimits(p, storm.Limits{}); err != nil {
			fmt.Fprintf(stderr, "wsstorm sweep: setting %s: %v\n", s.Label(), err)
			return exitCannotRun
		}
		// Secrets from the environment or a --set header never reach a file.
		for j := range s.Assign {
			settings[i].Assign[j] = p.Redact(s.Assign[j])
		}
		settings[i].Slug = sweep.SettingSlug(i, len(settings), settings[i].Assign)
		profiles[i] = p
	}
	base := profiles[0]
	dir := *out
	if dir == "" {
		dir = uniqueDir(results.DefaultDir("results", base.Name+"-sweep", time.Now()))
	}
	if err := checkWritable(dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot write results to %s: %v; choose another directory with --out\n", dir, err)
		return exitCannotRun
	}

	sw := &sweep.Sweep{Axes: axes, Repeat: *repeat, Simulated: *simulated}
	if *simulated {
		sw.Model = model.JSON()
	}
	sw.Profile.Name, sw.Profile.Path, sw.Profile.Sets = base.Name, base.Path, []string{}
	for _, s := range sets {
		sw.Profile.Sets = append(sw.Profile.Sets, base.Redact(s))
	}
	for i, s := range settings {
		limit, source := sweepLimit(profiles[i])
		if i == 0 {
			sw.Limit, sw.LimitSource = limit, source
		} else if limit != sw.Limit {
			sw.Limit, sw.LimitSource = 0, "differs between settings (see each setting's limit)"
		}
		sw.Settings = append(sw.Settings, sweep.Result{Setting: s, Limit: limit, Runs: []sweep.RunMetrics{}})
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	context.AfterFunc(ctx, cancel) // a second signal ends the process at once
	fmt.Fprintf(stderr, "wsstorm: sweeping profile %s (%s): %d settings × %d repeat(s), results in %s\n",
		base.Name, base.Path, len(settings), *repeat, dir)

	code := exitPassed
runs:
	for i, s := range settings {
		p := profiles[i]
		for r := 1; r <= *repeat; r++ {
			if ctx.Err() != nil {
				break runs
			}
			rel := filepath.Join(s.Slug, fmt.Sprintf("run-%d", r))
			rdir := filepath.Join(dir, rel)
			logw := io.Discard
			if !*quiet {
				logw = lines.Prefixed(lines.Redacted(stderr, p.Redact), fmt.Sprintf("wsstorm: [%s run %d] ", s.Slug, r))
			}
			var run *results.Run
			rp := p // the profile the run ran, which its results record
			if *simulated {
				// A repeat is the same simulation with another seed: the
				// same seed would give the same numbers again.
				sp := *p
				sp.Seed = p.Seed + uint64(r-1)
				rp = &sp
				run, err = simulate.Run(ctx, rp, model, simulate.Options{Log: logw})
			} else {
				run, err = storm.Run(ctx, p, storm.Options{Log: logw})
			}
			if err != nil {
				fmt.Fprintf(stderr, "wsstorm: setting %s run %d: %v\n", s.Label(), r, p.Redact(err.Error()))
				code = exitCannotRun
				if ctx.Err() != nil {
					code = exitInterrupted
				}
				break runs
			}
			sum, werr := report.Write(rdir, rp, run)
			var extras *results.ExtrasError
			if werr != nil && !errors.As(werr, &extras) {
				fmt.Fprintf(stderr, "wsstorm: writing results to %s: %v\n", rdir, werr)
				code = exitCannotRun
				break runs
			}
			m := sweep.FromSummary(rel, sum)
			sw.Settings[i].Runs = append(sw.Settings[i].Runs, m)
			fmt.Fprintf(stderr, "wsstorm: %s run %d/%d: t99 %s, peak %.0f attempts/s, never reconnected %d%s\n",
				s.Label(), r, *repeat, orNone(m.T99S), m.PeakAttemptRate, m.NeverReconnected, map[bool]string{true: " (interrupted)"}[run.Interrupted])
			if run.Interrupted {
				code = exitInterrupted
				break runs
			}
			sw.Finish()
			_ = writeSweep(dir, sw) // written again, errors reported, at the end
		}
	}
	if ctx.Err() != nil {
		code = exitInterrupted
	}
	sw.Interrupted = code == exitInterrupted
	sw.Finish()
	if err := writeSweep(dir, sw); err != nil {
		fmt.Fprintf(stderr, "wsstorm: writing the sweep's results to %s: %v\n", dir, err)
		return exitCannotRun
	}
	if err := sw.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
	}
	fmt.Fprintf(stdout, "results: %s\n", dir)
	if code == exitPassed && sw.Recommendation.Slug == "" {
		code = exitFailed
	}
	return code
}

// sweepLimit is the peak attempt rate a setting's herd must stay under:
// [sweep] max_attempt_rate, or the embedded target's capacity (nodes ×
// accept_rate); 0 when neither is set.
func sweepLimit(p *profile.Profile) (float64, string) {
	if r := p.Sweep.MaxAttemptRate; r > 0 {
		return r, "[sweep] max_attempt_rate"
	}
	if p.Target.Mode == profile.ModeEmbedded && p.Target.Capacity.AcceptRate > 0 {
		return float64(p.Target.Nodes) * p.Target.Capacity.AcceptRate,
			fmt.Sprintf("the embedded target's capacity, %d nodes × %g handshakes/s", p.Target.Nodes, p.Target.Capacity.AcceptRate)
	}
	return 0, "none"
}

// writeSweep writes sweep.json, sweep.md, sweep.html and sweep.svg into
// dir, each atomically; sweep.json is attempted whatever failed before it.
func writeSweep(dir string, sw *sweep.Sweep) error {
	errMD := results.WriteFile(filepath.Join(dir, sweep.MarkdownFile), sw.WriteMarkdown)
	errHTML := results.WriteFile(filepath.Join(dir, sweep.HTMLFile), sw.WriteHTML)
	errSVG := results.WriteFile(filepath.Join(dir, sweep.SVGFile), sw.WriteSVG)
	errJSON := results.WriteFile(filepath.Join(dir, sweep.JSONFile), sw.WriteJSON)
	return errors.Join(errJSON, errMD, errHTML, errSVG)
}

func orNone(v *float64) string {
	if v == nil {
		return "none (clients still away)"
	}
	return fmt.Sprintf("%.3gs", *v)
}
