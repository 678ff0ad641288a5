package clientlib

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

var namePattern = regexp.MustCompile(`^[@a-z0-9./_-]+@[0-9]+(\.[0-9]+)?$`)

// TestTable holds every preset to the contract the profile, the listing
// and the docs rely on.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range table() {
		name := l.Name()
		if !namePattern.MatchString(name) || seen[name] {
			t.Errorf("preset name %q: want a unique library@major name", name)
		}
		seen[name] = true
		if l.Version() == "" || l.About() == "" || l.Source() == "" {
			t.Errorf("%s: Version, About and Source must say something", name)
		}
		if got, ok := Lookup(name); !ok || got.Name() != name {
			t.Errorf("Lookup(%q) fails", name)
		}
		opts := l.Options()
		for _, k := range optstruct.Keys(opts) {
			if optstruct.Doc(opts, k) == "" {
				t.Errorf("%s: option %s has no doc tag", name, k)
			}
		}
		if _, err := l.Build(opts); err != nil {
			t.Errorf("%s: its defaults do not build: %v", name, err)
		}
	}
}

// build returns l built from its defaults with edit applied (nil: none);
// O is l's option struct.
func build[O any](t *testing.T, l Library, edit func(*O)) Preset {
	t.Helper()
	o := l.Options().(*O)
	if edit != nil {
		edit(o)
	}
	p, err := l.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// script is a sequence of what happens to a client, the same for every
// preset: closes with every kind of code, refusals, short and long
// connections.
var script = []struct {
	kind   string // "open", "close", "fail", "away"
	at     time.Duration
	code   int // close code, or HTTP status of a failure
	awayNo bool
}{
	{"open", 10 * time.Millisecond, 0, false},
	{"close", 20 * time.Second, 1012, false},
	{"fail", 21 * time.Second, 503, false},
	{"fail", 23 * time.Second, 503, false},
	{"fail", 30 * time.Second, 0, false},
	{"open", 40 * time.Second, 0, false},
	{"close", 41 * time.Second, 1001, false},
	{"open", 42 * time.Second, 0, false},
	{"close", 50 * time.Second, 1006, false},
	{"open", 60 * time.Second, 0, false},
	{"away", 70 * time.Second, 0, false},
	{"open", 71 * time.Second, 0, false},
	{"away", 80 * time.Second, 0, true},
	{"open", 81 * time.Second, 0, false},
	{"close", 90 * time.Second, 4000, false},
	{"open", 100 * time.Second, 0, false},
	{"close", 110 * time.Second, 1000, false},
}

// play runs script on a new client of p drawn from seed, and returns
// every Next it gave, until it stopped.
func play(p Preset, seed uint64) []Next {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	c := p.NewClient(rng)
	c.Attempt(0)
	var out []Next
	for _, e := range script {
		var n Next
		switch e.kind {
		case "open":
			c.Attempt(e.at - time.Millisecond)
			c.Opened(e.at)
			continue
		case "close":
			n = c.Closed(e.at, e.code, rng)
		case "fail":
			c.Attempt(e.at - time.Millisecond)
			n = c.Failed(e.at, e.code, rng)
		case "away":
			n = c.Away(e.at, e.awayNo, rng)
			if n.Stop {
				n.Reason = "Away stopped: " + n.Reason // TestDeterministic fails it
			}
		}
		out = append(out, n)
		if n.Stop {
			break
		}
	}
	return out
}

// TestDeterministic: two clients of one seed draw the same decisions and
// delays (the fleet and the simulator rely on it), waits are never
// negative, a stop says why, and Away never stops.
func TestDeterministic(t *testing.T) {
	for _, l := range table() {
		p, err := l.Build(l.Options())
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(20) {
			a, b := play(p, seed), play(p, seed)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s seed %d: two plays differ:\n%+v\n%+v", l.Name(), seed, a, b)
			}
			for i, n := range a {
				if strings.HasPrefix(n.Reason, "Away stopped") || n.Wait < 0 || (n.Stop && (n.Reason == "" || n.Wait != 0)) || (n.GaveUp && !n.Stop) {
					t.Errorf("%s seed %d: step %d gave %+v", l.Name(), seed, i, n)
				}
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	if got := Suggest("Reconnecting-WebSocket"); got != "reconnecting-websocket@4" {
		t.Errorf("Suggest = %q", got)
	}
	if got := Suggest("nosuch@1"); got != "" {
		t.Errorf("Suggest(nosuch) = %q", got)
	}
}

// TestHugeOptionsSaturate: an option of years is a wait or timeout longer
// than any run, never one wrapped to zero or below.
func TestHugeOptionsSaturate(t *testing.T) {
	if got := Millis(1e300); got != Forever {
		t.Errorf("Millis(1e300) = %v, want Forever", got)
	}
	if got := Millis(-5); got != 0 {
		t.Errorf("Millis(-5) = %v, want 0", got)
	}
	l, _ := Lookup("python-websockets@10")
	o := l.Options().(*PythonWebsocketsOptions)
	o.BackoffInitial, o.OpenTimeout = 1e12, 1e12
	p, err := l.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ConnectTimeout(); got != Forever {
		t.Errorf("open_timeout 1e12 s: connect timeout %v, want Forever", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := p.NewClient(rng)
	c.Attempt(0)
	// random() × 1e12 s: anything but a tiny draw is past Forever.
	if n := c.Failed(time.Second, 503, rng); n.Stop || n.Wait < time.Duration(1<<40) {
		t.Errorf("BACKOFF_INITIAL 1e12 s: first wait %v, want years", n.Wait)
	}
}

// TestClosedBeforeOpened: a connection the server closes after the
// WebSocket opened and before the protocol's first reply is, to each
// library, what its source makes of it.
func TestClosedBeforeOpened(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	client := func(name string) Client {
		l, _ := Lookup(name)
		p, err := l.Build(l.Options())
		if err != nil {
			t.Fatal(err)
		}
		return p.NewClient(rng)
	}
	// socket.io-client: the Manager hears nothing until its 20 s timeout,
	// and the backoff goes on from where it was.
	sio := client("socket.io-client@4")
	sio.Attempt(0)
	sio.Opened(time.Second)
	sio.Closed(10*time.Second, 1012, rng)
	sio.Attempt(11 * time.Second)
	n := sio.Closed(11*time.Second+50*time.Millisecond, 1012, rng)
	// Second backoff step: 2000 ms ± 50%, after the timeout at 31 s.
	if lo, hi := 20*time.Second-50*time.Millisecond+time.Second, 20*time.Second-50*time.Millisecond+3*time.Second; n.Stop || n.Wait < lo || n.Wait > hi {
		t.Errorf("socket.io-client: closed before the engine opened: %+v, want the rest of the 20 s timeout and then 1-3 s", n)
	}
	// SignalR: a close before the handshake's response fails the start,
	// which withAutomaticReconnect does not retry.
	sr := client("@microsoft/signalr@10")
	sr.Attempt(0)
	if n := sr.Closed(time.Second, 1000, rng); !n.Stop {
		t.Errorf("signalr: a first start closed before its handshake: %+v, want stopped", n)
	}
	// phoenix: onConnOpen reset the timer at the WebSocket's open.
	ph := client("phoenix@1.8")
	ph.Attempt(0)
	ph.Opened(0)
	for i := range 3 {
		ph.Closed(time.Duration(i+1)*time.Second, 1012, rng)
		ph.Attempt(time.Duration(i+1)*time.Second + 10*time.Millisecond)
	}
	if n := ph.Closed(5*time.Second, 1012, rng); n.Wait != 10*time.Millisecond {
		t.Errorf("phoenix: closed after the WebSocket opened: wait %v, want 10 ms (tries reset at the open)", n.Wait)
	}
}
