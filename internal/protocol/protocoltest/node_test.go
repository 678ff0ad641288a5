package protocoltest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeDir holds the real clients' scripts and their node_modules.
var nodeDir = filepath.Join("..", "..", "..", "test", "real", "node")

// requireNode skips the test when node or the npm packages are missing,
// and fails it instead when WSSTORM_REQUIRE_REAL=1 (set where they are
// installed, so a broken install cannot pass as a skip).
func requireNode(t *testing.T, pkg string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", pkg, "package.json")); err != nil {
			missing = "npm package " + pkg + " is not installed (npm ci in test/real/node)"
		}
	}
	if missing != "" {
		if os.Getenv("WSSTORM_REQUIRE_REAL") == "1" {
			t.Fatal(missing + " (WSSTORM_REQUIRE_REAL=1)")
		}
		t.Skip(missing)
	}
	return node
}

// clientEvent is one line a client script prints.
type clientEvent struct {
	T         int            `json:"t"`
	Client    string         `json:"client"`
	Event     string         `json:"event"`
	Attempt   int            `json:"attempt,omitempty"`
	Code      int            `json:"code,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Reconnect *bool          `json:"reconnect,omitempty"`
	Response  map[string]any `json:"response,omitempty"`
	Protocol  string         `json:"protocol,omitempty"`
	Message   string         `json:"message,omitempty"`
	// Reconnected is ActionCable's confirmation after a reconnect.
	Reconnected bool `json:"reconnected,omitempty"`
	// WillAttemptReconnect is ActionCable's disconnected callback's.
	WillAttemptReconnect bool `json:"willAttemptReconnect,omitempty"`
}

// clients is a running client script: its events as they come.
type clients struct {
	t      *testing.T
	mu     sync.Mutex
	events []clientEvent
	added  chan struct{} // signalled on each event
	done   chan struct{} // closed when the script's output ends
}

// runClients starts a client script in its own process group, killed when
// the test ends; the script also ends by itself after --duration-ms.
func runClients(t *testing.T, script string, args ...string) *clients {
	t.Helper()
	node := requireNode(t, map[string]string{
		"phoenix-client.js":     "phoenix",
		"actioncable-client.js": "@rails/actioncable",
	}[script])
	cmd := exec.Command(node, append([]string{filepath.Join(nodeDir, script)}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &clients{t: t, added: make(chan struct{}, 1), done: make(chan struct{})}
	go c.read(out)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return c
}

func (c *clients) read(out interface{ Read([]byte) (int, error) }) {
	defer close(c.done)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var e clientEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			c.t.Errorf("client script printed %q: %v", sc.Text(), err)
			continue
		}
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
		select {
		case c.added <- struct{}{}:
		default:
		}
	}
}

// waitFor returns once cond holds for the events so far; the test fails
// if it does not within limit.
func (c *clients) waitFor(what string, limit time.Duration, cond func([]clientEvent) bool) {
	c.t.Helper()
	deadline := time.After(limit)
	for {
		if cond(c.all()) {
			return
		}
		select {
		case <-c.added:
		case <-c.done:
			if !cond(c.all()) {
				c.t.Fatalf("the clients ended before %s; they saw:\n%s", what, c.dump())
			}
			return
		case <-deadline:
			c.t.Fatalf("no %s within %v; the clients saw:\n%s", what, limit, c.dump())
		}
	}
}

// wait returns once the script has ended by itself; the test fails if it
// has not within limit.
func (c *clients) wait(limit time.Duration) []clientEvent {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		c.t.Fatalf("the client script did not end within %v", limit)
	}
	return c.all()
}

func (c *clients) all() []clientEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]clientEvent(nil), c.events...)
}

func (c *clients) dump() string {
	var b []byte
	for _, e := range c.all() {
		line, _ := json.Marshal(e)
		b = append(append(b, line...), '\n')
	}
	return string(b)
}

// count is how many events of kind each client saw.
func count(events []clientEvent, kind string) map[string]int {
	n := map[string]int{}
	for _, e := range events {
		if e.Event == kind {
			n[e.Client]++
		}
	}
	return n
}

// of returns client's events of kind, in order.
func of(events []clientEvent, client, kind string) []clientEvent {
	var out []clientEvent
	for _, e := range events {
		if e.Client == client && e.Event == kind {
			out = append(out, e)
		}
	}
	return out
}

// everyClient reports whether each of names has at least min events of
// kind.
func everyClient(events []clientEvent, kind string, min int, names ...string) bool {
	n := count(events, kind)
	for _, name := range names {
		if n[name] < min {
			return false
		}
	}
	return true
}

// testWriter logs a script's stderr into the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("client stderr: %s", p)
	return len(p), nil
}
