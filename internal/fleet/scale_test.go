package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// The idle-memory measurements run three processes, all this test binary:
// the target, and a measuring process that holds the clients, either the
// fleet's or bare gorilla/websocket ones. Each measures itself, so the
// other side's memory and CPU stay out of its figures.
const (
	childRoleEnv  = "WSSTORM_CHILD_ROLE"  // target | fleet | bare
	childURLEnv   = "WSSTORM_CHILD_URL"   // the target's URL
	childStepsEnv = "WSSTORM_CHILD_STEPS" // ascending client counts, comma-separated
	childDialEnv  = "WSSTORM_CHILD_DIAL"  // dials in flight at once

	// idleStepsEnv overrides the checkpoints of BenchmarkIdleRSS, e.g.
	// "500,2000" for a quick run.
	idleStepsEnv = "WSSTORM_IDLE_CLIENTS"
)

// idleDialing is the dials in flight at once, for the fleet and bare alike.
const idleDialing = 64

// defaultIdleSteps are the checkpoints of BenchmarkIdleRSS: 19,000 clients
// fit under an open-files limit of 20,000 per process.
var defaultIdleSteps = []int{1000, 5000, 10000, 19000}

// idleCheckpoint is what a measuring process reports once it holds Clients
// idle connections.
type idleCheckpoint struct {
	Clients int `json:"clients"`
	// RSS is VmRSS after the connections settled, before this checkpoint's
	// forced GC: what a user sees, the garbage of the ramp included.
	RSS uint64 `json:"rss"`
	// RSSFloor is VmRSS after that GC returned all free memory to the OS:
	// the clients' own.
	RSSFloor uint64 `json:"rss_floor"`
	// After that GC: the Go runtime's stacks and heap in use.
	StackInuse uint64 `json:"stack_inuse"`
	HeapInuse  uint64 `json:"heap_inuse"`
	// ConnectSeconds and the CPU times cover connecting the clients added
	// since the previous checkpoint; GCs counts the collections meanwhile.
	ConnectSeconds float64 `json:"connect_s"`
	UserSeconds    float64 `json:"user_s"`
	SysSeconds     float64 `json:"sys_s"`
	GCs            uint32  `json:"gcs"`
}

// cpu is the checkpoint's CPU time, user plus system.
func (cp idleCheckpoint) cpu() float64 { return cp.UserSeconds + cp.SysSeconds }

