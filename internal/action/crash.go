package action

import (
	"context"
	"fmt"
	"time"
)

// crash kills a node as kill -9, an OOM kill or a lost machine does: its
// connections end without a close frame (the clients observe 1006) and it
// refuses connections for a downtime, then accepts again. Set beside a
// restart's 1012, it shows what a graceful shutdown saves.
type crash struct{}

// CrashParams are the keys of a crash step.
type CrashParams struct {
	Node     int           `toml:"node"`     // the node that crashes
	Downtime time.Duration `toml:"downtime"` // it refuses connections this long
}

// CloseAbnormal is the close code a client observes when its connection
// ends without a close frame (RFC 6455 §7.1.5); it is never sent.
const CloseAbnormal = 1006

func (crash) Name() string { return "crash" }

func (crash) Params() Params { return &CrashParams{Downtime: 2 * time.Second} }

func (crash) Check(s Step, c Checker) {
	p := s.Params.(*CrashParams)
	checkNode(c, "node", p.Node)
	notNegative(c, "downtime", p.Downtime)
}

func (crash) Plan(s Step, env Env) []Event {
	p := *s.Params.(*CrashParams)
	return []Event{{
		Step: env.Step, Action: s.Action, At: s.At, Node: p.Node, Code: CloseAbnormal,
		Window: env.hookWindow(p.Node, crashHook), Settle: p.Downtime, Seed: env.Seed, Params: &p,
	}}
}

func (crash) Run(ctx context.Context, t Target, ev Event) (Effect, error) {
	p, err := params[CrashParams](ev)
	if err != nil {
		return Effect{}, err
	}
	eff, err := outage(ctx, t, p.Node, Ending{Drop: true}, 0, p.Downtime)
	if err != nil {
		return eff, fmt.Errorf("crash node %d: %w", p.Node, err)
	}
	return eff, nil
}

func (crash) Simulate(sim Sim, ev Event) error {
	p, err := params[CrashParams](ev)
	if err != nil {
		return err
	}
	return simOutage(sim, p.Node, Ending{Drop: true}, 0, p.Downtime)
}

// crashHook is the name of a node's crash hook: [target.nodes.hooks.crash].
const crashHook = "crash"

func (crash) Hook() HookSpec { return HookSpec{Name: crashHook, Vars: []string{"downtime"}} }

func (crash) HookVars(ev Event) map[string]string {
	if p, ok := ev.Params.(*CrashParams); ok {
		return map[string]string{"downtime": p.Downtime.String()}
	}
	return nil
}
