package main

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// proxyEchoUpstream is a WebSocket echo server that counts its handshakes.
func proxyEchoUpstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var handshakes atomic.Int64
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		handshakes.Add(1)
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			ws.WriteMessage(typ, msg)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &handshakes
}

var (
	proxyLine      = regexp.MustCompile(`^wsstorm proxy: (\d+) nodes at (ws://127\.0\.0\.1:\d+/) -> (.*)$`)
	proxyAdminLine = regexp.MustCompile(`^wsstorm proxy: admin at (http://127\.0\.0\.1:\d+/)$`)
)

func TestProxyCommand(t *testing.T) {
	srv, handshakes := proxyEchoUpstream(t)
	upstream := "ws://user:hunter22@" + strings.TrimPrefix(srv.URL, "http://") + "/?token=s3cret"

	cmd, lines, exited := startProxyProcess(t, "--upstream", upstream, "--nodes", "2")
	var got []string
	var proxyURL, adminURL string
	deadline := time.After(10 * time.Second)
	for proxyURL == "" || adminURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("wsstorm proxy ended early; stderr:\n%s", strings.Join(got, "\n"))
			}
			got = append(got, l)
			if m := proxyLine.FindStringSubmatch(l); m != nil {
				proxyURL = m[2]
				if m[1] != "2" {
					t.Errorf("nodes %s, want 2: %q", m[1], l)
				}
				if strings.Contains(m[3], "hunter22") || strings.Contains(m[3], "s3cret") || !strings.Contains(m[3], "redacted") {
					t.Errorf("the upstream is printed without its secrets redacted: %q", l)
				}
			}
			if m := proxyAdminLine.FindStringSubmatch(l); m != nil {
				adminURL = m[1]
			}
		case <-deadline:
			t.Fatalf("no proxy and admin lines after 10s; stderr so far:\n%s", strings.Join(got, "\n"))
		}
	}
	if len(got) != 2 {
		t.Errorf("stderr has %d lines before any traffic, want 2:\n%s", len(got), strings.Join(got, "\n"))
	}

	// Two clients, one per node, each echoed through the proxy.
	var clients []*websocket.Conn
	for i := range 2 {
		ws, resp, err := websocket.DefaultDialer.Dial(proxyURL+"?client="+string(rune('a'+i)), nil)
		if err != nil {
			t.Fatalf("dial through the proxy: %v", err)
		}
		defer ws.Close()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if got := resp.Header.Get("X-Wsstorm-Node"); got != string(rune('0'+i)) {
			t.Errorf("client %d: X-Wsstorm-Node %q", i, got)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "ping" {
			t.Fatalf("echo through the proxy: %q, %v", msg, err)
		}
		clients = append(clients, ws)
	}
	if handshakes.Load() != 2 {
		t.Errorf("upstream handshakes %d, want 2", handshakes.Load())
	}

	// The admin API restarts node 0: its client gets 1012.
	resp, err := http.Post(adminURL+"nodes/0/restart?downtime=0s&wait=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Closed int    `json:"closed"`
		Error  string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || res.Closed != 1 {
		t.Errorf("admin restart: status %d, %+v", resp.StatusCode, res)
	}
	if code := proxyCloseCode(clients[0]); code != websocket.CloseServiceRestart {
		t.Errorf("client of the restarted node got %d, want 1012", code)
	}
	resp, err = http.Get(adminURL + "status")
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		URL   string `json:"url"`
		Nodes []struct {
			State string `json:"state"`
			Conns int64  `json:"connections"`
		} `json:"nodes"`
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.URL != proxyURL || len(status.Nodes) != 2 {
		t.Errorf("admin status: %+v", status)
	}

	// SIGTERM: the remaining client gets 1001 and the process exits 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := proxyCloseCode(clients[1]); code != websocket.CloseGoingAway {
		t.Errorf("client at shutdown got %d, want 1001", code)
	}
	for l := range lines {
		t.Errorf("extra stderr line: %q", l)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("wsstorm proxy after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wsstorm proxy did not exit after SIGTERM")
	}
}

// startProxyProcess starts `wsstorm proxy args...` as a child process and
// returns its stderr lines and, once it has exited, its exit error. The
// cleanup kills it if the test has not stopped it.
func startProxyProcess(t *testing.T, args ...string) (*exec.Cmd, <-chan string, chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"proxy"}, args...)...)
	cmd.Env = testMainEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // nothing to do once it has exited
		err := <-exited
		exited <- err
	})
	return cmd, lines, exited
}

func TestProxyCommandAdminOff(t *testing.T) {
	srv, _ := proxyEchoUpstream(t)
	cmd, lines, exited := startProxyProcess(t, "--upstream", "ws"+strings.TrimPrefix(srv.URL, "http"), "--admin", "off")
	var got []string
	select {
	case l := <-lines:
		got = append(got, l)
	case <-time.After(10 * time.Second):
		t.Fatal("wsstorm proxy printed nothing in 10s")
	}
	if len(got) != 1 || proxyLine.FindStringSubmatch(got[0]) == nil {
		t.Fatalf("first line %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		t.Errorf("extra stderr line with --admin off: %q", l)
	}
	if err := <-exited; err != nil {
		t.Errorf("exit: %v", err)
	}
	exited <- nil
}

// proxyCloseCode reads until the connection ends and returns its close code
// (1006 when it ended without one).
func proxyCloseCode(ws *websocket.Conn) int {
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return websocket.CloseAbnormalClosure
	}
}

func TestProxyCommandErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no upstream", []string{"proxy"}, exitUsage, "--upstream URL is required"},
		{"argument", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "extra"}, exitUsage, "takes no arguments"},
		{"zero nodes", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--nodes", "0"}, exitUsage, "--nodes is 0"},
		{"bad listen", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--listen", "nowhere"}, exitUsage, "--listen"},
		{"unknown flag", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--frobnicate"}, exitUsage, "frobnicate"},
		{"http upstream", []string{"proxy", "--upstream", "http://127.0.0.1:1/"}, exitUsage, `scheme "http"`},
		{"fragment upstream", []string{"proxy", "--upstream", "ws://127.0.0.1:1/#x"}, exitUsage, "fragment"},
		{"malformed upstream", []string{"proxy", "--upstream", "ws://a b:%zz/?token=s3cret"}, exitUsage, "--upstream: upstream URL is not a URL"},
		{"no host upstream", []string{"proxy", "--upstream", "ws:///socket"}, exitUsage, "no host"},
		{"zero handshake timeout", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--handshake-timeout", "0s"}, exitUsage, "--handshake-timeout is 0s"},
		{"missing ca file", []string{"proxy", "--upstream", "wss://127.0.0.1:1/", "--ca-file", "/nonexistent/ca.pem"}, exitUsage, "--ca-file: open /nonexistent/ca.pem"},
		{"ca file without PEM", []string{"proxy", "--upstream", "wss://127.0.0.1:1/", "--ca-file", notPEM}, exitUsage, "no PEM certificate"},
		{"listen taken", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--listen", taken.Addr().String()}, exitCannotRun, "address already in use"},
		{"admin taken", []string{"proxy", "--upstream", "ws://127.0.0.1:1/", "--admin", taken.Addr().String()}, exitCannotRun, "address already in use"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := wsstorm(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to say %q", code, c.code, stderr, c.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr shows the upstream's secret: %q", stderr)
			}
		})
	}
}

// TestProxyCommandHelp: --help lists the flags on stdout and exits 0.
func TestProxyCommandHelp(t *testing.T) {
	code, stdout, _ := wsstorm(t, "proxy", "--help")
	if code != exitPassed {
		t.Errorf("exit %d", code)
	}
	for _, flag := range []string{"-upstream", "-listen", "-nodes", "-admin", "-ca-file", "-insecure-skip-verify", "-handshake-timeout"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("help lacks %s:\n%s", flag, stdout)
		}
	}
}

// waitProxyURL reads stderr lines until the proxy's "nodes at" line and
// returns its URL and the lines before it.
func waitProxyURL(t *testing.T, lines <-chan string) (string, []string) {
	t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("wsstorm proxy ended early; stderr:\n%s", strings.Join(got, "\n"))
			}
			if m := proxyLine.FindStringSubmatch(l); m != nil {
				return m[2], got
			}
			got = append(got, l)
		case <-deadline:
			t.Fatalf("no proxy line after 10s; stderr so far:\n%s", strings.Join(got, "\n"))
		}
	}
}

// stopProxyProcess sends SIGTERM and waits for exit 0.
func stopProxyProcess(t *testing.T, cmd *exec.Cmd, lines <-chan string, exited chan error) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("wsstorm proxy after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wsstorm proxy did not exit after SIGTERM")
	}
}

// TestProxyCommandTLSUpstream: a wss:// upstream with a self-signed
// certificate works with --ca-file and is refused (502) without it;
// --insecure-skip-verify works and says so.
func TestProxyCommandTLSUpstream(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			ws.WriteMessage(typ, msg)
		}
	}))
	defer srv.Close()
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + "/"
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		args    []string
		ok      bool
		warning bool
	}{
		{"ca file", []string{"--ca-file", caFile}, true, false},
		{"no ca file", nil, false, false},
		{"insecure", []string{"--insecure-skip-verify"}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, lines, exited := startProxyProcess(t, append([]string{"--upstream", wss, "--admin", "off"}, c.args...)...)
			url, before := waitProxyURL(t, lines)
			warned := len(before) == 1 && strings.Contains(before[0], "warning: --insecure-skip-verify")
			if warned != c.warning || len(before) > 1 {
				t.Errorf("stderr before the proxy line: %q; want a warning: %v", before, c.warning)
			}
			d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
			ws, resp, err := d.Dial(url, nil)
			switch {
			case c.ok && err != nil:
				t.Fatalf("dial through the proxy: %v", err)
			case c.ok:
				defer ws.Close()
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				if err := ws.WriteMessage(websocket.TextMessage, []byte("over TLS")); err != nil {
					t.Fatal(err)
				}
				if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "over TLS" {
					t.Fatalf("echo through the proxy: %q, %v", msg, err)
				}
			case err == nil:
				ws.Close()
				t.Fatal("connected through the proxy to an upstream whose certificate it cannot verify")
			case resp == nil || resp.StatusCode != http.StatusBadGateway:
				t.Errorf("untrusted upstream certificate: %v (response %v), want 502", err, resp)
			}
			stopProxyProcess(t, cmd, lines, exited)
		})
	}
}

// TestProxyCommandStopsWithAHungUpstream: SIGTERM while an upstream
// handshake hangs (TCP accepted, no answer) ends the process well within
// its 5 s grace, not after the 10 s handshake timeout.
func TestProxyCommandStopsWithAHungUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			select {
			case accepted <- c:
			default:
			}
		}
	}()
	cmd, lines, exited := startProxyProcess(t, "--upstream", "ws://"+ln.Addr().String()+"/", "--admin", "off")
	url, _ := waitProxyURL(t, lines)
	go func() {
		d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
		if ws, _, err := d.Dial(url, nil); err == nil {
			ws.Close()
		}
	}()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not connect to the upstream")
	}
	start := time.Now()
	stopProxyProcess(t, cmd, lines, exited)
	// Generous, and still under the 5 s grace the pending handshake used
	// to outlast.
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("wsstorm proxy took %v to exit after SIGTERM with an upstream handshake pending", took)
	}
}
