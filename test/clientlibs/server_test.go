package clientlibs_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The scripted server: one per library, on a loopback port of its own,
// serving the library's clients and wsstorm's at once. A client names itself
// in the upgrade URL's query (client=L7: the library's client 7, W7:
// wsstorm's); its index picks its pool, and the pool its script. Once the
// client is connected (its protocol's opening exchange done) and has been
// held for a random time, the server carries out the script's next event
// and times the client's next upgrade request from it. The server is the
// one clock both sides are measured on.

// Event names, as the tables print them.
const (
	ev1012    = "1012"
	ev1001    = "1001"
	ev1000    = "1000"
	evDrop    = "drop" // TCP closed without a close frame: the client sees 1006
	ev4000    = "4000"
	ev4500    = "4500"
	evRefused = "503" // a 1012 close, then the next upgrades refused with 503
)

// closeCode is the close frame's code of an event that sends one; the 503
// event starts with a 1012, as a rolling restart does.
func closeCode(event string) int {
	if event == evRefused {
		return 1012
	}
	n, _ := strconv.Atoi(event)
	return n
}

// closeReason is every close frame's reason. It must not be empty:
// centrifuge reads a close's reconnect advice from its reason, and an empty
// one leaves 3500-3999 and 4500-4999 reconnecting (centrifuge 5.8.0
// build/index.js, the transport's onClose).
const closeReason = "scripted close"

// Outcomes of an event, per attempt.
const (
	reconnected = "reconnected"
	stopped     = "stopped"
)

// sample is one delay: from the server's close (or refusal) to the
// client's next upgrade request. k is 0 for a close, n for the n-th refusal
// of a 503 event.
type sample struct {
	side   byte // 'L' the library, 'W' wsstorm
	client int
	event  string
	k      int
	delay  time.Duration
}

// decision is what a client did after an event's close or refusal.
type decision struct {
	side    byte
	client  int
	event   string
	k       int
	outcome string
}

// pool is a group of clients that run the same script: events, in order,
// rounds times over.
type pool struct {
	clients int
	rounds  int
	events  []string
}

// serverConfig is what the server needs of a library.
type serverConfig struct {
	protocol   string // for protocolOf: what the library's clients (L) speak
	wsProtocol string // what wsstorm's clients (W) speak
	pools      []pool
	hold       [2]time.Duration // a connection is held uniformly in [min, max) before its event
	refusals   int              // upgrades refused in a 503 event
	// waitStop is how long the server waits for an attempt after an event
	// before it takes the client for stopped: the longest delay the
	// library's formula allows, plus slack.
	waitStop time.Duration
	sides    []byte // the sides whose clients come: 'L', 'W'
	seed     uint64
}

// client is one client's script and where it is in it.
type client struct {
	side    byte
	index   int
	script  []string
	pos     int      // events carried out
	conn    *session // the open connection, nil when none is
	started bool     // it connected once
	waiting bool     // an event happened and its next attempt is awaited
	since   time.Time
	event   string
	k       int
	refuse  int // upgrades still to refuse
	gen     int // counts events and attempts: a stale stop timer finds it moved
	done    bool
	stopped bool // the server took it for stopped
}

// server is the scripted server of one library.
type server struct {
	cfg   serverConfig
	proto map[byte]protocol // by side
	up    map[byte]*websocket.Upgrader
	srv   *http.Server
	ln    net.Listener
	start time.Time

	mu        sync.Mutex
	rng       *rand.Rand
	clients   map[string]*client
	expected  int
	finished  int
	samples   []sample
	decisions []decision
	anomalies []string
	doneCh    chan struct{}
	sessions  int
}

