package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestMain lets tests run this binary as wsstorm itself, in a child process,
// where signals and exit codes are real.
func TestMain(m *testing.M) {
	if os.Getenv("WSSTORM_TEST_MAIN") == "1" {
		// Tests of the limits check set a known open-file limit, so they do
		// not depend on this machine's.
		if n, err := strconv.ParseUint(os.Getenv("WSSTORM_TEST_NOFILE"), 10, 64); err == nil {
			lim := syscall.Rlimit{Cur: n, Max: n}
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				fmt.Fprintln(os.Stderr, "setrlimit:", err)
				os.Exit(99)
			}
		}
		os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// wsstorm runs the command in a child process and returns its exit code and output.
func wsstorm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return wsstormEnv(t, nil, args...)
}

// testMainEnv is the environment of a wsstorm the tests run, this test
// binary as wsstorm (WSSTORM_TEST_MAIN), plus extra. It turns off the race
// detector's sleep at exit (GORACE atexit_sleep_ms, 1000 by default), which
// made each of the package's hundreds of runs a second longer: minutes of
// CI. A race a run finds still fails it, with exit code 66.
func testMainEnv(extra ...string) []string {
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return append(append(os.Environ(), "WSSTORM_TEST_MAIN=1", "GORACE="+gorace), extra...)
}

