package action

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// restart takes one node down as a deploy restarts a server: the node stops
// accepting at once, closes its clients with a code (1012, Service Restart,
// by default) spread evenly over a drain, stays down for a downtime and then
// accepts again.
type restart struct{}

// RestartParams are the keys of a restart step. Each node's event of a
// rolling restart carries them too.
type RestartParams struct {
	Node     int           `toml:"node"`     // the node to restart
	Drain    time.Duration `toml:"drain"`    // its closes are spread evenly over this window
	Downtime time.Duration `toml:"downtime"` // it refuses connections this long after the drain
	Code     int           `toml:"code"`     // the close code its clients get
	Reason   string        `toml:"reason"`   // the close reason, at most 123 bytes
}

// defaultRestartReason is the close reason of a restart that names none.
const defaultRestartReason = "service restart"

func (restart) Name() string { return "restart" }

func (restart) Params() Params {
	return &RestartParams{Downtime: 2 * time.Second, Code: 1012}
}

func (restart) Check(s Step, c Checker) {
	p := s.Params.(*RestartParams)
	checkNode(c, "node", p.Node)
	notNegative(c, "drain", p.Drain)
	notNegative(c, "downtime", p.Downtime)
	checkCode(c, p.Code)
	checkReason(c, p.Reason)
}

func (restart) Plan(s Step, env Env) []Event {
	p := s.Params.(*RestartParams)
	return []Event{restartEvent(s, env, s.At, p.Node, *p)}
}

// restartEvent is the event of one node's restart with p's keys, at at.
func restartEvent(s Step, env Env, at time.Duration, node int, p RestartParams) Event {
	p.Node = node
	if p.Reason == "" {
		p.Reason = defaultRestartReason
	}
	return Event{
		Step: env.Step, Action: s.Action, At: at, Node: node, Code: p.Code,
		Window: max(p.Drain, env.hookWindow(node, RestartHook)),
		Settle: p.Drain + p.Downtime, Spread: p.Drain, Seed: env.Seed, Params: &p,
	}
}

func (restart) Run(ctx context.Context, t Target, ev Event) (Effect, error) {
	return runRestart(ctx, t, ev)
}

// runRestart carries out one node's restart.
func runRestart(ctx context.Context, t Target, ev Event) (Effect, error) {
	p, err := params[RestartParams](ev)
	if err != nil {
		return Effect{}, err
	}
	e, err := Ending{Code: p.Code, Reason: p.Reason}.Check(1012)
	if err == nil {
		var eff Effect
		if eff, err = outage(ctx, t, p.Node, e, p.Drain, p.Downtime); err == nil {
			return eff, nil
		}
		return eff, fmt.Errorf("restart node %d: %w", p.Node, err)
	}
	return Effect{}, fmt.Errorf("restart node %d: %w", p.Node, err)
}

func (restart) Simulate(sim Sim, ev Event) error { return simRestart(sim, ev) }

// simRestart models one node's restart.
func simRestart(sim Sim, ev Event) error {
	p, err := params[RestartParams](ev)
	if err != nil {
		return err
	}
	return simOutage(sim, p.Node, Ending{Code: p.Code, Reason: p.Reason}, p.Drain, p.Downtime)
}

func (restart) Hook() HookSpec { return restartHook() }

// RestartHook is the name of the hook of restart and rolling_restart: an
// external target's node's own command or http request.
const RestartHook = "restart"

// restartHook is the hook of restart and rolling_restart.
func restartHook() HookSpec {
	return HookSpec{Name: RestartHook, Vars: []string{"code", "drain", "downtime", "reason"}}
}

func (restart) HookVars(ev Event) map[string]string { return restartVars(ev) }

// restartVars are a restart hook's values.
func restartVars(ev Event) map[string]string {
	p, ok := ev.Params.(*RestartParams)
	if !ok {
		return nil
	}
	return map[string]string{
		"code": strconv.Itoa(p.Code), "drain": p.Drain.String(),
		"downtime": p.Downtime.String(), "reason": p.Reason,
	}
}

// RestartNode restarts node of t with p's other keys, as a restart step's
// event does, and returns how many connections the target ended (-1: it
// cannot know).
func RestartNode(ctx context.Context, t Target, node int, p RestartParams) (closed int, err error) {
	p.Node = node
	eff, err := Carry(ctx, t, Event{Action: restart{}.Name(), Node: node, Code: p.Code, Params: &p})
	return eff.Closed, err
}
