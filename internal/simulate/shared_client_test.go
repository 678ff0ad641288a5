package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// The simulator and the fleet draw identical delays for every client
// preset. A preset's decisions may depend on when things happen
// (reconnecting-websocket resets its count after 5 s up, SignalR counts
// the time since its reconnect began, ActionCable polls on a clock), and a
// real run's times are the wall clock's, a simulation's the model's: the
// same close comes some milliseconds apart in the two. So, per client:
//
//  1. the two runs report the same events to the library, in the same
//     order (attempts, openings, failures with their statuses, closes with
//     their codes), but where the run's timeline races the client's own
//     timer (an event within slack of a chaos step or the run's end, where
//     a few ms decide whether a close finds the client connected): there
//     the sequences may part, and the comparison stops;
//  2. replaying each run's events, at that run's times, through the rules
//     the simulator calls (fleet.Rules with a fresh ClientRand stream),
//     reproduces that run's decisions and delays exactly: nothing else drew
//     from the client's stream, and nothing reported a call out of order.
//
// Together: given the same events at the same times, the simulator's
// clients wait exactly what the fleet's wait, and for a preset whose
// decisions do not depend on the times, the two runs' delays are equal
// outright (the test logs how many are). A preset added to clientlib's
// table is tested here with no edit.

// clientProfile: 30 clients on one node, a 1012 close of everyone, then a
// 1001 close; long enough for the slowest first delay of the presets'
// defaults to come round after each. Closes, not a restart: the node stays
// up, so no attempt fails (SignalR comes back at once, and would find a
// restarting node down for a time the machine decides).
const clientProfile = `
name = "shared-client-delays"
duration = "14s"
seed = 11
[target]
mode = "embedded"
nodes = 1
[target.capacity]
accept_rate = 0
[fleet]
clients = 30
ramp = "300ms"
client = "%s"
[fleet.session]
send_interval = "0s"
[[chaos]]
at = "1s"
action = "close"
fraction = 1.0
code = 1012
[[chaos]]
at = "7s"
action = "close"
fraction = 1.0
code = 1001
`

// slack is how close to a chaos step or the run's end an event may come
// for the two runs to part there.
const slack = 150 * time.Millisecond

// call is one call of the rules into a library, and its answer.
type call struct {
	kind string // attempt, opened, failed, closed, away
	at   time.Duration
	arg  int // failed: status; closed: code; away: 1 for now
	next clientlib.Next
}

func (c call) event() string { return fmt.Sprintf("%s %d", c.kind, c.arg) }

// recordingPreset records every client's calls, by client.
type recordingPreset struct {
	clientlib.Preset
	mu  sync.Mutex
	log []*[]call
}

func (p *recordingPreset) NewClient(rng *rand.Rand) clientlib.Client {
	l := &[]call{}
	p.mu.Lock()
	p.log = append(p.log, l)
	p.mu.Unlock()
	return &recordingClient{inner: p.Preset.NewClient(rng), log: l}
}

// byClient returns the logs by client index, known by the time of its
// first attempt: its ramp slot.
func (p *recordingPreset) byClient(t *testing.T, pr *profile.Profile) map[int][]call {
	t.Helper()
	slots := map[time.Duration]int{}
	for i := range pr.Fleet.Clients {
		slots[fleet.StartOffset(pr.Fleet.Ramp.D(), i, pr.Fleet.Clients)] = i
	}
	out := map[int][]call{}
	for _, l := range p.log {
		if len(*l) == 0 {
			continue // the client never started
		}
		i, ok := slots[(*l)[0].at]
		if !ok || (*l)[0].kind != "attempt" {
			t.Fatalf("a client's first call %+v is no client's first attempt", (*l)[0])
		}
		if _, dup := out[i]; dup {
			continue // the rules' probe for reconnect_expected, after the run
		}
		out[i] = *l
	}
	return out
}

type recordingClient struct {
	inner clientlib.Client
	log   *[]call
}

