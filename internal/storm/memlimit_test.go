package storm

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// unsetEnv unsets env for the test, and restores it after.
func unsetEnv(t *testing.T, env string) {
	t.Helper()
	t.Setenv(env, "") // restores the old value after the test
	os.Unsetenv(env)
}

// TestPlanMemory: the estimate grows with the clients and what their
// sessions hold, counts the in-process target's ends, and is left out
// where the user tuned the collector or the estimate was not measured.
func TestPlanMemory(t *testing.T) {
	unsetEnv(t, "GOGC")
	unsetEnv(t, "GOMEMLIMIT")
	ext := func(url string, edit func(p *profile.Profile)) *profile.Profile {
		p := profile.Defaults()
		p.Target.Mode, p.Target.URL = profile.ModeExternal, url
		p.Fleet.Clients = 10000
		p.Fleet.Session.SendInterval = profile.Dur(0)
		if edit != nil {
			edit(&p)
		}
		return &p
	}
	idle, ok := planMemory(ext("ws://127.0.0.1:1/", nil), Limits{})
	if !ok || idle.bytes != 10000*goClientBytes || idle.clients != 10000 {
		t.Fatalf("idle: %+v, %v; want %d bytes", idle, ok, 10000*goClientBytes)
	}
	sending, _ := planMemory(ext("ws://127.0.0.1:1/", func(p *profile.Profile) {
		p.Fleet.Session.SendInterval = profile.Dur(time.Second)
	}), Limits{})
	if sending.bytes != 10000*(goClientBytes+goSendBytes) {
		t.Errorf("sending: %d", sending.bytes)
	}
	half, _ := planMemory(ext("ws://127.0.0.1:1/", nil), Limits{Segment: 1, Segments: 2})
	if half.bytes != idle.bytes/2 || half.clients != 5000 {
		t.Errorf("one segment of two: %+v", half)
	}
	emb := profile.Defaults()
	emb.Fleet.Clients = 10000
	emb.Fleet.Session.SendInterval = profile.Dur(0)
	if m, _ := planMemory(&emb, Limits{}); m.bytes != 10000*(goClientBytes+goTargetConnBytes) {
		t.Errorf("embedded target here: %d", m.bytes)
	}
	if m, _ := planMemory(&emb, Limits{TargetElsewhere: true}); m.bytes != idle.bytes {
		t.Errorf("embedded target elsewhere: %d, want %d", m.bytes, idle.bytes)
	}
	if _, ok := planMemory(ext("wss://127.0.0.1:1/", nil), Limits{}); ok {
		t.Error("TLS: an estimate")
	}
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			if _, ok := planMemory(ext("ws://127.0.0.1:1/", nil), Limits{}); ok {
				t.Errorf("%s set: an estimate", env)
			}
		})
	}
	debug.SetMemoryLimit(8 << 30)
	defer debug.SetMemoryLimit(math.MaxInt64)
	if _, ok := planMemory(ext("ws://127.0.0.1:1/", nil), Limits{}); ok {
		t.Error("a limit already set: an estimate")
	}
}

// connectedNow is a settable connected count.
type connectedNow struct{ n atomic.Int64 }

func (c *connectedNow) Connected() int64 { return c.n.Load() }

// TestLimitMemory: the limit holds while the clients connect, and is lifted
// once connections close (a herd's reconnects would collect too often
// under it); the limit before the run is back after it.
func TestLimitMemory(t *testing.T) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Skip("a memory limit is set")
	}
	gogc := gcPercent()
	var rec connectedNow
	var once sync.Once
	limited := limitMemory(&rec, memoryPlan{clients: 1000, bytes: 1 << 30}, true)
	lift := func() { once.Do(limited) }
	defer lift()
	if l := debug.SetMemoryLimit(-1); l < 1<<30 || l == math.MaxInt64 {
		t.Fatalf("limit during the ramp %d, want above the estimate", l)
	}
	if p := gcPercent(); p != memoryGOGC {
		t.Errorf("GOGC during the ramp %d, want %d", p, memoryGOGC)
	}
	rec.n.Store(1000)
	time.Sleep(3 * memoryWatchEvery)
	if l := debug.SetMemoryLimit(-1); l == math.MaxInt64 || gcPercent() != memoryGOGC {
		t.Fatal("limit lifted while all clients are connected")
	}
	rec.n.Store(1000 - 10) // 1% of the clients closed
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) != math.MaxInt64 || gcPercent() != gogc {
		if time.Now().After(deadline) {
			t.Fatal("limit not lifted once connections closed")
		}
		time.Sleep(memoryWatchEvery / 2)
	}
	lift()
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("limit after the run %d", l)
	}
	if p := gcPercent(); p != gogc {
		t.Errorf("GOGC after the run %d, want %d", p, gogc)
	}
}

// gcPercent is GOGC now, read without writing it: a set-and-restore could
// undo the watcher's restoring in between.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestLimitMemoryNone: without a plan nothing is set.
func TestLimitMemoryNone(t *testing.T) {
	lift := limitMemory(&connectedNow{}, memoryPlan{}, false)
	defer lift()
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("limit %d without a plan", l)
	}
}
