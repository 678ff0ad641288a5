package proxy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/chaos"
)

// Restart takes one proxy node out of rotation: new connections go to the
// other nodes (or get 503 when none is up), the node's connections get
// spec.Code and spec.Reason spread evenly over spec.Drain while their
// upstream connections get 1001 (going away), and after spec.Downtime the
// node rejoins. It returns once the node is back in rotation, with the
// number of connections it closed. A zero spec.Code means 1012 (service
// restart).
//
// If ctx ends first, Restart stops closing, puts the node back at once and
// returns the count so far with ctx.Err(); connections not yet closed stay
// open. Restarting a node that is restarting is an error.
func (p *Proxy) Restart(ctx context.Context, node int, spec chaos.RestartSpec) (closed int, err error) {
	code, err := chaos.CheckRestart("proxy", node, len(p.nodes), spec)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := p.nodes[node]
	start := time.Now()
	open, err := p.takeDown(n, code, spec.Reason, start.Add(spec.Drain+spec.Downtime))
	if err != nil {
		return 0, fmt.Errorf("restart node %d: %w", node, err)
	}

	w := chaos.NewWaiter(ctx, p.done, errShutdown)
	defer w.Stop()
	closed, err = chaos.DrainClose(w, start, spec.Drain, open, func(batch []*conn) int {
		return closeConns(batch, code, spec.Reason, reasonRestart)
	})
	if err != nil {
		return closed + p.rejoin(n), err
	}
	if err := w.Until(start.Add(spec.Drain)); err != nil {
		return closed + p.rejoin(n), err
	}
	p.setState(n, admin.StateDown)
	if err := w.Until(start.Add(spec.Drain + spec.Downtime)); err != nil {
		return closed + p.rejoin(n), err
	}
	return closed + p.rejoin(n), nil
}

// takeDown takes n out of rotation until back and returns its open
// connections in id order.
func (p *Proxy) takeDown(n *node, code int, reason string, back time.Time) ([]*conn, error) {
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return nil, errShutdown()
	}
	if n.state != admin.StateUp {
		p.mu.Unlock()
		return nil, fmt.Errorf("node %d is already down", n.index)
	}
	n.state, n.back = admin.StateDraining, back
	n.downCode, n.downReason, n.late = code, reason, 0
	open := n.openLocked()
	p.mu.Unlock()
	sortByID(open)
	return open, nil
}

func (p *Proxy) setState(n *node, state string) {
	p.mu.Lock()
	n.state = state
	p.mu.Unlock()
}

// rejoin puts n back in rotation and returns how many connections were
// closed for completing their handshake while it was down.
func (p *Proxy) rejoin(n *node) (late int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	late, n.late = n.late, 0
	n.state, n.back = admin.StateUp, time.Time{}
	return late
}

// Close closes round(spec.Fraction × open connections) over all nodes, at
// least one if any are open and spec.Fraction > 0: each client gets
// spec.Code and spec.Reason, its upstream connection 1001 (going away). The
// connections are picked uniformly at random from spec.Seed, so the same
// seed over the same connections picks the same ones. A zero spec.Code
// means 1000 (normal closure). It returns how many it closed.
func (p *Proxy) Close(ctx context.Context, spec chaos.CloseSpec) (closed int, err error) {
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
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return 0, fmt.Errorf("close: %w", errShutdown())
	}
	var open []*conn
	for _, n := range p.nodes {
		open = append(open, n.openLocked()...)
	}
	p.mu.Unlock()
	sortByID(open)
	k := chaos.CloseCount(spec.Fraction, len(open))
	chaos.Choose(open, k, spec.Seed)
	return closeConns(open[:k], code, spec.Reason, reasonClose), nil
}

// closeConns closes conns (code and reason to the client, 1001 and upReason
// upstream), a bounded number at a time, and returns how many it closed (the
// others were closing already).
func closeConns(conns []*conn, code int, reason, upReason string) int {
	return chaos.CloseEach(conns, func(c *conn) bool { return c.close(code, reason, upReason) })
}

func sortByID(conns []*conn) {
	slices.SortFunc(conns, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
}