func (c *recordingClient) add(k string, at time.Duration, arg int, n clientlib.Next) clientlib.Next {
	*c.log = append(*c.log, call{k, at, arg, n})
	return n
}
func (c *recordingClient) Attempt(at time.Duration) {
	c.inner.Attempt(at)
	c.add("attempt", at, 0, clientlib.Next{})
}
func (c *recordingClient) Opened(at time.Duration) {
	c.inner.Opened(at)
	c.add("opened", at, 0, clientlib.Next{})
}
func (c *recordingClient) Failed(at time.Duration, status int, rng *rand.Rand) clientlib.Next {
	return c.add("failed", at, status, c.inner.Failed(at, status, rng))
}
func (c *recordingClient) Closed(at time.Duration, code int, rng *rand.Rand) clientlib.Next {
	return c.add("closed", at, code, c.inner.Closed(at, code, rng))
}
func (c *recordingClient) Away(at time.Duration, now bool, rng *rand.Rand) clientlib.Next {
	arg := 0
	if now {
		arg = 1
	}
	return c.add("away", at, arg, c.inner.Away(at, now, rng))
}

func TestSameClientDelaysAsTheFleet(t *testing.T) {
	for _, name := range clientlib.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := loadText(t, fmt.Sprintf(clientProfile, name))
			if p.Fleet.ClientOptions.Preset.Unsimulable() != "" {
				t.Skipf("simulate refuses %s: %s", name, p.Fleet.ClientOptions.Preset.Unsimulable())
			}
			inner := p.Fleet.ClientOptions.Preset
			real := &recordingPreset{Preset: inner}
			p.Fleet.ClientOptions.Preset = real
			runFleet(t, p)
			sim := &recordingPreset{Preset: inner}
			p.Fleet.ClientOptions.Preset = sim
			if _, err := Run(context.Background(), p, DefaultModel(), Options{}); err != nil {
				t.Fatal(err)
			}
			p.Fleet.ClientOptions.Preset = inner
			compareClients(t, p, real.byClient(t, p), sim.byClient(t, p))
		})
	}
}

// runFleet runs p's fleet and chaos against the embedded target, and
// fails the test if an attempt failed: a failure's timing is the
// machine's, not the clients'.
func runFleet(t *testing.T, p *profile.Profile) {
	t.Helper()
	ctx := context.Background()
	tgt, err := target.Start(ctx, target.Options{Nodes: 1, Capacity: p.Target.Capacity})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Shutdown(ctx)
	cfg, err := fleet.FromProfile(p, tgt.URL())
	if err != nil {
		t.Fatal(err)
	}
	events := chaos.Plan(p)
	start := time.Now()
	rec := stats.New(stats.Config{Start: start, Horizon: p.Duration.D(), Events: chaos.EventPlans(events)})
	fl, err := fleet.New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, p.Duration.D())
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { fl.Run(runCtx) })
	for _, o := range (&chaos.Controller{Target: tgt, Events: events, Log: rec}).Run(runCtx, start) {
		if o.Err != nil {
			t.Fatalf("chaos: %v", o.Err)
		}
	}
	<-runCtx.Done()
	wg.Wait()
	if c := rec.Results(start, p.Duration.D()).Counters; c.ConnectAttempts != c.Connects+c.ConnectFailures["cancelled"] {
		t.Fatalf("the real run had failed attempts (%v): their timing is the machine's", c.ConnectFailures)
	}
}

