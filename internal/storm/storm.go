// Package storm carries out one wsstorm run: it starts the target, the stats
// recorder, the fleet and the chaos controller on one monotonic clock, stops
// them at the end of the profile's duration or on interruption, and returns
// the run's results (results.Run).
package storm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/netip"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/hooks"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/proxy"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// ErrCannotRun marks errors that keep a run from being carried out at all
// (limits too low, target cannot start): exit code 3.
var ErrCannotRun = errors.New("the run cannot be carried out")

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

	// Segment and Segments run a share of the fleet: the clients whose
	// index ≡ Segment mod Segments (Segments 0: all), with the whole fleet's
	// indexes, seeds and start times, and a share of max_dialing.
	Segment, Segments int
	// StartAt is the wall-clock time at which the run's timeline begins, so
	// that segments in other processes run the same one (zero: at once). A
	// process that gets there late keeps the shared timeline: its clients
	// due already start at once.
	StartAt time.Time
	// NoChaos records the profile's chaos events at their planned times
	// without acting on the target: another participant drives them, and
	// this one attributes its clients' closes to them.
	NoChaos bool
	// Remote, for an embedded-target profile, is that target running in
	// other processes (wsstorm serve): clients connect to its URL, and the
	// chaos events and per-node counters go through it.
	Remote RemoteTarget
}

// RemoteTarget is an embedded target run by other processes, reached through
// their admin APIs.
type RemoteTarget interface {
	action.Target
	URL() string
	Stats(ctx context.Context) ([]nodes.Stats, error)
}

// ErrNotStarted says the run was interrupted while it waited for its start
// time: nothing was measured.
var ErrNotStarted = errors.New("interrupted before the start time: nothing was measured")

// lateStart is how late after StartAt a process may begin before it warns.
const lateStart = 100 * time.Millisecond

// Run carries out the storm p describes. Cancelling ctx interrupts it: the
// clients close with 1001 and the results gathered so far are returned with
// Interrupted set. The error is non-nil only when nothing could be measured.
func Run(ctx context.Context, p *profile.Profile, opts Options) (*results.Run, error) {
	r := &run{p: p, opts: opts, log: opts.Log, abort: make(chan string, 1)}
	if r.log == nil {
		r.log = io.Discard
	}
	limits := Limits{Segment: opts.Segment, Segments: opts.Segments, TargetElsewhere: opts.Remote != nil}
	if err := CheckLimits(p, limits); err != nil {
		return nil, err
	}
	if err := checkSources(p); err != nil {
		return nil, err
	}
	stopTarget, err := r.startTarget(ctx)
	if err != nil {
		return nil, err
	}
	defer stopTarget()
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	plan, ok := planMemory(p, limits)
	defer limitMemory(r.rec, plan, ok)()
	r.measure(ctx)
	return r.finish(), nil
}

// run is one storm under way: what Run's phases hand each other.
type run struct {
	p    *profile.Profile
	opts Options
	log  io.Writer

	url        string         // what the clients dial
	emb        *local         // the embedded target or the proxy, which wsstorm runs itself
	hookTarget *hooks.Target  // an external target's hooks
	abort      chan string    // a failed hook with on_hook_failure = "abort" ends the run early
	events     []action.Event // the chaos plan
	fcfg       fleet.Config
	started    time.Time // the run's origin, on the monotonic clock
	rec        *stats.Recorder
	fl         *fleet.Fleet

	outcomes    []chaos.Outcome
	end         []nodes.Stats // the server's view at the end
	elapsed     time.Duration
	interrupted bool
	aborted     string
}

