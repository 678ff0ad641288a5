package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/merge"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/storm"
)

// Timing of --processes: children must be up before the shared start time.
const (
	startMargin    = 2 * time.Second
	startPerChild  = 250 * time.Millisecond
	serveReadyWait = 20 * time.Second
	childStopGrace = 20 * time.Second
)

// child is one process that runProcesses started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it exited
	last lastLine      // its last line on stderr
}

// runProcesses runs p as sp.processes segment processes of this program on
// this machine, with an embedded target as wsstorm serve processes, and
// merges their results into dir as one run.
func runProcesses(p *profile.Profile, path string, sets []string, sp *splitFlags, out, junit string, stdout, stderr io.Writer) int {
	n := sp.processes
	embedded := p.Target.Mode == profile.ModeEmbedded
	limits := storm.Limits{Segment: 0, Segments: n, TargetElsewhere: true, Processes: n}
	if err := storm.CheckLimits(p, limits); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		return exitCannotRun
	}
	if w := storm.PortsWarning(p, limits); w != "" {
		fmt.Fprintf(stderr, "wsstorm: warning: %s\n", w)
	}
	var serveNodes []int // nodes of each wsstorm serve process
	if embedded {
		var err error
		if serveNodes, err = storm.PlanServes(p); err != nil {
			fmt.Fprintf(stderr, "wsstorm: %v\n", err)
			return exitCannotRun
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot find this program to start its processes: %v\n", err)
		return exitCannotRun
	}
	dir := out
	if dir == "" {
		dir = uniqueDir(results.DefaultDir("results", p.Name, time.Now()))
	}
	if err := checkWritable(dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot write results to %s: %v; choose another directory with --out\n", dir, err)
		return exitCannotRun
	}
	stderr = lines.Redacted(lines.Locked(stderr), p.Redact)

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// After the first signal, which is passed on to the children once, a
	// second one ends this process at once; its children then get SIGTERM
	// (the parent-death signal), their second, and end at once too.
	context.AfterFunc(ctx, cancel)

	var base []string // the profile and its overrides, for every child
	if path != "" {
		base = append(base, path)
	}
	for _, s := range sets {
		base = append(base, "--set", s)
	}

	var serves []*child
	stopAll := func(cs []*child) {
		for _, c := range cs {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		}
		awaitAll(cs, childStopGrace)
	}
	defer func() { stopAll(serves) }()

	var adminURLs []string
	if embedded {
		fmt.Fprintf(stderr, "wsstorm: starting the embedded target's %d nodes as %d wsstorm serve processes\n", p.Target.Nodes, len(serveNodes))
		listen := ""
		first := 0
		for s, nodes := range serveNodes {
			args := append([]string{"serve"}, base...)
			args = append(args, "--nodes", fmt.Sprint(nodes), "--first-node", fmt.Sprint(first), "--admin", "127.0.0.1:0")
			if listen != "" {
				args = append(args, "--listen", listen, "--share-port")
			}
			name := fmt.Sprintf("serve %d", s)
			c, lines, err := startChild(self, args, name, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "wsstorm: %v\n", err)
				return exitCannotRun
			}
			serves = append(serves, c)
			url, adminURL, err := awaitServe(ctx, c, lines)
			if err != nil {
				fmt.Fprintf(stderr, "wsstorm: %s: %v\n", name, err)
				if ctx.Err() != nil {
					_ = os.Remove(dir) // only if empty: nothing was measured
					return exitInterrupted
				}
				return exitCannotRun
			}
			if listen == "" {
				listen = strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
			}
			adminURLs = append(adminURLs, adminURL)
			first += nodes
		}
	}

	startAt := time.Now().Add(startMargin + time.Duration(n)*startPerChild).Round(time.Millisecond)
	fmt.Fprintf(stderr, "wsstorm: running profile %s (%s): %d clients for %s as %d processes starting at %s\n",
		p.Name, p.Path, p.Fleet.Clients, p.Duration.D(), n, startAt.UTC().Format(time.RFC3339Nano))
	segDir := filepath.Join(dir, "segments")
	var segs []*child
	var dirs []string
	for i := range n {
		d := filepath.Join(segDir, fmt.Sprintf("segment-%d", i))
		dirs = append(dirs, d)
		args := append([]string{"run"}, base...)
		args = append(args, "--segment", fmt.Sprintf("%d/%d", i, n), "--start-at", startAt.UTC().Format(time.RFC3339Nano), "--out", d, "--quiet")
		if embedded {
			args = append(args, "--target-admin", strings.Join(adminURLs, ","))
		}
		c, _, err := startChild(self, args, fmt.Sprintf("segment %d", i), stderr)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm: %v\n", err)
			stopAll(segs)
			return exitCannotRun
		}
		segs = append(segs, c)
	}

	// Wait for the segments. The first signal is passed on once; a segment
	// that fails, or a serve process that ends, stops the others.
	interrupted := false
	var failed *child
	ended := make(chan *child, len(segs)+len(serves))
	for _, c := range append(append([]*child{}, segs...), serves...) {
		go func() { <-c.done; ended <- c }()
	}
	var grace <-chan time.Time // after an interrupt: how long the segments may take
	for pending := len(segs); pending > 0; {
		select {
		case c := <-ended:
			isSegment := !strings.HasPrefix(c.name, "serve")
			if isSegment {
				pending--
			}
			code := childExit(c)
			if failed == nil && !interrupted && (!isSegment || code != exitPassed && code != exitFailed) {
				failed = c
				for _, o := range segs {
					_ = o.cmd.Process.Signal(syscall.SIGTERM)
				}
				grace = time.After(childStopGrace)
			}
		case <-ctx.Done():
			interrupted = true
			for _, o := range segs {
				_ = o.cmd.Process.Signal(os.Interrupt)
			}
			ctx = context.Background()
			grace = time.After(childStopGrace)
		case <-grace:
			for _, o := range segs {
				_ = o.cmd.Process.Kill()
			}
			grace = nil
		}
	}
	logUsage(stderr, append(append([]*child{}, serves...), segs...), false)
	if failed != nil {
		fmt.Fprintf(stderr, "wsstorm: %s failed (%s: %s); the other processes were stopped\n", failed.name, exitText(failed), failed.last.get())
		return exitCannotRun
	}
	if interrupted && !anyResults(dirs) {
		fmt.Fprintf(stderr, "wsstorm: interrupted before the run started: nothing was measured\n")
		_ = os.RemoveAll(segDir)
		_ = os.Remove(dir)
		return exitInterrupted
	}
	run, mp, err := merge.Dirs(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: merging the segments' results in %s: %v\n", segDir, err)
		if interrupted {
			return exitInterrupted
		}
		return exitCannotRun
	}
	stopAll(serves)
	logUsage(stderr, serves, true)
	serves = nil
	if interrupted {
		run.Interrupted = true
	}
	return finishRun(stdout, stderr, dir, mp, run, junit)
}

