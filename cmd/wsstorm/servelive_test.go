package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartNode restarts node 0 of a served target through its admin API, at
// once and for 100 ms, and returns when it is back.
func restartNode(t *testing.T, admin string) {
	t.Helper()
	resp, err := http.Post(admin+"nodes/0/restart?downtime=100ms", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("restart: %s", resp.Status)
	}
}

// TestServeNotATerminal: when stderr is not a terminal (a pipe here, as in
// CI), serve writes the lines it always wrote and nothing else — no status,
// no escape sequences — however long it runs and whatever its nodes do;
// /status counts the node's restart.
func TestServeNotATerminal(t *testing.T) {
	t.Parallel()
	s := startServe(t, "--nodes", "2")
	c := dialServe(t, s.url, 1)
	restartNode(t, s.admin)
	resp, err := http.Get(s.admin + "status")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Nodes []struct {
			Restarts int64 `json:"restarts"`
		} `json:"nodes"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || len(st.Nodes) != 2 || st.Nodes[0].Restarts != 1 || st.Nodes[1].Restarts != 0 {
		t.Errorf("/status: %+v %v, want node 0 restarted once", st, err)
	}
	// Longer than a terminal's interval: a status would have been drawn.
	time.Sleep(1500 * time.Millisecond)
	if code := s.stop(t, syscall.SIGTERM); code != exitPassed {
		t.Fatalf("exit %d:\n%s", code, s.output())
	}
	c.closeCode(t)
	want := regexp.MustCompile(`^wsstorm serve: 2 nodes at ws://127\.0\.0\.1:\d+/\n` +
		`wsstorm serve: admin at http://127\.0\.0\.1:\d+/\n` +
		`wsstorm serve: stopping: closing [01] connections with 1001 \(going away\)\n$`)
	if out := s.output(); !want.MatchString(out) {
		t.Errorf("stderr is not today's three lines:\n%q", out)
	}
}

// TestServeOnATerminal: with stderr on a terminal (a pseudo-terminal here),
// serve draws its nodes in place: the time, the nodes by state, a row per
// node with its connections, rates and restarts, and their total; the
// lines for people go above it, and the status is cleared before serve
// says it stops. --quiet turns it off.
func TestServeOnATerminal(t *testing.T) {
	t.Parallel()
	for _, quiet := range []bool{false, true} {
		args := []string{"serve", "--nodes", "2"}
		if quiet {
			args = append(args, "--quiet")
		}
		out := serveOnPTY(t, args, func(admin string, out func() string) {
			restartNode(t, admin)
			if quiet {
				time.Sleep(1500 * time.Millisecond) // a status would have been drawn
				return
			}
			row := regexp.MustCompile(`wsstorm serve: 0     up\s+\d+\s+\S+\s+\S+\s+1\r?\n`)
			waitFor(t, "node 0's row with its restart", func() bool { return row.MatchString(out()) })
		})
		switch {
		case quiet && strings.Contains(out, "\x1b"):
			t.Errorf("--quiet: status drawn:\n%q", out)
		case !quiet && (!strings.Contains(out, "wsstorm serve: serving ") || !strings.Contains(out, "wsstorm serve: node  state     connections  accepts/s  refusals/s  restarts") ||
			!strings.Contains(out, "\x1b[2Kwsstorm serve: stopping: closing")):
			t.Errorf("no status, or not cleared before the last line:\n%q", out)
		}
	}
}

// waitFor polls cond until it holds, failing after serveTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(serveTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveOnPTY runs `wsstorm args...` with stderr on a pseudo-terminal, calls
// during with the admin URL and the output so far, stops the process with
// SIGTERM and returns all it wrote.
func serveOnPTY(t *testing.T, args []string, during func(admin string, out func() string)) string {
	t.Helper()
	master, slave := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = testMainEnv("TERM=xterm")
	cmd.Stderr = slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds it
	var buf syncBuffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			buf.Write(b[:n])
			if err != nil { // EIO once the child has exited
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-read
	})
	adminRE := regexp.MustCompile(`admin at (http://\S+/)`)
	waitFor(t, "the admin line", func() bool { return adminRE.MatchString(buf.String()) })
	during(adminRE.FindStringSubmatch(buf.String())[1], buf.String)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("%v: %v\n%q", args, err, buf.String())
		}
	case <-time.After(serveTimeout):
		t.Fatalf("%v still running after SIGTERM", args)
	}
	<-read
	return buf.String()
}
