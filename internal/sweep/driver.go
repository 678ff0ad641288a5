package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/simulate"
	"github.com/wsstorm/wsstorm/internal/storm"
)

// Config is a sweep to run: a profile over a grid of settings.
type Config struct {
	Path string   // the profile's file; "" is the built-in default
	Sets []string // --set overrides of every setting
	// Scale scales every setting's timeline after its overrides (--scale,
	// --quick); each run's summary records it as profile.scale, and
	// sweep.json as its own.
	Scale profile.Scale
	Axes  []Axis
	// Repeat is how many times each setting runs.
	Repeat int
	// Simulated simulates each run under Model instead of running it.
	Simulated bool
	Model     simulate.Model
}

// InvalidSettingError is a setting whose profile is not valid; Err says why
// (a profile.Errors, one problem per line).
type InvalidSettingError struct {
	Setting string
	Err     error
}

// Error names the setting and its profile's problems.
func (e *InvalidSettingError) Error() string {
	return fmt.Sprintf("setting %s is not a valid profile: %v", e.Setting, e.Err)
}

// Unwrap returns the profile's problems.
func (e *InvalidSettingError) Unwrap() error { return e.Err }

// ErrInterrupted marks the error of a sweep that a signal stopped.
var ErrInterrupted = errors.New("the sweep was interrupted")

// Driver runs a sweep's settings one after the other, each Repeat times,
// each run a normal results directory.
type Driver struct {
	cfg      Config
	settings []Setting
	profiles []*profile.Profile
	sw       *Sweep
}

// New loads and checks every setting's profile before anything runs: a bad
// key or value stops the sweep at once, naming it. An error is an
// *InvalidSettingError, a setting this machine cannot run (storm's
// ErrCannotRun), or a sweep that makes no sense.
func New(cfg Config) (*Driver, error) {
	settings, err := Expand(cfg.Axes)
	if err != nil {
		return nil, err
	}
	d := &Driver{cfg: cfg, settings: settings, profiles: make([]*profile.Profile, len(settings))}
	for i, s := range settings {
		p, err := profile.LoadScaled(cfg.Path, append(slices.Clone(cfg.Sets), s.Assign...), cfg.Scale)
		if err != nil {
			return nil, &InvalidSettingError{Setting: s.Label(), Err: err}
		}
		if p.Detect.Enabled {
			return nil, errors.New("observe mode ([detect] enabled) triggers nothing, so a sweep has no herd of its own to compare; give the profile [[chaos]] steps")
		}
		if i > 0 && p.ScaleExact != d.profiles[0].ScaleExact {
			// --quick scales each setting by 20s over its own duration: the
			// settings would differ by more than their values.
			return nil, fmt.Errorf("--quick scales setting %s by %s and setting %s by %s, as their durations differ: give --scale F, which scales every setting alike", settings[0].Label(), orOne(d.profiles[0].ScaleExact), s.Label(), orOne(p.ScaleExact))
		}
		if cfg.Simulated {
			if err := simulate.CheckProfile(p); err != nil {
				return nil, &InvalidSettingError{Setting: s.Label(), Err: err}
			}
		} else { // a simulation has no sockets: no limits of this machine apply
			if err := storm.CheckLimits(p, storm.Limits{}); err != nil {
				return nil, fmt.Errorf("setting %s: %w", s.Label(), err)
			}
		}
		// Secrets from the environment or a --set header never reach a file.
		for j := range s.Assign {
			settings[i].Assign[j] = p.Redact(s.Assign[j])
		}
		settings[i].Slug = SettingSlug(i, len(settings), settings[i].Assign)
		d.profiles[i] = p
	}
	d.sw = d.newSweep()
	return d, nil
}

// Warnings are the warnings of every setting's profile (Profile.Warnings),
// each after its setting's label.
func (d *Driver) Warnings() []string {
	var out []string
	for i, p := range d.profiles {
		for _, w := range p.Warnings {
			out = append(out, fmt.Sprintf("setting %s: %v", d.settings[i].Label(), w))
		}
	}
	return out
}

