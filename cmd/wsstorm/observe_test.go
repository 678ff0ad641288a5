package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/target"
)

// syncBuffer is a bytes.Buffer a child process writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sumSamples adds the values of the exposition lines whose series starts
// with prefix (a name and the first of its labels).
func sumSamples(text, prefix string) float64 {
	var sum float64
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// observeProfile is an observe-mode run of 300 clients against url.
const observeProfile = `name = "observe"
duration = "12s"

[target]
mode = "external"
url = %q

[fleet]
clients = 300
ramp = "1s"

[fleet.reconnect]
strategy = "window"
min = "100ms"
max = "400ms"

[detect]
enabled = true
gap = "1s"
min_closes = 5
`

// TestObserveModeThreeBursts: wsstorm run in observe mode watches a target
// that another process (this test) closes clients of in three bursts, 2.5 s
// apart, with 1012. The run triggers nothing, yet finds three events, each
// with exactly the clients its burst closed, all back; /metrics and the log
// show each event as it is confirmed.
func TestObserveModeThreeBursts(t *testing.T) {
	if testing.Short() {
		t.Skip("an observed run with three bursts (~12 s): the full suite runs it")
	}
	const clients = 300
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	})
	dir := t.TempDir()
	prof := filepath.Join(dir, "observe.toml")
	if err := os.WriteFile(prof, []byte(fmt.Sprintf(observeProfile, tgt.URL())), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	addr := freeAddr(t)
	metricsURL := "http://" + addr + "/metrics"

	cmd := exec.Command(os.Args[0], "run", prof, "--out", out, "--quiet", "--metrics-addr", addr)
	cmd.Env = testMainEnv()
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// waitRun polls cond while the run goes on.
	waitRun := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			select {
			case <-exited:
				t.Fatalf("the run ended (exit %d) before %s; stderr:\n%s", cmd.ProcessState.ExitCode(), what, stderr.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("not within 30s: %s; stderr:\n%s", what, stderr.String())
			}
		}
	}
	serverConns := func() int64 {
		var n int64
		for _, s := range tgt.Stats() {
			n += s.Conns
		}
		return n
	}
	metric := func(prefix string) float64 { return sumSamples(scrape(metricsURL), prefix) }

	waitRun("every client connected", func() bool { return serverConns() == clients })
	var closed []int
	total := 0
	var last time.Time
	for i, fraction := range []float64{0.2, 0.3, 0.5} {
		if i > 0 {
			time.Sleep(time.Until(last.Add(2500 * time.Millisecond)))
		}
		// The run must still go on when this burst's clients are back.
		if left := 12*time.Second - time.Since(started); left < 3*time.Second {
			t.Fatalf("burst %d would start %v before the run's end: this machine is too slow for the test's timeline", i, left)
		}
		n, err := action.CloseShare(context.Background(), tgt, action.CloseParams{Fraction: fraction, Code: 1012}, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		last = time.Now()
		closed = append(closed, n)
		total += n
		waitRun(fmt.Sprintf("/metrics counts detected event %d", i), func() bool {
			return metric(`wsstorm_chaos_events_total{action="detected"`) == float64(i+1)
		})
		waitRun(fmt.Sprintf("the clients of burst %d are back", i), func() bool {
			return metric("wsstorm_reconnects_total") == float64(total) && serverConns() == clients
		})
	}

	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitPassed {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	for i := range closed {
		if want := fmt.Sprintf("wsstorm: detected event %d: 1012 closes from ", i); !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}

	s, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != len(closed) {
		t.Fatalf("%d events, want %d (closed %v): %+v", len(s.Events), len(closed), closed, s.Events)
	}
	for i, e := range s.Events {
		if e.Index != i || e.Action != "detected" || e.Code != 1012 {
			t.Errorf("event %d: index %d action %q code %d; want detected 1012", i, e.Index, e.Action, e.Code)
		}
		if e.Affected != int64(closed[i]) || e.Reconnected != e.Affected || e.NeverReconnected != 0 || !e.ReconnectExpected {
			t.Errorf("event %d: affected %d, reconnected %d, never %d, expected back %v; the target closed %d",
				i, e.Affected, e.Reconnected, e.NeverReconnected, e.ReconnectExpected, closed[i])
		}
		// No client comes back before the reconnect window's minimum.
		if e.T50S == nil || *e.T50S < 0.1 || e.T100S == nil {
			t.Errorf("event %d: t50 %v t100 %v; want t50 at least 0.1 s and every client back", i, e.T50S, e.T100S)
		}
		if i > 0 && e.AtS <= s.Events[i-1].AtS {
			t.Errorf("event %d at %.3f s, not after event %d at %.3f s", i, e.AtS, i-1, s.Events[i-1].AtS)
		}
	}
	if got := s.Counters.Closes[1012]; got != int64(total) {
		t.Errorf("closes[1012] = %d, the target closed %d", got, total)
	}
	if d := s.Detect; d == nil || d.GapS != 1 || d.MinCloses != 5 || d.DroppedBursts != 0 || d.UnattributedCloses != 0 {
		t.Errorf("detect %+v", d)
	}
	if !strings.Contains(stdout.String(), " detected code 1012: affected ") {
		t.Errorf("the summary on stdout does not show the detected events:\n%s", stdout.String())
	}
}