// startTarget starts what the clients connect to, as the profile's mode
// says, and returns what stops it.
func (r *run) startTarget(ctx context.Context) (stop func(), err error) {
	p, logw := r.p, r.log
	r.url = p.Target.URL
	stop = func() {}
	switch p.Target.Mode {
	case profile.ModeEmbedded:
		if r.opts.Remote != nil {
			if n := r.opts.Remote.Nodes(); n != p.Target.Nodes {
				return stop, fmt.Errorf("%w: the wsstorm serve processes have %d nodes, but the profile's target.nodes is %d: give serve --nodes %d in all, or run with --set target.nodes=%d",
					ErrCannotRun, n, p.Target.Nodes, p.Target.Nodes, n)
			}
			r.emb = remoteLocal(r.opts.Remote)
			r.url = r.emb.url
			fmt.Fprintf(logw, "target: %d nodes of wsstorm serve at %s\n", r.emb.nodes, r.url)
			return stop, nil
		}
		if r.emb, err = startEmbedded(ctx, p); err != nil {
			return stop, err
		}
		r.url = r.emb.url
		fmt.Fprintf(logw, "target: %d embedded nodes at %s\n", p.Target.Nodes, r.url)
		return r.emb.shutdown, nil
	case profile.ModeProxy:
		if r.emb, err = startProxy(ctx, p); err != nil {
			return stop, err
		}
		r.url = proxiedURL(r.emb.url, p.Target.URL)
		fmt.Fprintf(logw, "target: %d proxy nodes at %s, forwarding to %s\n", p.Target.Nodes, r.emb.url, p.Redact(profile.RedactURL(p.Target.URL)))
		return r.emb.shutdown, nil
	case profile.ModeExternal:
		r.external()
		return stop, nil
	}
	return stop, fmt.Errorf("%w: target mode %q is not available", ErrCannotRun, p.Target.Mode)
}

// external prepares an external target: its URLs, and its nodes' hooks,
// whose runs are logged as they end.
func (r *run) external() {
	p, logw := r.p, r.log
	shown := p.Redact(profile.RedactURL(r.url))
	if n := len(p.Target.URLs); n > 0 {
		shown = fmt.Sprintf("%d URLs, the first %s", n, p.Redact(profile.RedactURL(p.Target.URLs[0])))
	}
	fmt.Fprintf(logw, "target: external, %s\n", shown)
	if len(p.Target.NodeHooks) == 0 {
		return
	}
	r.hookTarget = hooks.NewTarget(p.Target.NodeHooks)
	r.hookTarget.OnRun = func(h hooks.Run) {
		what := "ok"
		switch {
		case h.Cancelled:
			what = "cut short, the run ended"
		case h.Err != nil:
			what = "FAILED: " + h.Err.Error()
		}
		fmt.Fprintf(logw, "%s\n", p.Redact(fmt.Sprintf("hook of node %d (%s) for event %d: %s in %.2fs", h.Node, h.Name, h.Event, what, h.Duration.Seconds())))
		if h.Err == nil || p.Target.OnHookFailure != profile.OnHookFailureAbort {
			return
		}
		select {
		case r.abort <- p.Redact(fmt.Sprintf("the hook of node %d (%s) failed: %v", h.Node, h.Name, h.Err)):
		default:
		}
	}
}