// newServer listens on a loopback port and serves cfg's script.
func newServer(cfg serverConfig) (*server, error) {
	s := &server{
		cfg: cfg, start: time.Now(), proto: map[byte]protocol{}, up: map[byte]*websocket.Upgrader{},
		rng:     rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		clients: map[string]*client{},
		doneCh:  make(chan struct{}),
	}
	for side, name := range map[byte]string{'L': cfg.protocol, 'W': cfg.wsProtocol} {
		proto, ok := protocolOf(name)
		if !ok {
			return nil, fmt.Errorf("no server protocol %q", name)
		}
		s.proto[side] = proto
		s.up[side] = &websocket.Upgrader{
			Subprotocols: proto.subprotocols,
			CheckOrigin:  func(*http.Request) bool { return true },
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	for _, p := range cfg.pools {
		s.expected += p.clients * len(cfg.sides)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// addr is the server's host:port.
func (s *server) addr() string { return s.ln.Addr().String() }

// done is closed once every client finished its script or stopped.
func (s *server) done() <-chan struct{} { return s.doneCh }

// close stops serving and ends every connection.
func (s *server) close() { _ = s.srv.Close() }

// scriptOf returns the script of client index i, and whether one exists.
func (s *server) scriptOf(i int) ([]string, bool) {
	for _, p := range s.cfg.pools {
		if i < p.clients {
			var out []string
			for range p.rounds {
				out = append(out, p.events...)
			}
			return out, true
		}
		i -= p.clients
	}
	return nil, false
}

// lookup returns the client named id, made on its first request.
func (s *server) lookup(id string) *client {
	if c, ok := s.clients[id]; ok {
		return c
	}
	if len(id) < 2 || !slices.Contains(s.cfg.sides, id[0]) {
		return nil
	}
	i, err := strconv.Atoi(id[1:])
	if err != nil {
		return nil
	}
	script, ok := s.scriptOf(i)
	if !ok {
		return nil
	}
	c := &client{side: id[0], index: i, script: script}
	s.clients[id] = c
	return c
}

func (s *server) anomaly(c *client, format string, args ...any) {
	s.anomalies = append(s.anomalies, fmt.Sprintf("%c%d at %.3fs: ", c.side, c.index, time.Since(s.start).Seconds())+fmt.Sprintf(format, args...))
}

// ServeHTTP takes an upgrade request: the attempt an event awaited, then a
// refusal or an upgrade.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	s.mu.Lock()
	c := s.lookup(r.URL.Query().Get("client"))
	if c == nil {
		s.mu.Unlock()
		http.Error(w, "no such client", http.StatusBadRequest)
		return
	}
	s.attempt(c, at)
	if c.refuse > 0 {
		c.refuse--
		c.k++
		s.await(c, evRefused, c.k)
		s.mu.Unlock()
		// No Retry-After: the libraries' loops are timed, not the server's advice.
		http.Error(w, "refused by the script", http.StatusServiceUnavailable)
		return
	}
	s.mu.Unlock()
	conn, err := s.up[c.side].Upgrade(w, r, nil)
	if err != nil {
		s.mu.Lock()
		s.anomaly(c, "upgrade failed: %v", err)
		s.mu.Unlock()
		return
	}
	ss := &session{srv: s, c: c, conn: conn, proto: s.proto[c.side]}
	s.mu.Lock()
	c.conn, c.started = ss, true
	s.sessions++
	ss.id = s.sessions
	s.mu.Unlock()
	ss.run()
}

// attempt records an upgrade request of c at at: the delay and decision of
// the event that awaited it, or an anomaly when none did.
func (s *server) attempt(c *client, at time.Time) {
	c.gen++
	switch {
	case c.waiting:
		c.waiting = false
		s.samples = append(s.samples, sample{c.side, c.index, c.event, c.k, at.Sub(c.since)})
		s.decisions = append(s.decisions, decision{c.side, c.index, c.event, c.k, reconnected})
		if c.refuse == 0 && c.pos == len(c.script) && !c.done {
			s.finish(c)
		}
	case c.stopped:
		s.anomaly(c, "an attempt after the server took it for stopped (after %s #%d)", c.event, c.k)
	case c.started:
		s.anomaly(c, "an attempt no event of the script caused")
	}
}

// await starts waiting for c's next attempt after event's k-th close or
// refusal; a client silent for waitStop stopped.
func (s *server) await(c *client, event string, k int) {
	c.waiting, c.since, c.event, c.k = true, time.Now(), event, k
	c.gen++
	gen := c.gen
	time.AfterFunc(s.cfg.waitStop, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.gen != gen || !c.waiting {
			return
		}
		c.waiting, c.refuse = false, 0
		s.decisions = append(s.decisions, decision{c.side, c.index, event, k, stopped})
		c.pos, c.stopped = len(c.script), true // the script ends with the client
		s.finish(c)
	})
}

// finish marks c done; the last one closes done.
func (s *server) finish(c *client) {
	c.done = true
	s.finished++
	if s.finished == s.expected {
		close(s.doneCh)
	}
}

// connected starts the hold before ss's client's next event.
func (s *server) connected(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ss.c
	if c.conn != ss || c.pos >= len(c.script) {
		return
	}
	lo, hi := s.cfg.hold[0], s.cfg.hold[1]
	hold := lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1))
	time.AfterFunc(hold, func() { s.fire(ss) })
}

// fire carries out the next event of ss's client on ss.
func (s *server) fire(ss *session) {
	s.mu.Lock()
	c := ss.c
	if c.conn != ss {
		s.mu.Unlock()
		return // the connection ended before its event (an anomaly already)
	}
	event := c.script[c.pos]
	c.pos++
	c.conn = nil
	if event == evRefused {
		c.refuse = s.cfg.refusals
	}
	s.await(c, event, 0)
	s.mu.Unlock()
	if event == evDrop {
		ss.drop()
		return
	}
	ss.closeWith(closeCode(event))
}

// ended is called when ss's connection ended: unless an event ended it,
// that is an anomaly (a client that left on its own, a protocol error).
func (s *server) ended(ss *session, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.c.conn == ss {
		ss.c.conn = nil
		if !ss.c.done {
			s.anomaly(ss.c, "its connection ended with no event: %v", err)
		}
	}
}

// results returns what the server recorded.
func (s *server) results() ([]sample, []decision, []string, map[byte]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unfinished := map[byte]int{}
	for _, c := range s.clients {
		if !c.done {
			unfinished[c.side]++
		}
	}
	for _, side := range s.cfg.sides {
		seen := 0
		for _, c := range s.clients {
			if c.side == side {
				seen++
			}
		}
		unfinished[side] += s.expected/len(s.cfg.sides) - seen
	}
	return slices.Clone(s.samples), slices.Clone(s.decisions), slices.Clone(s.anomalies), unfinished
}