// startChild starts this program with args, its stderr lines passed on to
// stderr prefixed with its name; lines, if read, receives them too.
func startChild(self string, args []string, name string, stderr io.Writer) (*child, <-chan string, error) {
	cmd := exec.Command(self, args...)
	cmd.SysProcAttr = childAttr()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 64)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			for _, p := range []string{"wsstorm: ", "wsstorm serve: "} {
				line = strings.TrimPrefix(line, p)
			}
			c.last.set(line)
			fmt.Fprintf(stderr, "wsstorm: %s: %s\n", name, line)
			select {
			case lines <- line:
			default:
			}
		}
	}()
	go func() {
		<-copied
		_ = cmd.Wait() // its exit is read from cmd.ProcessState
		close(c.done)
	}()
	return c, lines, nil
}

// awaitServe waits for a wsstorm serve child to say where its nodes and its
// admin API are.
func awaitServe(ctx context.Context, c *child, lines <-chan string) (url, adminURL string, err error) {
	timeout := time.After(serveReadyWait)
	for url == "" || adminURL == "" {
		select {
		case line := <-lines:
			if _, after, ok := strings.Cut(line, " nodes at "); ok {
				url = after
			}
			if after, ok := strings.CutPrefix(line, "admin at "); ok {
				adminURL = after
			}
		case <-c.done:
			return "", "", fmt.Errorf("exited before it served (exit %d): %s", childExit(c), c.last.get())
		case <-timeout:
			return "", "", fmt.Errorf("not serving after %v", serveReadyWait)
		case <-ctx.Done():
			return "", "", errors.New("interrupted while starting")
		}
	}
	return url, adminURL, nil
}

// logUsage logs each child's exit, peak resident memory and CPU time.
func logUsage(w io.Writer, cs []*child, servesOnly bool) {
	for _, c := range cs {
		if servesOnly != strings.HasPrefix(c.name, "serve") || c.cmd.ProcessState == nil {
			continue
		}
		st := c.cmd.ProcessState
		fmt.Fprintf(w, "wsstorm: %s: %s, peak RSS %s, CPU %.1fs\n", c.name, exitText(c), maxRSS(st), (st.UserTime() + st.SystemTime()).Seconds())
	}
}

// exitText says how a child ended: its exit code, or the signal.
func exitText(c *child) string {
	if st := c.cmd.ProcessState; st != nil && st.ExitCode() < 0 {
		return st.String()
	}
	return fmt.Sprintf("exit %d", childExit(c))
}

// awaitAll waits for every child, together for at most grace; then it
// kills those left.
func awaitAll(cs []*child, grace time.Duration) {
	deadline := time.After(grace)
	for _, c := range cs {
		select {
		case <-c.done:
		case <-deadline:
			for _, o := range cs {
				_ = o.cmd.Process.Kill()
			}
			<-c.done
		}
	}
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

func childExit(c *child) int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// lastLine keeps the last line a child wrote.
type lastLine struct {
	mu   sync.Mutex
	line string
}

func (l *lastLine) set(s string) { l.mu.Lock(); l.line = s; l.mu.Unlock() }
func (l *lastLine) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.line == "" {
		return "no message"
	}
	return l.line
}
