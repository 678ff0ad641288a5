package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/standalone"
)

// serveTimeout bounds each wait on a `wsstorm serve` process.
const serveTimeout = 10 * time.Second

// served is a `wsstorm serve` child process.
type served struct {
	cmd   *exec.Cmd
	url   string // the nodes' ws:// URL
	admin string // the admin API's http://HOST:PORT/

	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{}
	code   int // set before exited closes
}

var (
	nodesLine = regexp.MustCompile(`^wsstorm serve: (\d+) nodes at (ws://\S+/)$`)
	adminLine = regexp.MustCompile(`^wsstorm serve: admin at (http://\S+/)$`)
)

// startServe starts `wsstorm serve args...` and waits for the two lines that
// say where it serves. The process is killed if the test leaves it running.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	s := &served{cmd: exec.Command(os.Args[0], append([]string{"serve"}, args...)...), exited: make(chan struct{})}
	s.cmd.Env = testMainEnv()
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			if m := nodesLine.FindStringSubmatch(line); m != nil {
				s.url = m[2]
			}
			if m := adminLine.FindStringSubmatch(line); m != nil {
				s.admin = m[1]
				close(ready)
			}
			s.mu.Unlock()
		}
		err := s.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			s.code = ee.ExitCode()
		case err != nil:
			s.code = -1
		}
		close(s.exited)
	}()
	select {
	case <-ready:
	case <-s.exited:
		t.Fatalf("wsstorm serve exited with %d before serving:\n%s", s.code, s.output())
	case <-time.After(serveTimeout):
		t.Fatalf("wsstorm serve did not say where it serves in %v:\n%s", serveTimeout, s.output())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url == "" {
		t.Fatalf("no nodes line before the admin line:\n%s", s.stderr.String())
	}
	return s
}

func (s *served) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends sig and returns the exit code.
func (s *served) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		return s.code
	case <-time.After(serveTimeout):
		t.Fatalf("wsstorm serve still running %v after %v:\n%s", serveTimeout, sig, s.output())
		return 0
	}
}

// serveClient is a client of a served target, reading until its end.
type serveClient struct {
	id   int
	node int
	done chan struct{}
	err  error
}

func dialServe(t *testing.T, url string, id int) *serveClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: serveTimeout}
	conn, _, err := d.Dial(fmt.Sprintf("%s?client=%d", url, id), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	var w struct {
		Node int `json:"node"`
	}
	conn.SetReadDeadline(time.Now().Add(serveTimeout))
	if err := conn.ReadJSON(&w); err != nil {
		t.Fatalf("welcome: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(2 * serveTimeout))
	c := &serveClient{id: id, node: w.Node, done: make(chan struct{})}
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				c.err = err
				close(c.done)
				return
			}
		}
	}()
	return c
}

func (c *serveClient) closeCode(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(serveTimeout):
		t.Fatalf("client %d (node %d) still open", c.id, c.node)
	}
	var ce *websocket.CloseError
	if !errors.As(c.err, &ce) {
		t.Fatalf("client %d ended with %v, want a close frame", c.id, c.err)
	}
	return ce.Code
}

// logEvent is one line of the server's log.
type logEvent struct {
	T      float64 `json:"t"`
	Event  string  `json:"event"`
	Node   *int    `json:"node"`
	Conn   uint64  `json:"conn"`
	Code   int     `json:"code"`
	By     string  `json:"by"`
	URI    string  `json:"uri"`
	Closed int     `json:"closed"`
}

