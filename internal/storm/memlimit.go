package storm

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// The Go runtime collects once its heap has grown by GOGC (100%) of what
// was live after the last collection, stacks included. A ramp makes garbage
// (each handshake's HTTP response, header maps, dial state) while the
// clients' live memory grows to the size it settles at, so a fast ramp's
// last collection lets garbage of 15–20% of that size pile up: the
// process's peak RSS, which a user must size the machine for
// (BenchmarkPeakRSS, docs/performance.md). A soft memory limit a little
// above the settled size makes the runtime collect before the pile-up.
// Each collection costs 35–50 ms of CPU at 10,000 clients, most of it
// scanning their stacks, so while the limit holds GOGC is 200: the limit
// bounds the memory, and GOGC 100's collections in the middle of the ramp
// would buy nothing. A paced ramp then collects no more often than before;
// with no ramp every client's goroutine exists from the start, the limit
// binds throughout, and the ramp takes 3 collections more (+14–17% CPU
// for idle clients).
//
// Once connections close, the reconnects make garbage faster than a limit
// this close to the live memory lets the runtime collect cheaply: under
// such a limit BenchmarkIdleRSS's restart herd of 10,000 clients took 3.5
// times the CPU, at half the handshake rate, which would make the
// generator, not the server, set the herd's pace. The limit is then lifted
// for the rest of the run, and a herd's garbage waits for GOGC's
// collection, as before.

// Go memory (heap, stacks, runtime metadata) a connected client of this
// process holds once collected, on linux/amd64 (BenchmarkPeakRSS's
// go-settled-MB at 1,000 and 10,000 clients, under the limit), and what a
// session's features add: a send timer, the ping and pong timers, a
// script's larger read buffer, a lifetime timer. The in-process embedded
// target's end of a connection (BenchmarkIdleRSS's target rows) counts
// when it runs here. goRunBytes is what a running fleet holds besides its
// clients and what the process held before it started (pools, attempt
// runners).
const (
	goRunBytes        = 5 << 19
	goClientBytes     = 6900
	goSendBytes       = 512
	goPingBytes       = 512
	goScriptBytes     = 1024
	goLifetimeBytes   = 256
	goTargetConnBytes = 18 << 10
)

const (
	// memoryGOGC is GOGC while the limit holds.
	memoryGOGC = 200
	// memoryHeadroom is the share of the estimate garbage may take before
	// the limit makes the runtime collect: the peak's distance from the
	// settled size, bought with a few more collections at the ramp's end.
	memoryHeadroom = 0.10
	// memoryRoom is the least garbage the limit leaves room for: a small
	// fleet's fixed part is a large share of its memory, and a few
	// megabytes of garbage between collections keeps them rare (1,000
	// clients collected some 50 times in their ramp without it).
	memoryRoom = 4 << 20
	// memoryMisjudged: live memory this many times the estimate says the
	// estimate does not fit this run (a large recorder, messages the
	// estimate does not know); the limit is then lifted, so that GOGC alone
	// decides, rather than collect too often.
	memoryMisjudged = 1.25
	// memoryChurn is the share of the clients whose connections may close
	// before the limit is lifted: a few closes are no herd.
	memoryChurn = 0.01
	// memoryWatchEvery is how often the limit is checked against the
	// connected clients and the live memory of the last collection.
	memoryWatchEvery = 100 * time.Millisecond
)

// memoryPlan is a run's estimate of its clients' memory.
type memoryPlan struct {
	clients int    // this process's
	bytes   uint64 // Go memory they (and the in-process target's ends) hold once connected
}

