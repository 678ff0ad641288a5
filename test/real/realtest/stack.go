// Package realtest runs the real-server stacks of test/real for tests:
// Socket.IO, graphql-ws or Centrifugo backends behind nginx, started by
// up.sh, restarted by restart.sh and stopped by down.sh; and it reads what
// they leave behind: the backends' logs, their metrics scraped before each
// shutdown, and nginx's access log.
//
// A test that needs a stack calls Start. Where node, nginx, curl or
// centrifugo are missing it skips, unless WSSTORM_REQUIRE_REAL=1 (set by
// .ci/run, which installs them) makes that a failure.
package realtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind is a kind of backend, as up.sh names it.
type Kind string

// The kinds of backend, and the port of nginx in front of each: backends
// take the next ports (up.sh).
const (
	SocketIO   Kind = "socketio"   // socket.io 4.8.4 (test/real/node/socketio-server.js)
	GraphQLWS  Kind = "graphqlws"  // graphql-ws 6.4.2 (test/real/node/graphqlws-server.js)
	Centrifugo Kind = "centrifugo" // Centrifugo v6.9.1
)

// LockWait is how long a test waits for another's ports (Lock): well
// under go test's default timeout of 10 minutes, which the tests of one
// kind, run one after another, stay within.
const LockWait = 5 * time.Minute

var basePorts = map[Kind]int{SocketIO: 18400, GraphQLWS: 18410, Centrifugo: 18420}

var paths = map[Kind]string{
	SocketIO:   "/socket.io/?EIO=4&transport=websocket",
	GraphQLWS:  "/graphql",
	Centrifugo: "/connection/websocket",
}

// Stack is a running stack: N backends of one kind behind nginx.
type Stack struct {
	Kind Kind
	Dir  string // up.sh's directory: logs, metrics, nginx.conf, access.log
	// URL is nginx's WebSocket URL for this kind, without a client number;
	// ClientURL adds one.
	URL string
	// Backends are the backends' names (KIND-1, KIND-2, ...), which
	// restart.sh takes.
	Backends []string
	// HMACSecret signs Centrifugo's connection tokens (ConnectionToken);
	// APIKey is its server API's X-API-Key. Empty for other kinds.
	HMACSecret, APIKey string

	t        testing.TB
	unlock   func()
	downOnce sync.Once
	downErr  error
}

// Script is the path of one of test/real's scripts (up.sh, restart.sh,
// down.sh), for a profile's restart hook.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(file)), name)
}

// Start starts n backends of kind behind nginx sized for clients, in a
// temporary directory, and stops them when the test ends. env is added to
// up.sh's environment (PING_INTERVAL_MS=1000, ...). It skips the test when
// a program the stack needs is missing, unless WSSTORM_REQUIRE_REAL=1.
func Start(t testing.TB, kind Kind, n, clients int, env ...string) *Stack {
	t.Helper()
	if _, ok := basePorts[kind]; !ok {
		t.Fatalf("realtest: no kind %q", kind)
	}
	if missing := Missing(kind); missing != "" {
		msg := fmt.Sprintf("the %s stack cannot run: %s (.ci/run installs what it needs)", kind, missing)
		if os.Getenv("WSSTORM_REQUIRE_REAL") == "1" {
			t.Fatal(msg + "; WSSTORM_REQUIRE_REAL=1 makes this a failure")
		}
		t.Skip(msg)
	}
	s := &Stack{Kind: kind, Dir: t.TempDir(), t: t}
	s.URL = fmt.Sprintf("ws://127.0.0.1:%d%s", basePorts[kind], paths[kind])
	for i := 1; i <= n; i++ {
		s.Backends = append(s.Backends, fmt.Sprintf("%s-%d", kind, i))
	}
	unlock, err := Lock(string(kind), LockWait)
	if err != nil {
		t.Fatalf("realtest: %v", err)
	}
	s.unlock = unlock
	// Registered before up.sh runs: a start that fails halfway is stopped too.
	t.Cleanup(func() {
		if err := s.Down(); err != nil {
			t.Errorf("realtest: %v", err)
		}
		if t.Failed() {
			s.logTails()
		}
	})
	cmd := exec.Command(Script("up.sh"), string(kind), s.Dir, strconv.Itoa(n), strconv.Itoa(clients))
	cmd.Env = append(os.Environ(), "WSSTORM_REAL_OWNER="+strconv.Itoa(os.Getpid()))
	cmd.Env = append(cmd.Env, env...)
	if out, err := run(cmd, 2*time.Minute); err != nil {
		t.Fatalf("realtest: up.sh %s: %v: %s", kind, err, out)
	}
	if kind == Centrifugo {
		s.HMACSecret = s.readLine("hmac_secret")
		s.APIKey = s.readLine("api_key")
	}
	return s
}

