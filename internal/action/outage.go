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
		if ctx.Err() != nil {
			// Cut short while asking: a target in another process may
			// have taken the node down all the same, so put it back.
			putBack, cancel := putBackContext(ctx)
			defer cancel()
			_, _ = r.Accept(putBack, node)
		}
		return Effect{}, err
	}
	closed, err := ender.End(ctx, All(node), e, drain)
	if err == nil {
		err = wait(ctx, t, back)
	}
	// The node comes back whatever ended the outage early.
	putBack, cancel := putBackContext(ctx)
	defer cancel()
	late, acceptErr := r.Accept(putBack, node)
	closed += late
	if err == nil {
		err = acceptErr
	}
	return Effect{Closed: closed}, err
}

// putBackTimeout bounds putting a node back (Accept, Thaw) once an action
// is over or cut short: a target in another process that does not answer
// must not hold the run; it puts the node back on its own (Refuser).
const putBackTimeout = 10 * time.Second

// putBackContext is the context of putting a node back: not ctx's end,
// which may be why the action ended, but bounded by putBackTimeout.
func putBackContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), putBackTimeout)
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
