package storm

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
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

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDetectInRun: a run in observe mode against a target that something
// else closes twice finds two events, shows each to the observer and in the
// log once confirmed, and reports each with the clients that close closed.
func TestDetectInRun(t *testing.T) {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	}()

	const clients = 40
	p := profile.Defaults()
	p.Name = "observe"
	p.Duration = profile.Dur(time.Minute) // ended by the test once it has seen enough
	p.Target.Mode = profile.ModeExternal
	p.Target.URL = tgt.URL()
	p.Chaos = nil
	p.Detect = profile.Detect{Enabled: true, Gap: profile.Dur(time.Second), MinCloses: 5}
	p.Fleet.Clients = clients
	p.Fleet.Ramp = profile.Dur(0)
	p.Fleet.Reconnect.Strategy = profile.StrategyWindow
	p.Fleet.Reconnect.Min = profile.Dur(50 * time.Millisecond)
	p.Fleet.Reconnect.Max = profile.Dur(150 * time.Millisecond)
	p.Fleet.Reconnect.FirstDelay = profile.Dur(0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recs := make(chan *stats.Recorder, 1)
	var log lockedBuffer
	type outcome struct {
		res *stats.Results
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		run, err := Run(ctx, &p, Options{Log: &log, Observe: func(ctx context.Context, rec *stats.Recorder) {
			recs <- rec
			<-ctx.Done()
		}})
		if err != nil {
			done <- outcome{err: err}
			return
		}
		done <- outcome{res: run.Results}
	}()
	rec := <-recs

	connected := func() bool { return rec.Connected() == clients }
	waitFor(t, "all clients connected", 30*time.Second, connected)
	var closed []int
	for i, fraction := range []float64{0.25, 0.5} {
		if i > 0 {
			// Further apart than the gap, whatever the clients did meanwhile.
			time.Sleep(1500 * time.Millisecond)
		}
		n, err := action.CloseShare(context.Background(), tgt, action.CloseParams{Fraction: fraction, Code: 1012}, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		closed = append(closed, n)
		waitFor(t, fmt.Sprintf("event %d in the snapshot", i), 30*time.Second, func() bool { return len(rec.Snapshot().Events) == i+1 })
		waitFor(t, fmt.Sprintf("clients back after close %d", i), 30*time.Second, connected)
	}
	cancel()
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	res := o.res
	if len(res.Events) != len(closed) {
		t.Fatalf("%d events, want %d: %+v", len(res.Events), len(closed), res.Events)
	}
	for i, e := range res.Events {
		if e.Index != i || e.Action != stats.DetectedAction || e.Code != 1012 || e.Affected != int64(closed[i]) || e.Reconnected != e.Affected {
			t.Errorf("event %d: index %d %s code %d affected %d reconnected %d; want detected 1012, %d affected, all back",
				i, e.Index, e.Action, e.Code, e.Affected, e.Reconnected, closed[i])
		}
		if !e.ReconnectExpected {
			t.Errorf("event %d: reconnect_expected false; the default policy brings 1012's clients back", i)
		}
		if e.T50 == nil || *e.T50 < 50*time.Millisecond {
			t.Errorf("event %d: t50 %v, want at least the reconnect window's 50ms", i, e.T50)
		}
		if want := fmt.Sprintf("detected event %d: 1012 closes from ", i); !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if !strings.Contains(log.String(), "observe mode:") {
		t.Errorf("log does not say the run observes:\n%s", log.String())
	}
}
