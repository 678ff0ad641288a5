package proxy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
)

// The proxy's chaos capabilities (see internal/action), which the actions
// compose: a proxy node out of rotation and back, connections ended (the
// client gets the code, its upstream connection 1001) or dropped (both TCP
// connections closed without a close frame), a node's traffic frozen.

// proxyNode returns node i, or an error.
func (p *Proxy) proxyNode(i int) (*node, error) {
	if i < 0 || i >= len(p.nodes) {
		return nil, fmt.Errorf("node %d: the proxy has nodes 0 to %d", i, len(p.nodes)-1)
	}
	return p.nodes[i], nil
}

// Refuse takes node out of rotation: new connections go to the other nodes
// (or get 503 with a Retry-After until back when none is up), and a
// connection that completes its handshake meanwhile ends as e says (a
// zero e.Code means 1012, service restart). Refusing a node that is out of
// rotation already is an error.
func (p *Proxy) Refuse(ctx context.Context, node int, e action.Ending, back time.Time) error {
	n, err := p.proxyNode(node)
	if err != nil {
		return err
	}
	if e, err = e.Check(websocket.CloseServiceRestart); err != nil {
		return fmt.Errorf("node %d: %w", node, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.shut:
		return errShutdown()
	case n.refusing:
		return fmt.Errorf("node %d is already down", node)
	}
	n.refusing, n.back, n.down, n.late = true, back, e, 0
	n.restarts++
	return nil
}

// Accept puts node back in rotation and returns how many connections were
// ended for completing their handshake while it was out. Accepting a node
// that is in rotation is an error, as on the embedded target: a driver that
// comes back after a lease put its node back learns it was late.
func (p *Proxy) Accept(ctx context.Context, node int) (int, error) {
	n, err := p.proxyNode(node)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !n.refusing {
		return 0, fmt.Errorf("node %d is up: there is nothing to accept again", node)
	}
	late := n.late
	n.refusing, n.back, n.late = false, time.Time{}, 0
	return late, nil
}

// End ends the open connections pk picks, as e says (a zero e.Code means
// 1000, normal closure), spread evenly over spread, and returns how many it
// ended. If ctx ends first, End stops and returns the count so far with
// ctx.Err(); connections not yet ended stay open.
func (p *Proxy) End(ctx context.Context, pk action.Pick, e action.Ending, spread time.Duration) (int, error) {
	e, err := action.CheckEnd(ctx, len(p.nodes), pk, e, websocket.CloseNormalClosure)
	if err != nil {
		return 0, err
	}
	open, upReason, err := p.beginEnd(pk.Node)
	if err != nil {
		return 0, fmt.Errorf("end: %w", err)
	}
	defer p.endDone(pk.Node)
	return action.Spread(ctx, p.done, errShutdown, pk, open, spread, func(batch []*conn) int {
		return closeConns(batch, e, upReason)
	})
}

// beginEnd returns the open connections of node which (every node when
// -1) in id order, with the reason their upstream connections get: the
// node's restart when the End is of one node out of rotation, a close
// otherwise (a close step ends a share of every node's). It counts an End
// under way on the nodes until endDone.
func (p *Proxy) beginEnd(which int) (open []*conn, upReason string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return nil, "", errShutdown()
	}
	upReason = reasonClose
	for _, n := range p.endNodes(which) {
		open = append(open, n.openLocked()...)
		n.ending++
		if which >= 0 && n.refusing {
			upReason = reasonRestart
		}
	}
	sortByID(open)
	return open, upReason, nil
}

// endDone ends what beginEnd counted.
func (p *Proxy) endDone(node int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.endNodes(node) {
		n.ending--
	}
}

// endNodes are the nodes an End of node acts on.
func (p *Proxy) endNodes(node int) []*node {
	if node < 0 {
		return p.nodes
	}
	return p.nodes[node : node+1]
}

// Freeze stops node's traffic until Thaw: its connections' relays neither
// read nor write, and a handshake assigned to it stalls. It returns how many
// open connections it holds. Freezing a frozen node is an error. back is
// not used: the proxy is in the process of the action that thaws it.
func (p *Proxy) Freeze(ctx context.Context, node int, back time.Time) (int, error) {
	n, err := p.proxyNode(node)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return 0, errShutdown()
	}
	if !n.gate.Freeze() {
		return 0, fmt.Errorf("node %d is frozen already", node)
	}
	return len(n.openLocked()), nil
}

// Thaw resumes node's traffic; a node that is not frozen stays as it is.
func (p *Proxy) Thaw(ctx context.Context, node int) error {
	n, err := p.proxyNode(node)
	if err != nil {
		return err
	}
	n.gate.Thaw()
	return nil
}

// closeConns ends conns as e says (the client gets e's code and reason, the
// upstream 1001 with upReason), a bounded number at a time, and returns how
// many it ended (the others were closing already).
func closeConns(conns []*conn, e action.Ending, upReason string) int {
	return action.CloseEach(conns, func(c *conn) bool { return c.close(e, upReason) })
}

func sortByID(conns []*conn) {
	slices.SortFunc(conns, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
}
