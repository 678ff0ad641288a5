// Package storm carries out one wsstorm run: it starts the target, the stats
// recorder, the fleet and the chaos controller on one monotonic clock, stops
// them at the end of the profile's duration or on interruption, and returns
// everything the report needs.
package storm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/hooks"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// ErrCannotRun marks errors that keep a run from being carried out at all
// (limits too low, target cannot start): exit code 3.
var ErrCannotRun = errors.New("the run cannot be carried out")

// sampleEvery is how often the target's per-node counters are sampled.
const sampleEvery = 100 * time.Millisecond

// shutdownGrace bounds how long the fleet and target take to stop once the
// run is over; the series keeps this much room past the duration.
const shutdownGrace = 15 * time.Second

// Options tune a run beyond its profile.
type Options struct {
	// Log receives one line per notable step (target up, each chaos event);
	// nil discards them.
	Log io.Writer
	// Observe, when set, watches the run while it goes on (a live status, a
	// metrics endpoint). It is called in a goroutine of its own once the
	// recorder exists and must return soon after ctx ends, which happens
	// when the measured part of the run ends; Run waits for it.
	Observe func(ctx context.Context, rec *stats.Recorder)
}

// Run carries out the storm p describes. Cancelling ctx interrupts it: the
// clients close with 1001 and the results gathered so far are returned with
// Interrupted set. The error is non-nil only when nothing could be measured.
func Run(ctx context.Context, p *profile.Profile, opts Options) (*report.Run, error) {
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := CheckLimits(p); err != nil {
		return nil, err
	}

	url := p.Target.URL
	var emb *embedded
	var hookTarget *hooks.Target
	// A failed hook with on_hook_failure = "abort" ends the run early.
	abort := make(chan string, 1)
	switch p.Target.Mode {
	case profile.ModeEmbedded:
		var err error
		if emb, err = startEmbedded(ctx, p); err != nil {
			return nil, err
		}
		defer emb.shutdown()
		url = emb.tgt.URL()
		fmt.Fprintf(logw, "target: %d embedded nodes at %s\n", p.Target.Nodes, url)
	case profile.ModeExternal:
		fmt.Fprintf(logw, "target: external, %s\n", p.Redact(profile.RedactURL(url)))
		if len(p.Target.NodeHooks) > 0 {
			hookTarget = hooks.NewTarget(p.Target.NodeHooks)
			hookTarget.OnRun = func(r hooks.Run) {
				what := "ok"
				if r.Err != nil {
					what = "FAILED: " + r.Err.Error()
				}
				fmt.Fprintf(logw, "%s\n", p.Redact(fmt.Sprintf("hook of node %d (%s) for event %d: %s in %.2fs", r.Node, r.Name, r.Event, what, r.Duration.Seconds())))
				if r.Err == nil || p.Target.OnHookFailure != profile.OnHookFailureAbort {
					return
				}
				select {
				case abort <- p.Redact(fmt.Sprintf("the hook of node %d (%s) failed: %v", r.Node, r.Name, r.Err)):
				default:
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: target mode %q is not available", ErrCannotRun, p.Target.Mode)
	}

	events := chaos.Plan(p)
	plans := make([]stats.EventPlan, len(events))
	for i, e := range events {
		plans[i] = e.EventPlan
	}
	fcfg, err := fleet.FromProfile(p, url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	started := time.Now()
	scfg := stats.Config{Start: started, Horizon: p.Duration.D() + shutdownGrace, Events: plans}
	if emb != nil {
		scfg.GaugeNames, scfg.ImbalanceGauges = emb.gauges()
	}
	if d := p.Detect; d.Enabled {
		// Observe mode: the profile has no chaos steps; the restarts happen
		// elsewhere and are found in the closes.
		scfg.Detect = &stats.DetectConfig{Gap: d.Gap.D(), MinCloses: d.MinCloses}
		fmt.Fprintf(logw, "observe mode: a burst of at least %d closes with one code, each within %s of the last, is an event\n", d.MinCloses, d.Gap.D())
	}
	rec := stats.New(scfg)
	fl, err := fleet.New(fcfg, rec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, err)
	}

	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	if opts.Observe != nil {
		wg.Go(func() { opts.Observe(runCtx, rec) })
	}
	wg.Go(func() { fl.Run(runCtx) })
	if detected := rec.Detected(); detected != nil {
		wg.Go(func() { logDetected(runCtx, logw, detected) })
	}
	var outcomes []chaos.Outcome
	var chaosTarget chaos.Target
	switch {
	case emb != nil:
		chaosTarget = emb.tgt
		wg.Go(func() { emb.sampleEvery(runCtx, rec) })
	case hookTarget != nil:
		chaosTarget = hookTarget
	}
	if chaosTarget != nil && len(events) > 0 {
		wg.Go(func() {
			ctl := &chaos.Controller{Target: chaosTarget, Events: events, Log: rec}
			outcomes = ctl.Run(runCtx, started)
		})
	}

	deadline := time.NewTimer(p.Duration.D())
	interrupted, aborted := false, ""
	select {
	case <-deadline.C:
	case <-ctx.Done():
		interrupted = true
		deadline.Stop()
	case aborted = <-abort:
		deadline.Stop()
		fmt.Fprintf(logw, "run aborted: %s\n", aborted)
	}
	// The server's view at the end, taken before the clients go away.
	var end []target.NodeStats
	if emb != nil {
		end = emb.sample(rec)
	}
	now := time.Now()
	elapsed := now.Sub(started)
	rec.EndSeries(now)
	stop()
	wg.Wait()

	for _, o := range outcomes {
		// A hook's failure was logged as it happened.
		if o.Err != nil && !errors.Is(o.Err, context.Canceled) && hookTarget == nil {
			fmt.Fprintf(logw, "chaos: %v\n", o.Err)
		}
	}
	res := rec.Results(started, elapsed)
	for i := range res.Events {
		res.Events[i].ReconnectExpected = fcfg.Policy.OnClose(res.Events[i].Code) == fleet.Reconnect
	}
	crossCheck(logw, outcomes, res.Events, p.Fleet.Session.Lifetime.D() > 0)
	if d := res.Detect; d != nil && d.Unattributed > 0 {
		fmt.Fprintf(logw, "warning: %d closes were not attributed to any event: more than %d bursts of closes\n", d.Unattributed, stats.DefaultMaxDetected)
	}
	run := &report.Run{Profile: p, Results: res, Interrupted: interrupted, Aborted: aborted}
	if hookTarget != nil {
		run.Hooks = hookResults(p, hookTarget.Runs())
	}
	if emb != nil {
		run.Target = targetSide(end)
	}
	return run, nil
}

// embedded is the embedded target of a run and its per-node gauges.
type embedded struct {
	tgt *target.Target
}

func startEmbedded(ctx context.Context, p *profile.Profile) (*embedded, error) {
	tgt, err := target.Start(ctx, target.Options{
		Nodes:    p.Target.Nodes,
		Listen:   p.Target.Listen,
		Capacity: p.Target.Capacity,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: embedded target: %w", ErrCannotRun, err)
	}
	return &embedded{tgt: tgt}, nil
}

func (e *embedded) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	_ = e.tgt.Shutdown(ctx)
}

// gauges names the sampled per-node gauges and says which are connection
// counts (for imbalance).
func (e *embedded) gauges() (names []string, conns []int) {
	for i := range e.tgt.Nodes() {
		conns = append(conns, len(names))
		names = append(names, fmt.Sprintf("node%d_conns", i), fmt.Sprintf("node%d_accepted", i), fmt.Sprintf("node%d_rejected", i))
	}
	return names, conns
}

// sample records the nodes' counters into rec's gauges and returns them.
func (e *embedded) sample(rec *stats.Recorder) []target.NodeStats {
	st := e.tgt.Stats()
	vals := make([]int64, 0, 3*len(st))
	for _, n := range st {
		vals = append(vals, n.Conns, n.Accepted, n.Rejected)
	}
	rec.Sample(time.Now(), vals)
	return st
}

// sampleEvery samples the nodes every 100 ms until ctx ends.
func (e *embedded) sampleEvery(ctx context.Context, rec *stats.Recorder) {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			e.sample(rec)
		}
	}
}

// targetSide is the server's view at the end of the run.
func targetSide(end []target.NodeStats) *report.TargetSide {
	side := &report.TargetSide{}
	conns := make([]int64, len(end))
	all := make([]int, len(end))
	for i, n := range end {
		side.Nodes = append(side.Nodes, report.NodeSide{Index: n.Index, Accepted: n.Accepted, Rejected: n.Rejected, ConnectionsEnd: n.Conns})
		conns[i], all[i] = n.Conns, i
	}
	side.ImbalanceEnd = stats.Imbalance(conns, all)
	return side
}

// logDetected logs each detected event as it is confirmed, until ctx ends.
func logDetected(ctx context.Context, w io.Writer, detected <-chan stats.EventStart) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-detected:
			fmt.Fprintf(w, "detected event %d: %d closes from %.1fs\n", e.Index, e.Code, e.Start.Seconds())
		}
	}
}