// TestServeRestartAndLog: `wsstorm serve` serves clients; the admin API
// restarts node 0 with 1012; the clients see it; SIGTERM closes the others
// with 1001 and exits 0; the log has every accept, every close with its
// node and cause, and the restart.
func TestServeRestartAndLog(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	s := startServe(t, "--nodes", "2", "--log", logPath, "--max-conns", "50")

	var clients []*serveClient
	count := [2]int{}
	for id := 0; count[0] < 2 || count[1] < 1; id++ {
		if id == 100 {
			t.Fatalf("after 100 dials clients per node are %v", count)
		}
		c := dialServe(t, s.url, id)
		clients = append(clients, c)
		count[c.node]++
	}

	resp, err := http.Post(s.admin+"nodes/0/restart?code=1012&downtime=200ms&reason=deploy", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Node   int `json:"node"`
		Closed int `json:"closed"`
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.Closed != count[0] {
		t.Fatalf("restart: %s %+v %v, want 200 with %d closed", resp.Status, res, err, count[0])
	}
	for _, c := range clients {
		if c.node == 0 {
			if code := c.closeCode(t); code != websocket.CloseServiceRestart {
				t.Errorf("client %d of node 0 closed with %d, want 1012", c.id, code)
			}
		}
	}

	if code := s.stop(t, syscall.SIGTERM); code != exitPassed {
		t.Fatalf("exit %d after SIGTERM, want 0:\n%s", code, s.output())
	}
	for _, c := range clients {
		if c.node == 1 {
			if code := c.closeCode(t); code != websocket.CloseGoingAway {
				t.Errorf("client %d of node 1 closed with %d, want 1001", c.id, code)
			}
		}
	}

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	tRE := regexp.MustCompile(`^\{"t":\d+\.\d{9},"event":"`)
	accepted := map[uint64]*serveClient{} // by conn id
	byURI := map[string]*serveClient{}
	for _, c := range clients {
		byURI[fmt.Sprintf("/?client=%d", c.id)] = c
	}
	counts := map[string]int{}
	last := 0.0
	for line := range strings.Lines(string(data)) {
		if !tRE.MatchString(line) {
			t.Errorf("log line %q does not start with t in seconds, nine decimals, and the event", line)
		}
		var e logEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e.T < last {
			t.Errorf("log line %q: t went back from %v", line, last)
		}
		last = e.T
		switch e.Event {
		case "accept":
			c := byURI[e.URI]
			if c == nil || e.Node == nil || *e.Node != c.node {
				t.Errorf("accept %q does not match a client", line)
				continue
			}
			accepted[e.Conn] = c
			counts["accept"]++
		case "close":
			c := accepted[e.Conn]
			switch {
			case c == nil:
				t.Errorf("close %q of a connection not accepted before", line)
			case c.node == 0 && (e.Code != 1012 || e.By != "restart" || *e.Node != 0):
				t.Errorf("close %q, want node 0, 1012 by restart", line)
			case c.node == 1 && (e.Code != 1001 || e.By != "shutdown" || *e.Node != 1):
				t.Errorf("close %q, want node 1, 1001 by shutdown", line)
			}
			counts[fmt.Sprintf("close %d", e.Code)]++
		case "restart_end":
			if e.Closed != count[0] {
				t.Errorf("restart_end %q, want closed %d", line, count[0])
			}
			counts[e.Event]++
		default:
			counts[e.Event]++
		}
	}
	want := map[string]int{
		"start": 1, "accept": len(clients), "restart_start": 1, "restart_end": 1,
		"close 1012": count[0], "shutdown": 1, "close 1001": count[1],
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("log has %d %s, want %d", counts[k], k, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("log events %v, want %v", counts, want)
	}
}

// TestServeAddressTaken: a taken --admin or --listen address is exit 3
// with one line that names it and the flag to change.
func TestServeAddressTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	for _, tc := range []struct {
		flag, want string
	}{
		{"--admin", "wsstorm serve: cannot serve the admin API on " + taken + ": address already in use; choose another address with --admin, e.g. 127.0.0.1:0\n"},
		{"--listen", "wsstorm serve: cannot listen for clients on " + taken + ": address already in use; choose another address with --listen, e.g. 127.0.0.1:0\n"},
		{"--share-port", "wsstorm serve: cannot share " + taken + " with other wsstorm serve processes: address already in use; whatever listens there does not use SO_REUSEPORT or runs as another user: stop it, or choose another address with --listen\n"},
	} {
		args := []string{"serve", tc.flag, taken}
		if tc.flag == "--share-port" {
			if runtime.GOOS != "linux" {
				continue
			}
			args = []string{"serve", "--share-port", "--listen", taken}
		}
		code, _, stderr := wsstorm(t, args...)
		if code != exitCannotRun || stderr != tc.want {
			t.Errorf("%s taken: exit %d, stderr %q; want 3 and %q", tc.flag, code, stderr, tc.want)
		}
	}
}

// TestServeTwiceOnOnePort: a second `wsstorm serve` on the explicit
// address of a running one is exit 3, rather than share it through
// SO_REUSEPORT and take half its clients.
func TestServeTwiceOnOnePort(t *testing.T) {
	t.Parallel()
	first := startServe(t, "--nodes", "2")
	addr := strings.TrimSuffix(strings.TrimPrefix(first.url, "ws://"), "/")
	want := "wsstorm serve: cannot listen for clients on " + addr + ": address already in use; choose another address with --listen, e.g. 127.0.0.1:0\n"
	code, _, stderr := wsstorm(t, "serve", "--listen", addr)
	if code != exitCannotRun || stderr != want {
		t.Errorf("second serve on %s: exit %d, stderr %q; want 3 and %q", addr, code, stderr, want)
	}
	if code := first.stop(t, syscall.SIGTERM); code != exitPassed {
		t.Errorf("the first serve: exit %d after SIGTERM, want 0:\n%s", code, first.output())
	}
}

// TestServeLogRedactsQuery: the log keeps the client id of a handshake's
// query and not its token; --log-query chooses the keys kept.
func TestServeLogRedactsQuery(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-T0KEN"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "/room?client=7&token=[redacted]&user=[redacted]"},
		{[]string{"--log-query", "user, session"}, "/room?client=[redacted]&token=[redacted]&user=ann"},
	} {
		logPath := filepath.Join(t.TempDir(), "serve.log")
		s := startServe(t, append([]string{"--nodes", "1", "--log", logPath}, tc.args...)...)
		d := websocket.Dialer{HandshakeTimeout: serveTimeout}
		conn, _, err := d.Dial(strings.TrimSuffix(s.url, "/")+"/room?client=7&token="+secret+"&user=ann", nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn.Close()
		if code := s.stop(t, syscall.SIGTERM); code != exitPassed {
			t.Fatalf("exit %d after SIGTERM, want 0:\n%s", code, s.output())
		}
		data, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), secret) {
			t.Errorf("serve %v: the log shows the token:\n%s", tc.args, data)
		}
		var uris []string
		for line := range strings.Lines(string(data)) {
			var e logEvent
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if e.Event == "accept" {
				uris = append(uris, e.URI)
			}
		}
		if len(uris) != 1 || uris[0] != tc.want {
			t.Errorf("serve %v: accepts %q, want one with uri %q", tc.args, uris, tc.want)
		}
	}
}

