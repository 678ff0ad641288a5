package simulate

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// watchedBackoff records every delay a backoff draws, by the random stream
// it draws from: one stream per client.
type watchedBackoff struct {
	inner backoff.Backoff
	mu    sync.Mutex
	seqs  map[*rand.Rand][]time.Duration
}

func (w *watchedBackoff) Delay(attempt int, prev time.Duration, rng *rand.Rand) time.Duration {
	d := w.inner.Delay(attempt, prev, rng)
	w.mu.Lock()
	w.seqs[rng] = append(w.seqs[rng], d)
	w.mu.Unlock()
	return d
}

// byClient returns the recorded sequences by client: a client is known by
// the first delay its stream gives, which the test computes from
// fleet.ClientRand on its own.
func (w *watchedBackoff) byClient(t *testing.T, firsts map[time.Duration]int) map[int]string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[int]string{}
	for _, s := range w.seqs {
		i, ok := firsts[s[0]]
		if !ok {
			t.Fatalf("a stream whose first delay %v is no client's first", s[0])
		}
		out[i] = fmt.Sprint(s)
	}
	return out
}

// sharedProfile: 40 clients on one node, a restart and then a close of
// everyone with 1012; a reconnect window and a first delay, each drawn from
// the client's stream, so drawing them in another order changes every
// later delay.
const sharedProfile = `
name = "shared-delays"
duration = "4s"
seed = 7
[target]
mode = "embedded"
nodes = 1
[target.capacity]
accept_rate = 0
[fleet]
clients = 40
ramp = "300ms"
[fleet.session]
send_interval = "0s"
[fleet.reconnect]
strategy = "window"
min = "150ms"
max = "400ms"
first_delay = "100ms"
[[chaos]]
at = "1s"
action = "restart"
node = 0
downtime = "0s"
code = 1012
[[chaos]]
at = "2.2s"
action = "close"
fraction = 1.0
code = 1012
`

// The simulator's clients draw the same delays as the fleet's: for the same
// seed, every client's sequence of backoff delays is the same, in a real
// run against the embedded target and in the simulation.
func TestSameDelaysAsTheFleet(t *testing.T) {
	p := loadText(t, sharedProfile)

	// The real run: the fleet's clients against the embedded target.
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
	real := &watchedBackoff{inner: cfg.Backoff, seqs: map[*rand.Rand][]time.Duration{}}
	cfg.Backoff = real
	events := chaos.Plan(p)
	plans := chaos.EventPlans(events)
	start := time.Now()
	rec := stats.New(stats.Config{Start: start, Horizon: p.Duration.D(), Events: plans})
	fl, err := fleet.New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, p.Duration.D())
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { fl.Run(runCtx) })
	outcomes := (&chaos.Controller{Target: tgt, Events: events, Log: rec}).Run(runCtx, start)
	<-runCtx.Done()
	wg.Wait()
	for _, o := range outcomes {
		if o.Err != nil {
			t.Fatalf("chaos: %v", o.Err)
		}
	}
	if c := rec.Results(start, p.Duration.D()).Counters; c.ConnectAttempts != c.Connects+c.ConnectFailures["cancelled"] {
		t.Fatalf("the real run had failed attempts (%v): its delays depend on timing, not only on the streams", c.ConnectFailures)
	}

	// The simulation, with the profile's rules watched the same way.
	rules, err := fleet.RulesFromProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	sim := &watchedBackoff{inner: rules.Backoff, seqs: map[*rand.Rand][]time.Duration{}}
	rules.Backoff = sim
	if _, err := Run(ctx, p, DefaultModel(), Options{Rules: &rules}); err != nil {
		t.Fatal(err)
	}

	// Each client's first delay, from its own stream.
	b, err := fleet.NewBackoff(p.Fleet.Reconnect)
	if err != nil {
		t.Fatal(err)
	}
	firsts := map[time.Duration]int{}
	for i := range p.Fleet.Clients {
		firsts[b.Delay(1, 0, fleet.ClientRand(p.Seed, i))] = i
	}
	if len(firsts) != p.Fleet.Clients {
		t.Fatal("two clients share a first delay: choose another seed")
	}
	got, want := sim.byClient(t, firsts), real.byClient(t, firsts)
	if len(want) != p.Fleet.Clients {
		t.Fatalf("the real run drew delays for %d clients, want all %d", len(want), p.Fleet.Clients)
	}
	for i := range p.Fleet.Clients {
		if strings.Count(want[i], " ") != 1 {
			t.Fatalf("real client %d drew %s: want two delays, one per close", i, want[i])
		}
		if got[i] != want[i] {
			t.Errorf("client %d: simulated delays %s, real %s", i, got[i], want[i])
		}
	}
}

// The simulator decides its clients' waits with the fleet's code, not a
// copy: it calls fleet's rules and per-client streams, and neither defines
// a backoff nor reads the profile's reconnect settings itself.
func TestBackoffCodeIsTheFleets(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "Delay" || n.Name.Name == "FirstDelay" {
					t.Errorf("%s: the simulator defines %s: backoff belongs to package backoff, through fleet.Rules", fset.Position(n.Pos()), n.Name.Name)
				}
			case *ast.SelectorExpr:
				switch n.Sel.Name {
				case "Reconnect":
					// fleet.Reconnect the action and stats.Reconnect the
					// metric are fine; p.Fleet.Reconnect, the settings, not.
					if x, ok := n.X.(*ast.SelectorExpr); !ok || x.Sel.Name != "Fleet" {
						break
					}
					t.Errorf("%s: the simulator reads %s itself: take the rules from fleet.RulesFromProfile", fset.Position(n.Pos()), n.Sel.Name)
				case "AfterClose", "AfterFailure", "ClientRand", "RulesFromProfile":
					calls[n.Sel.Name] = true
				}
			}
			return true
		})
	}
	for _, name := range []string{"AfterClose", "AfterFailure", "ClientRand", "RulesFromProfile"} {
		if !calls[name] {
			t.Errorf("the simulator never calls fleet's %s", name)
		}
	}
}