// prepare plans the chaos, configures the fleet and its share of the dials,
// waits for the shared start time if there is one, and makes the recorder
// and the fleet.
func (r *run) prepare(ctx context.Context) error {
	p, opts := r.p, r.opts
	r.events = chaos.Plan(p)
	var err error
	if r.fcfg, err = fleet.FromProfile(p, r.url); err != nil {
		return fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	if opts.Segments > 1 {
		r.fcfg.Segment, r.fcfg.Segments = opts.Segment, opts.Segments
	}
	switch {
	case r.fcfg.MaxDialing == 0:
		// Each process its own: its files are its own.
		clients := SegmentClients(p.Fleet.Clients, opts.Segment, opts.Segments)
		files, known := openFileLimit()
		r.fcfg.MaxDialing = AutoDials(p, clients, opts.Remote != nil, files, known)
		fmt.Fprintln(r.log, autoDialsText(r.fcfg.MaxDialing, clients, files, known))
	case opts.Segments > 1:
		// Shares that add up to the whole: no more dials in flight over
		// the segments than in one process.
		share := r.fcfg.MaxDialing / opts.Segments
		if opts.Segment < r.fcfg.MaxDialing%opts.Segments {
			share++
		}
		r.fcfg.MaxDialing = max(1, share)
	}
	if r.started, err = r.startTime(ctx); err != nil {
		return err
	}
	scfg := stats.Config{Start: r.started, Horizon: p.Duration.D() + stats.ShutdownGrace, Events: chaos.EventPlans(r.events)}
	if opts.NoChaos {
		r.emb = nil // the driving participant samples the target
	}
	if r.emb != nil {
		scfg.GaugeNames, scfg.ImbalanceGauges = r.emb.gauges()
	}
	if d := p.Detect; d.Enabled {
		// Observe mode: the profile has no chaos steps; the restarts happen
		// elsewhere and are found in the closes.
		scfg.Detect = &stats.DetectConfig{Gap: d.Gap.D(), MinCloses: d.MinCloses}
		fmt.Fprintf(r.log, "observe mode: a burst of at least %d closes with one code, each within %s of the last, is an event\n", d.MinCloses, d.Gap.D())
	}
	r.rec = stats.New(scfg)
	if r.fl, err = fleet.New(r.fcfg, r.rec); err != nil {
		return fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	return nil
}

// startTime is the run's origin: now, or the shared start time of a
// segment, which it waits for.
func (r *run) startTime(ctx context.Context) (time.Time, error) {
	at := r.opts.StartAt
	if at.IsZero() {
		return time.Now(), nil
	}
	wait := time.Until(at)
	if wait > 0 {
		fmt.Fprintf(r.log, "waiting %.1fs for the start time %s\n", wait.Seconds(), at.UTC().Format(time.RFC3339Nano))
		if !action.SleepUntil(ctx, at) {
			return time.Time{}, ErrNotStarted
		}
	} else if -wait > lateStart {
		fmt.Fprintf(r.log, "warning: started %.3fs after the start time %s: the clients due by now start at once\n", -wait.Seconds(), at.UTC().Format(time.RFC3339Nano))
	}
	// The shared origin on this process's monotonic clock.
	return time.Now().Add(time.Until(at)), nil
}

// measure runs the fleet, the chaos and the observers until the end of the
// run's duration, an interruption or an abort.
func (r *run) measure(ctx context.Context) {
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	if r.opts.Observe != nil {
		wg.Go(func() { r.opts.Observe(runCtx, r.rec) })
	}
	wg.Go(func() { r.fl.Run(runCtx) })
	wg.Go(func() { sampleCPU(runCtx, r.rec) })
	if detected := r.rec.Detected(); detected != nil {
		wg.Go(func() { logDetected(runCtx, r.log, detected) })
	}
	var chaosTarget action.Target
	switch {
	case r.opts.NoChaos:
		wg.Go(func() { recordOnly(runCtx, r.rec, r.events, r.started) })
	case r.emb != nil:
		chaosTarget = r.emb.target
		wg.Go(func() { r.emb.sampleEvery(runCtx, r.rec) })
	case r.hookTarget != nil:
		chaosTarget = r.hookTarget
	}
	if chaosTarget != nil && len(r.events) > 0 {
		wg.Go(func() {
			ctl := &chaos.Controller{Target: chaosTarget, Events: r.events, Log: r.rec}
			r.outcomes = ctl.Run(runCtx, r.started)
		})
	}
	r.wait(ctx)
	if r.emb != nil && (r.end == nil || r.interrupted || r.aborted != "") {
		r.end = r.emb.sample(r.rec)
	}
	now := time.Now()
	r.elapsed = now.Sub(r.started)
	r.rec.EndSeries(now)
	stop()
	wg.Wait()
}

// wait waits for the end of the run's duration, an interruption (ctx) or
// an abort, and samples the server's view at the end, before the clients
// go away. A target shared with segments in other processes, whose clients
// leave on the same stroke, is read one bucket before the end.
func (r *run) wait(ctx context.Context) {
	deadline := time.NewTimer(time.Until(r.started.Add(r.p.Duration.D())))
	defer deadline.Stop()
	var endSample <-chan time.Time
	if r.emb != nil && r.opts.Remote != nil && r.opts.Segments > 1 {
		t := time.NewTimer(time.Until(r.started.Add(r.p.Duration.D() - stats.SampleEvery)))
		defer t.Stop()
		endSample = t.C
	}
	for {
		select {
		case <-endSample:
			r.end, endSample = r.emb.sample(r.rec), nil
		case <-deadline.C:
			return
		case <-ctx.Done():
			r.interrupted = true
			return
		case r.aborted = <-r.abort:
			fmt.Fprintf(r.log, "run aborted: %s\n", r.aborted)
			return
		}
	}
}

// finish gathers the results, with what the chaos and the target say, and
// warns of what does not add up.
func (r *run) finish() *results.Run {
	logw := r.log
	for _, o := range r.outcomes {
		// A hook's failure was logged as it happened.
		if o.Err != nil && !errors.Is(o.Err, context.Canceled) && r.hookTarget == nil {
			fmt.Fprintf(logw, "chaos: %v\n", o.Err)
		}
	}
	res := r.rec.Results(r.started, r.elapsed)
	for i := range res.Events {
		res.Events[i].ReconnectExpected = r.fcfg.ReconnectsAfter(res.Events[i].Code)
	}
	for _, o := range r.outcomes {
		if o.Index < len(res.Events) && o.Frozen > 0 {
			res.Events[o.Index].Frozen = int64(o.Frozen)
		}
	}
	if r.opts.Segments <= 1 {
		// A segment's clients are a share of those the target closed.
		crossCheck(logw, r.outcomes, res.Events, r.p.Fleet.Session.Lifetime.D() > 0)
	}
	unattributed(logw, res)
	if d := res.Detect; d != nil && d.Unattributed > 0 {
		fmt.Fprintf(logw, "warning: %d closes were not attributed to any event: more than %d bursts of closes\n", d.Unattributed, stats.DefaultMaxDetected)
	}
	out := &results.Run{Results: res, Interrupted: r.interrupted, Aborted: r.aborted}
	if r.hookTarget != nil {
		out.Hooks = hookResults(r.p, r.hookTarget.Runs())
	}
	if r.emb != nil {
		out.Target = targetSide(r.end)
	}
	return out
}

// local is a target wsstorm runs in its own process, the embedded target or
// the chaos proxy, with its per-node counters.
type local struct {
	target action.Target
	url    string
	nodes  int
	stats  func() []nodes.Stats
	stop   func(context.Context) error
}

func startEmbedded(ctx context.Context, p *profile.Profile) (*local, error) {
	tgt, err := target.Start(ctx, target.Options{
		Nodes:    p.Target.Nodes,
		Listen:   p.Target.Listen,
		Capacity: p.Target.Capacity,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: embedded target: %w", ErrCannotRun, err)
	}
	return &local{target: tgt, url: tgt.URL(), nodes: tgt.Nodes(), stats: tgt.Stats, stop: tgt.Shutdown}, nil
}

// startProxy starts the chaos proxy in front of target.url: its upstream is
// the URL's scheme and host, and each client's path and query (templates
// rendered) travel through it.
func startProxy(ctx context.Context, p *profile.Profile) (*local, error) {
	up, err := neturl.Parse(p.Target.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: proxy upstream: %w", ErrCannotRun, err)
	}
	upstream := (&neturl.URL{Scheme: up.Scheme, User: up.User, Host: up.Host, Path: "/"}).String()
	tlsConf, err := fleet.TLSConfig(p)
	if err != nil {
		return nil, fmt.Errorf("%w: proxy upstream: %w", ErrCannotRun, err)
	}
	px, err := proxy.Start(ctx, proxy.Options{
		Listen:           p.Target.Listen,
		Nodes:            p.Target.Nodes,
		Upstream:         upstream,
		TLS:              tlsConf,
		HandshakeTimeout: p.Fleet.HandshakeTimeout.D(), // the proxy's upstream dial: no client library's
	})
	if err != nil {
		return nil, fmt.Errorf("%w: proxy: %w", ErrCannotRun, err)
	}
	return &local{target: px, url: px.URL(), nodes: px.Nodes(), stats: px.Stats, stop: px.Shutdown}, nil
}

// proxiedURL is the URL a client dials to reach target through the proxy
// at proxyURL: the proxy's scheme and host with target's path and query as
// written, templates and all (a parsed URL would escape their braces); user
// info stays with the upstream.
func proxiedURL(proxyURL, targetURL string) string {
	rest := ""
	if i := strings.Index(targetURL, "://"); i >= 0 {
		after := targetURL[i+3:]
		if j := strings.IndexAny(after, "/?#"); j >= 0 {
			rest = after[j:]
		}
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return strings.TrimSuffix(proxyURL, "/") + rest
}

func (e *local) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), stats.ShutdownGrace)
	defer cancel()
	_ = e.stop(ctx)
}

// gauges names the sampled per-node gauges and says which are connection
// counts (for imbalance).
func (e *local) gauges() (names []string, conns []int) { return results.NodeGauges(e.nodes) }

// sample records the nodes' counters into rec's gauges and returns them.
func (e *local) sample(rec *stats.Recorder) []nodes.Stats {
	st := e.stats()
	vals := make([]int64, 0, 3*len(st))
	for _, n := range st {
		vals = append(vals, n.Conns, n.Accepted, n.Rejected)
	}
	rec.Sample(time.Now(), vals)
	return st
}

// sampleEvery samples the nodes every 100 ms until ctx ends.
func (e *local) sampleEvery(ctx context.Context, rec *stats.Recorder) {
	everySample(ctx, func() { e.sample(rec) })
}

// everySample calls f every stats.SampleEvery until ctx ends.
func everySample(ctx context.Context, f func()) {
	tick := time.NewTicker(stats.SampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f()
		}
	}
}

