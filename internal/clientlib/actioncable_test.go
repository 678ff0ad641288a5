package clientlib

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// halves is a source whose every Float64 is 0.5, counting its draws:
// Math.random() returning 0.5.
type halves struct{ draws int }

func (h *halves) Uint64() uint64 { h.draws++; return 1 << 52 }

func buildActionCable(t *testing.T, edit func(*ActionCableOptions)) Preset {
	t.Helper()
	return build(t, actionCable{}, edit)
}

const ms = time.Millisecond

// The first connect failing: nothing happens until the first poll, 6 s ×
// (1 + 0.5) after the monitor started; then the polls back off by 1.15
// per stale poll, with jitter 0.15 × 0.5, up to 1.15^10, and never stop.
func TestActionCableFirstConnectAndBackoff(t *testing.T) {
	p := buildActionCable(t, nil)
	if p.ConnectTimeout() != 0 || p.Unsimulable() != "" {
		t.Fatalf("ConnectTimeout %s, Unsimulable %q: want none and simulable", p.ConnectTimeout(), p.Unsimulable())
	}
	src := &halves{}
	rng := rand.New(src)
	c := p.NewClient(rng)
	c.Attempt(0)
	n := c.Failed(10*ms, 503, rng)
	if n.Stop || n.Wait != 8990*ms {
		t.Fatalf("first connect refused at 10 ms: %+v, want the first poll at 9000 ms", n)
	}
	at := 9000 * ms
	for k := 1; k <= 40; k++ {
		c.Attempt(at)
		n := c.Failed(at+20*ms, 0, rng)
		want := time.Duration(math.Trunc(6000*math.Pow(1.15, float64(min(k, 10)))*1.075)) * ms
		if n.Stop || n.Wait+20*ms != want {
			t.Fatalf("failure %d: %+v, want the next poll %s after the attempt", k+1, n, want)
		}
		at += want
	}
	if src.draws != 41 {
		t.Fatalf("%d Math.random() calls for the 41 polls that fired: want one each", src.draws)
	}
}

// An open connection polls every 6 s × (1 + 0.5) (the welcome reset the
// count); after a close the first poll more than 6 s on reopens it,
// whatever the code; Away is the same.
func TestActionCableClose(t *testing.T) {
	p := buildActionCable(t, nil)
	for _, code := range []int{1000, 1001, 1006, 1011, 1012, 4000} {
		for _, away := range []bool{false, true} {
			rng := rand.New(&halves{})
			c := p.NewClient(rng)
			c.Attempt(0)
			c.Failed(10*ms, 503, rng) // reopened by the poll at 9000
			c.Attempt(9000 * ms)
			c.Failed(9020*ms, 503, rng) // reopened at 9000 + 7417
			c.Attempt(16417 * ms)
			// That poll left 2 attempts: the next comes 6000 × 1.15² ×
			// 1.075 = 8530 ms on, at 24947; then every 9000 ms: 33947,
			// 42947 (1.9 s after the close: not stale yet), 51947.
			c.Opened(16500 * ms)
			var n Next
			if away {
				n = c.Away(41*time.Second, true, rng)
			} else {
				n = c.Closed(41*time.Second, code, rng)
			}
			if n.Stop || n.Wait != 10947*ms {
				t.Fatalf("code %d away %v: %+v, want the poll at 51947 ms", code, away, n)
			}
		}
	}
}

// seq is a source whose Float64s are vals (k/2^53), in turn.
type seq struct{ vals []uint64 }

func (s *seq) Uint64() uint64 { v := s.vals[0]; s.vals = s.vals[1:]; return v }

// Stale is more than staleThreshold: a first poll exactly 6 s after the
// start (Math.random() 0) finds nothing to do.
func TestActionCableStaleIsMoreThan(t *testing.T) {
	p := buildActionCable(t, nil)
	rng := rand.New(&seq{vals: []uint64{0, 1 << 52}})
	c := p.NewClient(rng)
	c.Attempt(0)
	if n := c.Failed(0, 0, rng); n.Wait != 15*time.Second {
		t.Fatalf("%+v, want the second poll, at 6000 + 9000 ms", n)
	}
}

