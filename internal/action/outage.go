package action

import (
	"context"
	"fmt"
	"time"
)

// outage takes node down as a restart or a crash does: it stops accepting
// at once, ends its open connections as e says spread over drain, stays down
// for downtime after the drain and then accepts again. It returns how many
// connections the target ended, those that completed a handshake while the
// node was down included. If ctx ends first, the node is put back at once.
func outage(ctx context.Context, t Target, node int, e Ending, drain, downtime time.Duration) (Effect, error) {
	r, err := capability[Refuser](t, "take a node down")
	if err != nil {
		return Effect{}, err
	}
	ender, err := capability[Ender](t, "end connections")
	if err != nil {
		return Effect{}, err
	}
	if err := CheckNode(t, node); err != nil {
		return Effect{}, err
	}
	if drain < 0 || downtime < 0 {
		return Effect{}, fmt.Errorf("drain %v and downtime %v must not be negative", drain, downtime)
	}
	if err := ctx.Err(); err != nil {
		return Effect{}, err
	}
	start := time.Now()
	back := start.Add(drain + downtime)
	if err := r.Refuse(ctx, node, e, back); err != nil {
		return Effect{}, err
	}
	closed, err := ender.End(ctx, All(node), e, drain)
	if err == nil {
		err = wait(ctx, t, back)
	}
	// The node comes back whatever ended the outage early.
	late, acceptErr := r.Accept(context.WithoutCancel(ctx), node)
	closed += late
	if err == nil {
		err = acceptErr
	}
	return Effect{Closed: closed}, err
}

// simOutage models outage in a simulation.
func simOutage(sim Sim, node int, e Ending, drain, downtime time.Duration) error {
	if err := sim.Refuse(node); err != nil {
		return err
	}
	sim.End(All(node), e, drain)
	sim.After(drain+downtime, func() { sim.Accept(node) })
	return nil
}
