// Package supervise runs one storm as several wsstorm processes on this
// machine (wsstorm run --processes N): the embedded target, if the profile
// has one, as wsstorm serve processes that share one port, and the fleet
// as N segment processes (wsstorm run --segment I/N) that begin the run's
// timeline at one shared time. It passes the first signal on to the
// segments, stops every process when one fails, and merges the segments'
// results into one run's.
//
// It talks to its children through their command lines, their exit codes
// and serve's ready file (standalone.Ready); their lines on stderr it
// passes on, for people, and quotes a failed child's last one in its error.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/merge"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/standalone"
	"github.com/wsstorm/wsstorm/internal/storm"
)

// Timing of the processes: they must be up before the shared start time.
const (
	startMargin    = 2 * time.Second
	startPerChild  = 250 * time.Millisecond
	serveReadyWait = 20 * time.Second
	readyPoll      = 20 * time.Millisecond
	childStopGrace = 20 * time.Second
)

// A segment that exits 0 (passed) or 1 (thresholds failed) finished its
// run and wrote its results; any other exit is a failure (wsstorm's exit
// codes are a contract).
const (
	exitPassed = 0
	exitFailed = 1
)

// ErrInterrupted marks the errors of a run that a signal stopped: before
// there was anything to merge, or while what there was could not be
// merged. Run's other errors are runs that could not be carried out.
var ErrInterrupted = errors.New("interrupted")

// interrupted is an error that is ErrInterrupted without saying so in its
// message.
type interrupted struct{ error }

// Is makes an interrupted error match ErrInterrupted.
func (e interrupted) Is(target error) bool { return target == ErrInterrupted }

// Unwrap returns the error itself.
func (e interrupted) Unwrap() error { return e.error }

// Plan is a run split over processes on this machine, checked against the
// machine's limits.
type Plan struct {
	profile   *profile.Profile
	processes int
	serves    []int // the nodes of each wsstorm serve process; none for another target
}