// crossCheck compares, for each event, how many connections the target says
// it closed with how many closes the clients attributed to the event. They
// differ only when closes were lost or misattributed, which the user must see;
// with lifetimes, clients ending their own sessions at that moment may see
// fewer closes than were sent.
func crossCheck(w io.Writer, outcomes []chaos.Outcome, events []stats.EventReport, lifetimes bool) {
	closed := make(map[int]int, len(outcomes))
	for _, o := range outcomes {
		closed[o.Index] = o.Closed
	}
	for _, e := range events {
		n, ok := closed[e.Index]
		if ok && n >= 0 && (int64(n) < e.Affected || !lifetimes && int64(n) != e.Affected) {
			fmt.Fprintf(w, "warning: event %d: the target closed %d connections but clients attributed %d closes to it\n", e.Index, n, e.Affected)
		}
	}
}

// hookResults turns the hooks' runs into the results' form, by event, with
// the profile's secrets redacted.
func hookResults(p *profile.Profile, runs []hooks.Run) map[int]*report.HookResult {
	out := make(map[int]*report.HookResult, len(runs))
	for _, r := range runs {
		h := &report.HookResult{
			Node: r.Node, Name: p.Redact(r.Name), Kind: r.Kind,
			Method: r.Method, URL: p.Redact(r.URL), ExitStatus: r.ExitStatus, HTTPStatus: r.HTTPStatus,
			DurationS: math.Round(r.Duration.Seconds()*1000) / 1000,
			Output:    p.Redact(r.Output),
		}
		for _, a := range r.Command {
			h.Command = append(h.Command, p.Redact(a))
		}
		if r.Err != nil {
			h.Error = p.Redact(r.Err.Error())
		}
		out[r.Event] = h
	}
	return out
}
