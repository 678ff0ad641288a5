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

	"github.com/wsstorm/wsstorm/internal/merge"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/storm"
)

// connsPerServe is how many connections runProcesses gives one wsstorm serve
// process at most, in the steady state: a process may open about 19,000
// files here, and while one node restarts its clients crowd onto the rest.
const connsPerServe = 14000

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
	err  error         // of Wait
	last lastLine      // its last line on stderr
}

// runProcesses runs p as sp.processes segment processes of this program on
// this machine, with an embedded target as wsstorm serve processes, and
// merges their results into dir as one run.
func runProcesses(p *profile.Profile, path string, sets []string, sp *splitFlags, out, junit string, stdout, stderr io.Writer) int {
	n := sp.processes
	embedded := p.Target.Mode == profile.ModeEmbedded
	if err := storm.CheckLimits(p, storm.Limits{Segment: 0, Segments: n, TargetElsewhere: true, Processes: n}); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		return exitCannotRun
	}
	servers := 0
	if embedded {
		servers = (p.Fleet.Clients + connsPerServe - 1) / connsPerServe
		if servers > p.Target.Nodes {
			fmt.Fprintf(stderr, "wsstorm: %d clients need %d wsstorm serve processes of at most %d connections each, but the target has %d nodes to spread over them: raise target.nodes to at least %d\n",
				p.Fleet.Clients, servers, connsPerServe, p.Target.Nodes, servers)
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
		dir = uniqueDir(report.DefaultDir("results", p.Name, time.Now()))
	}
	if err := checkWritable(dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot write results to %s: %v; choose another directory with --out\n", dir, err)
		return exitCannotRun
	}
	stderr = &redactingWriter{w: &lockedWriter{w: stderr}, p: p}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

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
		for _, c := range cs {
			select {
			case <-c.done:
			case <-time.After(childStopGrace):
				_ = c.cmd.Process.Kill()
				<-c.done
			}
		}
	}
	defer func() { stopAll(serves) }()

	var adminURLs []string
	if embedded {
		fmt.Fprintf(stderr, "wsstorm: starting the embedded target's %d nodes as %d wsstorm serve processes\n", p.Target.Nodes, servers)
		listen := ""
		first := 0
		for s := range servers {
			nodes := p.Target.Nodes / servers
			if s < p.Target.Nodes%servers {
				nodes++
			}
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

	// Wait for the segments. The first signal is passed on once (a second
	// would end them at once, results unwritten); a segment that fails
	// stops the others.
	interrupted := false
	var failed *child
	pending := append([]*child(nil), segs...)
	for len(pending) > 0 {
		cases := make(chan *child, len(pending))
		for _, c := range pending {
			go func() { <-c.done; cases <- c }()
		}
		select {
		case c := <-cases:
			pending = remove(pending, c)
			if code := exitCode(c); code != exitPassed && code != exitFailed && failed == nil && !interrupted {
				failed = c
				for _, o := range pending {
					_ = o.cmd.Process.Signal(syscall.SIGTERM)
				}
			}
		case <-ctx.Done():
			if !interrupted {
				interrupted = true
				for _, o := range pending {
					_ = o.cmd.Process.Signal(os.Interrupt)
				}
			}
			ctx = context.Background() // wait on; a second Ctrl-C is the terminal's
		}
	}
	logUsage(stderr, append(append([]*child{}, serves...), segs...), false)
	if failed != nil {
		fmt.Fprintf(stderr, "wsstorm: %s failed (exit %d: %s); the other processes were stopped\n", failed.name, exitCode(failed), failed.last.get())
		return exitCannotRun
	}
	run, err := merge.Dirs(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: merging the segments' results in %s: %v\n", segDir, err)
		return exitCannotRun
	}
	stopAll(serves)
	logUsage(stderr, serves, true)
	serves = nil
	if interrupted {
		run.Interrupted = true
	}
	return finishRun(stdout, stderr, dir, run, junit)
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
		c.err = cmd.Wait()
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
			return "", "", fmt.Errorf("exited before it served (exit %d): %s", exitCode(c), c.last.get())
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
		fmt.Fprintf(w, "wsstorm: %s: exit %d, peak RSS %s, CPU %.1fs\n", c.name, exitCode(c), maxRSS(st), (st.UserTime() + st.SystemTime()).Seconds())
	}
}

func exitCode(c *child) int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

func remove(cs []*child, c *child) []*child {
	for i, o := range cs {
		if o == c {
			return append(cs[:i], cs[i+1:]...)
		}
	}
	return cs
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

// lockedWriter serializes writes of several goroutines, a line each.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