// A poll that finds the attempt still connecting calls open() after
// reopenDelay; it opens only if the attempt failed by then.
func TestActionCableReopenDelay(t *testing.T) {
	p := buildActionCable(t, nil)
	for _, c := range []struct {
		failed, wait time.Duration
	}{
		{9200 * ms, 300 * ms},           // open() at 9500 finds it closed
		{9600 * ms, 16417*ms - 9600*ms}, // it found it connecting: the next poll
	} {
		rng := rand.New(&halves{})
		cl := p.NewClient(rng)
		cl.Attempt(0)
		if n := cl.Failed(c.failed, 0, rng); n.Wait != c.wait {
			t.Fatalf("an attempt hanging till %s: %+v, want %s", c.failed, n, c.wait)
		}
	}
	q := buildActionCable(t, func(o *ActionCableOptions) { o.ReopenDelay = 100 })
	rng := rand.New(&halves{})
	cl := q.NewClient(rng)
	cl.Attempt(0)
	if n := cl.Failed(9050*ms, 0, rng); n.Wait != 50*ms {
		t.Fatalf("reopenDelay 100: %+v, want open() at 9100 ms", n)
	}
}

// Over random draws: a first connect refused at once waits the first
// poll, in [6, 12) s; a close waits 6 s at least and no more than the
// poll after, and every wait is whole ms from the poll grid.
func TestActionCableBounds(t *testing.T) {
	p := buildActionCable(t, nil)
	var lo, hi time.Duration = time.Hour, 0
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		c := p.NewClient(rng)
		c.Attempt(0)
		n := c.Failed(0, 503, rng)
		// Stale is more than 6 s: a first poll at 6000 ms (a draw under
		// 1/6000) leaves it to the second.
		if n.Wait <= 6*time.Second || n.Wait >= 18*time.Second || n.Wait%ms != 0 {
			t.Fatalf("seed %d: first wait %s", seed, n.Wait)
		}
		c.Attempt(n.Wait)
		c.Opened(n.Wait + 100*ms)
		closed := n.Wait + 30*time.Second + 500*time.Microsecond
		w := c.Closed(closed, 1006, rng).Wait
		lo, hi = min(lo, w), max(hi, w)
		if w < 6*time.Second || w >= 18*time.Second {
			t.Fatalf("seed %d: wait after a close %s, want [6, 18) s", seed, w)
		}
	}
	if lo > 6500*ms || hi < 15*time.Second {
		t.Fatalf("waits after a close span [%s, %s]: want most of [6, 18) s", lo, hi)
	}
}

func TestActionCableOptions(t *testing.T) {
	p := buildActionCable(t, func(o *ActionCableOptions) { o.StaleThreshold, o.ReconnectionBackoffRate = 10, 0.5 })
	rng := rand.New(&halves{})
	c := p.NewClient(rng)
	c.Attempt(0)
	if n := c.Failed(0, 503, rng); n.Wait != 15*time.Second {
		t.Fatalf("staleThreshold 10: %+v, want the first poll at 10 s × 1.5", n)
	}
	c.Attempt(15 * time.Second)
	if n := c.Failed(15*time.Second, 503, rng); n.Wait != 18750*ms {
		t.Fatalf("rate 0.5: %+v, want 10 s × 1.5 × 1.25", n)
	}
	l := actionCable{}
	for _, b := range []struct {
		key  string
		edit func(*ActionCableOptions)
	}{
		{"staleThreshold", func(o *ActionCableOptions) { o.StaleThreshold = 2 }},
		{"staleThreshold", func(o *ActionCableOptions) { o.StaleThreshold = math.NaN() }},
		{"staleThreshold", func(o *ActionCableOptions) { o.StaleThreshold = 2e6 }},
		{"reconnectionBackoffRate", func(o *ActionCableOptions) { o.ReconnectionBackoffRate = -0.1 }},
		{"reconnectionBackoffRate", func(o *ActionCableOptions) { o.ReconnectionBackoffRate = 9 }},
		{"reopenDelay", func(o *ActionCableOptions) { o.ReopenDelay = -1 }},
	} {
		o := l.Options().(*ActionCableOptions)
		b.edit(o)
		var oe *optstruct.Error
		if _, err := l.Build(o); !errors.As(err, &oe) || oe.Key != b.key {
			t.Errorf("Build(%+v) = %v, want an error naming %s", *o, err, b.key)
		}
	}
}

