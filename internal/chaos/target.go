// Package chaos runs the timeline of chaos steps of a profile (rolling restarts,
// single restarts, clean closes) against a Target and records when each event
// started.
package chaos

import (
	"context"
	"time"
)

// Target is what the chaos controller can act on. The embedded target, external
// restart hooks and the chaos proxy each implement it; the controller knows
// nothing else about them.
type Target interface {
	// Nodes returns the number of nodes the target has.
	Nodes() int
	// Restart closes every client connection of one node with spec.Code, spread
	// evenly over spec.Drain, refuses new connections on that node for
	// spec.Downtime, then accepts again. It returns once the node accepts again,
	// or when ctx is done. It reports how many connections it closed, or -1
	// when it cannot know (a restart hook of an external target).
	Restart(ctx context.Context, node int, spec RestartSpec) (closed int, err error)
	// Close closes a share of all current client connections, on every node,
	// with spec.Code. It reports how many connections it closed.
	Close(ctx context.Context, spec CloseSpec) (closed int, err error)
}

// RestartSpec says how a node restarts.
type RestartSpec struct {
	Code     int           // close code sent to the node's clients (1012 by default)
	Reason   string        // close reason; at most 123 bytes
	Drain    time.Duration // closes are spread evenly over this window (0: all at once)
	Downtime time.Duration // the node refuses connections this long after the drain
	Event    int           // the index of the chaos event the restart is, for targets that report per event
}

// CloseSpec says which clients a close step ends and how.
type CloseSpec struct {
	Fraction float64 // share of the connected clients to close, in (0, 1]
	Code     int     // close code (1000 by default)
	Reason   string  // close reason; at most 123 bytes
	Seed     uint64  // picks the clients, so a run is reproducible
}