// newSweep is the sweep.json of d before any run.
func (d *Driver) newSweep() *Sweep {
	base := d.Base()
	sw := &Sweep{Axes: d.cfg.Axes, Repeat: d.cfg.Repeat, Simulated: d.cfg.Simulated}
	if d.cfg.Simulated {
		sw.Model = d.cfg.Model.JSON()
	}
	sw.Profile.Name, sw.Profile.Path, sw.Profile.Sets, sw.Profile.Scale = base.Name, base.Path, []string{}, base.ScaleExact
	for _, s := range d.cfg.Sets {
		sw.Profile.Sets = append(sw.Profile.Sets, base.Redact(s))
	}
	for i, s := range d.settings {
		limit, source := Limit(d.profiles[i])
		if i == 0 {
			sw.Limit, sw.LimitSource = limit, source
		} else if limit != sw.Limit {
			sw.Limit, sw.LimitSource = 0, "differs between settings (see each setting's limit)"
		}
		sw.Settings = append(sw.Settings, Result{Setting: s, Limit: limit, Runs: []RunMetrics{}})
	}
	return sw
}

// Base is the first setting's profile, which names the sweep.
func (d *Driver) Base() *profile.Profile { return d.profiles[0] }

// Limit is the peak attempt rate a setting's herd must stay under: [sweep]
// max_attempt_rate, or the embedded target's capacity (nodes ×
// accept_rate); 0 when neither is set.
func Limit(p *profile.Profile) (float64, string) {
	if r := p.Sweep.MaxAttemptRate; r > 0 {
		return r, "[sweep] max_attempt_rate"
	}
	if p.Target.Mode == profile.ModeEmbedded && p.Target.Capacity.AcceptRate > 0 {
		return float64(p.Target.Nodes) * p.Target.Capacity.AcceptRate,
			fmt.Sprintf("the embedded target's capacity, %d nodes × %g handshakes/s", p.Target.Nodes, p.Target.Capacity.AcceptRate)
	}
	return 0, "none"
}

// RunOptions say where a sweep's runs write and log.
type RunOptions struct {
	// Dir is the sweep's directory: each run's results go to
	// Dir/<setting>/run-<r>, and the sweep's files beside them.
	Dir string
	// Log receives a line per run, for people; Quiet leaves out the runs'
	// own lines.
	Log   io.Writer
	Quiet bool
	// Write writes a run's results directory and returns its summary, its
	// thresholds judged (report.Write).
	Write func(dir string, p *profile.Profile, run *results.Run) (*results.Summary, error)
}

// Run runs every setting Repeat times, in order, and writes the sweep's
// files after each run, so that a second Ctrl-C keeps what finished. It
// stops at the first run that cannot be carried out (which it logs) or
// when ctx ends (ErrInterrupted), and returns the sweep of the runs that
// finished, aggregated, with the error that stopped it.
func (d *Driver) Run(ctx context.Context, o RunOptions) (*Sweep, error) {
	base := d.Base()
	fmt.Fprintf(o.Log, "sweeping profile %s (%s): %d settings × %d repeat(s), results in %s\n",
		base.Name, base.Path, len(d.settings), d.cfg.Repeat, o.Dir)
	var err error
runs:
	for i := range d.settings {
		for r := 1; r <= d.cfg.Repeat; r++ {
			if ctx.Err() != nil {
				d.writeRepeats(o, i) // the setting's finished runs
				break runs
			}
			if err = d.runOnce(ctx, o, i, r); err != nil {
				d.writeRepeats(o, i)
				break runs
			}
			d.sw.Finish()
			_ = d.sw.WriteFiles(o.Dir) // written again, errors reported, at the end
		}
		d.writeRepeats(o, i)
	}
	if ctx.Err() != nil {
		err = ErrInterrupted
	}
	d.sw.Interrupted = errors.Is(err, ErrInterrupted)
	d.sw.Finish()
	return d.sw, err
}

