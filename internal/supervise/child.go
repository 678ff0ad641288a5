package supervise

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one process the supervisor started.
type child struct {
	name  string
	serve bool // a wsstorm serve process, not a segment
	cmd   *exec.Cmd
	done  chan struct{} // closed once it exited and its stderr was read
	last  lastLine      // its last line on stderr
}

// startChild starts program with args; its stderr lines are passed on to
// log, prefixed with its name, for people.
func startChild(program string, args []string, name string, serve bool, log io.Writer) (*child, error) {
	cmd := exec.Command(program, args...)
	cmd.SysProcAttr = childAttr()
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, serve: serve, cmd: cmd, done: make(chan struct{})}
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
			fmt.Fprintf(log, "%s: %s\n", name, line)
		}
	}()
	go func() {
		<-copied
		_ = cmd.Wait() // its exit is read from cmd.ProcessState
		close(c.done)
	}()
	return c, nil
}

// exitCode is the child's exit code: -1 while it runs or when a signal
// ended it.
func (c *child) exitCode() int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// exitText says how a child ended: its exit code, or the signal.
func (c *child) exitText() string {
	if st := c.cmd.ProcessState; st != nil && st.ExitCode() < 0 {
		return st.String()
	}
	return fmt.Sprintf("exit %d", c.exitCode())
}

// logUsage logs each ended child's exit, peak resident memory and CPU time.
func logUsage(w io.Writer, cs []*child) {
	for _, c := range cs {
		st := c.cmd.ProcessState
		if st == nil {
			continue
		}
		fmt.Fprintf(w, "%s: %s, peak RSS %s, CPU %.1fs\n", c.name, c.exitText(), maxRSS(st), (st.UserTime() + st.SystemTime()).Seconds())
	}
}

// stopAll asks every child to stop (SIGTERM) and waits for them, together
// for at most grace; then it kills those left.
func stopAll(cs []*child, grace time.Duration) {
	for _, c := range cs {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
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

// lastLine keeps the last line a child wrote.
type lastLine struct {
	mu   sync.Mutex
	line string
}

// set keeps s; get returns the last line kept, or says there was none.
func (l *lastLine) set(s string) { l.mu.Lock(); l.line = s; l.mu.Unlock() }
func (l *lastLine) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.line == "" {
		return "no message"
	}
	return l.line
}
