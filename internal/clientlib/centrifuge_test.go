package clientlib

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// centrifugeSeq is a random source whose Float64 draws are the given
// values, in order: Math.random() values recorded in Node are multiples of
// 2^-53, which rand.Rand's Float64 gives back exactly.
type centrifugeSeq struct{ v []float64 }

func (s *centrifugeSeq) Uint64() uint64 {
	r := s.v[0]
	s.v = s.v[1:]
	return uint64(r * (1 << 53))
}

// TestCentrifugeBackoff: backoff's delays for Math.random() values
// recorded in Node from centrifuge-js 5.8.0's own _getReconnectDelay.
func TestCentrifugeBackoff(t *testing.T) {
	for _, c := range []struct {
		step         int
		min, max, r  float64
		want         float64
		whatItChecks string
	}{
		{0, 500, 20000, 0.74991405024828284, 875, "first step: 500 + floor(r × 501)"},
		{6, 500, 20000, 0.89716233852726823, 18444, "min × 2^6 over max: 500 + floor(r × 20001)"},
		{7, 500, 20000, 0.98810616126524642, 20000, "capped at max after the jitter"},
		{39, 500, 20000, 0.0044534363243085018, 589, "step beyond 31"},
		{3, 333.3, 7777.7, 0.24080778585989471, 975.29999999999995, "fractional options: min + an integer"},
		{9, 333.3, 7777.7, 0.25631521356705678, 2326.3000000000002, "fractional options, capped interval"},
		{5, 2000, 1000, 0.98295194487347293, 1000, "min over max: max"},
		{4, 0, 100, 0.45061064533519857, 0, "min 0: no growth"},
	} {
		if got := centrifugeBackoff(c.step, c.min, c.max, c.r); got != c.want {
			t.Errorf("%s: backoff(%d, %v, %v) with r %v = %v, want %v", c.whatItChecks, c.step, c.min, c.max, c.r, got, c.want)
		}
	}
	// The step is capped at 31: min × 2^31, not min × 2^1000 (Infinity).
	if got := centrifugeBackoff(1000, 1, jsTimerMaxMs, 0.25); got != 1+math.Floor(0.25*((1<<31)+1)) {
		t.Errorf("backoff(1000, 1, max) = %v, want step 31's %v", got, 1+math.Floor(0.25*((1<<31)+1)))
	}
}