// TestServeBadUsage: bad flags and profiles are exit 2 with a line that
// says what to do; a log that cannot be written is exit 3.
func TestServeBadUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	external := filepath.Join(dir, "external.toml")
	if err := os.WriteFile(external, []byte("[target]\nmode = \"external\"\nurl = \"ws://127.0.0.1:1/\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--nodes", "0"}, exitUsage, "--nodes 0 is out of range: use 1 to 64"},
		{[]string{"--nodes", "many"}, exitUsage, `invalid value "many" for flag -nodes`},
		{[]string{"--first-node", "-1"}, exitUsage, "--first-node -1 with 3 nodes is out of range: node numbers go from 0 to 63"},
		{[]string{"--first-node", "62", "--nodes", "3"}, exitUsage, "--first-node 62 with 3 nodes is out of range"},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"a.toml", "b.toml"}, exitUsage, "one profile at a time"},
		{[]string{filepath.Join(dir, "missing.toml")}, exitUsage, "cannot read the profile"},
		{[]string{external}, exitUsage, `target.mode is "external", but serve runs the embedded target`},
		{[]string{"--set", "target.nodes=0"}, exitUsage, "target.nodes"},
		{[]string{"--listen", "nohost"}, exitUsage, `--listen: address "nohost": want HOST:PORT`},
		{[]string{"--admin", "x:y"}, exitUsage, `--admin: address "x:y": port "y" is not a number`},
		{[]string{"--accept-rate", "-1"}, exitUsage, "--accept-rate -1 is not a rate"},
		{[]string{"--max-conns", "-1"}, exitUsage, "--max-conns -1 is negative"},
		{[]string{"--handshake-delay", "-1s"}, exitUsage, "--handshake-delay -1s is negative"},
		{[]string{"--log", filepath.Join(dir, "no", "such", "dir.log")}, exitCannotRun, "cannot write the log"},
	} {
		code, _, stderr := wsstorm(t, append([]string{"serve"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %v: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, stdout, _ := wsstorm(t, "serve", "--help")
	if code != exitPassed || !strings.Contains(stdout, "usage: "+serveSynopsis) {
		t.Errorf("serve --help: exit %d, stdout %q", code, stdout)
	}
}

// TestServeSharedPort: two `wsstorm serve` processes with --share-port on
// one address, nodes 0-1 and 2-3 (--first-node 2), are one target of four
// nodes: clients of the one URL land on nodes of both, each told its
// global node number; a restart of node 3 through the second's admin API
// closes exactly the clients whose welcome said 3, with 1012, and the
// first's API refuses node 3 as not its own.
func TestServeSharedPort(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("--share-port needs SO_REUSEPORT (Linux)")
	}
	first := startServe(t, "--nodes", "2", "--share-port")
	addr := strings.TrimSuffix(strings.TrimPrefix(first.url, "ws://"), "/")
	second := startServe(t, "--nodes", "2", "--first-node", "2", "--listen", addr, "--share-port")
	if second.url != first.url {
		t.Fatalf("the second serves %s, want %s", second.url, first.url)
	}

	ctx, cancel := context.WithTimeout(context.Background(), serveTimeout)
	defer cancel()
	remote, err := admin.Dial(ctx, []string{first.admin, second.admin}, nil)
	if err != nil {
		t.Fatalf("the two admin APIs are not one target: %v", err)
	}
	if remote.Nodes() != 4 || remote.URL() != first.url {
		t.Errorf("the admin APIs make %d nodes at %s, want 4 at %s", remote.Nodes(), remote.URL(), first.url)
	}

	var clients []*serveClient
	count := make([]int, 4)
	for id := range 200 {
		c := dialServe(t, first.url, id)
		if c.node < 0 || c.node > 3 {
			t.Fatalf("client %d welcomed by node %d, want 0 to 3", id, c.node)
		}
		clients = append(clients, c)
		count[c.node]++
	}
	for node, n := range count {
		if n == 0 {
			t.Fatalf("200 clients per node %v: none on node %d", count, node)
		}
	}
	st, err := remote.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range st {
		if n.Index != i || n.Conns != int64(count[i]) {
			t.Errorf("node %d: %+v, want %d connections", i, n, count[i])
		}
	}

	resp, err := http.Post(first.admin+"nodes/3/restart", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("restart of node 3 through the first's API: %s, want 404", resp.Status)
	}
	resp, err = http.Post(second.admin+"nodes/3/restart?code=1012&downtime=200ms", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Node   int `json:"node"`
		Closed int `json:"closed"`
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.Node != 3 || res.Closed != count[3] {
		t.Fatalf("restart of node 3: %s %+v %v, want 200 with node 3, %d closed", resp.Status, res, err, count[3])
	}
	for _, c := range clients {
		if c.node == 3 {
			if code := c.closeCode(t); code != websocket.CloseServiceRestart {
				t.Errorf("client %d of node 3 closed with %d, want 1012", c.id, code)
			}
		}
	}
	for _, c := range clients {
		select {
		case <-c.done:
			if c.node != 3 {
				t.Errorf("client %d of node %d was closed by the restart of node 3: %v", c.id, c.node, c.err)
			}
		default:
		}
	}

	for _, s := range []*served{first, second} {
		if code := s.stop(t, syscall.SIGTERM); code != exitPassed {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, s.output())
		}
	}
}

// TestServeReadyFile: --ready-file holds, for programs, what the two lines
// say for people: where the nodes and the admin API are, and which nodes
// this process serves; it is gone once the server stopped.
func TestServeReadyFile(t *testing.T) {
	t.Parallel()
	ready := filepath.Join(t.TempDir(), "ready.json")
	if err := os.WriteFile(ready, []byte("left by a killed server"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--nodes", "2", "--first-node", "3", "--ready-file", ready)
	var got standalone.Ready
	deadline := time.Now().Add(serveTimeout)
	for {
		r, err := standalone.ReadReady(ready)
		if err == nil {
			got = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file in %v: %v\n%s", serveTimeout, err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := standalone.Ready{URL: s.url, AdminURL: s.admin, Nodes: 2, FirstNode: 3}
	if got != want {
		t.Errorf("ready file %+v, want %+v", got, want)
	}
	if code := s.stop(t, syscall.SIGTERM); code != exitPassed {
		t.Fatalf("exit %d after SIGTERM, want 0:\n%s", code, s.output())
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the ready file outlived the server: %v", err)
	}
	code, _, stderr := wsstorm(t, "serve", "--ready-file", filepath.Join(t.TempDir(), "no", "such", "dir", "ready.json"))
	if code != exitCannotRun || !strings.Contains(stderr, "wsstorm serve: cannot write the ready file") || !strings.Contains(stderr, "--ready-file") {
		t.Errorf("unwritable ready file: exit %d, stderr:\n%s", code, stderr)
	}
}
