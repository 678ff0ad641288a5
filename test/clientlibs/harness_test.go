package clientlibs_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestClientLibraries is the differential test of wsstorm's client presets
// against the libraries themselves: for each library, its real clients
// (Node or Python) and wsstorm's (the binary, a generated profile with
// fleet.protocol and fleet.client, as a user runs it) go through the same
// script of closes and refusals on the same scripted server at once, and
// their delays and decisions must agree (check_test.go). The libraries run
// side by side, each on a loopback port of its own.
//
// Environment: WSSTORM_REQUIRE_REAL=1 fails instead of skipping when Node,
// the npm packages or Python's websockets 10.4 are missing;
// WSSTORM_CLIENTLIBS_TABLE=FILE writes the table of quantiles there and
// WSSTORM_CLIENTLIBS_SAMPLES=DIR every delay, a CSV file per library;
// WSSTORM_CLIENTLIBS=name,... runs those presets only and
// WSSTORM_CLIENTLIBS_LIBRARY_ONLY=1 the libraries' side only (development
// aids).
func TestClientLibraries(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector slows the server that times every attempt: .ci/run runs this test without it")
	}
	if testing.Short() {
		t.Skip("runs every client library for about three minutes")
	}
	libs := selected(t, libraries())
	env, why := findPrerequisites(libs)
	if why != "" {
		if os.Getenv("WSSTORM_REQUIRE_REAL") == "1" {
			t.Fatalf("%s (WSSTORM_REQUIRE_REAL=1: .ci/run installs them)", why)
		}
		t.Skip(why)
	}
	// The libraries alone, checked against their formulas: a development
	// aid for a library's new version, before its preset follows.
	libraryOnly := os.Getenv("WSSTORM_CLIENTLIBS_LIBRARY_ONLY") == "1"
	if !libraryOnly {
		env.wsstorm = buildWsstorm(t)
	}
	began := time.Now()
	lag := watchLag()
	defer lag.stop()
	runs := make([]*libRun, len(libs))
	var wg sync.WaitGroup
	for i, lib := range libs {
		wg.Go(func() { runs[i] = runLibrary(lib, env, t.TempDir(), libraryOnly) })
	}
	wg.Wait()
	t.Logf("all libraries ran in %v", time.Since(began).Round(time.Second))
	worst, when := lag.worst()
	t.Logf("this process's timers fired at most %v late (%v into the run)", worst.Round(time.Millisecond), when.Round(time.Second))
	if worst > 250*time.Millisecond {
		t.Logf("the machine stalled this process for %v: delays late by about as much are the machine's, not a library's", worst.Round(time.Millisecond))
	}
	rows := check(t, runs)
	table := renderTable(rows)
	t.Log("\n" + table)
	if path := os.Getenv("WSSTORM_CLIENTLIBS_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
	if dir := os.Getenv("WSSTORM_CLIENTLIBS_SAMPLES"); dir != "" {
		for _, r := range runs {
			if err := writeSamples(dir, r); err != nil {
				t.Error(err)
			}
		}
	}
}

// writeSamples writes every delay of r to DIR/<library>.csv: side, client,
// event, step (0 the close, k the k-th refusal), delay in ms.
func writeSamples(dir string, r *libRun) error {
	var b strings.Builder
	b.WriteString("side,client,event,step,delay_ms\n")
	for _, s := range r.samples {
		fmt.Fprintf(&b, "%c,%d,%s,%d,%.3f\n", s.side, s.client, s.event, s.k, float64(s.delay)/float64(time.Millisecond))
	}
	name := strings.NewReplacer("@", "_", "/", "_").Replace(r.lib.preset) + ".csv"
	return os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644)
}

// lagWatch measures how late this process's timers fire: a machine too
// busy for the harness shows there, and it explains delays late by as much.
type lagWatch struct {
	mu    sync.Mutex
	max   time.Duration
	at    time.Duration
	start time.Time
	done  chan struct{}
}

func watchLag() *lagWatch {
	w := &lagWatch{start: time.Now(), done: make(chan struct{})}
	const every = 20 * time.Millisecond
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		prev := time.Now()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				now := time.Now()
				w.mu.Lock()
				if late := now.Sub(prev) - every; late > w.max {
					w.max, w.at = late, now.Sub(w.start)
				}
				w.mu.Unlock()
				prev = now
			}
		}
	}()
	return w
}

func (w *lagWatch) stop() { close(w.done) }

func (w *lagWatch) worst() (time.Duration, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.max, w.at
}

// Limits: a library's script ends within scriptLimit (the slowest,
// ActionCable's, takes about 3 minutes), and its processes within
// stopLimit of being told to stop.
const (
	scriptLimit = 5 * time.Minute
	stopLimit   = 20 * time.Second
	rampTime    = 15 * time.Second // spreads the first closes too
)

// environment is where the runners and wsstorm are.
type environment struct {
	nodeDir string // test/real/node, with node_modules
	python  string // a Python 3 with websockets 10.4
	wsstorm string // the binary built for this test
}

