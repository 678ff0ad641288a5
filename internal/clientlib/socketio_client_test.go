package clientlib

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// sioDraws is a rand.Source whose Float64 draws are vals, in order (each
// a multiple of 2^-53); a draw past them fails the test, so a test can
// also say that no draw happens.
type sioDraws struct {
	t    *testing.T
	vals []float64
}

func (d *sioDraws) Uint64() uint64 {
	if len(d.vals) == 0 {
		d.t.Fatal("a random draw the library does not make")
	}
	v := d.vals[0]
	d.vals = d.vals[1:]
	return uint64(v * (1 << 53))
}

func sioBuild(t *testing.T, set func(*SocketIOClientOptions)) Preset {
	t.Helper()
	return build(t, socketIOClient{}, set)
}

// TestSocketIOClientBackoff: Backoff.duration worked by hand from known
// draws: the sign from floor(r × 10)'s parity, the deviation floored, the
// cap after the jitter, the result truncated.
func TestSocketIOClientBackoff(t *testing.T) {
	p := sioBuild(t, nil)
	rng := rand.New(&sioDraws{t: t, vals: []float64{0.25, 0.375, 0.625, 0.875, 0.125, 0.5625}})
	c := p.NewClient(rng)
	c.Attempt(0)
	want := []time.Duration{
		875 * time.Millisecond,  // 1000 − floor(0.25 × 0.5 × 1000): floor(2.5) even
		2375 * time.Millisecond, // 2000 + 375: floor(3.75) odd
		2750 * time.Millisecond, // 4000 − 1250
		4500 * time.Millisecond, // 8000 − 3500
		5000 * time.Millisecond, // 16000 + 1000, capped
	}
	for i, w := range want {
		if n := c.Failed(time.Duration(i)*time.Second, 0, rng); n.Stop || n.Wait != w {
			t.Fatalf("failure %d: %+v, want a reconnect after %s", i+1, n, w)
		}
	}
	// A close resets the count: 1000 + floor(0.5625 × 0.5 × 1000) = 1281.
	c.Opened(10 * time.Second)
	if n := c.Closed(11*time.Second, 1012, rng); n.Wait != 1281*time.Millisecond {
		t.Fatalf("after a close: %+v, want 1281ms", n)
	}

	// The result is truncated, as | 0 does: 1000.7 + floor(250.175) = 1250.7 → 1250.
	p = sioBuild(t, func(o *SocketIOClientOptions) { o.ReconnectionDelay = 1000.7 })
	rng = rand.New(&sioDraws{t: t, vals: []float64{0.5}})
	if n := p.NewClient(rng).Failed(0, 503, rng); n.Wait != 1250*time.Millisecond {
		t.Fatalf("reconnectionDelay 1000.7: %+v, want 1250ms", n)
	}
}

// TestSocketIOClientHerd: over many draws every delay lies in the
// library's bounds, and the cap after the jitter puts 30% of third
// attempts, 90% of fourth ones and all later ones at exactly 5000 ms.
func TestSocketIOClientHerd(t *testing.T) {
	p := sioBuild(t, nil)
	const n = 20000
	atCap := make([]int, 6)
	for i := range uint64(n) {
		rng := rand.New(rand.NewPCG(i, 17))
		c := p.NewClient(rng)
		for k := range 6 {
			d := c.Failed(0, 0, rng).Wait
			ms := 1000 * math.Pow(2, float64(k))
			lo, hi := Millis(min(ms-math.Floor(ms/2), 5000)), Millis(min(ms+math.Floor(ms/2), 5000))
			if d < lo || d > hi || d%time.Millisecond != 0 {
				t.Fatalf("attempt %d waits %s: want whole ms in [%s, %s]", k+1, d, lo, hi)
			}
			if d == 5*time.Second {
				atCap[k]++
			}
		}
	}
	for k, want := range []float64{0, 0, 0.3, 0.9, 1, 1} {
		if got := float64(atCap[k]) / n; math.Abs(got-want) > 0.015 {
			t.Errorf("attempt %d: %.3f of delays at exactly 5000 ms, want %.1f", k+1, got, want)
		}
	}
}

