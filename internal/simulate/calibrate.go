package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"

	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// fitQuantiles are the connect-latency percentiles a calibration matches.
var fitQuantiles = []float64{10, 50, 90, 99, 99.9}

// Calibration is a model fitted to a real run: the run's connect latency
// and busiest second of handshakes, and the simulation's of the same
// profile under the fitted model.
type Calibration struct {
	From  string `json:"from"`
	Model Model  `json:"model"`
	// RealMS and FittedMS are the connect latency's percentiles
	// (Quantiles), milliseconds, in the run and in its simulation.
	Quantiles []float64 `json:"quantiles"`
	RealMS    []float64 `json:"real_ms"`
	FittedMS  []float64 `json:"fitted_ms"`
	// RealPeakConnects and FittedPeakConnects are the most handshakes
	// completed in one 100 ms bucket, per second.
	RealPeakConnects   float64 `json:"real_peak_connects"`
	FittedPeakConnects float64 `json:"fitted_peak_connects"`
	// Simulations is how many simulations the fit ran.
	Simulations int `json:"simulations"`
	// Unidentified says what the run could not reveal, if anything: a run
	// that never loaded the target to its limit fits any capacity above what
	// it asked for, and the model is then left without a limit.
	Unidentified string `json:"unidentified,omitempty"`
}

// CalibrationSource is a real run to calibrate from: its profile and what
// it measured.
type CalibrationSource struct {
	Dir       string
	Profile   *profile.Profile
	connect   []float64 // ms, at fitQuantiles
	peak      float64   // connects/s in the busiest bucket
	closeRate float64   // closes per second reaching their clients; 0: not known
}

// ReadSource reads the results directory of a real run to calibrate from:
// summary.json, histograms.hlog, timeseries.csv and profile.toml.
func ReadSource(dir string) (*CalibrationSource, error) {
	rs, err := results.ReadResultSet(dir)
	if err != nil {
		return nil, err
	}
	sum := rs.Summary
	switch {
	case sum.Interrupted:
		return nil, fmt.Errorf("%s holds an interrupted run: calibrate from a run that finished", dir)
	case sum.Detect != nil:
		return nil, fmt.Errorf("%s holds an observe-mode run, whose restarts happened elsewhere: calibrate from a run of a profile with [[chaos]] steps", dir)
	}
	if sum.Simulated != nil {
		return nil, fmt.Errorf("%s holds simulated results: calibrate from a real run's results", dir)
	}
	if sum.Segment != nil {
		return nil, fmt.Errorf("%s holds one segment of a split run: merge the segments (wsstorm merge) and calibrate from the merged results", dir)
	}
	if rs.ProfileTOML == "" {
		return nil, fmt.Errorf("%s has no %s, the run's profile, which calibration simulates: run the storm again", dir, results.ProfileFile)
	}
	p, err := profile.Load(filepath.Join(dir, results.ProfileFile), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: the run's profile does not load: %w", dir, err)
	}
	h := rs.Histogram(stats.Connect.String())
	if h == nil || h.TotalCount() < 100 {
		n := int64(0)
		if h != nil {
			n = h.TotalCount()
		}
		return nil, fmt.Errorf("%s: %d successful connects, too few to fit the model to (at least 100): calibrate from a run with more clients", dir, n)
	}
	src := &CalibrationSource{Dir: dir, Profile: p}
	for _, q := range fitQuantiles {
		src.connect = append(src.connect, float64(h.ValueAtQuantile(q))/1000)
	}
	src.peak = peakRate(rs.Column("connects"))
	// Closes reach their clients some time after their event starts. The
	// events' times from start to reconnect, less the clients' times from
	// close to reconnect, sum the clients' waits for their closes; less the
	// waits a drain plans (D/2 a client on average), an event whose k
	// clients came back closed at rate r made them wait k²/2r in all.
	if rc := rs.Histogram(stats.Reconnect.String()); rc != nil && rc.TotalCount() > 0 {
		plan := chaos.Plan(p)
		var waited, k2 float64 // µs, clients²
		var n int64
		for i := range sum.Events {
			h := rs.Histogram(results.EventTag(i))
			if h == nil || h.TotalCount() == 0 || i >= len(plan) {
				continue
			}
			k := float64(h.TotalCount())
			waited += h.Mean()*k - float64(plan[i].Spread.Microseconds())*k/2
			n += h.TotalCount()
			k2 += k * k
		}
		waited -= rc.Mean() * float64(n)
		// Only reconnects that all belong to events tell; a rate past the
		// model's range says the closes were as good as instant.
		if r := k2 / 2 / (waited / 1e6); n == rc.TotalCount() && waited > 0 && r >= 1 && r <= maxCloseRate {
			src.closeRate = r
		}
	}
	return src, nil
}

