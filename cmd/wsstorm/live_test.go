package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// scrape returns the text of GET url, or "" while it cannot be had.
func scrape(url string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// sample returns the value of the exposition line that starts with series
// (a name and its labels), or -1.
func sample(text, series string) float64 {
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return -1
		}
		return v
	}
	return -1
}

// TestMetricsDuringRun scrapes /metrics while a short run with a rolling
// restart goes on: clients are connected and the restarts are counted with
// their action and node. stderr, not a terminal, gets plain status lines.
func TestMetricsDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a run watched through its metrics endpoint (~9 s): the full suite runs it")
	}
	addr := freeAddr(t)
	url := "http://" + addr + "/metrics"
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{"run", "--out", dir, "--metrics-addr", addr}, small...)...)
	cmd.Env = testMainEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Poll until a scrape shows connected clients and the first restart,
	// both during the run (the restarts start 2 s in, every 2 s).
	const restart0 = `wsstorm_chaos_events_total{action="rolling_restart",node="0"}`
	var seen, last string
	for seen == "" {
		select {
		case <-exited:
			t.Fatalf("the run ended (exit %d) before a scrape showed connected clients and a chaos event; last scrape:\n%s\nstderr:\n%s",
				cmd.ProcessState.ExitCode(), last, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if text := scrape(url); text != "" {
			last = text
			if sample(text, "wsstorm_clients_connected") > 0 && sample(text, restart0) > 0 {
				seen = text
			}
		}
	}
	for series, want := range map[string]float64{
		restart0:                       1,
		"wsstorm_clients_target":       300,
		"wsstorm_run_duration_seconds": 9,
	} {
		if got := sample(seen, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, series := range []string{"wsstorm_connects_total", "wsstorm_connect_attempts_total", "wsstorm_run_elapsed_seconds"} {
		if sample(seen, series) <= 0 {
			t.Errorf("%s not above 0 during the run", series)
		}
	}
	if !strings.Contains(seen, "# TYPE wsstorm_reconnect_latency_seconds histogram") {
		t.Error("no reconnect latency histogram")
	}

	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitPassed {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	errText := stderr.String()
	if !strings.Contains(errText, "wsstorm: metrics at "+url+"\n") {
		t.Errorf("stderr does not say where the metrics are:\n%s", errText)
	}
	// Not a terminal: whole plain lines, no control sequences.
	status := regexp.MustCompile(`(?m)^wsstorm: \d+\.\ds/9\.0s  connected \d+/300  attempts [0-9.]+/s  failures [0-9.]+/s.*  chaos: .+$`)
	if !status.MatchString(errText) || strings.ContainsAny(errText, "\r\x1b") {
		t.Errorf("no plain status line in stderr:\n%q", errText)
	}
}

// TestMetricsAddrTaken: when the metrics address is taken the run does not
// start: exit 3 with one line naming the address and what to do.
func TestMetricsAddrTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := wsstorm(t, "run", "--out", out, "--metrics-addr", addr)
	want := "wsstorm: cannot serve metrics on " + addr + ": address already in use; choose another address with --metrics-addr, e.g. 127.0.0.1:"
	if code != exitCannotRun || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the results directory was left behind")
	}
}

// TestRunFlagsUsage: a malformed metrics address is bad usage.
func TestRunFlagsUsage(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"localhost", "want HOST:PORT"},
		{"127.0.0.1:http", "is not a number"},
	} {
		code, _, stderr := wsstorm(t, "run", "--metrics-addr", tc.addr)
		if code != exitUsage || !strings.Contains(stderr, "--metrics-addr") || !strings.Contains(stderr, tc.want) {
			t.Errorf("--metrics-addr %s: exit %d, stderr:\n%s", tc.addr, code, stderr)
		}
	}
}

// TestQuiet: --quiet leaves only the run's own lines in stderr.
func TestQuiet(t *testing.T) {
	if testing.Short() {
		t.Skip("two runs, quiet and not (~6 s): the full suite runs it")
	}
	t.Parallel()
	dir := t.TempDir()
	// A profile without thresholds of its own, so a run without chaos passes.
	prof := filepath.Join("..", "..", "profiles", "no-jitter.toml")
	code, _, stderr := wsstorm(t, "run", prof, "--out", dir, "--quiet",
		"--set", "duration=6s", "--set", "fleet.clients=20", "--set", "fleet.ramp=100ms", "--set", "chaos=[]")
	if code != exitPassed {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "connected ") || strings.Contains(stderr, "chaos: ") {
		t.Errorf("status shown with --quiet:\n%s", stderr)
	}
}