// planMemory estimates the Go memory this process's clients hold once
// connected; false when the run is not one the estimate was measured for
// (TLS, the chaos proxy), or the user tuned the collector: GOGC or
// GOMEMLIMIT set, or a memory limit already in place.
func planMemory(p *profile.Profile, l Limits) (memoryPlan, bool) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := os.LookupEnv(env); set {
			return memoryPlan{}, false
		}
	}
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return memoryPlan{}, false
	}
	if p.Target.Mode == profile.ModeProxy || isTLS(p.Target.URL) {
		return memoryPlan{}, false
	}
	for _, u := range p.Target.URLs {
		if isTLS(u) {
			return memoryPlan{}, false
		}
	}
	per := uint64(goClientBytes)
	s := p.Fleet.Session
	if s.SendInterval.D() > 0 {
		per += goSendBytes
	}
	if p.Fleet.PingInterval.D() > 0 {
		per += goPingBytes
	}
	if len(s.Script) > 0 {
		per += goScriptBytes
	}
	if s.Lifetime.D() > 0 {
		per += goLifetimeBytes
	}
	if p.Target.Mode == profile.ModeEmbedded && !l.TargetElsewhere {
		per += goTargetConnBytes
	}
	n := SegmentClients(p.Fleet.Clients, l.Segment, l.Segments)
	return memoryPlan{clients: n, bytes: uint64(n) * per}, true
}

func isTLS(url string) bool { return strings.HasPrefix(strings.ToLower(url), "wss:") }

// connectedCounter is what the limit watches of a run: stats.Recorder.
type connectedCounter interface{ Connected() int64 }

// memoryWatch is a run's soft memory limit and what keeps it fit.
type memoryWatch struct {
	rec      connectedCounter
	plan     memoryPlan
	estimate float64 // Go memory the process is expected to settle at
	limit    float64
	prev     int64 // the limit before the run's
	prevGOGC int   // and GOGC
	restored bool  // the settings from before the run are back
	done     chan struct{}
	wg       sync.WaitGroup
}

// limitMemory sets a soft memory limit for a run whose clients rec counts:
// the Go memory in use now, plus a running fleet's and plan's, plus room
// for garbage. It returns what
// lifts it; without a plan it sets nothing.
func limitMemory(rec connectedCounter, plan memoryPlan, ok bool) (lift func()) {
	if !ok || plan.clients < 1 || !memoryOwner.TryLock() {
		return func() {}
	}
	runtime.GC() // what the process holds before its clients, without garbage
	w := &memoryWatch{rec: rec, plan: plan, done: make(chan struct{})}
	w.estimate = float64(goLive() + goRunBytes + plan.bytes)
	w.limit = withRoom(w.estimate)
	w.prev = debug.SetMemoryLimit(int64(w.limit))
	w.prevGOGC = debug.SetGCPercent(memoryGOGC)
	w.wg.Go(w.watch)
	return func() {
		close(w.done)
		w.wg.Wait()
		w.restore()
		memoryOwner.Unlock()
	}
}

// memoryOwner is held by the run whose memory limit is set. The collector's
// settings are the process's: of two runs in one process (tests, a
// program using this package), only the first sets and restores them, and
// the other runs under them as they are.
var memoryOwner sync.Mutex

// watch lifts the limit once connections close (see above) or the live
// memory shows the estimate wrong, and otherwise keeps it headroom above
// the live memory of each collection, so that a run holding somewhat more
// than estimated collects no more often than at the end of a ramp.
func (w *memoryWatch) watch() {
	t := time.NewTicker(memoryWatchEvery)
	defer t.Stop()
	churn := max(int64(float64(w.plan.clients)*memoryChurn), 1)
	var most int64
	var cycles uint64
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		n := w.rec.Connected()
		most = max(most, n)
		if most-n >= churn {
			w.restore()
			return
		}
		c := gcCycles()
		if c == cycles {
			continue
		}
		cycles = c
		live := float64(goLive())
		if live > w.estimate*memoryMisjudged {
			w.restore()
			return
		}
		if want := withRoom(live); want > w.limit {
			w.limit = want
			debug.SetMemoryLimit(int64(want))
		}
	}
}

// withRoom is the limit for memory m: m and the garbage it may gather.
func withRoom(m float64) float64 { return m + max(m*memoryHeadroom, memoryRoom) }

// restore puts back the collector's settings from before the run, once.
func (w *memoryWatch) restore() {
	if w.restored {
		return
	}
	w.restored = true
	debug.SetGCPercent(w.prevGOGC)
	debug.SetMemoryLimit(w.prev)
}

// goLive is the Go memory in use as of the last collection: the runtime's
// memory less what is free or released, with the heap's objects counted as
// the collection found them live.
func goLive() uint64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	v := func(i int) uint64 { return s[i].Value.Uint64() }
	return v(0) - v(1) - v(2) - v(3) + v(4)
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