// wsstormEnv is wsstorm with extra environment variables.
func wsstormEnv(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = testMainEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// small shrinks the default profile's timeline to seconds: three restarts,
// one per node, then a 1000 close of 10%.
var small = []string{
	"--set", "duration=9s", "--set", "fleet.clients=300", "--set", "fleet.ramp=1s",
	"--set", "fleet.reconnect.min=200ms", "--set", "fleet.reconnect.max=800ms",
	"--set", "chaos.0.at=2s", "--set", "chaos.0.interval=2s", "--set", "chaos.0.downtime=500ms",
	"--set", "chaos.1.at=8s",
}

// checkSummary asserts what must hold for any run of the default profile's
// shape: every client accounted for, closes matching events, and no client
// closed with 1000 trying to come back.
func checkSummary(t *testing.T, s *results.Summary) {
	t.Helper()
	if s.Schema != results.SummarySchema || s.Interrupted || !s.Passed {
		t.Fatalf("schema %q interrupted %v passed %v", s.Schema, s.Interrupted, s.Passed)
	}
	var failures int64
	for _, n := range s.Counters.ConnectFailures {
		failures += n
	}
	if c := s.Counters; c.ConnectAttempts != c.Connects+failures {
		t.Errorf("connect_attempts %d != connects %d + failures %d %v", c.ConnectAttempts, c.Connects, failures, c.ConnectFailures)
	}
	var restartAffected int64
	restarts, closes := 0, 0
	for _, e := range s.Events {
		if e.Reconnected+e.NeverReconnected != e.Affected {
			t.Errorf("event %d: reconnected %d + never %d != affected %d", e.Index, e.Reconnected, e.NeverReconnected, e.Affected)
		}
		if e.Affected == 0 {
			t.Errorf("event %d (%s) affected no client", e.Index, e.Action)
		}
		switch e.Action {
		case "rolling_restart":
			restarts++
			if !e.ReconnectExpected {
				t.Errorf("restart event %d: reconnect_expected false", e.Index)
			}
			restartAffected += e.Affected
			if e.NeverReconnected != 0 || e.T100S == nil {
				t.Errorf("restart event %d: %d never reconnected", e.Index, e.NeverReconnected)
			}
		case "close":
			closes++
			if e.ReconnectExpected {
				t.Errorf("a 1000 close event says its clients are expected back")
			}
			if e.Code != 1000 || e.Affected != s.Counters.Closes[1000] {
				t.Errorf("close event: code %d affected %d, closes[1000] = %d", e.Code, e.Affected, s.Counters.Closes[1000])
			}
			if e.AttemptsPerClient != 0 || e.Reconnected != 0 {
				t.Errorf("clients closed with 1000 tried to come back: %.3f attempts each, %d reconnected", e.AttemptsPerClient, e.Reconnected)
			}
		}
	}
	if restarts != 3 || closes != 1 {
		t.Fatalf("events: %d restarts, %d closes; want 3 and 1", restarts, closes)
	}
	if got := s.Counters.Closes[1012]; got != restartAffected {
		t.Errorf("closes[1012] = %d, want the restarts' affected sum %d", got, restartAffected)
	}
	if s.PeakConnected != int64(s.Clients) {
		t.Errorf("peak connected %d, want all %d clients", s.PeakConnected, s.Clients)
	}
	if s.Counters.Reconnects != restartAffected {
		t.Errorf("reconnects %d, want %d", s.Counters.Reconnects, restartAffected)
	}
	if s.Target == nil || len(s.Target.Nodes) != 3 {
		t.Fatalf("target side missing: %+v", s.Target)
	}
	var end int64
	for _, n := range s.Target.Nodes {
		end += n.ConnectionsEnd
	}
	if want := int64(s.Clients) - s.Counters.Closes[1000]; end != want {
		t.Errorf("server holds %d connections at the end, want %d", end, want)
	}
}

func TestRunSmallDefault(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := wsstorm(t, append([]string{"run", "--out", dir}, small...)...)
	if code != exitPassed {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"reconnect", "rolling_restart node 0", "results: " + dir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{results.SummaryFile, results.HistogramsFile, results.TimeseriesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, s)
	// The client side's series ends where the server side stood at the end.
	csv, err := os.ReadFile(filepath.Join(dir, results.TimeseriesFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")
	last := strings.Split(rows[len(rows)-1], ",")
	var serverEnd int64
	for _, n := range s.Target.Nodes {
		serverEnd += n.ConnectionsEnd
	}
	if got := last[1]; got != strconv.FormatInt(serverEnd, 10) {
		t.Errorf("last series row has connected=%s, the target held %d connections", got, serverEnd)
	}
	if len(s.Profile.SHA256) != 64 || s.Profile.Path != "(built-in)" || len(s.Profile.Overrides) != len(small)/2 || s.Profile.Overrides[0] != "duration=9s" {
		t.Errorf("profile ref = %+v", s.Profile)
	}
}

// TestDefaultRunSummary checks the summary of a full default run made by the
// README's run command; .ci/run sets WSSTORM_SUMMARY after that run.
func TestDefaultRunSummary(t *testing.T) {
	path := os.Getenv("WSSTORM_SUMMARY")
	if path == "" {
		t.Skip("WSSTORM_SUMMARY not set: .ci/run sets it after running the README's run command")
	}
	s, err := results.ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Clients < 2000 || s.Profile.Name != "default" {
		t.Fatalf("not the default profile: %d clients, name %q", s.Clients, s.Profile.Name)
	}
	checkSummary(t, s)
}

// TestJitterLowersPeak runs the two shipped jitter profiles, cut down to one
// restart, and checks that without jitter the herd comes back harder.
func TestJitterLowersPeak(t *testing.T) {
	if testing.Short() {
		t.Skip("two 45 s-profile runs shortened (~12 s): the full suite runs it")
	}
	peak := map[string]float64{}
	for _, name := range []string{"no-jitter", "full-jitter"} {
		dir := t.TempDir()
		args := []string{"run", filepath.Join("..", "..", "profiles", name+".toml"), "--out", dir,
			"--set", "duration=6s", "--set", "fleet.clients=300", "--set", "fleet.ramp=500ms",
			"--set", "chaos.0.at=1500ms", "--set", "chaos.0.nodes=[0]", "--set", "chaos.1.at=5500ms"}
		code, _, stderr := wsstorm(t, args...)
		if code != exitPassed {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		s, err := results.ReadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		e := s.Events[0]
		if e.Action != "rolling_restart" || e.Affected < 50 || e.NeverReconnected != 0 {
			t.Fatalf("%s: restart event %+v", name, e)
		}
		peak[name] = e.PeakAttemptRate
	}
	t.Logf("peak attempt rate: no-jitter %.0f/s, full-jitter %.0f/s", peak["no-jitter"], peak["full-jitter"])
	if peak["no-jitter"] < 2*peak["full-jitter"] {
		t.Fatalf("no-jitter peak %.0f/s is not well above full-jitter's %.0f/s", peak["no-jitter"], peak["full-jitter"])
	}
}

func TestInterruptWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("a run interrupted by a signal (~6 s): the full suite runs it")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { testInterrupt(t, sig) })
	}
}

func testInterrupt(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{"run", "--out", dir}, append(small, "--set", "duration=60s", "--set", "chaos.1.at=50s")...)...)
	cmd.Env = testMainEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // ramped, one restart under way
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("run did not stop within 20s of SIGINT\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
	}
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || s.Passed || s.DurationS > 10 || s.Counters.Connects < 300 {
		t.Fatalf("interrupted %v passed %v duration %.1fs connects %d", s.Interrupted, s.Passed, s.DurationS, s.Counters.Connects)
	}
	if s.PeakConnected != 300 || len(s.Events) == 0 {
		t.Fatalf("peak connected %d, %d events: the run's first seconds were not recorded", s.PeakConnected, len(s.Events))
	}
}

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("duration = \"45s\"\n[fleet]\nclinets = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, exitUsage, "Commands:"},
		{"unknown command", []string{"storm"}, exitUsage, `unknown command "storm"`},
		{"version", []string{"version"}, exitPassed, ""},
		{"version with an argument", []string{"version", "extra"}, exitUsage, "no arguments"},
		{"unwritable --out", []string{"run", "--out", "/proc/wsstorm-nope"}, exitCannotRun, "cannot write results"},
		{"validate shipped", []string{"validate", "../../profiles/default.toml", "../../profiles/no-jitter.toml"}, exitPassed, ""},
		{"validate bad", []string{"validate", bad}, exitUsage, bad + ":3"},
		{"run bad profile", []string{"run", bad}, exitUsage, "clinets"},
		{"run missing file", []string{"run", "nope.toml"}, exitUsage, "nope.toml"},
		{"run bad --set", []string{"run", "--set", "fleet.clients=-1"}, exitUsage, "fleet.clients"},
		{"run unknown flag", []string{"run", "--bogus"}, exitUsage, "bogus"},
		{"run two profiles", []string{"run", "a.toml", "b.toml"}, exitUsage, "one profile"},
		{"too many clients for one source address", []string{"run", "--set", "fleet.clients=900000"}, exitCannotRun, "source ports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := wsstorm(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr:\n%s", code, tc.code, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Fatalf("stack trace shown:\n%s", stderr)
			}
			if tc.code == exitCannotRun && strings.Contains(stderr, "running profile") {
				t.Fatalf("the run started before the limits were checked:\n%s", stderr)
			}
		})
	}
}

