package action

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Target is what every target offers the actions: its number of nodes.
// What else it can do is in the optional capabilities below, which each
// action asks for; a new action composes them and adds no method to any
// target.
type Target interface {
	Nodes() int
}

// Ending says how connections end: with a close frame carrying Code and
// Reason, or with none at all when Drop is set (the TCP connection is
// closed, as a killed process's are: the client observes 1006).
type Ending struct {
	Code   int
	Reason string
	Drop   bool
}

// Pick says which open connections an End ends: those of Node (every node
// when Node is -1). A Fraction in (0, 1] picks round(Fraction × open) of
// them, at least one when any is open, in an order drawn from Seed, so that
// the same connections give the same pick; Fraction 0 picks every one, in
// the order they opened.
type Pick struct {
	Node     int
	Fraction float64
	Seed     uint64
}

// All picks every open connection of node (-1: of every node), in the order
// they opened.
func All(node int) Pick { return Pick{Node: node} }

// Ender is a target that ends open connections.
type Ender interface {
	// End ends the connections p picks as e says, spread evenly over spread
	// from now (the first at once, the last at its end), and returns how
	// many it ended; connections already closing are not counted. If ctx
	// ends first, End stops and returns the count so far with ctx's error.
	End(ctx context.Context, p Pick, e Ending, spread time.Duration) (int, error)
}

// Refuser is a target whose nodes can stop accepting connections and start
// again.
type Refuser interface {
	// Refuse takes node out of service: it accepts no new connections until
	// Accept, and a handshake that completes meanwhile is ended as e says.
	// back is when the node is due back (zero: unknown): for a Retry-After,
	// and for a server in another process, which puts the node back on its
	// own a while after back if no Accept came (its driver may be gone).
	// Refusing a node that refuses already is an error.
	Refuse(ctx context.Context, node int, e Ending, back time.Time) error
	// Accept puts node back in service and returns how many handshakes that
	// completed while it refused were ended. Accepting a node that is in
	// service is an error, which leaves it as it is.
	Accept(ctx context.Context, node int) (late int, err error)
}

// Freezer is a target whose nodes can stop reading and writing on their
// connections, without closing them, and resume.
type Freezer interface {
	// Freeze stops node's traffic: its open connections are neither read
	// nor written, and handshakes with it stall, until Thaw. back is when
	// the node is due to thaw (zero: unknown). It returns how many open
	// connections it holds. Freezing a frozen node is an error.
	Freeze(ctx context.Context, node int, back time.Time) (int, error)
	// Thaw resumes node's traffic.
	Thaw(ctx context.Context, node int) error
}

// HookRunner is a target that carries out whole actions rather than
// primitives: an external target whose nodes act through the hooks its
// profile declares.
type HookRunner interface {
	// RunHook runs the hook of ev's node named hook, with the template
	// values vars, and returns once it ended.
	RunHook(ctx context.Context, ev Event, hook string, vars map[string]string) error
}

// Stopper is a target that can shut down while an action waits on it (a
// restart's downtime, a freeze): the wait then ends at once.
type Stopper interface {
	// Stopped is closed once the target shuts down.
	Stopped() <-chan struct{}
}

// wait waits until until, unless ctx ends (its error) or t shuts down (an
// error that is net.ErrClosed) first.
func wait(ctx context.Context, t Target, until time.Time) error {
	var stopped <-chan struct{}
	if s, ok := t.(Stopper); ok {
		stopped = s.Stopped()
	}
	w := newWaiter(ctx, stopped, func() error { return fmt.Errorf("the target shut down: %w", net.ErrClosed) })
	defer w.stop()
	return w.until(until)
}

// capability returns t as the capability C, or an error naming what the
// action needed it for.
func capability[C any](t Target, what string) (C, error) {
	c, ok := t.(C)
	if !ok {
		var zero C
		return zero, fmt.Errorf("this target cannot %s", what)
	}
	return c, nil
}

// CheckNode checks that node is one of t's nodes.
func CheckNode(t Target, node int) error {
	if n := t.Nodes(); node < 0 || node >= n {
		return fmt.Errorf("the target has nodes 0 to %d", n-1)
	}
	return nil
}

// SleepUntil waits until t (on the monotonic clock when t has a reading,
// else the wall clock); false if ctx ended first.
func SleepUntil(ctx context.Context, t time.Time) bool {
	w := newWaiter(ctx, nil, nil)
	defer w.stop()
	return w.until(t) == nil
}