// TestSocketIOClientCloses: every close code, and Away, reconnects after
// the first delay of a reset backoff; a failure after it goes on counting.
func TestSocketIOClientCloses(t *testing.T) {
	p := sioBuild(t, func(o *SocketIOClientOptions) { o.RandomizationFactor = 0 })
	for _, code := range []int{1000, 1001, 1005, 1006, 1011, 1012, 4000, 4999} {
		c := p.NewClient(nil)
		c.Attempt(0)
		c.Failed(time.Second, 0, nil)
		c.Failed(2*time.Second, 503, nil)
		c.Attempt(5 * time.Second)
		c.Opened(5 * time.Second)
		if n := c.Closed(9*time.Second, code, nil); n != After(time.Second) {
			t.Errorf("close %d: %+v, want a reconnect after 1s", code, n)
		}
		if n := c.Failed(10*time.Second, 0, nil); n != After(2*time.Second) {
			t.Errorf("close %d, then a failure: %+v, want 2s", code, n)
		}
		c.Opened(20 * time.Second)
		if n := c.Away(30*time.Second, true, nil); n != After(time.Second) {
			t.Errorf("away: %+v, want 1s: the Manager has no sooner way back", n)
		}
	}
}

func TestSocketIOClientLimits(t *testing.T) {
	p := sioBuild(t, func(o *SocketIOClientOptions) { o.ReconnectionAttempts, o.RandomizationFactor = 3, 0 })
	c := p.NewClient(nil)
	c.Attempt(0)
	// The first connect's failure reconnects; three reconnects in all.
	for i, w := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if n := c.Failed(0, 0, nil); n != After(w) {
			t.Fatalf("failure %d: %+v, want %s", i+1, n, w)
		}
	}
	if n := c.Failed(0, 0, nil); !n.GaveUp || n.Reason != "socket.io-client: reconnect_failed after reconnectionAttempts (3)" {
		t.Fatalf("fourth failure: %+v, want reconnect_failed", n)
	}

	p = sioBuild(t, func(o *SocketIOClientOptions) { o.Reconnection = false })
	c = p.NewClient(nil)
	if n := c.Failed(0, 0, nil); !n.Stop || n.GaveUp {
		t.Fatalf("reconnection false, first connect failed: %+v, want stopped", n)
	}
	c.Opened(time.Second)
	if n := c.Closed(2*time.Second, 1012, nil); !n.Stop || n.Reason != "socket.io-client: reconnection is false" {
		t.Fatalf("reconnection false, closed: %+v", n)
	}
}

