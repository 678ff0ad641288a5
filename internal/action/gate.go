package action

import "sync/atomic"

// Gate holds a frozen node's traffic: its readers and writers wait on it
// while it is shut. The embedded target and the proxy keep one per node to
// carry out Freeze and Thaw. The zero Gate is open; it is safe for
// concurrent use.
type Gate struct {
	// shut is closed when the gate opens; nil while it is open.
	shut atomic.Pointer[chan struct{}]
}

// Freeze shuts the gate; false if it is shut already.
func (g *Gate) Freeze() bool {
	ch := make(chan struct{})
	return g.shut.CompareAndSwap(nil, &ch)
}

// Thaw opens the gate and lets every waiter through; an open gate stays as
// it is.
func (g *Gate) Thaw() {
	if ch := g.shut.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Frozen reports whether the gate is shut.
func (g *Gate) Frozen() bool { return g.shut.Load() != nil }

// Wait returns true once the gate is open, or false if done closes first
// (a nil done waits for the thaw alone).
func (g *Gate) Wait(done <-chan struct{}) bool {
	ch := g.shut.Load()
	if ch == nil {
		return true
	}
	select {
	case <-*ch:
		return true
	case <-done:
		return false
	}
}