// writeRepeats writes the combined summary of setting i's runs in its
// directory, as `wsstorm run --repeat` does, so that `wsstorm compare`
// takes a setting's directory as one side. A failure is logged: the sweep's
// own files still hold every run.
func (d *Driver) writeRepeats(o RunOptions, i int) {
	dir := filepath.Join(o.Dir, d.settings[i].Slug)
	runs, dirs, err := results.ReadRuns(dir)
	if errors.Is(err, results.ErrNoRuns) || errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		for j := range dirs {
			dirs[j] = filepath.Base(dirs[j])
		}
		err = results.WriteRepeats(dir, results.CombineRepeats(runs, dirs, d.cfg.Repeat))
	}
	if err != nil {
		fmt.Fprintf(o.Log, "setting %s: writing %s: %v\n", d.settings[i].Label(), results.RepeatsFile, err)
	}
}

// runOnce runs setting i's r-th repeat, writes its results and adds its
// metrics to the sweep.
func (d *Driver) runOnce(ctx context.Context, o RunOptions, i, r int) error {
	s, p := d.settings[i], d.profiles[i]
	rel := filepath.Join(s.Slug, fmt.Sprintf("run-%d", r))
	rdir := filepath.Join(o.Dir, rel)
	logw := io.Discard
	if !o.Quiet {
		logw = lines.Prefixed(lines.Redacted(o.Log, p.Redact), fmt.Sprintf("[%s run %d] ", s.Slug, r))
	}
	var run *results.Run
	var err error
	if d.cfg.Simulated {
		// A repeat is the same simulation with another seed: the same seed
		// would give the same numbers again.
		sp := *p
		sp.Seed = p.Seed + uint64(r-1)
		p = &sp
		run, err = simulate.Run(ctx, p, d.cfg.Model, simulate.Options{Log: logw})
	} else {
		run, err = storm.Run(ctx, p, storm.Options{Log: logw})
	}
	if err != nil {
		fmt.Fprintf(o.Log, "setting %s run %d: %s\n", s.Label(), r, p.Redact(err.Error()))
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		return err
	}
	sum, werr := o.Write(rdir, p, run) // p: the profile the run ran, which its results record
	var extras *results.ExtrasError
	if werr != nil && !errors.As(werr, &extras) {
		fmt.Fprintf(o.Log, "writing results to %s: %v\n", rdir, werr)
		return werr
	}
	m := FromSummary(rel, sum)
	d.sw.Settings[i].Runs = append(d.sw.Settings[i].Runs, m)
	fmt.Fprintf(o.Log, "%s run %d/%d: t99 %s, peak %.0f attempts/s, never reconnected %d%s\n",
		s.Label(), r, d.cfg.Repeat, orNone(m.T99S), m.PeakAttemptRate, m.NeverReconnected, map[bool]string{true: " (interrupted)"}[run.Interrupted])
	if w := limitedWarning(s.Label(), r, m, d.cfg.Simulated); w != "" {
		fmt.Fprintln(o.Log, w)
	}
	if run.Interrupted {
		return ErrInterrupted
	}
	return nil
}

// limitedWarning is the log's warning of a run whose herd the load
// generator shaped, naming the setting, the run, the figures and the fix;
// "" when it did not.
func limitedWarning(setting string, r int, m RunMetrics, simulated bool) string {
	if !m.GeneratorLimited {
		return ""
	}
	return fmt.Sprintf("warning: %s run %d was generator-limited (%s): its herd is partly wsstorm's own; %s",
		setting, r, m.GeneratorFigures, GeneratorFix(simulated))
}

// WriteFiles writes sweep.json, sweep.md, sweep.html and sweep.svg into
// dir, each atomically; sweep.json is attempted whatever failed before it.
func (s *Sweep) WriteFiles(dir string) error {
	errMD := results.WriteFile(filepath.Join(dir, MarkdownFile), s.WriteMarkdown)
	errHTML := results.WriteFile(filepath.Join(dir, HTMLFile), s.WriteHTML)
	errSVG := results.WriteFile(filepath.Join(dir, SVGFile), s.WriteSVG)
	errJSON := results.WriteFile(filepath.Join(dir, JSONFile), s.WriteJSON)
	return errors.Join(errJSON, errMD, errHTML, errSVG)
}

// orNone writes a time in seconds, or says the clients are still away.
func orNone(v *float64) string {
	if v == nil {
		return "none (clients still away)"
	}
	return fmt.Sprintf("%.3gs", *v)
}

// orOne writes a scale, "1" for none.
func orOne(scale string) string {
	if scale == "" {
		return "1"
	}
	return scale
}