// selected returns the libraries WSSTORM_CLIENTLIBS names, or all of them.
func selected(t *testing.T, all []library) []library {
	names := os.Getenv("WSSTORM_CLIENTLIBS")
	if names == "" {
		return all
	}
	var out []library
	for name := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(all, func(l library) bool { return l.preset == name || l.lib == name })
		if i < 0 {
			t.Fatalf("WSSTORM_CLIENTLIBS: no library %q", name)
		}
		out = append(out, all[i])
	}
	return out
}

func repoRoot() string {
	wd, _ := os.Getwd() // go test runs in the package's directory
	return filepath.Dir(filepath.Dir(wd))
}

// findPrerequisites finds Node with the pinned packages and a Python with
// websockets 10.4, and says what is missing.
func findPrerequisites(libs []library) (environment, string) {
	env := environment{nodeDir: filepath.Join(repoRoot(), "test", "real", "node")}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (Node.js 20 or later)")
	}
	for _, pkg := range []string{"ws", "socket.io-client", "phoenix", "@microsoft/signalr", "centrifuge", "graphql-ws", "reconnecting-websocket", "@rails/actioncable"} {
		if _, err := os.Stat(filepath.Join(env.nodeDir, "node_modules", pkg, "package.json")); err != nil {
			missing = append(missing, "npm package "+pkg+" (npm ci in test/real/node)")
		}
	}
	if slices.ContainsFunc(libs, func(l library) bool { return l.runner == "python" }) {
		// Debian's python3 first: a Python of pyenv's or a venv's before it
		// on PATH has no python3-websockets.
		for _, py := range []string{"/usr/bin/python3", "python3"} {
			out, err := exec.Command(py, "-c", "import websockets; print(websockets.__version__)").Output()
			if err == nil && strings.TrimSpace(string(out)) == "10.4" {
				env.python = py
				break
			}
		}
		if env.python == "" {
			missing = append(missing, "Python's websockets 10.4 (Debian package python3-websockets)")
		}
	}
	if len(missing) > 0 {
		return env, "missing: " + strings.Join(missing, ", ")
	}
	return env, ""
}

// buildWsstorm builds the binary without the race detector, as users run it.
func buildWsstorm(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wsstorm")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/wsstorm")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wsstorm: %v\n%s", err, out)
	}
	return path
}

// libRun is what one library's run left: the server's records and what
// went wrong around them.
type libRun struct {
	lib        library
	sides      []byte // 'L', and 'W' but with libraryOnly
	samples    []sample
	decisions  []decision
	anomalies  []string
	unfinished map[byte]int
	failures   []string // processes that failed, a script that did not end
	loopLag    string   // how late the runner's event loop ran, as it said
	wall       time.Duration
	// The seeds, logged so that a failing run can be replayed: the
	// server's (how long it holds each connection) and the profile's
	// (wsstorm's clients' draws).
	serverSeed  uint64
	profileSeed int64
}

// clientCount is how many clients each side runs.
func (l library) clientCount() int {
	n := 0
	for _, p := range l.pools {
		n += p.clients
	}
	return n
}

// runLibrary runs lib's clients and wsstorm's through the script (the
// library's alone with libraryOnly).
func runLibrary(lib library, env environment, dir string, libraryOnly bool) *libRun {
	sides := []byte{'L', 'W'}
	if libraryOnly {
		sides = sides[:1]
	}
	r := &libRun{lib: lib, sides: sides, serverSeed: uint64(time.Now().UnixNano()), profileSeed: time.Now().UnixNano() % 1_000_000}
	began := time.Now()
	defer func() { r.wall = time.Since(began) }()
	srv, err := newServer(serverConfig{
		protocol: lib.protocol, wsProtocol: wsServerProtocol(lib), pools: lib.pools, hold: lib.hold,
		refusals: refusals, waitStop: lib.longest + stopSlack, sides: sides,
		seed: r.serverSeed,
	})
	if err != nil {
		r.failures = append(r.failures, err.Error())
		return r
	}
	defer srv.close()
	var procs []*process
	for _, side := range sides {
		start := startLibrary
		if side == 'W' {
			start = startWsstorm
		}
		p, err := start(lib, env, srv.addr(), dir, r.profileSeed)
		if err != nil {
			r.failures = append(r.failures, err.Error())
			continue
		}
		procs = append(procs, p)
	}
	if len(procs) == len(sides) {
		r.failures = append(r.failures, waitScript(srv, procs)...)
	}
	for _, p := range procs {
		if err := p.stop(); err != nil {
			r.failures = append(r.failures, err.Error())
		}
		for line := range strings.SplitSeq(p.report(), "\n") {
			if strings.HasPrefix(line, "loop lag:") {
				r.loopLag = strings.TrimPrefix(line, "loop lag: ")
			}
		}
	}
	r.samples, r.decisions, r.anomalies, r.unfinished = srv.results()
	return r
}

// wsServerProtocol is what the server speaks to wsstorm's clients: the
// library's protocol when wsstorm has a preset for it, plain WebSocket when
// not (wsstorm then opens a bare WebSocket and is connected at the upgrade).
func wsServerProtocol(lib library) string {
	if lib.wsProtocol == "" {
		return "plain"
	}
	return lib.protocol
}

