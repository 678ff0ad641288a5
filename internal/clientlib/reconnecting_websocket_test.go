package clientlib

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestReconnectingWebSocket(t *testing.T) {
	l := reconnectingWebSocket{}
	p, err := l.Build(l.Options())
	if err != nil {
		t.Fatal(err)
	}
	if p.ConnectTimeout() != 4*time.Second {
		t.Fatalf("ConnectTimeout = %s, want connectionTimeout's 4s", p.ConnectTimeout())
	}
	seen := map[time.Duration]bool{}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		c := p.NewClient(rng).(*rwsClient)
		if c.min < 1000 || c.min >= 5000 {
			t.Fatalf("min drawn %v: want [1000, 5000)", c.min)
		}
		c.Opened(0)
		// Up 6 s: the count resets; every close code reconnects.
		first := c.Closed(6*time.Second, 1000, rng)
		if first.Stop || first.Wait != Millis(c.min) {
			t.Fatalf("first after a long session = %+v, want min %v ms", first, c.min)
		}
		seen[first.Wait] = true
		// Refusals: × 1.3 each, up to 10 s.
		for n := 2; n <= 12; n++ {
			got := c.Failed(0, 503, rng)
			want := Millis(math.Min(c.min*math.Pow(1.3, float64(n-1)), 10000))
			if got.Wait != want {
				t.Fatalf("attempt %d waits %s, want %s", n, got.Wait, want)
			}
		}
		// Up 4 s only: the count goes on.
		c.Opened(100 * time.Second)
		if got := c.Closed(104*time.Second, 1012, rng); got.Wait != 10*time.Second {
			t.Fatalf("after a short session: %+v, want the capped 10s", got)
		}
	}
	if len(seen) < 190 {
		t.Fatalf("%d distinct minimum delays in 200 clients: want one drawn per client", len(seen))
	}
}

func TestReconnectingWebSocketOptions(t *testing.T) {
	l := reconnectingWebSocket{}
	o := l.Options().(*ReconnectingWebSocketOptions)
	o.MinReconnectionDelay, o.MaxRetries = 500, 2
	p, err := l.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	c := p.NewClient(rng)
	c.Opened(0)
	if n := c.Closed(time.Second, 1012, rng); n.Wait != 500*time.Millisecond {
		t.Fatalf("first = %+v, want 500ms", n)
	}
	if n := c.Failed(2*time.Second, 503, rng); n.Wait != 650*time.Millisecond {
		t.Fatalf("second = %+v, want 650ms", n)
	}
	if n := c.Failed(3*time.Second, 503, rng); !n.GaveUp || !n.Stop {
		t.Fatalf("third = %+v, want given up after maxRetries 2", n)
	}
	o.MinUptime = -1
	if _, err := l.Build(o); err == nil || err.Error() != "minUptime: is -1: want a number of 0 or more" {
		t.Fatalf("Build(minUptime -1) = %v", err)
	}
}