// at is the run's connect latency at percentile q of fitQuantiles, ms.
func (src *CalibrationSource) at(q float64) float64 {
	for i, x := range fitQuantiles {
		if x == q {
			return src.connect[i]
		}
	}
	panic("simulate: no connect percentile " + fmt.Sprint(q))
}

// peakRate is the most of a per-bucket column of timeseries.csv in one
// bucket, per second.
func peakRate(col []float64) float64 {
	var best float64
	for _, v := range col {
		best = max(best, v)
	}
	return best / stats.DefaultBucketWidth.Seconds()
}

// Calibrate fits a model to the run src: the network's median and 99th
// percentile, the service time of a handshake and the work of a message,
// so that simulating src's profile gives src's connect latency and busiest
// bucket of handshakes; the close rate is the one ReadSource measured. The
// workers are this machine's CPUs, one pool for every node (the embedded
// target shares the machine with the fleet).
func Calibrate(ctx context.Context, src *CalibrationSource, log io.Writer) (*Calibration, error) {
	if log == nil {
		log = io.Discard
	}
	f := &fit{ctx: ctx, src: src, workers: runtime.NumCPU()}
	f.cal = &Calibration{From: src.Dir, Quantiles: fitQuantiles, RealMS: src.connect, RealPeakConnects: src.peak}
	f.coords = f.coordinates()
	// Two starts: a target the run never loaded (the network makes the
	// latency) and one it saturated (the busiest bucket of handshakes is its
	// capacity, and queueing makes the tail). The better fit wins.
	idle, busy := f.starts()
	m, best := idle, math.Inf(1)
	for i, start := range []Model{idle, busy} {
		fitted, l := f.descend(start, f.loss(start))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "calibration from the %s start: %s (loss %.4f)\n", []string{"idle", "saturated"}[i], fitted, l)
		if l < best {
			m, best = fitted, l
		}
	}
	if math.IsInf(best, 1) {
		return nil, fmt.Errorf("calibration: no model simulates the run: %w", f.lastErr)
	}
	// Did the run reveal the target's capacity? If no limit at all fits as
	// well, it did not: the model claims none rather than a guess.
	free := m
	free.Workers = 0
	if l := f.loss(free); l <= best*1.02+1e-9 {
		f.cal.Unidentified = fmt.Sprintf("the run never loaded the target to its limit (at most %.0f handshakes/s): the model has no limit on handshakes; calibrate from a run whose herd saturates the target, or set one with --model-set workers=N", src.peak)
		m = free
	}
	q, peak, err := simulateConnects(ctx, src.Profile, m)
	if err != nil {
		return nil, err
	}
	f.cal.Model, f.cal.FittedMS, f.cal.FittedPeakConnects = m, q, peak
	return f.cal, nil
}

// fit is a calibration under way.
type fit struct {
	ctx     context.Context
	src     *CalibrationSource
	workers int
	cal     *Calibration
	coords  []coordinate
	lastErr error
}

// coordinate is one of the model's figures the descent fits, searched on a
// log scale over [lo, hi].
type coordinate struct {
	lo, hi float64
	set    func(*Model, float64)
}

// loss is how far m's simulation of the run is from it: the squared logs of
// the ratios of the connect percentiles and of the busiest buckets.
func (f *fit) loss(m Model) float64 {
	q, peak, err := simulateConnects(f.ctx, f.src.Profile, m)
	f.cal.Simulations++
	if err != nil {
		f.lastErr = err
		return math.Inf(1)
	}
	var l float64
	for i := range q {
		l += sq(math.Log(max(q[i], 1e-3) / max(f.src.connect[i], 1e-3)))
	}
	if f.src.peak > 0 && peak > 0 {
		l += sq(math.Log(peak / f.src.peak))
	}
	return l
}