// TestResultsUnwritableAfterRun: the results directory was fine when the run
// started but is gone when the files are written (as with a full disk or a
// removed mount). The run says so, exits 3, prints the summary to stdout
// and writes its files to a fallback directory under $TMPDIR, naming each,
// so nothing measured is lost.
func TestResultsUnwritableAfterRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "--out", dir, "--set", "duration=3s", "--set", "fleet.clients=50",
		"--set", "fleet.ramp=100ms", "--set", "chaos=[]")
	cmd.Env = testMainEnv("TMPDIR=" + tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the pre-run check has passed
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitCannotRun {
		t.Fatalf("exit %d (%v), want %d\n%s", code, err, exitCannotRun, stderr.String())
	}
	fallbacks, _ := filepath.Glob(filepath.Join(tmp, "wsstorm-default-*"))
	if len(fallbacks) != 1 {
		t.Fatalf("fallback directories %q, want one\n%s", fallbacks, stderr.String())
	}
	fallback := fallbacks[0]
	for _, want := range []string{
		"wsstorm: wrote summary.json to " + filepath.Join(fallback, "summary.json") + " instead: create results directory: mkdir " + dir + ": ",
		"wsstorm: wrote histograms.hlog to " + filepath.Join(fallback, "histograms.hlog") + " instead: ",
		"wsstorm: the results in " + dir + " are incomplete (what they lack is in " + fallback + "): make room on its filesystem, or choose another directory with --out",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if s, err := results.ReadSummary(fallback); err != nil || s.Clients != 50 {
		t.Errorf("no summary in the fallback: %v", err)
	}
	for _, want := range []string{"latency (ms)", "connect", "50 clients"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary not printed (missing %q):\n%s", want, stdout.String())
		}
	}
}