// waitScript waits until the server's script is over, or a process ended
// before it, or scriptLimit passed.
func waitScript(srv *server, procs []*process) []string {
	ended := make(chan *process, len(procs))
	for _, p := range procs {
		go func() {
			<-p.exited
			ended <- p
		}()
	}
	timer := time.NewTimer(scriptLimit)
	defer timer.Stop()
	select {
	case <-srv.done():
		return nil
	case p := <-ended:
		return []string{p.name + " ended before the script did: " + p.report()}
	case <-timer.C:
		return []string{fmt.Sprintf("the script did not end within %v", scriptLimit)}
	}
}

// startLibrary starts the library's runner with its clients L0, L1, ...
func startLibrary(lib library, env environment, addr, _ string, _ int64) (*process, error) {
	limit := scriptLimit + stopLimit
	var cmd *exec.Cmd
	switch lib.runner {
	case "node":
		cmd = exec.Command("node", "reconnect-runner.js", "--lib", lib.lib, "--url", "ws://"+addr,
			"--clients", strconv.Itoa(lib.clientCount()), "--prefix", "L",
			"--ramp-ms", strconv.Itoa(int(rampTime.Milliseconds())), "--duration-ms", strconv.Itoa(int(limit.Milliseconds())))
		cmd.Dir = env.nodeDir
	case "python":
		wd, _ := os.Getwd()
		cmd = exec.Command(env.python, filepath.Join(wd, "websockets_runner.py"), "--url", "ws://"+addr+"/ws",
			"--clients", strconv.Itoa(lib.clientCount()), "--prefix", "L",
			"--ramp-s", strconv.Itoa(int(rampTime.Seconds())), "--duration-s", strconv.Itoa(int(limit.Seconds())))
	default:
		return nil, fmt.Errorf("%s: no runner %q", lib.preset, lib.runner)
	}
	return startProcess(lib.preset+" runner", cmd, syscall.SIGTERM)
}

// startWsstorm runs `wsstorm run` on a profile made for lib, as a user
// would: its clients W0, W1, ... with fleet.client and fleet.protocol.
func startWsstorm(lib library, env environment, addr, dir string, seed int64) (*process, error) {
	path := filepath.Join(dir, "profile.toml")
	if err := os.WriteFile(path, []byte(profileFor(lib, addr, seed)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(env.wsstorm, "run", path, "--out", filepath.Join(dir, "results"))
	cmd.Dir = dir
	return startProcess("wsstorm ("+lib.preset+")", cmd, syscall.SIGINT)
}

// profileFor is the profile wsstorm's side runs: lib's preset with its
// defaults, its protocol, no messages of its own (the server's script is
// all that happens), and a duration past the script's limit (the harness
// interrupts it once the script is over), seeded with seed.
func profileFor(lib library, addr string, seed int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name = %q\nduration = %q\nseed = %d\n\n", "clientlibs", (scriptLimit + stopLimit).String(), seed)
	fmt.Fprintf(&b, "[target]\nmode = \"external\"\nurl = %q\n\n", "ws://"+addr+lib.wsPath)
	fmt.Fprintf(&b, "[fleet]\nclients = %d\nramp = %q\nclient = %q\n", lib.clientCount(), rampTime.String(), lib.preset)
	if lib.wsProtocol != "" {
		fmt.Fprintf(&b, "protocol = %q\n", lib.wsProtocol)
	}
	b.WriteString("\n[fleet.session]\nsend_interval = \"0s\"\n")
	if lib.wsOptions != "" {
		fmt.Fprintf(&b, "\n[fleet.protocol_options]\n%s\n", lib.wsOptions)
	}
	return b.String()
}

// process is a runner or wsstorm, running.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *tail
	signal syscall.Signal // how it is asked to end
	exited chan struct{}
	err    error // set before exited closes
}

func startProcess(name string, cmd *exec.Cmd, sig syscall.Signal) (*process, error) {
	p := &process{name: name, cmd: cmd, out: &tail{}, signal: sig, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop asks p to end, kills it after stopLimit, and says whether it ended
// as it should: exit 0, or wsstorm's 130 for the interrupt it was sent.
func (p *process) stop() error {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(p.signal)
		select {
		case <-p.exited:
		case <-time.After(stopLimit):
			_ = p.cmd.Process.Kill()
			<-p.exited
			return fmt.Errorf("%s did not end within %v of %v: %s", p.name, stopLimit, p.signal, p.report())
		}
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && p.signal == syscall.SIGINT && ee.ExitCode() == 130 {
		return nil
	}
	if p.err != nil {
		return fmt.Errorf("%s: %v: %s", p.name, p.err, p.report())
	}
	return nil
}

func (p *process) report() string { return strings.TrimSpace(p.out.String()) }

// tail keeps the last 4 KiB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (w *tail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - 4096; over > 0 {
		w.buf = bytes.Clone(w.buf[over:])
	}
	return len(b), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