// New checks that p can run as n segment processes on this machine, with
// its embedded target, if any, as wsstorm serve processes, and plans them.
// warn receives a line per warning.
func New(p *profile.Profile, n int, warn io.Writer) (*Plan, error) {
	limits := storm.Limits{Segment: 0, Segments: n, TargetElsewhere: true, Processes: n}
	if err := storm.CheckLimits(p, limits); err != nil {
		return nil, err
	}
	if w := storm.PortsWarning(p, limits); w != "" {
		fmt.Fprintf(warn, "warning: %s\n", w)
	}
	pl := &Plan{profile: p, processes: n}
	if p.Target.Mode == profile.ModeEmbedded {
		var err error
		if pl.serves, err = storm.PlanServes(p); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// Options say what the processes run and where their results go.
type Options struct {
	// Program is the wsstorm executable the processes run.
	Program string
	// Path is the profile's file ("": the built-in default) and Sets its
	// --set overrides, which every process is given.
	Path string
	Sets []string
	// Scale is the factor --scale or --quick multiplied the timeline by,
	// exactly (profile.Profile's ScaleExact), which every segment is given;
	// "": none.
	Scale string
	// Dir is the run's results directory; the segments write theirs under
	// Dir/segments.
	Dir string
	// Log receives a line per step and the processes' lines, for people.
	Log io.Writer
}

// supervisor is one Run of a Plan.
type supervisor struct {
	*Plan
	Options
	profileArgs []string // the profile and its overrides, for every process
	serves      []*child // until they are stopped
	segs        []*child
	dirs        []string // each segment's results directory
}

// Run runs the plan and returns the segments' results merged into one run,
// and the profile they ran. When ctx ends, the segments are interrupted
// (and their results merged, marked interrupted); a second signal, which
// ends this process, ends them too (the parent-death signal, on Linux).
func (pl *Plan) Run(ctx context.Context, o Options) (*results.Run, *profile.Profile, error) {
	o.Log = lines.Locked(o.Log)
	s := &supervisor{Plan: pl, Options: o}
	if o.Path != "" {
		s.profileArgs = append(s.profileArgs, o.Path)
	}
	for _, set := range o.Sets {
		s.profileArgs = append(s.profileArgs, "--set", set)
	}
	defer func() { stopAll(s.serves, childStopGrace) }()

	adminURLs, err := s.startServes(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := s.startSegments(adminURLs); err != nil {
		stopAll(s.segs, childStopGrace)
		return nil, nil, err
	}
	wasInterrupted, failed := s.wait(ctx)
	logUsage(s.Log, s.segs)
	segDir := filepath.Join(s.Dir, "segments")
	switch {
	case failed != nil:
		return nil, nil, fmt.Errorf("%s failed (%s: %s); the other processes were stopped", failed.name, failed.exitText(), failed.last.get())
	case wasInterrupted && !anyResults(s.dirs):
		_ = os.RemoveAll(segDir)
		return nil, nil, interrupted{errors.New("interrupted before the run started: nothing was measured")}
	}
	run, mp, err := merge.Dirs(s.dirs)
	if err != nil {
		err = fmt.Errorf("merging the segments' results in %s: %w", segDir, err)
		if wasInterrupted {
			err = interrupted{err}
		}
		return nil, nil, err
	}
	stopAll(s.serves, childStopGrace)
	logUsage(s.Log, s.serves)
	s.serves = nil
	if wasInterrupted {
		run.Interrupted = true
	}
	return run, mp, nil
}

// startServes starts the embedded target's wsstorm serve processes, one
// after the other (the first picks the port the others share), and
// returns their admin URLs once each is ready.
func (s *supervisor) startServes(ctx context.Context) ([]string, error) {
	if len(s.Plan.serves) == 0 {
		return nil, nil
	}
	// The ready files are needed only until every serve is ready: gone
	// then, they cannot be left behind by a supervisor that is killed.
	readyDir, err := os.MkdirTemp("", "wsstorm-ready-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(readyDir)
	fmt.Fprintf(s.Log, "starting the embedded target's %d nodes as %d wsstorm serve processes\n", s.profile.Target.Nodes, len(s.Plan.serves))
	var adminURLs []string
	listen, first := "", 0
	for i, nodes := range s.Plan.serves {
		name := fmt.Sprintf("serve %d", i)
		readyFile := filepath.Join(readyDir, fmt.Sprintf("serve-%d.json", i))
		args := append([]string{"serve"}, s.profileArgs...)
		args = append(args, "--nodes", fmt.Sprint(nodes), "--first-node", fmt.Sprint(first), "--admin", "127.0.0.1:0", "--ready-file", readyFile)
		if listen != "" {
			args = append(args, "--listen", listen, "--share-port")
		}
		c, err := startChild(s.Program, args, name, true, s.Log)
		if err != nil {
			return nil, err
		}
		s.serves = append(s.serves, c)
		ready, err := awaitReady(ctx, c, readyFile)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			if ctx.Err() != nil {
				return nil, interrupted{err}
			}
			return nil, err
		}
		if listen == "" {
			u, err := url.Parse(ready.URL)
			if err != nil {
				return nil, fmt.Errorf("%s: its ready file's url: %w", name, err)
			}
			listen = u.Host
		}
		adminURLs = append(adminURLs, ready.AdminURL)
		first += nodes
	}
	return adminURLs, nil
}

// awaitReady waits for a wsstorm serve child's ready file.
func awaitReady(ctx context.Context, c *child, path string) (standalone.Ready, error) {
	timeout := time.After(serveReadyWait)
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		r, err := standalone.ReadReady(path)
		if !errors.Is(err, os.ErrNotExist) {
			return r, err
		}
		select {
		case <-tick.C:
		case <-c.done:
			return r, fmt.Errorf("exited before it served (exit %d): %s", c.exitCode(), c.last.get())
		case <-timeout:
			return r, fmt.Errorf("not serving after %v", serveReadyWait)
		case <-ctx.Done():
			return r, errors.New("interrupted while starting")
		}
	}
}

// startSegments starts the segment processes, which begin the run's
// timeline together at a time that leaves each time to start.
func (s *supervisor) startSegments(adminURLs []string) error {
	n := s.processes
	startAt := time.Now().Add(startMargin + time.Duration(n)*startPerChild).Round(time.Millisecond)
	p := s.profile
	fmt.Fprintf(s.Log, "running profile %s (%s): %d clients for %s as %d processes starting at %s\n",
		p.Name, p.Path, p.Fleet.Clients, p.Duration.D(), n, startAt.UTC().Format(time.RFC3339Nano))
	for i := range n {
		d := filepath.Join(s.Dir, "segments", fmt.Sprintf("segment-%d", i))
		s.dirs = append(s.dirs, d)
		args := append([]string{"run"}, s.profileArgs...)
		if s.Scale != "" {
			// The exact factor, not --quick: each segment scales alike.
			args = append(args, "--scale", s.Scale)
		}
		args = append(args, "--segment", fmt.Sprintf("%d/%d", i, n), "--start-at", startAt.UTC().Format(time.RFC3339Nano), "--out", d, "--quiet")
		if len(adminURLs) > 0 {
			args = append(args, "--target-admin", strings.Join(adminURLs, ","))
		}
		c, err := startChild(s.Program, args, fmt.Sprintf("segment %d", i), false, s.Log)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, c)
	}
	return nil
}

// wait waits for the segments to end. The first signal (ctx's end) is
// passed on to them once; a segment that fails, or a serve process that
// ends, stops the others. It returns whether a signal came, and the
// process that failed first, if any.
func (s *supervisor) wait(ctx context.Context) (wasInterrupted bool, failed *child) {
	ended := make(chan *child, len(s.segs)+len(s.serves))
	for _, c := range append(append([]*child{}, s.segs...), s.serves...) {
		go func() { <-c.done; ended <- c }()
	}
	signalAll := func(sig os.Signal) {
		for _, c := range s.segs {
			_ = c.cmd.Process.Signal(sig)
		}
	}
	var grace <-chan time.Time // after a signal or a failure: how long the segments may take
	for pending := len(s.segs); pending > 0; {
		select {
		case c := <-ended:
			if !c.serve {
				pending--
			}
			code := c.exitCode()
			if failed == nil && !wasInterrupted && (c.serve || code != exitPassed && code != exitFailed) {
				failed = c
				signalAll(syscall.SIGTERM)
				grace = time.After(childStopGrace)
			}
		case <-ctx.Done():
			wasInterrupted = true
			signalAll(os.Interrupt)
			ctx = context.Background()
			grace = time.After(childStopGrace)
		case <-grace:
			signalAll(os.Kill)
			grace = nil
		}
	}
	return wasInterrupted, failed
}

// anyResults says some segment wrote its results.
func anyResults(dirs []string) bool {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, results.SummaryFile)); err == nil {
			return true
		}
	}
	return false
}