// TestSecretsNeverWritten: a token taken from the environment reaches the
// server but appears in no output and no results file, even when given again
// on the command line.
func TestSecretsNeverWritten(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	seen := make(chan string, 64)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Header.Get("Authorization"):
		default:
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	prof := filepath.Join(t.TempDir(), "external.toml")
	body := fmt.Sprintf(`name = "external"
duration = "2s"
[target]
mode = "external"
url = "ws://user:${WS_TOKEN}@%s/socket?token=${WS_TOKEN}"
headers = { Authorization = "Bearer ${WS_TOKEN}" }
[fleet]
clients = 5
ramp = "100ms"
`, host)
	if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(os.Args[0], "run", prof, "--out", dir, "--set", "target.headers.X-Api-Key="+token)
	cmd.Env = testMainEnv("WS_TOKEN=" + token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	select {
	case got := <-seen:
		if got != "Bearer "+token {
			t.Fatalf("server saw Authorization %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server saw no handshake")
	}
	if strings.Contains(stdout.String(), token) || strings.Contains(stderr.String(), token) {
		t.Fatalf("token printed:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) < 3 {
		t.Fatalf("results: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(token)) {
			t.Fatalf("%s contains the token", f.Name())
		}
	}
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counters.Connects < 5 || s.Target != nil || len(s.Profile.Overrides) != 1 || !strings.Contains(s.Profile.Overrides[0], "[redacted]") {
		t.Fatalf("connects %d, target %v, overrides %v", s.Counters.Connects, s.Target, s.Profile.Overrides)
	}

	// A variable that is not set is a profile error.
	cmd = exec.Command(os.Args[0], "validate", prof)
	cmd.Env = slices.DeleteFunc(testMainEnv(), func(e string) bool { return strings.HasPrefix(e, "WS_TOKEN=") })
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitUsage || !strings.Contains(string(out), "WS_TOKEN") {
		t.Fatalf("unset variable: exit %d, %v\n%s", cmd.ProcessState.ExitCode(), err, out)
	}
}

// TestSecondSignalExitsAtOnce: a second Ctrl-C ends the process at once;
// results files are then complete or absent, never half-written.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], append([]string{"run", "--out", dir}, append(small, "--set", "duration=60s", "--set", "chaos.1.at=50s")...)...)
	cmd.Env = testMainEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("a second SIGINT did not end the process")
	}
	t.Logf("ended %v after the second signal, exit %d", time.Since(start), cmd.ProcessState.ExitCode())
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == results.SummaryFile {
			if _, err := results.ReadSummary(dir); err != nil {
				t.Fatalf("summary.json is there but not complete: %v", err)
			}
		}
	}
}

// TestUnreachableTarget: when no client could ever connect, the run could not
// be carried out: exit 3, with the results still written.
func TestUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	prof := filepath.Join(t.TempDir(), "gone.toml")
	body := fmt.Sprintf("duration = \"1s\"\n[target]\nmode = \"external\"\nurl = \"ws://%s/\"\n[fleet]\nclients = 3\nramp = \"0s\"\n", addr)
	if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := wsstorm(t, "run", prof, "--out", dir)
	if code != exitCannotRun || !strings.Contains(stderr, "no client could connect") || !strings.Contains(stderr, "refused=") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := results.ReadSummary(dir); err != nil {
		t.Fatalf("results not written: %v", err)
	}
}

// TestTooManyClientsForFiles: with an open-file limit of 4096, 3000 clients
// and the embedded target do not fit; the run says so and exits 3 before
// creating or dialing anything.
func TestTooManyClientsForFiles(t *testing.T) {
	never := filepath.Join(t.TempDir(), "never")
	code, _, stderr := wsstormEnv(t, []string{"WSSTORM_TEST_NOFILE=4096"}, "run", "--out", never, "--set", "fleet.clients=3000")
	want := "3000 clients need about 6064 open files (one for each client and one for the embedded target's end), but this process may open 4096: set fleet.clients to at most 2016"
	if code != exitCannotRun || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "running profile") {
		t.Fatalf("the run started before the limits were checked:\n%s", stderr)
	}
	if _, err := os.Stat(never); err == nil {
		t.Fatal("the results directory was created")
	}
}

