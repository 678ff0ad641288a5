package clientlib

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func buildSignalR(t *testing.T, edit func(*SignalROptions)) Preset {
	t.Helper()
	return build(t, signalR{}, edit)
}

func TestSignalRDefaults(t *testing.T) {
	p := buildSignalR(t, nil)
	if p.ConnectTimeout() != 30*time.Second {
		t.Fatalf("ConnectTimeout = %s, want serverTimeoutInMilliseconds' 30s", p.ConnectTimeout())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Every close code, clean or not, reconnects at once: retryDelays[0].
	for _, code := range []int{1000, 1001, 1005, 1006, 1011, 1012, 4000, 4500} {
		c := p.NewClient(rng)
		c.Opened(0)
		if n := c.Closed(time.Second, code, rng); n.Stop || n.Wait != 0 {
			t.Fatalf("close %d = %+v, want a reconnect at once", code, n)
		}
	}
	// Failed attempts: 2, 10, 30 s, then it gives up after 4 attempts.
	c := p.NewClient(rng)
	c.Opened(0)
	c.Closed(time.Second, 1012, rng)
	for _, want := range []time.Duration{2 * time.Second, 10 * time.Second, 30 * time.Second} {
		if n := c.Failed(0, 503, rng); n.Stop || n.Wait != want {
			t.Fatalf("failed attempt: %+v, want a wait of %s", n, want)
		}
	}
	n := c.Failed(0, 0, rng)
	if !n.Stop || !n.GaveUp || !strings.Contains(n.Reason, "exhausted after 4 failed attempts") {
		t.Fatalf("the 4th failed reconnect attempt gave %+v, want given up after 4", n)
	}
}

func TestSignalRFirstStartNotRetried(t *testing.T) {
	p := buildSignalR(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Attempt(0)
	n := c.Failed(time.Millisecond, 503, rng)
	if !n.Stop || n.GaveUp || !strings.Contains(n.Reason, "start() failed") {
		t.Fatalf("a failed first start gave %+v, want stopped: start() is not retried", n)
	}
}

func TestSignalRCountResetsOnConnect(t *testing.T) {
	p := buildSignalR(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Opened(0)
	c.Closed(time.Second, 1006, rng)
	c.Failed(2*time.Second, 503, rng)
	c.Failed(3*time.Second, 503, rng)
	// Up for a millisecond only: the next close starts from 0 again.
	c.Opened(20 * time.Second)
	if n := c.Closed(20*time.Second+time.Millisecond, 1012, rng); n.Wait != 0 {
		t.Fatalf("first after a reconnect: %+v, want 0", n)
	}
	if n := c.Failed(21*time.Second, 503, rng); n.Wait != 2*time.Second {
		t.Fatalf("second after a reconnect: %+v, want 2s", n)
	}
}

func TestSignalROptions(t *testing.T) {
	p := buildSignalR(t, func(o *SignalROptions) {
		o.RetryDelays, o.ServerTimeoutInMilliseconds = []float64{500, 700}, 5000
	})
	if p.ConnectTimeout() != 5*time.Second {
		t.Fatalf("ConnectTimeout = %s, want 5s", p.ConnectTimeout())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Opened(0)
	if n := c.Closed(time.Second, 1012, rng); n.Wait != 500*time.Millisecond {
		t.Fatalf("first = %+v, want 500ms", n)
	}
	if n := c.Failed(2*time.Second, 503, rng); n.Wait != 700*time.Millisecond {
		t.Fatalf("second = %+v, want 700ms", n)
	}
	if n := c.Failed(3*time.Second, 503, rng); !n.GaveUp {
		t.Fatalf("third = %+v, want given up after 2 delays", n)
	}

	// No delays: no reconnect after a close; Away still comes back, as
	// the app's own start(), which is not retried if it fails.
	p = buildSignalR(t, func(o *SignalROptions) { o.RetryDelays = []float64{} })
	c = p.NewClient(rng)
	c.Opened(0)
	if n := c.Closed(time.Second, 1012, rng); !n.Stop || n.GaveUp {
		t.Fatalf("close with retryDelays [] = %+v, want stopped", n)
	}
	c.Opened(2 * time.Second)
	if n := c.Away(3*time.Second, false, rng); n.Stop || n.Wait != 0 {
		t.Fatalf("Away with retryDelays [] = %+v, want back at once", n)
	}
	if n := c.Failed(3*time.Second, 503, rng); !n.Stop || !strings.Contains(n.Reason, "start() failed") {
		t.Fatalf("failed start after Away = %+v, want stopped", n)
	}
}

func TestSignalRAway(t *testing.T) {
	p := buildSignalR(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Opened(0)
	// Close with allowReconnect: the policy's loop, as after a close.
	if n := c.Away(time.Second, false, rng); n.Stop || n.Wait != 0 {
		t.Fatalf("Away = %+v, want 0", n)
	}
	if n := c.Failed(2*time.Second, 503, rng); n.Wait != 2*time.Second {
		t.Fatalf("failed attempt after Away = %+v, want 2s", n)
	}
}

func TestSignalRBuildRejects(t *testing.T) {
	l := signalR{}
	for _, c := range []struct {
		edit func(*SignalROptions)
		want string
	}{
		{func(o *SignalROptions) { o.RetryDelays = []float64{0, -1} }, "retryDelays: entry 1 is -1"},
		{func(o *SignalROptions) { o.RetryDelays = []float64{3e9} }, "retryDelays: entry 0 is 3e+09"},
		{func(o *SignalROptions) { o.ServerTimeoutInMilliseconds = 0 }, "serverTimeoutInMilliseconds: is 0"},
	} {
		o := l.Options().(*SignalROptions)
		c.edit(o)
		if _, err := l.Build(o); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Build = %v, want an error starting %q", err, c.want)
		}
	}
	// The preset keeps its own copy of the delays.
	o := l.Options().(*SignalROptions)
	p, _ := l.Build(o)
	o.RetryDelays[0] = 9000
	c := p.NewClient(nil)
	c.Opened(0)
	if n := c.Closed(0, 1000, nil); n.Wait != 0 {
		t.Fatalf("an option changed after Build changed the preset: %+v", n)
	}
}