// Missing names the first program the kind's stack needs that is not
// installed, or returns "".
func Missing(kind Kind) string {
	if _, err := exec.LookPath("curl"); err != nil {
		return "curl is not installed"
	}
	if nginx := os.Getenv("NGINX"); nginx != "" {
		if _, err := os.Stat(nginx); err != nil {
			return "NGINX=" + nginx + " does not exist"
		}
	} else if _, err := exec.LookPath("nginx"); err != nil {
		if _, err := os.Stat("/usr/sbin/nginx"); err != nil {
			return "nginx is not installed (Debian package nginx)"
		}
	}
	switch kind {
	case Centrifugo:
		if bin := os.Getenv("WSSTORM_CENTRIFUGO"); bin != "" {
			if _, err := os.Stat(bin); err != nil {
				return "WSSTORM_CENTRIFUGO=" + bin + " does not exist"
			}
		} else if _, err := exec.LookPath("centrifugo"); err != nil {
			return "centrifugo is not on PATH and WSSTORM_CENTRIFUGO does not name it"
		}
	default:
		if _, err := exec.LookPath("node"); err != nil {
			return "node is not installed"
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(Script("up.sh")), "node", "node_modules")); err != nil {
			return "test/real/node has no node_modules (npm ci there)"
		}
	}
	return ""
}

// ClientURL is the stack's URL with the client number in its query, which
// the backends' logs and nginx's access log record.
func (s *Stack) ClientURL(client int) string {
	sep := "?"
	if strings.Contains(s.URL, "?") {
		sep = "&"
	}
	return s.URL + sep + "client=" + strconv.Itoa(client)
}

// Port is backend name's port.
func (s *Stack) Port(name string) int {
	for i, b := range s.Backends {
		if b == name {
			return basePorts[s.Kind] + i + 1
		}
	}
	return 0
}

// Restart restarts backend name with restart.sh: its metrics saved, SIGTERM,
// its own shutdown, started again and accepting.
func (s *Stack) Restart(name string) error {
	out, err := run(exec.Command(Script("restart.sh"), s.Dir, name), 2*time.Minute)
	if err != nil {
		return fmt.Errorf("restart.sh %s: %v: %s", name, err, out)
	}
	return nil
}

// Down stops the stack with down.sh (the backends' final metrics saved);
// the test's cleanup calls it, and calling it before is harmless.
func (s *Stack) Down() error {
	s.downOnce.Do(func() {
		out, err := run(exec.Command(Script("down.sh"), s.Dir), 2*time.Minute)
		if err != nil {
			s.downErr = fmt.Errorf("down.sh: %v: %s", err, out)
		}
		if s.unlock != nil {
			s.unlock()
		}
	})
	return s.downErr
}

// Path is a file of the stack's directory.
func (s *Stack) Path(name string) string { return filepath.Join(s.Dir, name) }

func (s *Stack) readLine(name string) string {
	b, err := os.ReadFile(s.Path(name))
	if err != nil {
		s.t.Fatalf("realtest: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// logTails logs the end of each log of a failed test's stack.
func (s *Stack) logTails() {
	files := []string{"nginx.error.log", "access.log"}
	for _, b := range s.Backends {
		files = append(files, b+".log", b+".out")
	}
	for _, f := range files {
		b, err := os.ReadFile(s.Path(f))
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		s.t.Logf("realtest: the end of %s:\n%s", f, strings.Join(lines, "\n"))
	}
}

// run runs a script, bounded in time, and returns its output's last line
// (the scripts' one-line reason) with the error.
func run(cmd *exec.Cmd, limit time.Duration) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(limit, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], err
}