// TestThresholdsGateTheExitCode: the same short run passes (exit 0) with
// thresholds it meets and fails (exit 1) with one it misses; each verdict is
// printed and recorded.
func TestThresholdsGateTheExitCode(t *testing.T) {
	base := []string{"--set", "duration=2s", "--set", "fleet.clients=20", "--set", "fleet.ramp=200ms", "--set", "chaos=[]"}
	for _, tc := range []struct {
		name       string
		thresholds string
		code       int
		failing    string
	}{
		{"met", `{"connects" = ">= 20", "connect.p99" = "< 5s", "connect_failures" = "< 1%"}`, exitPassed, ""},
		{"missed", `{"connects" = ">= 20", "reconnects" = "> 0"}`, exitFailed, "reconnects > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			junit := filepath.Join(t.TempDir(), "junit.xml")
			// A profile without thresholds of its own: --set merges into the table.
			prof := filepath.Join("..", "..", "profiles", "no-jitter.toml")
			args := append([]string{"run", prof, "--out", dir, "--junit", junit, "--set", "thresholds=" + tc.thresholds}, base...)
			code, stdout, stderr := wsstorm(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, "thresholds\n") || !strings.Contains(stdout, "connects >= 20   (measured 20)") {
				t.Errorf("verdicts not printed:\n%s", stdout)
			}
			s, err := results.ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			if s.Passed != (tc.code == exitPassed) {
				t.Errorf("passed = %v", s.Passed)
			}
			for _, th := range s.Thresholds {
				if th.OK == (th.Expr == tc.failing) {
					t.Errorf("threshold %+v", th)
				}
			}
			x, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			wantFailures := map[bool]string{true: `failures="0"`, false: `failures="1"`}[tc.failing == ""]
			if !strings.Contains(string(x), "<testsuites") || !strings.Contains(string(x), wantFailures) {
				t.Errorf("junit file:\n%s", x)
			}
		})
	}
}

// writeSummary writes a minimal summary.json of profile name with the given
// reconnect p99 (ms) into a new directory and returns it.
func writeSummary(t *testing.T, name string, p99 float64, change ...func(*results.Summary)) string {
	t.Helper()
	dir := t.TempDir()
	s := results.Summary{
		Schema:   results.SummarySchema,
		Profile:  results.ProfileRef{Name: name, SHA256: "0123456789abcdef", Overrides: []string{}},
		Counters: results.CounterSummary{ConnectFailures: map[string]int64{}, Closes: map[int]int64{}},
		Events:   []results.EventSummary{},
	}
	s.LatencyMS.Reconnect = results.LatencySummary{Count: 10, P50: &p99, P90: &p99, P99: &p99}
	for _, c := range change {
		c(&s)
	}
	b, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.SummaryFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareExitCodes(t *testing.T) {
	base := writeSummary(t, "default", 1000)
	same := writeSummary(t, "default", 1050)
	worse := writeSummary(t, "default", 1500)
	other := writeSummary(t, "no-jitter", 1000)
	edited := writeSummary(t, "default", 1000, func(s *results.Summary) { s.Profile.SHA256 = "fedcba9876543210" })
	overridden := writeSummary(t, "default", 1000, func(s *results.Summary) { s.Profile.Overrides = []string{"fleet.clients=10"} })
	interrupted := writeSummary(t, "default", 1000, func(s *results.Summary) { s.Interrupted = true })
	if code, _, stderr := wsstorm(t, "compare", base, interrupted); code != exitPassed || !strings.Contains(stderr, "the new run was interrupted") {
		t.Errorf("interrupted new run: exit %d, stderr:\n%s", code, stderr)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout, or in stderr for exit 2
	}{
		{"within tolerance", []string{base, same}, exitPassed, "no regression"},
		{"regression", []string{base, worse}, exitFailed, "REGRESSION"},
		{"regression tolerated", []string{base, worse, "--tolerance", "reconnect.p99=+60%", "--tolerance", "reconnect.p90=+600ms", "--tolerance", "reconnect.p50=+50%"}, exitPassed, "no regression"},
		{"markdown", []string{base, worse, "--format", "markdown"}, exitFailed, "| `reconnect.p99` | 1000ms | 1500ms | +50.0% | +10% | **REGRESSION** (beyond +10% and noise ±20ms) |"},
		{"json", []string{base, worse, "--format", "json"}, exitFailed, `"regressions": 3`},
		{"different profiles", []string{base, other}, exitUsage, "different profiles"},
		{"different profiles forced", []string{base, other, "--force"}, exitPassed, "no regression"},
		{"another version of the profile", []string{base, edited}, exitUsage, `two versions of "default": sha256 0123456789ab and fedcba987654`},
		{"different overrides", []string{base, overridden}, exitUsage, `different --set overrides: [] and ["fleet.clients=10"]`},
		{"different overrides forced", []string{base, overridden, "--force"}, exitPassed, "no regression"},
		{"unknown tolerance metric", []string{base, same, "--tolerance", "reconnect.p95=+5%"}, exitUsage, "with a metric among"},
		{"bad tolerance", []string{base, same, "--tolerance", "reconnect.p99=lots"}, exitUsage, "not a tolerance"},
		{"missing result", []string{base, filepath.Join(t.TempDir(), "nope")}, exitUsage, "new:"},
		{"one result", []string{base}, exitUsage, "name two results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := wsstorm(t, append([]string{"compare"}, tc.args...)...)
			out := stdout
			if tc.code == exitUsage {
				out = stderr
			}
			if code != tc.code || !strings.Contains(out, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
		})
	}
}

func TestCompareJUnit(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "compare.xml")
	code, _, stderr := wsstorm(t, "compare", writeSummary(t, "default", 1000), writeSummary(t, "default", 1500), "--junit", junit)
	x, err := os.ReadFile(junit)
	if code != exitFailed || err != nil || !strings.Contains(string(x), `<testcase name="reconnect.p99" classname="wsstorm.compare">`) {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, stderr, x)
	}
}

