package storm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// BenchmarkPeakRSS runs the generator as a user does, in a process of its
// own: this test binary as a child runs storm.Run with an external target,
// itself a one-node embedded target in another child, as wsstorm serve. The
// run child measures itself a few seconds after its last client connected.
const (
	peakRoleEnv     = "WSSTORM_PEAK_ROLE"     // target | run
	peakURLEnv      = "WSSTORM_PEAK_URL"      // the target's URL
	peakClientsEnv  = "WSSTORM_PEAK_CLIENTS"  // fleet.clients; default peakClients
	peakIntervalEnv = "WSSTORM_PEAK_INTERVAL" // fleet.session.send_interval
	// peakRampEnv is fleet.ramp; BenchmarkPeakRSS's default is 0s: every
	// client dials as soon as one of max_dialing's dials is free, the
	// largest transient.
	peakRampEnv = "WSSTORM_PEAK_RAMP"
	// peakTargetEnv, "embedded", runs the target in the generator's
	// process, as wsstorm run does by default; the process then holds both
	// ends of every connection.
	peakTargetEnv = "WSSTORM_PEAK_TARGET"
	// peakDialsEnv is fleet.max_dialing; default the profile's, 0: as many
	// dials as the open files allow, which with no ramp puts thousands of
	// handshakes in flight at once.
	peakDialsEnv = "WSSTORM_PEAK_MAX_DIALING"
)

// peakClients is the fleet of the comparison in docs/performance.md.
const peakClients = 10000

// peakSettle is how long after the last handshake the run child measures:
// the last clients' welcomes are read and, with a send interval, several
// rounds of messages echoed.
const peakSettle = 3 * time.Second

// peakFigures is what the run child reports.
type peakFigures struct {
	Clients int `json:"clients"`
	// Peak is VmHWM: the most resident memory the process ever had.
	Peak uint64 `json:"peak"`
	// RSS is VmRSS once settled, before any forced GC: what a user sees.
	RSS uint64 `json:"rss"`
	// Settled is VmRSS after a GC gave all free memory back to the OS: what
	// the clients need.
	Settled uint64 `json:"settled"`
	// GoSettled is the Go runtime's memory then (mapped and not released):
	// what a memory limit counts.
	GoSettled uint64 `json:"go_settled"`
	// CPUSeconds are the process's, user plus system, from its start to the
	// settled measurement (before its forced GC).
	CPUSeconds float64 `json:"cpu_s"`
	// RampSeconds runs from the run's start to the last client connected.
	RampSeconds float64 `json:"ramp_s"`
	GCs         uint32  `json:"gcs"` // collections up to the measurement
	// GCCPUSeconds is the runtime's estimate of the CPU time its
	// collections took until then: an overestimate, to compare runs by.
	GCCPUSeconds float64 `json:"gc_cpu_s"`
}

// TestMain lets BenchmarkPeakRSS run this binary as its target and its
// generator: see runPeakChild.
func TestMain(m *testing.M) {
	runPeakChild()
	os.Exit(m.Run())
}

// runPeakChild runs the role a parent benchmark started this binary as, and
// exits; it returns at once in a process that is not a child.
func runPeakChild() {
	role := os.Getenv(peakRoleEnv)
	if role == "" {
		return
	}
	// Whatever the parent's fate, a closed stdin ends the child.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	var err error
	switch role {
	case "target":
		err = peakTarget()
	case "run":
		err = peakRun()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s child: %v\n", role, err)
		os.Exit(1)
	}
	select {} // until stdin closes
}

// peakTarget runs a one-node embedded target of unlimited capacity, which
// echoes, and prints its URL.
func peakTarget() error {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	fmt.Println(tgt.URL())
	return nil
}