// runChild runs the role a parent test started this binary as, and exits;
// it returns at once in a process that is not a child.
func runChild() {
	role := os.Getenv(childRoleEnv)
	if role == "" {
		return
	}
	var err error
	switch role {
	case "target":
		err = targetChild()
	case "fleet", "bare":
		err = idleChild(role)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s child: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// targetChild runs a one-node embedded target of unlimited capacity, prints
// its URL and serves until its stdin closes.
func targetChild() error {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	fmt.Println(tgt.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tgt.Shutdown(ctx)
	return nil
}

// idleChild opens idle clients to the target up to each checkpoint in turn
// and prints a checkpoint's figures as a JSON line when it holds them all;
// then it holds them until its stdin closes.
func idleChild(role string) error {
	url := os.Getenv(childURLEnv)
	steps, err := parseSteps(os.Getenv(childStepsEnv))
	if err != nil {
		return err
	}
	dialing, err := strconv.Atoi(os.Getenv(childDialEnv))
	if err != nil {
		return err
	}
	var open func(from, to int) error
	if role == "fleet" {
		open = openFleetClients(url, dialing)
	} else {
		open = openBareClients(url, dialing)
	}
	prev := 0
	for _, n := range steps {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		gcs := ms.NumGC
		user, sys := cpuSeconds()
		start := time.Now()
		if err := open(prev, n); err != nil {
			return err
		}
		cp := idleCheckpoint{Clients: n, ConnectSeconds: time.Since(start).Seconds()}
		cp.UserSeconds, cp.SysSeconds = cpuSeconds()
		cp.UserSeconds -= user
		cp.SysSeconds -= sys
		time.Sleep(500 * time.Millisecond) // welcomes read, attempt runners gone
		cp.RSS = vmRSS()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		cp.StackInuse, cp.HeapInuse = ms.StackInuse, ms.HeapInuse
		cp.GCs = ms.NumGC - gcs - 1
		debug.FreeOSMemory()
		cp.RSSFloor = vmRSS()
		line, _ := json.Marshal(cp)
		fmt.Println(string(line))
		prev = n
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// openFleetClients returns a function that connects clients [from, to) as
// one more fleet of idle clients (no messages, no pings) and waits until
// all are connected.
func openFleetClients(url string, dialing int) func(from, to int) error {
	rec := stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute})
	return func(from, to int) error {
		cfg := baseConfig()
		cfg.URL = url
		cfg.Clients = to - from
		cfg.MaxDialing = dialing
		f, err := New(cfg, rec)
		if err != nil {
			return err
		}
		go f.Run(context.Background()) // the process exits with the clients
		return waitConnected(func() (int64, error) { return rec.Connected(), nil }, to)
	}
}

// openBareClients returns a function that connects clients [from, to) the
// plainest way with gorilla/websocket: its default dialer, one goroutine
// per connection that dials, then reads until the connection ends.
func openBareClients(url string, dialing int) func(from, to int) error {
	var connected atomic.Int64
	var failed atomic.Pointer[error]
	dials := make(chan struct{}, dialing)
	return func(from, to int) error {
		for range to - from {
			go func() {
				dials <- struct{}{}
				c, _, err := websocket.DefaultDialer.Dial(url, nil)
				<-dials
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				connected.Add(1)
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						c.Close()
						connected.Add(-1)
						return
					}
				}
			}()
		}
		return waitConnected(func() (int64, error) {
			if err := failed.Load(); err != nil {
				return 0, fmt.Errorf("a dial failed: %w", *err)
			}
			return connected.Load(), nil
		}, to)
	}
}

// waitConnected waits until connected() reaches n, or fails.
func waitConnected(connected func() (int64, error), n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := connected()
		switch {
		case err != nil:
			return err
		case c >= int64(n):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("only %d of %d clients connected in 2m", c, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// vmRSS returns the process's resident memory from /proc/self/status.
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func parseSteps(s string) ([]int, error) {
	var steps []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || len(steps) > 0 && n <= steps[len(steps)-1] {
			return nil, fmt.Errorf("client counts %q: want ascending positive numbers", s)
		}
		steps = append(steps, n)
	}
	return steps, nil
}

// child is a process of this test binary in a role; it ends when the test
// does, whatever the test's outcome.
type child struct {
	role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closed, the child ends
	lines  chan string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(tb testing.TB, role string, env ...string) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), append([]string{childRoleEnv + "=" + role}, env...)...)
	c := &child{role: role, cmd: cmd, lines: make(chan string, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.stdin.Close()
		_ = cmd.Process.Kill() // without waiting for its 19,000 connections to close
		_ = cmd.Wait()
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// line returns the child's next line of output.
func (c *child) line(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			tb.Fatalf("%s child ended: %s", c.role, c.stderr.String())
		}
		return l
	case <-time.After(timeout):
		tb.Fatalf("no output from the %s child in %v: %s", c.role, timeout, c.stderr.String())
	}
	return ""
}

// measureIdle holds steps idle clients of one kind ("fleet" or "bare") in a
// process of their own, the target in another, and returns the measuring
// process's checkpoints.
func measureIdle(tb testing.TB, kind string, steps []int) []idleCheckpoint {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("resident memory is read from /proc")
	}
	// Each process holds one side of every connection, and a few more files.
	if lim, need := openFilesLimit(), uint64(steps[len(steps)-1]+200); lim > 0 && lim < need {
		tb.Skipf("%d clients need %d open files per process, the limit is %d: raise it (ulimit -Hn) or set %s lower", steps[len(steps)-1], need, lim, idleStepsEnv)
	}
	tgt := startChild(tb, "target")
	url := tgt.line(tb, 30*time.Second)
	if !strings.HasPrefix(url, "ws://") {
		tb.Fatalf("target child printed %q", url)
	}
	var s []string
	for _, n := range steps {
		s = append(s, strconv.Itoa(n))
	}
	m := startChild(tb, kind, childURLEnv+"="+url, childStepsEnv+"="+strings.Join(s, ","),
		childDialEnv+"="+strconv.Itoa(idleDialing))
	var cps []idleCheckpoint
	for range steps {
		var cp idleCheckpoint
		if l := m.line(tb, 3*time.Minute); json.Unmarshal([]byte(l), &cp) != nil {
			tb.Fatalf("%s child printed %q", kind, l)
		}
		cps = append(cps, cp)
	}
	return cps
}

// idleSlope is the cost of one more client from the first checkpoint to the
// last, in bytes.
func idleSlope(cps []idleCheckpoint, v func(idleCheckpoint) uint64) float64 {
	a, b := cps[0], cps[len(cps)-1]
	return (float64(v(b)) - float64(v(a))) / float64(b.Clients-a.Clients)
}

func cpRSS(cp idleCheckpoint) uint64   { return cp.RSS }
func cpFloor(cp idleCheckpoint) uint64 { return cp.RSSFloor }
func cpStack(cp idleCheckpoint) uint64 { return cp.StackInuse }
func cpHeap(cp idleCheckpoint) uint64  { return cp.HeapInuse }

// logIdle logs a table of checkpoints: the RSS per client over all clients
// and over the step from the previous checkpoint, before the checkpoint's
// GC and after it (floor); stack and heap per client; the CPU and the rate
// of the step's handshakes.
func logIdle(tb testing.TB, kind string, cps []idleCheckpoint) {
	tb.Helper()
	var w strings.Builder
	fmt.Fprintf(&w, "%-5s %7s %7s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s %4s\n", kind,
		"clients", "RSS-MB", "RSS-KiB", "step", "floor", "stack", "heap", "conn-s", "user-s", "sys-s", "µs/hs", "hs/s", "GCs")
	prev := idleCheckpoint{}
	for _, cp := range cps {
		n, added := float64(cp.Clients), float64(cp.Clients-prev.Clients)
		step := func(v func(idleCheckpoint) uint64) float64 {
			if prev.Clients == 0 {
				return 0
			}
			return (float64(v(cp)) - float64(v(prev))) / 1024 / added
		}
		fmt.Fprintf(&w, "%-5s %7d %7.1f %7.2f %7.2f %7.2f %7.2f %7.2f %6.2f %6.2f %6.2f %6.1f %6.0f %4d\n", kind,
			cp.Clients, float64(cp.RSS)/1e6, float64(cp.RSS)/1024/n, step(cpRSS), step(cpFloor),
			float64(cp.StackInuse)/1024/n, float64(cp.HeapInuse)/1024/n,
			cp.ConnectSeconds, cp.UserSeconds, cp.SysSeconds, cp.cpu()/added*1e6, added/cp.ConnectSeconds, cp.GCs)
		prev = cp
	}
	fmt.Fprintf(&w, "%-5s slope %d..%d, KiB/client: RSS %.2f, floor %.2f, stack %.2f, heap %.2f; connecting: %.1f µs CPU (%.1f user) per handshake, %.0f handshakes/s",
		kind, cps[0].Clients, cps[len(cps)-1].Clients,
		idleSlope(cps, cpRSS)/1024, idleSlope(cps, cpFloor)/1024, idleSlope(cps, cpStack)/1024, idleSlope(cps, cpHeap)/1024,
		cpuPerHandshake(cps)*1e6, userPerHandshake(cps)*1e6, handshakesPerSecond(cps))
	tb.Log("\n" + w.String())
}

// cpuPerHandshake is the CPU-seconds of the measuring process per
// connection opened, over all steps.
func cpuPerHandshake(cps []idleCheckpoint) float64 {
	var cpu float64
	for _, cp := range cps {
		cpu += cp.cpu()
	}
	return cpu / float64(cps[len(cps)-1].Clients)
}

// userPerHandshake is cpuPerHandshake's user part: the kernel's share
// grows with the connections open (ephemeral port search).
func userPerHandshake(cps []idleCheckpoint) float64 {
	var cpu float64
	for _, cp := range cps {
		cpu += cp.UserSeconds
	}
	return cpu / float64(cps[len(cps)-1].Clients)
}

func handshakesPerSecond(cps []idleCheckpoint) float64 {
	var s float64
	for _, cp := range cps {
		s += cp.ConnectSeconds
	}
	return float64(cps[len(cps)-1].Clients) / s
}

// BenchmarkIdleRSS reports the resident memory one more connected idle
// client costs, from the first checkpoint to the last (1,000 to 19,000
// clients, or $WSSTORM_IDLE_CLIENTS), for the fleet and for bare
// gorilla/websocket clients in the same run (sub-benchmarks fleet and
// bare), each in a process of its own with the target in another; and the
// CPU their connecting took. Run it with -benchtime=1x:
//
//	go test -run '^$' -bench IdleRSS -benchtime 1x -v ./internal/fleet/
func BenchmarkIdleRSS(b *testing.B) {
	steps := defaultIdleSteps
	if s := os.Getenv(idleStepsEnv); s != "" {
		var err error
		if steps, err = parseSteps(s); err != nil {
			b.Fatal(err)
		}
	}
	if len(steps) < 2 {
		b.Fatal("need at least two checkpoints for a slope")
	}
	for _, kind := range []string{"fleet", "bare"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				cps := measureIdle(b, kind, steps)
				logIdle(b, kind, cps)
				b.ReportMetric(idleSlope(cps, cpRSS)/1024, "rss-KiB/client")
				b.ReportMetric(idleSlope(cps, cpFloor)/1024, "rss-floor-KiB/client")
				b.ReportMetric(idleSlope(cps, cpStack)/1024, "stack-KiB/client")
				b.ReportMetric(idleSlope(cps, cpHeap)/1024, "heap-KiB/client")
				b.ReportMetric(cpuPerHandshake(cps)*1e6, "cpu-µs/handshake")
				b.ReportMetric(userPerHandshake(cps)*1e6, "user-µs/handshake")
				b.ReportMetric(handshakesPerSecond(cps), "handshakes/s")
				for _, cp := range cps {
					b.ReportMetric(float64(cp.RSS)/1e6, fmt.Sprintf("rss-MB@%d", cp.Clients))
				}
			}
		})
	}
}

