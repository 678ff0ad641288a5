package clientlib

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func pywsBuild(t *testing.T, set func(*PythonWebsocketsOptions)) Preset {
	t.Helper()
	return build(t, pythonWebsockets{}, set)
}

// pywsFailures returns the waits after n failed connects in a row.
func pywsFailures(c Client, n int, rng *rand.Rand) []time.Duration {
	var out []time.Duration
	for range n {
		c.Attempt(0)
		next := c.Failed(0, 0, rng)
		if next.Stop {
			return out
		}
		out = append(out, next.Wait)
	}
	return out
}

// TestPythonWebsocketsBackoff: the first failure in a row sleeps
// random() × 5 s, the next ones int(backoff_delay) s as it grows by 1.618
// from 1.92 up to 60; it never gives up.
func TestPythonWebsocketsBackoff(t *testing.T) {
	p := pywsBuild(t, nil)
	if p.ConnectTimeout() != 10*time.Second {
		t.Fatalf("ConnectTimeout = %s, want open_timeout's 10s", p.ConnectTimeout())
	}
	rng := rand.New(&sioDraws{t: t, vals: []float64{0.5, 0.25}})
	c := p.NewClient(rng)
	got := pywsFailures(c, 11, rng)
	want := []time.Duration{2500 * time.Millisecond}
	for _, s := range []int{3, 5, 8, 13, 21, 34, 55, 60, 60} {
		want = append(want, time.Duration(s)*time.Second)
	}
	want = append(want, time.Minute)
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if rest := pywsFailures(c, 1000, rng); len(rest) != 1000 {
		t.Fatalf("stopped after %d more failures: it never gives up", len(rest))
	}
	// A close resets backoff_delay: the next failure draws again (0.25 × 5 s).
	c.Opened(time.Hour)
	c.Closed(2*time.Hour, 1012, rng)
	if n := c.Failed(2*time.Hour, 503, rng); n.Wait != 1250*time.Millisecond {
		t.Fatalf("first failure after a close: %+v, want 1.25s", n)
	}

	// The first connect's failure sleeps in [0, 5) s, drawn per client.
	seen := map[time.Duration]bool{}
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 3))
		d := p.NewClient(rng).Failed(0, 0, rng).Wait
		if d < 0 || d >= 5*time.Second {
			t.Fatalf("first sleep %s: want [0, 5s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 490 {
		t.Fatalf("%d distinct first sleeps in 500 clients", len(seen))
	}
}

// TestPythonWebsocketsCloses: the loop body catches ConnectionClosed, any
// code, and the loop connects again at once; Away is the same.
func TestPythonWebsocketsCloses(t *testing.T) {
	p := pywsBuild(t, nil)
	for _, code := range []int{1000, 1001, 1005, 1006, 1011, 1012, 4000, 4999} {
		c := p.NewClient(nil)
		c.Attempt(0)
		c.Opened(time.Second)
		if n := c.Closed(2*time.Second, code, nil); n != After(0) {
			t.Errorf("close %d: %+v, want a reconnect at once", code, n)
		}
		c.Opened(3 * time.Second)
		if n := c.Away(4*time.Second, false, nil); n != After(0) {
			t.Errorf("away: %+v, want a reconnect at once", n)
		}
	}
}

func TestPythonWebsocketsOptions(t *testing.T) {
	p := pywsBuild(t, func(o *PythonWebsocketsOptions) {
		o.BackoffMin, o.BackoffFactor, o.BackoffMax, o.BackoffInitial = 1, 2, 10, 1
	})
	rng := rand.New(&sioDraws{t: t, vals: []float64{0.5}})
	want := []time.Duration{500 * time.Millisecond, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
	if got := pywsFailures(p.NewClient(rng), 5, rng); !slices.Equal(got, want) {
		t.Errorf("BACKOFF_MIN 1, FACTOR 2, MAX 10, INITIAL 1: waits %v, want %v", got, want)
	}
	// A factor of 1 keeps backoff_delay at BACKOFF_MIN: every failure draws.
	p = pywsBuild(t, func(o *PythonWebsocketsOptions) { o.BackoffFactor = 1 })
	rng = rand.New(&sioDraws{t: t, vals: []float64{0.5, 0.25, 0.125}})
	want = []time.Duration{2500 * time.Millisecond, 1250 * time.Millisecond, 625 * time.Millisecond}
	if got := pywsFailures(p.NewClient(rng), 3, rng); !slices.Equal(got, want) {
		t.Errorf("BACKOFF_FACTOR 1: waits %v, want %v", got, want)
	}
	if got := pywsBuild(t, func(o *PythonWebsocketsOptions) { o.OpenTimeout = 2.5 }).ConnectTimeout(); got != 2500*time.Millisecond {
		t.Errorf("open_timeout 2.5: ConnectTimeout = %s", got)
	}
	if got := pywsBuild(t, func(o *PythonWebsocketsOptions) { o.OpenTimeout = math.Inf(1) }).ConnectTimeout(); got != 0 {
		t.Errorf("open_timeout inf: ConnectTimeout = %s, want none", got)
	}

	l := pythonWebsockets{}
	for _, c := range []struct {
		set  func(*PythonWebsocketsOptions)
		want string
	}{
		{func(o *PythonWebsocketsOptions) { o.BackoffMax = math.Inf(1) }, "BACKOFF_MAX: is inf: want a finite number"},
		{func(o *PythonWebsocketsOptions) { o.BackoffFactor = -1 }, "BACKOFF_FACTOR: is -1: want a number of 0 or more"},
		{func(o *PythonWebsocketsOptions) { o.OpenTimeout = 0 }, "open_timeout: is 0: want seconds above 0, or inf for None"},
	} {
		o := l.Options().(*PythonWebsocketsOptions)
		c.set(o)
		if _, err := l.Build(o); err == nil || err.Error() != c.want {
			t.Errorf("Build = %v, want %q", err, c.want)
		}
	}
}