// TestCentrifugeReconnects: the count grows with every failed attempt,
// the first included, one Math.random() per delay, and a connect reply
// resets it; the library never gives up.
func TestCentrifugeReconnects(t *testing.T) {
	l := centrifuge{}
	p, err := l.Build(l.Options())
	if err != nil {
		t.Fatal(err)
	}
	if p.ConnectTimeout() != 5*time.Second || p.Unsimulable() != "" {
		t.Fatalf("ConnectTimeout %s, Unsimulable %q: want timeout's 5s and simulable", p.ConnectTimeout(), p.Unsimulable())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	twin := rand.New(rand.NewPCG(3, 4))
	c := p.NewClient(rng)
	c.Attempt(0)
	for step := range 200 {
		got := c.Failed(time.Duration(step)*time.Second, []int{503, 0}[step%2], rng)
		want := jsTimerDelay(centrifugeBackoff(step, 500, 20000, twin.Float64()))
		hi := Millis(min(20000, 500+500*math.Pow(2, float64(min(step, 31)))))
		if got.Stop || got.Wait != want || got.Wait < 500*time.Millisecond || got.Wait > hi {
			t.Fatalf("failure %d: %+v, want a wait of %s within [500ms, %s]", step+1, got, want, hi)
		}
	}
	c.Attempt(300 * time.Second)
	c.Opened(300 * time.Second)
	// Up a moment only: the reply reset the count all the same.
	got := c.Closed(300*time.Second+time.Millisecond, 1006, rng)
	if want := jsTimerDelay(centrifugeBackoff(0, 500, 20000, twin.Float64())); got.Wait != want || got.Wait > time.Second {
		t.Fatalf("close after a connect reply = %+v, want step 0's %s", got, want)
	}
	if got := c.Failed(301*time.Second, 503, rng); got.Wait != jsTimerDelay(centrifugeBackoff(1, 500, 20000, twin.Float64())) {
		t.Fatalf("next failure = %+v, want step 1", got)
	}
}

// TestCentrifugeRecorded feeds a client Math.random() values Node drew for
// centrifuge-js 5.8.0's _getReconnectDelay at steps 0, 1 and 2 (it returned
// 875, 693 and 1786 ms): a first connect failing three times, then a
// connect reply and a 3001 close, which waits step 0's delay again.
func TestCentrifugeRecorded(t *testing.T) {
	l := centrifuge{}
	p, _ := l.Build(l.Options())
	rng := rand.New(&centrifugeSeq{v: []float64{0.74991405024828284, 0.19350706487270530, 0.64291562647425371, 0.74991405024828284}})
	c := p.NewClient(rng)
	c.Attempt(0)
	for i, want := range []time.Duration{875, 693, 1786} {
		if got := c.Failed(0, 0, rng); got.Wait != want*time.Millisecond {
			t.Fatalf("failure %d waits %s, want %dms", i+1, got.Wait, want)
		}
	}
	c.Opened(5 * time.Second)
	if got := c.Closed(6*time.Second, 3001, rng); got.Wait != 875*time.Millisecond {
		t.Fatalf("after 3001 = %+v, want 875ms", got)
	}
	// Fractional options: backoff's 364.3 ms, of which setTimeout waits 364.
	o := l.Options().(*CentrifugeOptions)
	o.MinReconnectDelay, o.MaxReconnectDelay = 333.3, 7777.7
	p, _ = l.Build(o)
	rng = rand.New(&centrifugeSeq{v: []float64{0.094448520472711905}})
	if got := p.NewClient(rng).Failed(0, 503, rng); got.Wait != 364*time.Millisecond {
		t.Fatalf("with minReconnectDelay 333.3: %+v, want 364ms", got)
	}
}

// TestCentrifugeCloseCodes: what onClose does with each code, a plain-text
// reason given (as Centrifuge servers send).
func TestCentrifugeCloseCodes(t *testing.T) {
	l := centrifuge{}
	p, _ := l.Build(l.Options())
	for _, code := range []int{1009, 3500, 3501, 3750, 3999, 4500, 4777, 4999} {
		rng := rand.New(rand.NewPCG(1, 2))
		c := p.NewClient(rng)
		c.Opened(0)
		n := c.Closed(time.Second, code, rng)
		if !n.Stop || n.GaveUp || !strings.Contains(n.Reason, "centrifuge: disconnected") {
			t.Errorf("close %d = %+v, want the client stopped, disconnected", code, n)
		}
	}
	for _, code := range []int{1000, 1001, 1005, 1006, 1011, 1012, 2999, 3000, 3001, 3014, 3499, 4000, 4499, 5000} {
		rng := rand.New(rand.NewPCG(1, 2))
		c := p.NewClient(rng)
		c.Opened(0)
		n := c.Closed(time.Second, code, rng)
		if n.Stop || n.Wait < 500*time.Millisecond || n.Wait > time.Second {
			t.Errorf("close %d = %+v, want a reconnect after step 0's 500ms to 1s", code, n)
		}
	}
	// A disconnect push waits the same backoff, and grows the count; no
	// reconnect at once.
	rng := rand.New(rand.NewPCG(5, 6))
	twin := rand.New(rand.NewPCG(5, 6))
	c := p.NewClient(rng)
	for step := range 8 {
		n := c.Away(time.Duration(step)*time.Second, step%2 == 0, rng)
		if want := jsTimerDelay(centrifugeBackoff(step, 500, 20000, twin.Float64())); n.Stop || n.Wait != want {
			t.Fatalf("away %d = %+v, want %s", step, n, want)
		}
	}
}

func TestCentrifugeOptions(t *testing.T) {
	l := centrifuge{}
	o := l.Options().(*CentrifugeOptions)
	o.MinReconnectDelay, o.MaxReconnectDelay, o.Timeout = 1000, 5000, 2000
	p, err := l.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.ConnectTimeout() != 2*time.Second {
		t.Fatalf("ConnectTimeout = %s, want timeout's 2s", p.ConnectTimeout())
	}
	rng := rand.New(rand.NewPCG(9, 9))
	atMax := 0
	for range 2000 {
		c := p.NewClient(rng)
		if n := c.Failed(0, 503, rng); n.Wait < time.Second || n.Wait > 2*time.Second {
			t.Fatalf("first wait %s: want [1s, 2s] with minReconnectDelay 1000", n.Wait)
		}
		for range 3 {
			c.Failed(0, 503, rng)
		}
		// Step 4: 1000 × 16 is over max, so 1000 + [0, 5000], capped.
		n := c.Failed(0, 503, rng)
		if n.Wait < time.Second || n.Wait > 5*time.Second {
			t.Fatalf("fifth wait %s: want [1s, 5s]", n.Wait)
		}
		if n.Wait == 5*time.Second {
			atMax++
		}
	}
	// 1001 of the 5001 interval values land on the cap: 20 %.
	if atMax < 330 || atMax > 470 {
		t.Errorf("%d of 2000 fifth waits at maxReconnectDelay: want about 400", atMax)
	}
	for _, c := range []struct {
		set  func(*CentrifugeOptions)
		want string
	}{
		{func(o *CentrifugeOptions) { o.MinReconnectDelay = -1 }, "minReconnectDelay: is -1: want a number of ms from 0 to 2147483647"},
		{func(o *CentrifugeOptions) { o.MaxReconnectDelay = math.NaN() }, "maxReconnectDelay: is NaN: want a number of ms from 0 to 2147483647"},
		{func(o *CentrifugeOptions) { o.MaxReconnectDelay = 3e9 }, "maxReconnectDelay: is 3e+09: want a number of ms from 0 to 2147483647"},
		{func(o *CentrifugeOptions) { o.Timeout = 0 }, "timeout: is 0: every connect attempt would time out at once; want a number of ms above 0"},
	} {
		o := l.Options().(*CentrifugeOptions)
		c.set(o)
		if _, err := l.Build(o); err == nil || err.Error() != c.want {
			t.Errorf("Build = %v, want %q", err, c.want)
		}
	}
}
