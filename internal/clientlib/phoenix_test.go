package clientlib

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

func buildPhoenix(t *testing.T, edit func(*PhoenixOptions)) Preset {
	t.Helper()
	return build(t, phoenix{}, edit)
}

// The default steps, from the first connect failing on; the last holds
// and the library never gives up.
func TestPhoenixSteps(t *testing.T) {
	p := buildPhoenix(t, nil)
	if p.ConnectTimeout() != 0 || p.Unsimulable() != "" {
		t.Fatalf("ConnectTimeout %s, Unsimulable %q: want none and simulable", p.ConnectTimeout(), p.Unsimulable())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Attempt(0)
	want := []int{10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000, 5000}
	at := time.Duration(0)
	for i, ms := range want {
		at += time.Second
		n := c.Failed(at, []int{503, 0, 403}[i%3], rng)
		if n.Stop || n.Wait != time.Duration(ms)*time.Millisecond {
			t.Fatalf("failure %d: %+v, want a reconnect after %d ms", i+1, n, ms)
		}
		c.Attempt(at + n.Wait)
	}
	for range 1000 {
		if n := c.Failed(at, 0, rng); n.Stop || n.Wait != 5*time.Second {
			t.Fatalf("a later failure: %+v, want 5s, never giving up", n)
		}
	}
}

// Every close code reconnects, at the first step once a connection
// opened, however briefly; Away is a close.
func TestPhoenixCloses(t *testing.T) {
	p := buildPhoenix(t, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, code := range []int{1000, 1001, 1005, 1006, 1008, 1011, 1012, 4000, 4001, 4999} {
		c := p.NewClient(rng)
		c.Attempt(0)
		for range 5 {
			c.Failed(time.Second, 503, rng)
		}
		c.Opened(2 * time.Second)
		if n := c.Closed(2*time.Second+time.Millisecond, code, rng); n.Stop || n.Wait != 10*time.Millisecond {
			t.Fatalf("close %d after a 1 ms connection: %+v, want 10 ms (tries reset on open)", code, n)
		}
		if n := c.Failed(3*time.Second, 503, rng); n.Wait != 50*time.Millisecond {
			t.Fatalf("after close %d, the failure: %+v, want 50 ms", code, n)
		}
		c.Opened(4 * time.Second)
		for _, now := range []bool{false, true} {
			if n := c.Away(5*time.Second, now, rng); n.Stop || n.Wait != 10*time.Millisecond {
				t.Fatalf("Away(now %v): %+v, want 10 ms, as a close", now, n)
			}
			c.Opened(6 * time.Second)
		}
	}
}

func TestPhoenixOptions(t *testing.T) {
	p := buildPhoenix(t, func(o *PhoenixOptions) { o.ReconnectAfterMs = []float64{100, 2000.9} })
	rng := rand.New(rand.NewPCG(5, 6))
	c := p.NewClient(rng)
	c.Attempt(0)
	c.Opened(time.Second)
	// setTimeout keeps whole ms: 2000.9 waits 2000.
	for i, want := range []time.Duration{100, 2000, 2000, 2000} {
		var n Next
		if i == 0 {
			n = c.Closed(2*time.Second, 1012, rng)
		} else {
			n = c.Failed(3*time.Second, 0, rng)
		}
		if n.Wait != want*time.Millisecond {
			t.Fatalf("step %d: %+v, want %d ms", i+1, n, want)
		}
	}
	l := phoenix{}
	for _, bad := range [][]float64{nil, {10, -1}, {math.NaN()}, {1 << 31}} {
		o := l.Options().(*PhoenixOptions)
		o.ReconnectAfterMs = bad
		var oe *optstruct.Error
		if _, err := l.Build(o); !errors.As(err, &oe) || oe.Key != "reconnectAfterMs" {
			t.Errorf("Build(reconnectAfterMs %v) = %v, want an error naming reconnectAfterMs", bad, err)
		}
	}
}
