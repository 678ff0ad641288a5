package target

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/chaos"
)

// Restart takes one node down: it stops accepting at once, closes the node's
// open connections with spec.Code and spec.Reason spread evenly over
// spec.Drain, stays down for spec.Downtime and then listens again on the same
// address. It returns the number of connections it closed. A zero spec.Code
// means 1012 (service restart).
//
// If ctx ends first, Restart stops closing, brings the node back up at once
// and returns the count so far with ctx.Err(); connections not yet closed
// stay open. Restarting a node that is down is an error. If the node cannot
// listen again, Restart reports it and the node stays down until restarted.
//
// node is 0 to Nodes()-1 whatever Options.FirstNode is; errors name the
// node by its number, FirstNode()+node.
func (t *Target) Restart(ctx context.Context, node int, spec chaos.RestartSpec) (closed int, err error) {
	code, err := chaos.CheckRestart("target", node, len(t.nodes), spec)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := t.nodes[node]
	start := time.Now()
	open, err := n.stop(code, spec.Reason)
	if err != nil {
		return 0, fmt.Errorf("restart node %d: %w", n.index, err)
	}

	w := chaos.NewWaiter(ctx, t.done, errShutdown)
	defer w.Stop()
	closed, err = chaos.DrainClose(w, start, spec.Drain, open, func(batch []*wsConn) int {
		return closeConns(batch, code, spec.Reason, ByRestart)
	})
	if err != nil {
		return closed + n.resume(), err
	}
	n.drained()
	if err := w.Until(start.Add(spec.Drain + spec.Downtime)); err != nil {
		return closed + n.resume(), err
	}
	late, err := n.relisten()
	if err != nil {
		return closed + late, fmt.Errorf("restart node %d: %w", n.index, err)
	}
	return closed + late, nil
}

// resume brings a node back up after an interrupted restart and returns how
// many connections it closed for upgrading while down. A failure to listen
// leaves the node down; the interruption is what the caller reports.
func (n *node) resume() int {
	late, _ := n.relisten()
	return late
}

// relisten serves again after a restart and returns how many connections were
// closed for upgrading while the node was down.
func (n *node) relisten() (late int, err error) {
	n.mu.Lock()
	late, n.late = n.late, 0
	n.restarting, n.draining = false, false
	n.mu.Unlock()
	if n.t.closing() {
		return late, errShutdown()
	}
	var ln net.Listener
	if n.t.balancer == BalancerReusePort {
		// The restart already started; an ended ctx must not keep the node down.
		ln, err = listenReusePort(context.Background(), n.t.addr)
		if err != nil {
			return late, fmt.Errorf("listen again on %s: %w", n.t.addr, err)
		}
	} else {
		ln = newConnQueue(n.t.dispatchLn.Addr())
	}
	if !n.start(ln) {
		return late, errShutdown()
	}
	return late, nil
}

// Close closes round(spec.Fraction × open connections) over all nodes, at
// least one if any are open and spec.Fraction > 0, with spec.Code and
// spec.Reason. The connections are picked uniformly at random from spec.Seed,
// so the same seed over the same connections picks the same ones. A zero
// spec.Code means 1000 (normal closure). It returns how many it closed.
func (t *Target) Close(ctx context.Context, spec chaos.CloseSpec) (closed int, err error) {
	if !(spec.Fraction >= 0 && spec.Fraction <= 1) {
		return 0, fmt.Errorf("close: fraction is %v, want it in [0, 1]", spec.Fraction)
	}
	code, err := chaos.CloseCode(spec.Code, websocket.CloseNormalClosure, spec.Reason)
	if err != nil {
		return 0, fmt.Errorf("close: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if t.closing() {
		return 0, fmt.Errorf("close: %w", errShutdown())
	}
	var open []*wsConn
	for _, n := range t.nodes {
		n.mu.Lock()
		open = append(open, n.openLocked()...)
		n.mu.Unlock()
	}
	sortByID(open)
	k := chaos.CloseCount(spec.Fraction, len(open))
	chaos.Choose(open, k, spec.Seed)
	return closeConns(open[:k], code, spec.Reason, ByClose), nil
}

func sortByID(conns []*wsConn) {
	slices.SortFunc(conns, func(a, b *wsConn) int { return cmp.Compare(a.id, b.id) })
}