// powInt rounds (1 + rate)^n once; Go's math.Pow is off by one ulp for
// 1.15³, where Node's Math.pow agrees with the exact rounding.
func TestPowInt(t *testing.T) {
	if got := math.Float64bits(powInt(1.15, 3)); got != 0x3ff855810624dd2e {
		t.Errorf("powInt(1.15, 3) = %#x, want Math.pow's 0x3ff855810624dd2e", got)
	}
	for n := range 11 {
		if got, want := powInt(2, n), math.Ldexp(1, n); got != want {
			t.Errorf("powInt(2, %d) = %v", n, got)
		}
	}
}

// A bare close's last message is the server's latest beat, up to 3 s
// before it; Away's is the disconnect message, at the close. Connected at
// 10 ms, closed at 13 s (Math.random() 0.5: the beats at 1510 + 3000k ms,
// the last at 10510), polls at 9000 and 18000 ms: the one at 18000 finds
// a bare close's connection stale, 7.49 s after its beat, but the
// disconnect recent, counts an attempt and reopens at the next poll,
// 6000 × 1.15 × 1.075 ms on; after Away it finds the connection fresh and
// the next poll is 6000 × 1.5 ms on.
func TestActionCableLastMessage(t *testing.T) {
	p := buildActionCable(t, nil)
	for _, c := range []struct {
		away bool
		wait time.Duration
	}{{false, 12417 * ms}, {true, 14 * time.Second}} {
		rng := rand.New(&halves{})
		cl := p.NewClient(rng)
		cl.Attempt(0)
		cl.Opened(10 * ms)
		var n Next
		if c.away {
			n = cl.Away(13*time.Second, false, rng)
		} else {
			n = cl.Closed(13*time.Second, 1012, rng)
		}
		if n.Stop || n.Wait != c.wait {
			t.Errorf("away %v: %+v, want %s", c.away, n, c.wait)
		}
	}
	for i := range uint64(1000) {
		rng := rand.New(rand.NewPCG(i, 3))
		welcome, at := time.Duration(rng.Int64N(int64(time.Minute))), 2*time.Minute
		b := lastBeat(welcome, at, rng)
		if b > at || b < max(welcome, at-3*time.Second) {
			t.Fatalf("lastBeat(%v, %v) = %v: want within the beat before the close", welcome, at, b)
		}
	}
}

// The differential test's script (test/clientlibs): each connection
// welcomed 1 to 4 ms after its attempt, held 1 to 2 s (whole ms), then
// closed bare, 10 times per client. The reference quantiles are
// @rails/actioncable 8.1.400's own, its src/connection.js and
// connection_monitor.js replayed on a virtual clock through the same
// script with the server's beat at a random phase (40,000 waits): the
// stale-but-recent poll after a close makes the poll after the reopen
// come 1.15² × 6 s on, past the next close's hold-off, so most waits are
// 6 to 8 s. Taking the close as the last message put the median at 12.2 s.
func TestActionCableHarnessScript(t *testing.T) {
	p := buildActionCable(t, nil)
	var waits []time.Duration
	script := rand.New(rand.NewPCG(17, 1))
	for client := range uint64(2000) {
		rng := rand.New(rand.NewPCG(17, client+2))
		c := p.NewClient(rng)
		at := time.Duration(0)
		for range 10 {
			c.Attempt(at)
			open := at + time.Duration(1+script.IntN(4))*ms
			c.Opened(open)
			closed := open + time.Duration(1000+script.IntN(1001))*ms
			n := c.Closed(closed, 1012, rng)
			if n.Stop {
				t.Fatalf("client %d stopped after a 1012", client)
			}
			waits = append(waits, n.Wait)
			at = closed + n.Wait
		}
	}
	slices.Sort(waits)
	for _, q := range []struct {
		p       float64
		library float64 // s
	}{{0.10, 6.18}, {0.25, 6.51}, {0.50, 7.37}, {0.75, 12.91}, {0.90, 13.44}, {0.99, 16.26}} {
		got := waits[int(q.p*float64(len(waits)-1))].Seconds()
		if math.Abs(got-q.library) > 0.15 {
			t.Errorf("p%.0f wait %.2f s, the library's %.2f s", q.p*100, got, q.library)
		}
	}
}