// idleGuardSteps bound TestIdleClientMemory's size for CI.
var idleGuardSteps = []int{500, 3000}

// TestIdleClientMemory guards the resident memory of a connected idle
// client against regressions, the target in another process. The race
// detector multiplies memory, so the bound is checked only without it: CI
// runs this test once more without -race.
func TestIdleClientMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not representative under the race detector; run without -race")
	}
	if testing.Short() {
		t.Skip("short")
	}
	cps := measureIdle(t, "fleet", idleGuardSteps)
	logIdle(t, "fleet", cps)
	// At this size the fleet measured about 9.7 KiB of RSS and 7.1 KiB of
	// stack and heap per client (15 and 12.2 KiB before the lean-clients
	// work): the bounds leave room for noise, and fail a return of 8 KiB
	// stacks or of the old buffers.
	const maxRSS, maxStackHeap = 12 << 10, 9 << 10
	if rss := idleSlope(cps, cpRSS); rss > maxRSS {
		t.Errorf("resident memory per idle client %.1f KiB, want at most %d KiB", rss/1024, maxRSS>>10)
	}
	if sh := idleSlope(cps, cpStack) + idleSlope(cps, cpHeap); sh > maxStackHeap {
		t.Errorf("stack and heap per idle client %.1f KiB, want at most %d KiB", sh/1024, maxStackHeap>>10)
	}
}