// peakRun runs the default profile's fleet against the target, without
// chaos, and prints its peakFigures once settled.
func peakRun() error {
	clients, err := strconv.Atoi(os.Getenv(peakClientsEnv))
	if err != nil {
		return err
	}
	interval, err := time.ParseDuration(os.Getenv(peakIntervalEnv))
	if err != nil {
		return err
	}
	p := profile.Defaults()
	p.Duration = profile.Dur(5 * time.Minute) // the parent ends it
	if os.Getenv(peakTargetEnv) == "embedded" {
		p.Target.Nodes, p.Target.Capacity.AcceptRate = 1, 0
	} else {
		p.Target.Mode, p.Target.URL, p.Target.Nodes = profile.ModeExternal, os.Getenv(peakURLEnv), 0
	}
	p.Fleet.Clients = clients
	p.Fleet.Session.SendInterval = profile.Dur(interval)
	ramp, err := time.ParseDuration(os.Getenv(peakRampEnv))
	if err != nil {
		return err
	}
	p.Fleet.Ramp = profile.Dur(ramp)
	if s := os.Getenv(peakDialsEnv); s != "" {
		if p.Fleet.MaxDialing, err = strconv.Atoi(s); err != nil {
			return err
		}
	}
	if err := p.Validate(); err != nil {
		return err
	}
	figures := make(chan peakFigures, 1)
	observe := func(ctx context.Context, rec *stats.Recorder) {
		for rec.Connected() < int64(clients) {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		pf := peakFigures{Clients: clients, RampSeconds: time.Since(rec.Start()).Seconds()}
		time.Sleep(peakSettle)
		pf.CPUSeconds = selfCPUSeconds()
		pf.RSS = procStatus("VmRSS")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		pf.GCs = ms.NumGC
		pf.GCCPUSeconds = gcCPUSeconds()
		debug.FreeOSMemory()
		pf.Settled = procStatus("VmRSS")
		pf.GoSettled = goMemory()
		pf.Peak = procStatus("VmHWM")
		figures <- pf
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, &p, Options{Observe: observe})
		done <- err
	}()
	select {
	case pf := <-figures:
		line, _ := json.Marshal(pf)
		fmt.Println(string(line))
		return nil
	case err := <-done:
		return fmt.Errorf("the run ended before it settled: %v", err)
	case <-time.After(3 * time.Minute):
		return fmt.Errorf("not all %d clients connected in 3m", clients)
	}
}

// procStatus returns a field of /proc/self/status given in kB, in bytes.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// goMemory is the memory the Go runtime has mapped and not released to
// the OS.
func goMemory() uint64 {
	m := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64() - m[1].Value.Uint64()
}

// gcCPUSeconds is the runtime's estimate of its collections' CPU time.
func gcCPUSeconds() float64 {
	m := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(m)
	return m[0].Value.Float64()
}

// selfCPUSeconds is this process's CPU time, user plus system.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakChild is a process of this test binary in a role; it ends when the
// benchmark does.
type peakChild struct {
	role   string
	lines  chan string
	stderr *strings.Builder
}

func startPeakChild(tb testing.TB, role string, env ...string) *peakChild {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), append([]string{peakRoleEnv + "=" + role}, env...)...)
	c := &peakChild{role: role, lines: make(chan string, 4), stderr: &strings.Builder{}}
	// Read only once the child has ended (see line), so unsynchronized.
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
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
		stdin.Close()
		_ = cmd.Process.Kill() // without waiting for 10,000 connections to close
		_ = cmd.Wait()
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		_ = cmd.Wait()
	}()
	return c
}

// line returns the child's next line of output.
func (c *peakChild) line(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			tb.Fatalf("%s child ended: %s", c.role, c.stderr.String())
		}
		return l
	case <-time.After(timeout):
		tb.Fatalf("no output from the %s child in %v", c.role, timeout)
	}
	return ""
}