// TestCompareProfileTolerances checks that a profile's [compare] table sets
// the tolerances, from --profile or from the profile.toml a run wrote into
// NEW's directory, and that flags override the table.
func TestCompareProfileTolerances(t *testing.T) {
	base := writeSummary(t, "default", 1000)
	worse := writeSummary(t, "default", 1500)
	table := func(dir, src string) string {
		path := filepath.Join(dir, "gate.toml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	loose := table(t.TempDir(), "[compare]\ndefault = \"+60%\"\n")
	tight := table(t.TempDir(), "[compare]\ndefault = \"+60%\"\n\"reconnect.p99\" = \"+5%\"\n")
	bad := table(t.TempDir(), "[compare]\n\"reconect.p99\" = \"+5%\"\n")
	// A run directory carrying its profile as profile.toml.
	withProfile := writeSummary(t, "default", 1500)
	if err := os.WriteFile(filepath.Join(withProfile, results.ProfileFile), []byte("[compare]\ndefault = \"+60%\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string // in stdout, or in stderr for exit 2
	}{
		{"table default", []string{base, worse, "--profile", loose}, exitPassed, "no regression"},
		{"table per metric", []string{base, worse, "--profile", tight}, exitFailed, "| `reconnect.p99` | 1000ms | 1500ms | +50.0% | +5% | **REGRESSION** (beyond +5% and noise ±20ms) |"},
		{"flag beats table", []string{base, worse, "--profile", tight, "--tolerance", "reconnect.p99=+50%"}, exitPassed, "no regression"},
		{"flag default beats table", []string{base, worse, "--profile", loose, "--default-tolerance", "+10%"}, exitFailed, "REGRESSION"},
		{"profile.toml of NEW", []string{base, withProfile}, exitPassed, "no regression"},
		{"--profile beats profile.toml", []string{base, withProfile, "--profile", tight}, exitFailed, "REGRESSION"},
		{"bad table", []string{base, worse, "--profile", bad}, exitUsage, `compare."reconect.p99": is not a metric a comparison knows; did you mean "reconnect.p99"?`},
		{"missing profile", []string{base, worse, "--profile", filepath.Join(t.TempDir(), "nope.toml")}, exitUsage, "cannot read the profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := wsstorm(t, append([]string{"compare", "--format", "markdown"}, tc.args...)...)
			out := stdout
			if tc.code == exitUsage {
				out = stderr
			}
			if code != tc.code || !strings.Contains(out, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
		})
	}
}
