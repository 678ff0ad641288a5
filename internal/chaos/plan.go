// Package chaos runs the timeline of a profile's chaos steps: it expands
// the steps into events through their actions (internal/action), starts
// each event at its time on the run's clock against a target, and records
// when each started.
package chaos

import (
	"cmp"
	"slices"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Plan expands a validated profile's chaos steps into events, in start
// order (ties keep step order), each numbered by its place.
func Plan(p *profile.Profile) []action.Event {
	var out []action.Event
	for si, s := range p.Chaos {
		a, ok := action.Lookup(s.Action)
		if !ok || !action.HasParams(s.Params) {
			continue // a validated profile has neither
		}
		out = append(out, a.Plan(s, Env(p, si))...)
	}
	slices.SortStableFunc(out, func(a, b action.Event) int { return cmp.Compare(a.At, b.At) })
	for i := range out {
		out[i].Index = i
	}
	return out
}

// Env is what planning step si of p needs: the target's nodes, the step's
// seed and, for an external target, its hooks' windows.
func Env(p *profile.Profile, si int) action.Env {
	env := action.Env{Step: si, Nodes: p.Target.Nodes, Seed: StepSeed(p.Seed, si)}
	if p.Target.Mode == profile.ModeExternal {
		hooks := p.Target.NodeHooks
		env.HookWindow = func(node int, name string) time.Duration {
			if node < 0 || node >= len(hooks) {
				return 0
			}
			h, _ := hooks[node].Hook(name)
			return h.Window.D()
		}
	}
	return env
}

// StepSeed is the seed of step si of a profile seeded with seed: each step
// picks its own connections.
func StepSeed(seed uint64, si int) uint64 {
	return seed ^ uint64(si+1)*0x9e3779b97f4a7c15
}

// EventPlans are what the recorder needs to know of events beforehand.
func EventPlans(events []action.Event) []stats.EventPlan {
	out := make([]stats.EventPlan, len(events))
	for i, e := range events {
		out[i] = stats.EventPlan{At: e.At, Action: e.Action, Node: e.Node, Code: e.Code, Window: e.Window, Settle: e.Settle}
	}
	return out
}