// targetSide is the server's view at the end of the run.
func targetSide(end []nodes.Stats) *results.TargetSide {
	var sides []results.NodeSide
	for _, n := range end {
		sides = append(sides, results.NodeSide{Index: n.Index, Accepted: n.Accepted, Rejected: n.Rejected, ConnectionsEnd: n.Conns})
	}
	return results.NewTargetSide(sides)
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
func hookResults(p *profile.Profile, runs []hooks.Run) map[int]*results.HookResult {
	out := make(map[int]*results.HookResult, len(runs))
	for _, r := range runs {
		h := &results.HookResult{
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
		h.Cancelled = r.Cancelled
		out[r.Event] = h
	}
	return out
}

// unattributed warns of closes with an event's code that no event took:
// closes the events' windows missed (a hook's window too short), or that
// came from elsewhere (a proxy the hooks do not restart). Either way the
// events' herd analysis lacks them, and the user must know.
func unattributed(w io.Writer, res *stats.Results) {
	if res.Detect != nil {
		return // observe mode says what it left out in its own note
	}
	taken := map[int]int64{}
	for _, e := range res.Events {
		taken[e.Code] += e.Affected
	}
	codes := slices.Sorted(maps.Keys(taken))
	for _, code := range codes {
		if n := res.Counters.Closes[code] - taken[code]; n > 0 {
			fmt.Fprintf(w, "warning: %d of the %d closes with code %d belong to no event: they came outside every event's window (for a hook, its window), or from elsewhere\n",
				n, res.Counters.Closes[code], code)
		}
	}
}

// Timing of the events of a participant that does not drive the chaos.
const (
	// recordSlack is how long before an event's planned time it is marked
	// begun, so that a busy process's late timer misses none of its closes.
	recordSlack = 500 * time.Millisecond
	// recordLead is how much earlier than planned the event's window opens:
	// closes may arrive that much early by the difference of two machines'
	// clocks. The merge places the event at the driving segment's start.
	recordLead = 50 * time.Millisecond
)

// recordOnly marks each planned event begun at its planned time (less
// recordLead), without acting on the target: another participant drives the
// chaos, and this one attributes its clients' closes to the events.
func recordOnly(ctx context.Context, rec *stats.Recorder, events []action.Event, started time.Time) {
	for _, ev := range events {
		t := started.Add(max(ev.At-recordLead, 0))
		if !action.SleepUntil(ctx, t.Add(-recordSlack)) {
			return
		}
		rec.BeginEvent(ev.Index, t)
	}
}

// remoteLocal wraps an embedded target that runs in other processes.
func remoteLocal(r RemoteTarget) *local {
	var (
		mu   sync.Mutex // the sampler and the end of the run both ask
		last []nodes.Stats
		base []nodes.Stats // counts before the run: serve counts over its life
	)
	get := func() []nodes.Stats {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if st, err := r.Stats(ctx); err == nil && len(st) == r.Nodes() {
			return st
		}
		return nil
	}
	base = get()
	stats := func() []nodes.Stats {
		mu.Lock()
		defer mu.Unlock()
		// A sample that fails keeps the last one: the series must not
		// report a node's connections as gone because a request was slow.
		if st := get(); st != nil {
			if len(base) == len(st) {
				for i := range st {
					st[i].Accepted -= base[i].Accepted
					st[i].Rejected -= base[i].Rejected
				}
			}
			last = st
		}
		if last == nil {
			last = make([]nodes.Stats, r.Nodes())
			for i := range last {
				last[i].Index = i
			}
		}
		return last
	}
	return &local{target: r, url: r.URL(), nodes: r.Nodes(), stats: stats, stop: func(context.Context) error { return nil }}
}

// checkSources checks that every source address of fleet.source_addrs is
// on this machine, before any client dials from it.
func checkSources(p *profile.Profile) error {
	addrs, err := profile.ParseSourceAddrs(p.Fleet.SourceAddrs)
	if err != nil {
		return fmt.Errorf("%w: fleet.source_addrs: %w", ErrCannotRun, err)
	}
	for _, a := range addrs {
		l, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			return fmt.Errorf("%w: fleet.source_addrs: %s is not an address of this machine (%v): use local addresses, e.g. 127.0.0.2-127.0.0.40 on loopback", ErrCannotRun, a, err)
		}
		l.Close()
	}
	return nil
}
