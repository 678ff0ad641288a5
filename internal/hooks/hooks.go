// Package hooks carries out chaos actions on the nodes of an external
// target the way its team does: by running a command (without a shell) or
// sending an HTTP request that the profile declares for the node and the
// action, with the chaos event's values in templates. Its Target is an
// action.HookRunner: the chaos controller hands it whole events.
package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// MaxOutput is how much of a hook's output (a command's stdout and stderr,
// a response's body) a Run keeps: the first bytes, where errors usually are.
const MaxOutput = 4096

// Vars are a hook's template values by name: the node's number and name
// ({{node}}, {{name}}) and the chaos event's (for a restart {{code}},
// {{drain}}, {{downtime}}, {{reason}}).
type Vars map[string]string

// render replaces {{var}} in s with v's values, each passed through esc.
func render(s string, v Vars, esc func(string) string) string {
	return tmpl.Expand(s, func(name string) string { return esc(v[name]) })
}

// Run is what one hook did.
type Run struct {
	Event    int    // the chaos event it served
	Node     int    // the node it restarted
	Name     string // the node's name
	Kind     string // "command" or "http"
	Command  []string
	Method   string
	URL      string
	Started  time.Time // monotonic
	Duration time.Duration
	// ExitStatus is the command's exit status; nil for a request, or for a
	// command that did not run or was killed.
	ExitStatus *int
	HTTPStatus int    // the response's status; 0 for a command or without a response
	Output     string // the first MaxOutput bytes of its output or response body
	// Cancelled says the run ended (its duration, Ctrl-C, an abort) while
	// the hook ran, and cut it short: not the hook's failure.
	Cancelled bool
	Err       error // nil when the hook did what was expected of it, or was cut short
}

// Execute runs hook h with v's values and waits for it, at most h.Timeout.
func Execute(ctx context.Context, h profile.NodeHook, v Vars) Run {
	run := ctx
	ctx, cancel := context.WithTimeout(ctx, h.Timeout.D())
	defer cancel()
	node, _ := strconv.Atoi(v["node"])
	r := Run{Node: node, Name: h.Name, Started: time.Now()}
	if len(h.Command) > 0 {
		r.Kind = "command"
		r.runCommand(ctx, h, v)
	} else {
		r.Kind = "http"
		r.sendRequest(ctx, h, v)
	}
	r.Duration = time.Since(r.Started)
	switch {
	case r.Err == nil:
	case run.Err() != nil:
		r.Cancelled, r.Err = true, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Err = fmt.Errorf("did not finish within its timeout of %v", h.Timeout.D())
	}
	return r
}

func (r *Run) runCommand(ctx context.Context, h profile.NodeHook, v Vars) {
	args := make([]string, len(h.Command))
	for i, a := range h.Command {
		args[i] = render(a, v, func(s string) string { return s })
	}
	r.Command = args
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	killGroup(cmd)
	// A child that keeps the output open must not hold the run up after
	// the command itself ended or was killed.
	cmd.WaitDelay = time.Second
	out := &limitedBuffer{max: MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	r.Output = out.String()
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		code := cmd.ProcessState.ExitCode()
		r.ExitStatus = &code
	}
	switch {
	case err == nil:
	case r.ExitStatus != nil && *r.ExitStatus != 0:
		r.Err = fmt.Errorf("%s exited with status %d", args[0], *r.ExitStatus)
	default:
		r.Err = fmt.Errorf("%s: %w", args[0], err)
	}
}

func (r *Run) sendRequest(ctx context.Context, h profile.NodeHook, v Vars) {
	r.Method = h.HTTP.Method
	r.URL = render(h.HTTP.URL, v, url.QueryEscape)
	var body io.Reader
	if h.HTTP.Body != "" {
		body = strings.NewReader(render(h.HTTP.Body, v, func(s string) string { return s }))
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		r.Err = err
		return
	}
	for k, val := range h.HTTP.Headers {
		req.Header.Set(k, render(val, v, func(s string) string { return s }))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a secret; the hook is named elsewhere
		}
		r.Err = fmt.Errorf("%s request: %w", r.Method, err)
		return
	}
	defer resp.Body.Close()
	r.HTTPStatus = resp.StatusCode
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxOutput))
	r.Output = string(data)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	want := h.HTTP.Status
	if want == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) || want != 0 && resp.StatusCode != want {
		expected := "a 2xx status"
		if want != 0 {
			expected = "status " + strconv.Itoa(want)
		}
		r.Err = fmt.Errorf("%s answered %s, not %s", r.Method, resp.Status, expected)
	}
}

// limitedBuffer keeps the first max bytes written to it and counts the rest.
type limitedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     bytes.Buffer
	dropped int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return b.buf.String() + fmt.Sprintf("\n[%d more bytes]", b.dropped)
	}
	return b.buf.String()
}

// Target is an external target whose nodes carry out chaos actions through
// hooks. It implements action.HookRunner.
type Target struct {
	hooks []profile.NodeHook
	// OnRun, when set, learns of each hook's run as it ends.
	OnRun func(Run)

	mu   sync.Mutex
	runs []Run
}

var _ action.HookRunner = (*Target)(nil)

// NewTarget returns the target of hooks, one per node.
func NewTarget(hooks []profile.NodeHook) *Target {
	return &Target{hooks: hooks}
}

// Nodes returns the number of nodes.
func (t *Target) Nodes() int { return len(t.hooks) }

// RunHook runs the hook named hook of ev's node with vars, the event's
// values; the node's number and name are added. How many connections it
// closed is not known to wsstorm: the clients count them.
func (t *Target) RunHook(ctx context.Context, ev action.Event, hook string, vars map[string]string) error {
	node := ev.Node
	if node < 0 || node >= len(t.hooks) {
		return fmt.Errorf("node %d has no hook", node)
	}
	n := t.hooks[node]
	h, ok := n.Hook(hook)
	if !ok {
		return fmt.Errorf("node %d (%s) has no %s hook", node, n.Name, hook)
	}
	v := Vars{"node": strconv.Itoa(node), "name": n.Name}
	for k, val := range vars {
		v[k] = val
	}
	nh := profile.NodeHook{Name: n.Name, Command: h.Command, HTTP: h.HTTP, Timeout: h.Timeout, Window: h.Window}
	r := Execute(ctx, nh, v)
	r.Event = ev.Index
	t.mu.Lock()
	t.runs = append(t.runs, r)
	t.mu.Unlock()
	if t.OnRun != nil {
		t.OnRun(r)
	}
	switch {
	case r.Cancelled:
		return ctx.Err()
	case r.Err != nil:
		return fmt.Errorf("hook of node %d (%s): %w", node, n.Name, r.Err)
	}
	return nil
}

// Runs returns the hooks run so far, in the order they ended.
func (t *Target) Runs() []Run {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Run(nil), t.runs...)
}
