package admin

import (
	"context"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// A node refused or frozen through the API with a for is on a lease: the
// server puts it back on its own (accept, thaw) leaseGrace after it was due
// back, unless an accept or a thaw came first. The run that drives the
// chaos of wsstorm serve processes (admin.Remote) may be killed, evicted or
// cut off; a serve node must not stay down or frozen for good.

// DefaultLeaseGrace is how long after a node was due back the server waits
// for its driver before it puts the node back itself (WithLeaseGrace).
const DefaultLeaseGrace = 5 * time.Second

// leaseKey names a lease: a node's refusal, or its freeze.
type leaseKey struct {
	node   int // its number, as the API names it
	freeze bool
}

// lease is one node's lease; its timer is set and stopped under
// Handler.mu.
type lease struct{ timer *time.Timer }

// lease puts k's node back on its own at back+leaseGrace, unless endLease
// comes first; a zero back takes no lease.
func (h *Handler) lease(k leaseKey, back time.Time) {
	if back.IsZero() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.leases[k]; old != nil {
		old.timer.Stop()
	}
	// The timer's function may run before AfterFunc returns; it waits for
	// h.mu, and knows its lease by the pointer, not the timer.
	l := &lease{}
	l.timer = time.AfterFunc(time.Until(back)+h.leaseGrace, func() { h.expire(k, l) })
	h.leases[k] = l
}

// endLease ends k's lease, if there is one: its node came back as asked.
func (h *Handler) endLease(k leaseKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.leases[k]; l != nil {
		l.timer.Stop()
		delete(h.leases, k)
	}
}

// expire puts k's node back, unless its lease l ended or was taken again
// meanwhile, or the server is stopping.
func (h *Handler) expire(k leaseKey, l *lease) {
	h.mu.Lock()
	if h.leases[k] != l || h.life.Err() != nil {
		h.mu.Unlock()
		return
	}
	delete(h.leases, k)
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(h.life, h.leaseGrace)
	defer cancel()
	if k.freeze {
		if f, ok := h.t.(action.Freezer); ok {
			h.log.Thawed(k.node, "lease", f.Thaw(ctx, k.node-h.first))
		}
		return
	}
	if r, ok := h.t.(action.Refuser); ok {
		late, err := r.Accept(ctx, k.node-h.first)
		h.log.NodeUp(k.node, late, "lease", err)
	}
}

// stopLeases ends every lease: the server is stopping.
func (h *Handler) stopLeases() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, l := range h.leases {
		l.timer.Stop()
		delete(h.leases, k)
	}
}