// measurePeak runs one generator of clients with send interval interval
// (0: idle clients) against a target of its own, each a fresh process, so
// that the peak is this run's alone.
func measurePeak(tb testing.TB, clients int, interval, ramp time.Duration) peakFigures {
	tb.Helper()
	var url string
	if os.Getenv(peakTargetEnv) != "embedded" {
		tgt := startPeakChild(tb, "target")
		url = tgt.line(tb, 30*time.Second)
		if !strings.HasPrefix(url, "ws://") {
			tb.Fatalf("target child printed %q", url)
		}
	}
	gen := startPeakChild(tb, "run", peakURLEnv+"="+url,
		peakClientsEnv+"="+strconv.Itoa(clients), peakIntervalEnv+"="+interval.String(), peakRampEnv+"="+ramp.String())
	var pf peakFigures
	if l := gen.line(tb, 4*time.Minute); json.Unmarshal([]byte(l), &pf) != nil {
		tb.Fatalf("run child printed %q", l)
	}
	return pf
}

// BenchmarkPeakRSS reports the generator's own cost at its peak: a run of
// 10,000 clients (or $WSSTORM_PEAK_CLIENTS) from the default profile with
// no ramp (or $WSSTORM_PEAK_RAMP), the target in another process (or in
// the generator's, $WSSTORM_PEAK_TARGET=embedded), with idle clients
// (idle) and with clients that send a message every second and await its
// echo (send-1s). Each
// iteration is a fresh generator process, whose VmHWM (peak-MB) is then its
// own; settled-MB is its RSS a few seconds after the last handshake, once
// a GC gave all free memory back; cpu-s its CPU time until then (the
// target's is not counted); rss-MB its RSS then, before that GC.
//
// Run it with -benchtime=1x and -count for benchstat:
//
//	go test -run '^$' -bench PeakRSS -benchtime 1x -count 6 ./internal/storm/
func BenchmarkPeakRSS(b *testing.B) {
	if testing.Short() {
		b.Skip("short")
	}
	if raceEnabled {
		b.Skip("memory is not representative under the race detector")
	}
	if runtime.GOOS != "linux" {
		b.Skip("resident memory is read from /proc")
	}
	clients := peakClients
	if s := os.Getenv(peakClientsEnv); s != "" {
		var err error
		if clients, err = strconv.Atoi(s); err != nil || clients < 1 {
			b.Fatalf("%s=%q: want a positive number", peakClientsEnv, s)
		}
	}
	var ramp time.Duration
	if s := os.Getenv(peakRampEnv); s != "" {
		var err error
		if ramp, err = time.ParseDuration(s); err != nil || ramp < 0 {
			b.Fatalf("%s=%q: want a duration", peakRampEnv, s)
		}
	}
	files := uint64(clients)
	if os.Getenv(peakTargetEnv) == "embedded" {
		files *= 2
	}
	if lim, ok := openFileLimit(); ok && lim < files+reservedFiles {
		b.Skipf("%d clients need %d open files, the limit is %d: set %s lower", clients, files+reservedFiles, lim, peakClientsEnv)
	}
	for _, c := range []struct {
		name     string
		interval time.Duration
	}{{"idle", 0}, {"send-1s", time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				pf := measurePeak(b, clients, c.interval, ramp)
				b.ReportMetric(float64(pf.Peak)/1e6, "peak-MB")
				b.ReportMetric(float64(pf.Settled)/1e6, "settled-MB")
				b.ReportMetric(float64(pf.RSS)/1e6, "rss-MB")
				b.ReportMetric(float64(pf.GoSettled)/1e6, "go-settled-MB")
				b.ReportMetric(float64(pf.Peak)/float64(pf.Settled), "peak/settled")
				b.ReportMetric(pf.CPUSeconds, "cpu-s")
				b.ReportMetric(float64(pf.Settled)/1024/float64(clients), "settled-KiB/client")
				b.ReportMetric(pf.RampSeconds, "ramp-s")
				b.ReportMetric(float64(pf.GCs), "gcs")
				b.ReportMetric(pf.GCCPUSeconds, "gc-cpu-s")
			}
		})
	}
}
