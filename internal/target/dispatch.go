package target

import (
	"errors"
	"net"
	"sync"
	"time"
)

// connQueue is the listener a node serves on under the dispatch balancer:
// the dispatcher hands it connections accepted on the shared listener.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the dispatcher to hand over a connection.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		select {
		case <-q.done:
			// Closed while handing over: drop it, as a closing listener
			// drops its backlog.
			reset(c)
			return nil, net.ErrClosed
		default:
			return c, nil
		}
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and any hand-over in progress.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr returns the shared listener's address.
func (q *connQueue) Addr() net.Addr { return q.addr }

// deliver hands c to the node's server; false if the queue is closed.
func (q *connQueue) deliver(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

// dispatch accepts on the shared listener and hands connections round-robin
// to the nodes that are up. With every node down it closes them at once.
func (t *Target) dispatch() {
	var (
		next    int
		backoff time.Duration
	)
	for {
		c, err := t.dispatchLn.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.closing() {
				return
			}
			// Out of file descriptors and the like: retry after a pause,
			// as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
				continue
			case <-t.done:
				return
			}
		}
		backoff = 0
		if !t.handOver(c, &next) {
			reset(c)
		}
	}
}

// handOver gives c to the next node that is up, starting at *next.
func (t *Target) handOver(c net.Conn, next *int) bool {
	for range len(t.nodes) {
		n := t.nodes[*next]
		*next = (*next + 1) % len(t.nodes)
		if q := n.dispatchQueue(); q != nil && q.deliver(c) {
			return true
		}
	}
	return false
}

// reset closes c with a TCP reset, as the kernel answers a connection to a
// port nobody listens on.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