// compareClients holds the claims of the comment above for every client.
func compareClients(t *testing.T, p *profile.Profile, real, sim map[int][]call) {
	t.Helper()
	if len(real) != p.Fleet.Clients || len(sim) != p.Fleet.Clients {
		t.Fatalf("%d real and %d simulated clients started, want %d", len(real), len(sim), p.Fleet.Clients)
	}
	bounds := []time.Duration{p.Duration.D()}
	for _, s := range p.Chaos {
		bounds = append(bounds, s.At)
	}
	same, parted, equal, decisions := 0, 0, 0, 0
	for i := range p.Fleet.Clients {
		for run, log := range map[string][]call{"real": real[i], "simulated": sim[i]} {
			if msg := replay(p, i, log); msg != "" {
				t.Errorf("client %d, %s run: %s", i, run, msg)
			}
		}
		r, s := real[i], sim[i]
		if !strings.Contains(fmt.Sprint(r), "closed") {
			t.Errorf("client %d saw no close in the real run: %v", i, r)
		}
		k := 0
		for k < len(r) && k < len(s) && r[k].event() == s[k].event() {
			if r[k].kind == "failed" || r[k].kind == "closed" || r[k].kind == "away" {
				decisions++
				if r[k].next == s[k].next {
					equal++
				}
			}
			k++
		}
		if k == len(r) && k == len(s) {
			same++
			continue
		}
		if !nearBound(r, s, k, bounds) {
			t.Errorf("client %d: the runs part at call %d away from any chaos step or the end:\nreal      %v\nsimulated %v", i, k, r, s)
		}
		parted++
	}
	if same < p.Fleet.Clients*3/4 {
		t.Errorf("only %d of %d clients saw the same events in both runs", same, p.Fleet.Clients)
	}
	t.Logf("%d clients alike to the end, %d parted at a chaos step or the end; %d of %d decisions with the same delay outright", same, parted, equal, decisions)
}

// nearBound says whether the runs' calls at k (or the last before it)
// came within slack of a bound.
func nearBound(r, s []call, k int, bounds []time.Duration) bool {
	var ats []time.Duration
	for _, l := range [][]call{r, s} {
		for _, j := range []int{k - 1, k} {
			if j >= 0 && j < len(l) {
				ats = append(ats, l[j].at)
			}
		}
	}
	for _, at := range ats {
		for _, b := range bounds {
			if at > b-slack && at < b+slack {
				return true
			}
		}
	}
	return false
}

// replay feeds client i's recorded events, at their times, through the
// rules the simulator calls, from a fresh stream of the client's, and
// says where the answers differ from the recorded ones ("" when nowhere).
func replay(p *profile.Profile, i int, log []call) string {
	rules, err := fleet.RulesFromProfile(p)
	if err != nil {
		return err.Error()
	}
	rec := &recordingPreset{Preset: rules.Client}
	rules.Client = rec
	rng := fleet.ClientRand(p.Seed, i)
	r := rules.NewRetry(rng)
	for _, c := range log {
		switch c.kind {
		case "attempt":
			r.Attempt(c.at)
		case "opened":
			r.Connected(c.at)
		case "failed":
			rules.AfterFailure(&r, c.at, c.arg, 0, rng)
		case "closed":
			rules.AfterClose(&r, c.at, c.arg, rng)
		case "away":
			rules.AfterMessage(&r, c.at, c.arg == 1, rng)
		}
	}
	got := *rec.log[0]
	if fmt.Sprint(got) != fmt.Sprint(log) {
		return fmt.Sprintf("replayed, the rules answer\n%v\nrecorded\n%v", got, log)
	}
	return ""
}

// unsimulable is a preset the simulator cannot model, as a preset with a
// timer it cannot reproduce says.
type unsimulable struct{ clientlib.Preset }

func (unsimulable) Unsimulable() string { return "its poll follows the wall clock" }

// TestRefusesUnsimulablePreset: simulate refuses a profile whose client
// preset it cannot model, naming the preset and why, and runs one it can.
func TestRefusesUnsimulablePreset(t *testing.T) {
	p := loadText(t, fmt.Sprintf(clientProfile, "reconnecting-websocket@4"))
	if err := CheckProfile(p); err != nil {
		t.Fatalf("a preset it models: %v", err)
	}
	p.Fleet.ClientOptions.Preset = unsimulable{p.Fleet.ClientOptions.Preset}
	_, err := Run(context.Background(), p, DefaultModel(), Options{})
	want := "fleet.client reconnecting-websocket@4 cannot be simulated exactly: its poll follows the wall clock; run it for real with wsstorm run"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
