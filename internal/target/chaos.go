package target

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
)

// The embedded target's chaos capabilities (see internal/action), which the
// actions compose: take a node out of service and back, end connections
// with a close frame or drop them, freeze a node's traffic and thaw it.
// node is 0 to Nodes()-1 whatever Options.FirstNode is; errors name the
// node by its number, FirstNode()+node.

// node returns node i, or an error.
func (t *Target) node(i int) (*node, error) {
	if i < 0 || i >= len(t.nodes) {
		return nil, fmt.Errorf("node %d: the target has nodes 0 to %d", i, len(t.nodes)-1)
	}
	return t.nodes[i], nil
}

// Refuse takes node out of service: its listener closes at once, so the
// kernel hands new connections to its siblings (or refuses them when none
// listens), and a handshake that completes meanwhile ends as e says (a zero
// e.Code means 1012, service restart). Refusing a node that is down
// already is an error. back is not used: a refusing node's port is closed,
// and nothing answers with a Retry-After.
func (t *Target) Refuse(ctx context.Context, node int, e action.Ending, back time.Time) error {
	n, err := t.node(node)
	if err != nil {
		return err
	}
	if e, err = e.Check(websocket.CloseServiceRestart); err != nil {
		return fmt.Errorf("node %d: %w", n.index, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return n.stop(e)
}

// Accept puts node back in service: it listens again on the same address.
// It returns how many connections were ended for completing their upgrade
// while the node refused. If the node cannot listen again, Accept reports
// it and the node stays down until a later Accept succeeds. Accepting a
// node that is up, or that another Accept is bringing back, is an error.
func (t *Target) Accept(ctx context.Context, node int) (int, error) {
	n, err := t.node(node)
	if err != nil {
		return 0, err
	}
	return n.relisten()
}

// relisten serves again after a refusal (or a failed relisten) and returns
// how many connections were ended for upgrading while the node was down. A
// node that is up is left as it is: a second listener would double its
// share of the connections and a second server would outlive Shutdown.
func (n *node) relisten() (late int, err error) {
	n.mu.Lock()
	if n.up || n.relistening {
		n.mu.Unlock()
		return 0, fmt.Errorf("node %d is up or coming up: there is nothing to accept again", n.index)
	}
	late, n.late = n.late, 0
	n.refusing, n.relistening = false, true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.relistening = false
		n.mu.Unlock()
	}()
	if n.t.closing() {
		return late, errShutdown()
	}
	var ln net.Listener
	if n.t.balancer == BalancerReusePort {
		// Whatever ended the outage, the node must not stay down.
		ln, err = listenReusePort(context.Background(), n.t.addr)
		if err != nil {
			return late, fmt.Errorf("node %d: listen again on %s: %w", n.index, n.t.addr, err)
		}
	} else {
		ln = newConnQueue(n.t.dispatchLn.Addr())
	}
	if !n.start(ln) {
		return late, errShutdown()
	}
	return late, nil
}

// End ends the open connections p picks, as e says (a zero e.Code means
// 1000, normal closure), spread evenly over spread, and returns how many it
// ended. An End of one node that refuses ends its connections as a
// restart's (ByRestart); any other as a close's (ByClose). If ctx ends
// first, End stops and returns the count so far with ctx.Err();
// connections not yet ended stay open.
func (t *Target) End(ctx context.Context, p action.Pick, e action.Ending, spread time.Duration) (int, error) {
	e, err := action.CheckEnd(ctx, len(t.nodes), p, e, websocket.CloseNormalClosure)
	if err != nil {
		return 0, err
	}
	if t.closing() {
		return 0, fmt.Errorf("end: %w", errShutdown())
	}
	open, by, done := t.beginEnd(p.Node, e)
	defer done()
	return action.Spread(ctx, t.done, errShutdown, p, open, spread, func(batch []*wsConn) int {
		return closeConns(batch, e, by)
	})
}

// beginEnd returns the open connections of node which (every node when
// -1) in id order, and why they end: the node's restart when the End is of
// one node that refuses (Refuse, then End: a restart or a crash), a close
// otherwise (a close step ends a share of every node's, whatever state
// each node is in). It counts an End under way on the nodes until done is
// called.
func (t *Target) beginEnd(which int, e action.Ending) (open []*wsConn, by string, done func()) {
	on := t.nodes
	if which >= 0 {
		on = t.nodes[which : which+1]
	}
	by = ByClose
	for _, n := range on {
		n.mu.Lock()
		open = append(open, n.openLocked()...)
		n.ending++
		if which >= 0 && n.refusing {
			by = ByRestart
		}
		n.mu.Unlock()
	}
	if e.Drop {
		by = ByDrop
	}
	sortByID(open)
	return open, by, func() {
		for _, n := range on {
			n.mu.Lock()
			n.ending--
			n.mu.Unlock()
		}
	}
}

func sortByID(conns []*wsConn) {
	slices.SortFunc(conns, func(a, b *wsConn) int { return cmp.Compare(a.id, b.id) })
}
