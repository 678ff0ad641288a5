package action

import (
	"context"
	"fmt"
	"time"
)

// freeze makes a node a zombie for a while: it stops reading and writing
// on its open connections without closing them (a half-open node, as a
// process stuck in a deadlock or a long pause looks from outside), and
// handshakes with it stall; then it resumes. Clients notice only through
// their pings (fleet.ping_interval, fleet.pong_timeout), and then end the
// connection themselves (1006).
type freeze struct{}

// FreezeParams are the keys of a freeze step.
type FreezeParams struct {
	Node int           `toml:"node"` // the node that freezes
	For  time.Duration `toml:"for"`  // how long it stays frozen
}

func (freeze) Name() string { return "freeze" }

func (freeze) Params() Params { return &FreezeParams{For: 10 * time.Second} }

func (freeze) Check(s Step, c Checker) {
	p := s.Params.(*FreezeParams)
	checkNode(c, "node", p.Node)
	if p.For <= 0 {
		c.Bad("for", `%v is too short: use how long the node stays frozen, above 0, e.g. "10s"`, p.For)
	}
	// A client notices a frozen node through a ping left unanswered. A
	// write that times out would tell it too, but only once its messages
	// have filled the socket buffers, which small messages do not in the
	// time of a freeze: without pings, nothing notices.
	switch f := c.Profile(); {
	case !f.Pings:
		c.Bad("action", `nothing would notice a freeze: the clients do not ping, and a frozen node is noticed through a ping left unanswered; set fleet.ping_interval (and fleet.pong_timeout)`)
	case p.For > 0 && p.For <= f.PongTimeout:
		c.Bad("for", "%v%s is not longer than the clients' pong timeout %v: the node answers their pings before they time out, so no client could notice; lengthen for, or shorten fleet.pong_timeout",
			p.For, c.Default("for"), f.PongTimeout)
	}
}

func (freeze) Plan(s Step, env Env) []Event {
	p := *s.Params.(*FreezeParams)
	return []Event{{
		Step: env.Step, Action: s.Action, At: s.At, Node: p.Node, Code: CloseAbnormal,
		Window: max(p.For, env.hookWindow(p.Node, freezeHook)), Settle: p.For, Seed: env.Seed, Params: &p,
	}}
}

func (freeze) Run(ctx context.Context, t Target, ev Event) (Effect, error) {
	p, err := params[FreezeParams](ev)
	if err != nil {
		return Effect{}, err
	}
	f, err := capability[Freezer](t, "freeze a node")
	if err == nil {
		err = CheckNode(t, p.Node)
	}
	if err == nil {
		err = ctx.Err() // over before asking: there is nothing to put back
	}
	if err != nil {
		return Effect{Closed: -1}, fmt.Errorf("freeze node %d: %w", p.Node, err)
	}
	start := time.Now()
	n, err := f.Freeze(ctx, p.Node, start.Add(p.For))
	if err != nil {
		if ctx.Err() != nil {
			// Cut short while asking: a target in another process may
			// have frozen the node all the same, so thaw it.
			putBack, cancel := putBackContext(ctx)
			defer cancel()
			_ = f.Thaw(putBack, p.Node)
		}
		return Effect{Closed: -1}, fmt.Errorf("freeze node %d: %w", p.Node, err)
	}
	err = wait(ctx, t, start.Add(p.For))
	// The node resumes whatever ended the freeze early.
	putBack, cancel := putBackContext(ctx)
	defer cancel()
	if thawErr := f.Thaw(putBack, p.Node); err == nil {
		err = thawErr
	}
	if err != nil {
		err = fmt.Errorf("freeze node %d: %w", p.Node, err)
	}
	return Effect{Closed: -1, Frozen: n}, err
}

func (freeze) Simulate(sim Sim, ev Event) error {
	p, err := params[FreezeParams](ev)
	if err != nil {
		return err
	}
	if err := sim.Freeze(p.Node); err != nil {
		return err
	}
	sim.After(p.For, func() { sim.Thaw(p.Node) })
	return nil
}

// freezeHook is the name of a node's freeze hook: [target.nodes.hooks.freeze].
const freezeHook = "freeze"

func (freeze) Hook() HookSpec { return HookSpec{Name: freezeHook, Vars: []string{"for"}} }

func (freeze) HookVars(ev Event) map[string]string {
	if p, ok := ev.Params.(*FreezeParams); ok {
		return map[string]string{"for": p.For.String()}
	}
	return nil
}
