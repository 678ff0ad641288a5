package simulate

// kind is what an event does when its time comes.
type kind uint8

const (
	evStart            kind = iota // a client's first attempt, on the ramp
	evWake                         // a client's wait is over: it attempts
	evArrive                       // an attempt's request reaches the target
	evUpgrade                      // an admitted request's handshake_delay is over: its upgrade is work
	evUpgradeAbandoned             // the same, for a request whose client gave up
	evServed                       // the target is done with a request
	evAbandoned                    // the target is done with a request whose client gave up
	evCloseDue                     // a close of a drain is due: closing it is work
	evResponse                     // the response reaches the client
	evServerClose                  // the target closes a connection
	evClose                        // a close frame reaches the client
	evLifetime                     // the client ends its session
	evChaos                        // a chaos event begins
	evLater                        // an action's step after a wait (Sim.After): id indexes sim.later
	evDetect                       // a frozen connection's ping has waited pong_timeout
	evStallOver                    // a handshake stalled on a frozen node reaches its timeout
	evSample                       // the nodes' counters are sampled
)

// event is one entry of the queue: who, what and when. epoch must still be
// the client's when the event comes, else it is stale and dropped (the
// connection it concerned has ended meanwhile).
type event struct {
	at    int64 // ns from the run's start
	id    int32 // client, chaos event or node
	epoch uint32
	kind  kind
	code  uint16 // evServerClose, evCloseDue: the close code
}

// queue is a binary min-heap of events by time. Events due at the same
// time come in an order fixed by the sequence of pushes and pops, so a
// simulation repeats exactly.
type queue []event

func (q *queue) push(e event) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].at <= e.at {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
	*q = h
}

func (q *queue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].at < h[c].at {
			c++
		}
		if last.at <= h[c].at {
			break
		}
		h[i] = h[c]
		i = c
	}
	if n > 0 {
		h[i] = last
	}
	*q = h
	return top
}
