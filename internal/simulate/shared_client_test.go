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
// preset, after closes and after failed attempts alike. A preset's
// decisions may depend on when things happen (reconnecting-websocket
// resets its count after 5 s up, SignalR counts the time since its
// reconnect began, ActionCable polls on a clock), and a real run's times
// are the wall clock's, a simulation's the model's: the same close comes
// some milliseconds apart in the two. So, per client:
//
//  1. the two runs report the same events to the library, in the same
//     order (attempts, openings, failures with their statuses, closes with
//     their codes, and a new library client for each session the client
//     ended itself), but where the run's timeline races the client's own
//     timer (an event within slack of a chaos step, the node's return or
//     the run's end, where a few ms decide whether a close finds the client
//     connected or an attempt finds the node up): there the sequences may
//     part, and the comparison stops;
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

// closesProfile: 30 clients on one node, a 1012 close of everyone, then a
// 1001 close; long enough for the slowest first delay of the presets'
// defaults to come round after each. Closes, not a restart: the node stays
// up, so no attempt fails (SignalR comes back at once, and would find a
// restarting node down for a time the machine decides).
const closesProfile = `
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

// failuresProfile: 30 clients, 100 ms apart, on a node that holds 20: the
// last 10 are refused with 503 (max_conns) at every attempt while the
// first 20 hold their connections. Then a restart closes those with 1012
// and the node refuses connections for 5 s: every attempt then is refused
// (no HTTP status). Once it is back, 30 clients race for its 20 places by
// their attempts' order, which a few ms decide: the comparison ends there
// (failuresUntil). 5.25 s: no connection has been up within 50 ms of
// reconnecting-websocket's 5 s minUptime at the close.
const failuresProfile = `
name = "shared-client-failures"
duration = "11s"
seed = 11
[target]
mode = "embedded"
nodes = 1
[target.capacity]
accept_rate = 0
max_conns = 20
[fleet]
clients = 30
ramp = "3s"
client = "%s"
[fleet.session]
send_interval = "0s"
[[chaos]]
at = "5.25s"
action = "restart"
downtime = "5s"
code = 1012
`

// failuresUntil is when failuresProfile's node is back.
const failuresUntil = 10250 * time.Millisecond

// lifetimeProfile: 10 clients that end their sessions after 1.5 s, and
// come back 100 ms later, a new app to the library each time; a 1012 close
// of everyone in between.
const lifetimeProfile = `
name = "shared-client-lifetime"
duration = "5s"
seed = 11
[target]
mode = "embedded"
nodes = 1
[target.capacity]
accept_rate = 0
[fleet]
clients = 10
ramp = "1s"
client = "%s"
[fleet.session]
send_interval = "0s"
lifetime = "1.5s"
pause = "100ms"
[[chaos]]
at = "2.8s"
action = "close"
fraction = 1.0
code = 1012
`

// slack is how close to a chaos step or the run's end an event may come
// for the two runs to part there.
const slack = 150 * time.Millisecond

// call is one call of the rules into a library, and its answer; "new" is
// a new library client of the same client (the session before it was the
// client's to end).
type call struct {
	kind string // new, attempt, opened, failed, closed, away
	at   time.Duration
	arg  int // failed: status; closed: code; away: 1 for now
	next clientlib.Next
}

func (c call) event() string { return fmt.Sprintf("%s %d", c.kind, c.arg) }

// libLog is the calls into one library client, and the stream of the
// client it belongs to.
type libLog struct {
	rng   *rand.Rand
	calls []call
}

// recordingPreset records every library client's calls.
type recordingPreset struct {
	clientlib.Preset
	mu  sync.Mutex
	log []*libLog
}

func (p *recordingPreset) NewClient(rng *rand.Rand) clientlib.Client {
	l := &libLog{rng: rng}
	p.mu.Lock()
	p.log = append(p.log, l)
	p.mu.Unlock()
	return &recordingClient{inner: p.Preset.NewClient(rng), log: &l.calls}
}

// byClient returns each client's library clients, in order: those of its
// stream, the client known by the time of its first attempt, its ramp
// slot.
func (p *recordingPreset) byClient(t *testing.T, pr *profile.Profile) map[int][][]call {
	t.Helper()
	slots := map[time.Duration]int{}
	for i := range pr.Fleet.Clients {
		slots[fleet.StartOffset(pr.Fleet.Ramp.D(), i, pr.Fleet.Clients)] = i
	}
	var order []*rand.Rand
	libs := map[*rand.Rand][][]call{}
	for _, l := range p.log {
		if _, seen := libs[l.rng]; !seen {
			order = append(order, l.rng)
		}
		libs[l.rng] = append(libs[l.rng], l.calls)
	}
	out := map[int][][]call{}
	for _, rng := range order {
		ls := libs[rng]
		if len(ls[0]) == 0 {
			continue // the client never started
		}
		first := ls[0][0]
		i, ok := slots[first.at]
		if !ok || first.kind != "attempt" {
			t.Fatalf("a client's first call %+v is no client's first attempt", first)
		}
		if _, dup := out[i]; dup {
			continue // the rules' probe for reconnect_expected, after the run
		}
		out[i] = ls
	}
	return out
}

// flat returns a client's library clients' calls in one sequence, a "new"
// call before each library client but the first, at its first call.
func flat(libs [][]call) []call {
	var out []call
	for n, l := range libs {
		if n > 0 && len(l) > 0 {
			out = append(out, call{kind: "new", at: l[0].at})
		}
		out = append(out, l...)
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

// scenario is a run the fleet and the simulator are compared on.
type scenario struct {
	name, profile string
	// until: calls from then on are not compared, for a race the clients'
	// own timers do not decide starts there; 0: none.
	until time.Duration
	// check says what the scenario must have shown, given both runs'
	// counters and calls by client.
	check func(t *testing.T, real, sim stats.Counters, rl, sl map[int][][]call)
}

func TestSameClientDelaysAsTheFleet(t *testing.T) {
	for _, sc := range []scenario{
		{name: "closes", profile: closesProfile, check: checkCloses},
		{name: "failures", profile: failuresProfile, until: failuresUntil, check: checkFailures},
		{name: "lifetime", profile: lifetimeProfile, check: checkLifetime},
	} {
		for _, name := range clientlib.Names() {
			t.Run(sc.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				sameDelays(t, sc, name)
			})
		}
	}
}

// sameDelays runs sc with the preset name for real and simulated, and
// compares the two.
func sameDelays(t *testing.T, sc scenario, name string) {
	p := loadText(t, fmt.Sprintf(sc.profile, name))
	if p.Fleet.ClientOptions.Preset.Unsimulable() != "" {
		t.Skipf("simulate refuses %s: %s", name, p.Fleet.ClientOptions.Preset.Unsimulable())
	}
	inner := p.Fleet.ClientOptions.Preset
	real := &recordingPreset{Preset: inner}
	p.Fleet.ClientOptions.Preset = real
	realCounters := runFleet(t, p)
	sim := &recordingPreset{Preset: inner}
	p.Fleet.ClientOptions.Preset = sim
	run, err := Run(context.Background(), p, DefaultModel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Fleet.ClientOptions.Preset = inner
	rl, sl := real.byClient(t, p), sim.byClient(t, p)
	sc.check(t, realCounters, run.Results.Counters, rl, sl)
	compareClients(t, p, sc.until, rl, sl)
}

// checkCloses: no attempt failed (a failure's timing is the machine's,
// not the clients'), and every client saw a close.
func checkCloses(t *testing.T, real, _ stats.Counters, rl, _ map[int][][]call) {
	if real.ConnectAttempts != real.Connects+real.ConnectFailures["cancelled"] {
		t.Fatalf("the real run had failed attempts (%v): their timing is the machine's", real.ConnectFailures)
	}
	for i, libs := range rl {
		if !strings.Contains(fmt.Sprint(libs), "closed") {
			t.Errorf("client %d saw no close in the real run: %v", i, libs)
		}
	}
}

// checkFailures: the node refused attempts with 503 while full and
// refused connections while down, in both runs alike, and the library
// heard of both: a 503 as status 503, a refused (or reset) connection as
// status 0.
func checkFailures(t *testing.T, real, sim stats.Counters, rl, sl map[int][][]call) {
	for run, c := range map[string]stats.Counters{"real": real, "simulated": sim} {
		if c.ConnectFailures["http_503"] == 0 || c.ConnectFailures["refused"] == 0 {
			t.Errorf("the %s run's failures %v: want 503s (the node full) and refused connections (the node down)", run, c.ConnectFailures)
		}
		for reason := range c.ConnectFailures {
			// A handshake in flight as the node stops is dropped: reset.
			if reason != "http_503" && reason != "refused" && reason != "reset" && reason != "cancelled" {
				t.Errorf("the %s run's failures %v: %s is neither the node full nor down", run, c.ConnectFailures, reason)
			}
		}
	}
	for run, logs := range map[string]map[int][][]call{"real": rl, "simulated": sl} {
		statuses := map[int]bool{}
		for _, libs := range logs {
			for _, c := range flat(libs) {
				if c.kind == "failed" {
					statuses[c.arg] = true
				}
			}
		}
		if !statuses[503] || !statuses[0] || len(statuses) != 2 {
			t.Errorf("the %s run's library heard failures with statuses %v: want 503 and 0", run, statuses)
		}
	}
}

// checkLifetime: each session a client ended itself was its library
// client's last, in both runs: the next session was a new library client
// (no Opened is followed by an Attempt), and every client had several.
func checkLifetime(t *testing.T, _, _ stats.Counters, rl, sl map[int][][]call) {
	for run, logs := range map[string]map[int][][]call{"real": rl, "simulated": sl} {
		for i, libs := range logs {
			if len(libs) < 2 {
				t.Errorf("client %d, %s run: %d library clients; its first session ended after its lifetime, so the next was a new one", i, run, len(libs))
			}
			for _, l := range libs {
				for k := 1; k < len(l); k++ {
					if l[k-1].kind == "opened" && l[k].kind == "attempt" {
						t.Errorf("client %d, %s run: a library client attempts again after an opening with no close: %v", i, run, l)
						break
					}
				}
			}
		}
	}
}

// runFleet runs p's fleet and chaos against the embedded target, and
// returns its counters.
func runFleet(t *testing.T, p *profile.Profile) stats.Counters {
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
	return rec.Results(start, p.Duration.D()).Counters
}

// compareClients holds the claims of the comment above for every client,
// for the calls before until (0: all).
func compareClients(t *testing.T, p *profile.Profile, until time.Duration, real, sim map[int][][]call) {
	t.Helper()
	if len(real) != p.Fleet.Clients || len(sim) != p.Fleet.Clients {
		t.Fatalf("%d real and %d simulated clients started, want %d", len(real), len(sim), p.Fleet.Clients)
	}
	bounds := []time.Duration{p.Duration.D()}
	for _, s := range p.Chaos {
		bounds = append(bounds, s.At)
	}
	if until > 0 {
		bounds = append(bounds, until)
	}
	same, parted, equal, decisions := 0, 0, 0, 0
	for i := range p.Fleet.Clients {
		for run, libs := range map[string][][]call{"real": real[i], "simulated": sim[i]} {
			if msg := replay(p, i, flat(libs)); msg != "" {
				t.Errorf("client %d, %s run: %s", i, run, msg)
			}
		}
		r, s := before(flat(real[i]), until), before(flat(sim[i]), until)
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

// before returns the calls of log before until (0: all of them).
func before(log []call, until time.Duration) []call {
	if until == 0 {
		return log
	}
	for k, c := range log {
		if c.at >= until {
			return log[:k]
		}
	}
	return log
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
		case "new":
			r = rules.NewRetry(rng)
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
	var libs [][]call
	for _, l := range rec.log {
		libs = append(libs, l.calls)
	}
	if got := flat(libs); fmt.Sprint(got) != fmt.Sprint(log) {
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
	p := loadText(t, fmt.Sprintf(closesProfile, "reconnecting-websocket@4"))
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