func TestSocketIOClientOptions(t *testing.T) {
	if got := sioBuild(t, nil).ConnectTimeout(); got != 20*time.Second {
		t.Errorf("ConnectTimeout = %s, want timeout's 20s", got)
	}
	if got := sioBuild(t, func(o *SocketIOClientOptions) { o.Timeout = 5000 }).ConnectTimeout(); got != 5*time.Second {
		t.Errorf("timeout 5000: ConnectTimeout = %s", got)
	}
	if got := sioBuild(t, func(o *SocketIOClientOptions) { o.Timeout = math.Inf(1) }).ConnectTimeout(); got != 0 {
		t.Errorf("timeout inf: ConnectTimeout = %s, want none", got)
	}
	for _, c := range []struct {
		name string
		set  func(*SocketIOClientOptions)
		want []time.Duration // with no draw at all where the jitter is off
	}{
		{"reconnectionDelay 2000, no jitter", func(o *SocketIOClientOptions) { o.ReconnectionDelay, o.RandomizationFactor = 2000, 0 },
			[]time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second}},
		{"reconnectionDelay 0 is 1000", func(o *SocketIOClientOptions) { o.ReconnectionDelay, o.RandomizationFactor = 0, 0 },
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"reconnectionDelayMax 0 is 5000", func(o *SocketIOClientOptions) { o.ReconnectionDelayMax, o.RandomizationFactor = 0, 0 },
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second}},
		{"reconnectionDelayMax 3000", func(o *SocketIOClientOptions) { o.ReconnectionDelayMax, o.RandomizationFactor = 3000, 0 },
			[]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}},
		{"randomizationFactor over 1 is none", func(o *SocketIOClientOptions) { o.RandomizationFactor = 1.5 },
			[]time.Duration{time.Second, 2 * time.Second}},
	} {
		rng := rand.New(&sioDraws{t: t})
		cl := sioBuild(t, c.set).NewClient(rng)
		for i, w := range c.want {
			if n := cl.Failed(0, 0, rng); n != After(w) {
				t.Errorf("%s: failure %d gave %+v, want %s", c.name, i+1, n, w)
			}
		}
	}
	// randomizationFactor 0.3 with a draw of 0.75: (0.75 × 0.3) × 1000 is
	// 224.99999999999997 in the library's order (Node prints the same), so
	// 1000 + 224 ms, not 1225.
	rng := rand.New(&sioDraws{t: t, vals: []float64{0.75}})
	if n := sioBuild(t, func(o *SocketIOClientOptions) { o.RandomizationFactor = 0.3 }).NewClient(rng).Failed(0, 0, rng); n.Wait != 1224*time.Millisecond {
		t.Errorf("randomizationFactor 0.3: %+v, want 1224ms", n)
	}
}

// TestSocketIOClientInt32: | 0 wraps an uncapped delay past 2^31 ms, as the
// library does with reconnectionDelayMax = inf.
func TestSocketIOClientInt32(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{1250.7, 1250}, {-1.5, -1}, {1 << 31, -(1 << 31)}, {4194304000, -100663296}, {math.NaN(), 0}, {math.Inf(1), 0},
	} {
		if got := jsToInt32(c.in); got != c.want {
			t.Errorf("%v | 0 = %v, want %v", c.in, got, c.want)
		}
	}
	p := sioBuild(t, func(o *SocketIOClientOptions) { o.ReconnectionDelayMax, o.RandomizationFactor = math.Inf(1), 0 })
	c := p.NewClient(nil)
	var n Next
	for range 22 {
		n = c.Failed(0, 0, nil)
	}
	if n.Wait != Millis(1000*(1<<21)) {
		t.Fatalf("22nd delay = %s, want 2^21 s", n.Wait)
	}
	if n = c.Failed(0, 0, nil); n != After(0) {
		t.Fatalf("23rd delay = %+v: 1000 × 2^22 | 0 is negative, want at once", n)
	}
}

func TestSocketIOClientBuild(t *testing.T) {
	l := socketIOClient{}
	for _, c := range []struct {
		set  func(*SocketIOClientOptions)
		want string
	}{
		{func(o *SocketIOClientOptions) { o.ReconnectionDelay = -1 }, "reconnectionDelay: is -1: want a number of 0 or more"},
		{func(o *SocketIOClientOptions) { o.ReconnectionAttempts = math.NaN() }, "reconnectionAttempts: is NaN: want a number of 0 or more"},
		{func(o *SocketIOClientOptions) { o.RandomizationFactor = math.Inf(1) }, "randomizationFactor: is inf: want a finite number"},
		{func(o *SocketIOClientOptions) { o.Timeout = 0 }, "timeout: is 0: want ms above 0, up to 2147483647 (setTimeout's longest; 0 would fail every attempt at once), or inf for none"},
		{func(o *SocketIOClientOptions) { o.Timeout = 1e13 }, "timeout: is 1e+13: want ms above 0, up to 2147483647 (setTimeout's longest; 0 would fail every attempt at once), or inf for none"},
	} {
		o := l.Options().(*SocketIOClientOptions)
		c.set(o)
		if _, err := l.Build(o); err == nil || err.Error() != c.want {
			t.Errorf("Build = %v, want %q", err, c.want)
		}
	}
}