// coordinates are the figures the descent fits: the network's median, its
// spread (p99 over median), and the service time, with brackets that span
// what the run's percentiles allow; and the messages' work when the clients
// send any, at most what would keep nine tenths of the workers busy with
// every client connected.
func (f *fit) coordinates() []coordinate {
	src := f.src
	p10, p50 := src.at(10), src.at(50)
	coords := []coordinate{
		{max(p10/10, 0.001), max(p50*2, 0.002), func(m *Model, v float64) {
			r := m.NetworkP99MS / m.NetworkMedianMS
			m.NetworkMedianMS, m.NetworkP99MS = v, v*r
		}},
		{1, 300, func(m *Model, v float64) { m.NetworkP99MS = m.NetworkMedianMS * v }},
		{0.001, max(p50*4, 4000*float64(f.workers)/max(src.peak, 1), 0.01), func(m *Model, v float64) { m.ServiceTimeMS = v }},
	}
	if iv := src.Profile.Fleet.Session.SendInterval.D(); iv > 0 {
		most := 0.9 * float64(f.workers) * float64(iv) / 1e6 / float64(src.Profile.Fleet.Clients)
		if most > 1e-4 {
			coords = append(coords, coordinate{1e-4, most, func(m *Model, v float64) { m.MessageTimeMS = v }})
		}
	}
	return coords
}

// starts are the descent's two starting models: an idle target and a
// saturated one.
func (f *fit) starts() (idle, busy Model) {
	src := f.src
	p10, p50 := src.at(10), src.at(50)
	idle = Model{
		NetworkMedianMS: max(p50*0.8, 0.001), NetworkP99MS: max(src.at(99), p50, 0.001),
		ServiceTimeMS: 0.001, Workers: f.workers, Pool: PoolTarget, CloseRate: src.closeRate,
	}
	busy = idle
	busy.NetworkMedianMS = max(p10*0.8, 0.001)
	busy.NetworkP99MS = max(p50, busy.NetworkMedianMS)
	if src.peak > 0 {
		busy.ServiceTimeMS = 1000 * float64(f.workers) / src.peak
	}
	return idle, busy
}

// descend fits m coordinate by coordinate, each by golden-section search,
// twice over, from its loss l.
func (f *fit) descend(m Model, l float64) (Model, float64) {
	for range 2 {
		for _, c := range f.coords {
			v, lv := golden(func(x float64) float64 {
				t := m
				c.set(&t, x)
				return f.loss(t)
			}, math.Log(c.lo), math.Log(c.hi), 10)
			if lv < l {
				c.set(&m, v)
				l = lv
			}
			if f.ctx.Err() != nil {
				return m, l
			}
		}
	}
	return m, l
}

// golden minimises f over x = exp(u), u in [a, b], by golden-section search
// with n evaluations; it returns the best x and f(x).
func golden(f func(float64) float64, a, b float64, n int) (float64, float64) {
	const r = 0.6180339887498949
	c, d := b-r*(b-a), a+r*(b-a)
	fc, fd := f(math.Exp(c)), f(math.Exp(d))
	for range n {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			fc = f(math.Exp(c))
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			fd = f(math.Exp(d))
		}
	}
	if fc < fd {
		return math.Exp(c), fc
	}
	return math.Exp(d), fd
}

func sq(x float64) float64 { return x * x }

// simulateConnects simulates p under m and returns its connect latency at
// fitQuantiles (ms) and its busiest bucket of connects (per second).
func simulateConnects(ctx context.Context, p *profile.Profile, m Model) ([]float64, float64, error) {
	run, err := Run(ctx, p, m, Options{})
	if err != nil {
		return nil, 0, err
	}
	if run.Interrupted {
		return nil, 0, errors.New("interrupted")
	}
	h := run.Results.Histogram(stats.Connect)
	var q []float64
	for _, x := range fitQuantiles {
		q = append(q, float64(h.ValueAtQuantile(x))/1000)
	}
	var best int64
	for _, b := range run.Results.Series {
		best = max(best, b.Connects)
	}
	return q, float64(best) / run.Results.BucketWidth.Seconds(), nil
}

// WriteModel writes m to path as JSON, as LoadModel reads it.
func WriteModel(path string, m Model) error {
	b := append(m.JSONIndent(), '\n')
	return os.WriteFile(path, b, 0o644)
}
