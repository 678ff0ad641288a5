// Package simulate runs a profile as a discrete-event simulation: the same
// fleet, with no sockets. Each client follows the fleet's own reconnect
// rules (fleet.Rules) from the fleet's own per-client random stream, the
// chaos events are the controller's plan (chaos.Plan), the target is its
// capacity model (the embedded target's limiter, max_conns,
// handshake_delay, Retry-After, drain and downtime) with the handshakes'
// time on the wire and their work taken from a Model, and every record goes
// into a stats.Recorder on a simulated clock. The results are those of a
// run (results.Run), marked simulated, so every report, compare and sweep
// reads them.
package simulate

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/chaos"
	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// Options tune a simulation beyond its profile and model.
type Options struct {
	// Log receives a line per notable step; nil discards them.
	Log io.Writer
	// Rules replace the profile's reconnect rules (nil: the profile's).
	// Tests wrap the backoff to watch the delays drawn.
	Rules *fleet.Rules
	// CalibratedFrom names the run the model was fitted to, for the results.
	CalibratedFrom string
}

// CheckProfile says why p cannot be simulated, if it cannot.
func CheckProfile(p *profile.Profile) error {
	if p.Detect.Enabled {
		return fmt.Errorf("observe mode ([detect] enabled) has no chaos steps to simulate: give the profile [[chaos]] steps")
	}
	if pr := p.Fleet.ClientOptions.Preset; pr != nil && pr.Unsimulable() != "" {
		return fmt.Errorf("fleet.client %s cannot be simulated exactly: %s; run it for real with wsstorm run", p.Fleet.Client, pr.Unsimulable())
	}
	return nil
}

// checkEvery is how many events pass between looks at the context.
const checkEvery = 1 << 16

// Run simulates the storm p describes under model m. Cancelling ctx
// interrupts it: the results up to the simulated time reached are returned
// with Interrupted set.
func Run(ctx context.Context, p *profile.Profile, m Model, opts Options) (*results.Run, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := CheckProfile(p); err != nil {
		return nil, err
	}
	rules := opts.Rules
	if rules == nil {
		r, err := fleet.RulesFromProfile(p)
		if err != nil {
			return nil, err
		}
		rules = &r
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	wall := time.Now()
	s := newSim(p, m, rules, logw)
	fmt.Fprintf(logw, "simulating %d clients on %d nodes for %s: %s\n", len(s.clients), len(s.nodes), p.Duration.D(), m)
	interrupted := s.run(ctx)
	elapsed := time.Duration(s.now)

	res := s.rec.Results(s.start, elapsed)
	for i := range res.Events {
		e := &res.Events[i]
		e.ReconnectExpected = rules.ReconnectsAfter(e.Code)
		e.Frozen = s.frozen[e.Index]
	}
	took := time.Since(wall)
	fmt.Fprintf(logw, "simulated %s in %.2fs of wall time: %d events\n", elapsed.Round(time.Millisecond), took.Seconds(), s.processed)
	return &results.Run{
		Results:     res,
		Interrupted: interrupted,
		Target:      results.NewTargetSide(s.nodeSides()),
		Simulated: &results.Simulated{
			Model:          m.JSON(),
			CalibratedFrom: opts.CalibratedFrom,
			WallS:          took.Seconds(),
			SimEvents:      s.processed,
		},
	}, nil
}

// cstate is where a client is in its life.
type cstate uint8

const (
	idle      cstate = iota // not started, or waiting before an attempt
	queued                  // waiting for a dial slot (max_dialing)
	dialing                 // an attempt is under way
	connected               // holds a connection (which may be closing)
	done                    // stopped: by its policy, or it gave up
)

// outcome is how an attempt ends, as the client sees it.
type outcome uint8

const (
	outOK outcome = iota
	outRejected
	outRefused
	outReset
	outTimeout
)

// client is one simulated client. The fields mirror the fleet client's
// state in its run loop.
type client struct {
	rng   *rand.Rand // fleet.ClientRand: the backoff draws of the real client
	retry fleet.Retry
	// epoch counts the client's connections' starts and ends: events
	// scheduled for a connection carry it and are dropped once it changed.
	epoch uint32
	state cstate
	out   outcome
	// recovering says the client is between a close it observed and its
	// next connection; event is the chaos event that close belongs to.
	recovering bool
	event      int32
	node       int32  // the node of its connection or attempt; -1: none
	pos        int32  // its place in that node's conns; -1: not in them
	closeCode  int32  // code of the close on its way to the client
	gen        uint32 // its node's gen when it admitted the request
	conn       uint64
	attemptAt  int64 // when the current attempt started (its dial slot taken)
	back       int64 // the current attempt's response time on the wire
	respAt     int64 // when its response reaches the client
	closedAt   int64 // when the close it recovers from was observed
	down       int64 // the first close not yet recovered from; -1: none
	since      int64 // when its connection's handshake completed: its pings count from there
	// stalls counts the client's handshakes that stalled on a frozen node;
	// stalled says the current one waits.
	stalls  uint32
	stalled bool
	// queued says its attempt waited for a dial slot.
	queued bool
	// first says the next attempt is one the client means (its first since
	// its start, a close or a session it ended), not a retry after a
	// failure: the intended herd counts it.
	first bool
	// backoff and lag sum the backoffs the client chose and the time it
	// waited for a dial slot since its close: with the final handshake
	// they take its reconnect apart, and failed attempts are the rest.
	backoff, lag int64
}

// node is one server of the modeled target.
type node struct {
	index    int
	up       bool
	refusing bool // between Refuse and Accept
	frozen   bool
	// freezes counts the node's freezes: a detection scheduled in one is
	// dropped once it thawed.
	freezes  uint32
	stalled  []int32       // clients whose handshakes wait for the node to thaw
	limiter  *rate.Limiter // nil: no accept_rate
	maxConns int
	conns    []int32 // its clients whose connection is open (not yet sent a close)
	reserved int     // requests admitted, not yet served
	accepted int64
	rejected int64
	pool     *pool
	// gen counts the node's stops: a request admitted before the latest
	// stop was dropped with the node's server, even if it is up again.
	gen uint32
}

// pool is a set of workers serving requests first come, first served.
type pool struct {
	free []int64 // a min-heap of when each worker is next free; empty: no limit
	// open counts the connections whose messages load the pool.
	open int64
}

// serve returns when a request arriving now, at at, needing work s, is
// done. Requests must arrive in time order: the simulation calls it only
// at the current simulated time.
func (p *pool) serve(at, s int64) int64 {
	if len(p.free) == 0 {
		return at + s
	}
	done := max(at, p.free[0]) + s
	// Replace the root and sift it down.
	h := p.free
	i, n := 0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1] < h[c] {
			c++
		}
		if done <= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = done
	return done
}

type sim struct {
	log   io.Writer
	p     *profile.Profile
	rules *fleet.Rules
	rec   *stats.Recorder
	start time.Time
	now   int64
	end   int64
	q     queue

	clients []client
	shards  []*stats.Shard
	nodes   []*node
	up      []int // indexes of the nodes up, for picking one
	events  []action.Event
	// acting is the index of the event whose action acts now; frozen
	// counts, by event index, the connections a freeze held, as a
	// target's count does.
	acting int
	frozen map[int]int64
	// later holds the steps actions scheduled with After, by evLater's id.
	later []func()

	rng        *rand.Rand // the simulator's own: the wire, and which node takes a request
	net        lognormal
	service    int64
	hsDelay    int64
	timeout    int64
	retryAfter time.Duration
	closeGap   int64 // ns between closes reaching their clients (1/close_rate)
	// msgLoad is the work of one connection's messages, in workers
	// (message_time / send_interval); 0: none. overloaded says the
	// messages alone have needed every worker, which was logged.
	msgLoad    float64
	overloaded bool
	lifetime   int64
	pause      int64
	// ping and pongTimeout are the clients' ping interval (0: no pings)
	// and how long a ping waits for its pong.
	ping, pongTimeout int64

	maxDialing int
	dialing    int
	waiting    []int32 // clients queued for a dial slot, first in first out
	waitHead   int

	nextConn  uint64
	processed int64
}

func newSim(p *profile.Profile, m Model, rules *fleet.Rules, log io.Writer) *sim {
	start := time.Now()
	events := chaos.Plan(p)
	plans := chaos.EventPlans(events)
	nn := simNodes(p)
	names, conns := results.NodeGauges(nn)
	s := &sim{
		log:        log,
		p:          p,
		rules:      rules,
		start:      start,
		end:        int64(p.Duration.D()),
		events:     events,
		rng:        rand.New(rand.NewPCG(p.Seed, p.Seed^0x5851f42d4c957f2d)),
		net:        newLognormal(m.NetworkMedianMS, m.NetworkP99MS),
		service:    int64(m.ServiceTimeMS * 1e6),
		timeout:    int64(p.Fleet.ConnectTimeout()),
		lifetime:   int64(p.Fleet.Session.Lifetime.D()),
		ping:       int64(p.Fleet.PingInterval.D()),
		pause:      int64(p.Fleet.Session.Pause.D()),
		maxDialing: simDials(p),
	}
	s.rec = stats.New(stats.Config{
		Start:           start,
		Horizon:         p.Duration.D() + stats.ShutdownGrace,
		Events:          plans,
		GaugeNames:      names,
		ImbalanceGauges: conns,
	})
	if m.CloseRate > 0 {
		s.closeGap = int64(1e9 / m.CloseRate)
	}
	if iv := p.Fleet.Session.SendInterval.D(); iv > 0 && m.MessageTimeMS > 0 {
		s.msgLoad = m.MessageTimeMS * 1e6 / float64(iv)
	}
	if s.timeout <= 0 {
		s.timeout = int64(time.Hour)
	}
	s.pongTimeout = int64(cmp.Or(p.Fleet.PongWait(), fleet.DefaultPongTimeout))
	capa := p.Target.Capacity
	s.hsDelay = int64(capa.HandshakeDelay.D())
	s.retryAfter = time.Duration(target.RetryAfterSeconds(capa.RetryAfter.D())) * time.Second
	shared := newPool(m.Workers)
	for i := range nn {
		n := &node{index: i, up: true, limiter: target.AcceptLimiter(capa), maxConns: capa.MaxConns, pool: shared}
		if m.Pool == PoolNode {
			n.pool = newPool(m.Workers)
		}
		s.nodes = append(s.nodes, n)
	}
	s.refreshUp()
	s.clients = make([]client, p.Fleet.Clients)
	s.shards = make([]*stats.Shard, len(s.clients))
	for i := range s.clients {
		s.clients[i] = client{event: -1, node: -1, pos: -1, down: -1}
		s.shards[i] = s.rec.Shard(i)
	}
	return s
}

// simNodes is how many nodes the modeled target has: the embedded target's
// or the proxy's, or one per restart hook of an external target.
func simNodes(p *profile.Profile) int {
	if p.Target.Mode == profile.ModeExternal {
		return max(len(p.Target.NodeHooks), 1)
	}
	return max(p.Target.Nodes, 1)
}

func newPool(workers int) *pool {
	return &pool{free: make([]int64, workers)}
}

// work is how long a piece of work of w takes a worker of p while the
// pool's connections exchange their messages: the messages take their
// share of the workers, and the rest of the work shares what is left.
func (s *sim) work(p *pool, w int64) int64 {
	if s.msgLoad == 0 || len(p.free) == 0 {
		return w
	}
	demand := float64(p.open) * s.msgLoad / float64(len(p.free))
	if demand >= 1 && !s.overloaded {
		s.overloaded = true
		fmt.Fprintf(s.log, "warning: at %.1fs the connected clients' messages alone need %.1f of the %d workers (message_time_ms × connections / send_interval): handshakes and closes crawl; give the model more workers, or check message_time_ms\n",
			time.Duration(s.now).Seconds(), demand*float64(len(p.free)), len(p.free))
	}
	return int64(float64(w) / (1 - min(demand, maxMessageLoad)))
}

// maxMessageLoad is the largest share of a pool's workers messages take.
const maxMessageLoad = 0.95

// at is the recorder's time of the simulated offset t.
func (s *sim) at(t int64) time.Time { return s.start.Add(time.Duration(t)) }

func (s *sim) schedule(at int64, id int, k kind, epoch uint32) {
	s.q.push(event{at: at, id: int32(id), kind: k, epoch: epoch})
}

// scheduleClose schedules a close of client id's connection with code.
func (s *sim) scheduleClose(at int64, id int, k kind, code int) {
	s.q.push(event{at: at, id: int32(id), kind: k, epoch: s.clients[id].epoch, code: uint16(code)})
}

// run processes events until the end of the duration, or until ctx ends
// (it then reports true).
func (s *sim) run(ctx context.Context) (interrupted bool) {
	n := len(s.clients)
	ramp := s.p.Fleet.Ramp.D()
	for i := range n {
		s.schedule(int64(fleet.StartOffset(ramp, i, n)), i, evStart, 0)
	}
	for i, ev := range s.events {
		s.schedule(int64(ev.At), i, evChaos, 0)
	}
	if len(s.nodes) > 0 {
		s.schedule(int64(stats.SampleEvery), 0, evSample, 0)
	}
	for len(s.q) > 0 {
		e := s.q[0]
		if e.at >= s.end {
			break
		}
		s.q.pop()
		s.now = e.at
		s.processed++
		if s.processed%checkEvery == 0 && ctx.Err() != nil {
			interrupted = true
			break
		}
		s.handle(e)
	}
	if !interrupted {
		s.now = s.end
	}
	s.finish()
	return interrupted
}

func (s *sim) handle(e event) {
	id := int(e.id)
	switch e.kind {
	case evStart:
		s.clients[id].first = true // its ramp slot: an attempt it means
		s.attempt(id)
	case evWake:
		s.attempt(id)
	case evArrive:
		s.arrive(id)
	case evUpgrade:
		s.upgrade(id)
	case evUpgradeAbandoned:
		// id is the node, epoch its gen when it admitted the request.
		n := s.nodes[id]
		if !n.up || n.gen != e.epoch {
			n.reserved-- // dropped when the node stopped
			break
		}
		s.schedule(n.pool.serve(s.now, s.work(n.pool, s.service)), id, evAbandoned, e.epoch)
	case evServed:
		s.served(id)
	case evAbandoned:
		// The client timed out: the node did the work regardless. (id
		// is the node, epoch its gen when it admitted the request.)
		n := s.nodes[id]
		n.reserved--
		if n.up && n.gen == e.epoch {
			n.accepted++ // upgraded, and then found gone
		}
	case evResponse:
		s.response(id)
	case evCloseDue:
		if c := &s.clients[id]; c.epoch == e.epoch && c.pos >= 0 {
			s.closeWork(id, int(e.code))
		}
	case evServerClose:
		if c := &s.clients[id]; c.epoch == e.epoch && c.pos >= 0 {
			s.serverClose(id, int(e.code))
		}
	case evClose:
		s.closeObserved(id)
	case evLifetime:
		if c := &s.clients[id]; c.epoch == e.epoch && c.state == connected && c.pos >= 0 {
			s.clientEnded(id)
		}
	case evChaos:
		s.chaos(id)
	case evLater:
		f := s.later[id]
		s.later[id] = nil
		f()
	case evDetect:
		s.detect(id, e.epoch)
	case evStallOver:
		s.stallOver(id, e.epoch)
	case evSample:
		s.sample()
		s.schedule(s.now+int64(stats.SampleEvery), 0, evSample, 0)
	}
}

// attempt starts a connect attempt, or queues the client for a dial slot.
func (s *sim) attempt(id int) {
	c := &s.clients[id]
	if c.rng == nil {
		c.rng = fleet.ClientRand(s.p.Seed, id)
		c.retry = s.rules.NewRetry(c.rng) // before any other draw, as the fleet's client
	}
	c.retry.Attempt(time.Duration(s.now))
	// Until the dial starts, attemptAt is when the client meant to start
	// it: timers fire on time here, so only a dial slot makes it late.
	c.attemptAt = s.now
	if s.dialing >= s.maxDialing {
		c.state, c.queued = queued, true
		s.waiting = append(s.waiting, int32(id))
		return
	}
	s.dial(id)
}

// dial starts the attempt of a client holding a dial slot.
func (s *sim) dial(id int) {
	c := &s.clients[id]
	s.dialing++
	c.state = dialing
	intended := c.attemptAt
	c.lag += s.now - intended
	c.attemptAt = s.now
	s.shards[id].Attempt(s.at(intended), s.at(s.now), int(c.event), c.first, c.queued)
	c.first, c.queued = false, false
	wire := s.net.draw(s.rng)
	out := wire / 2
	c.back = wire - out
	if out >= s.timeout {
		s.respond(id, outTimeout, s.now+s.timeout)
		return
	}
	s.schedule(s.now+out, id, evArrive, 0)
}

// arrive admits a request at a node, as the embedded target's node does:
// up and under max_conns, then under accept_rate, else a 503.
func (s *sim) arrive(id int) {
	c := &s.clients[id]
	if len(s.up) == 0 {
		c.node = -1
		s.respond(id, outRefused, s.now+c.back)
		return
	}
	n := s.nodes[s.up[s.rng.IntN(len(s.up))]]
	c.node = int32(n.index)
	if n.frozen {
		s.stall(id, n)
		return
	}
	s.admit(id, n)
}

// admit admits a request that reached node n, as arrive says.
func (s *sim) admit(id int, n *node) {
	c := &s.clients[id]
	full := n.maxConns > 0 && len(n.conns)+n.reserved >= n.maxConns
	if full || n.limiter != nil && !n.limiter.AllowN(s.at(s.now), 1) {
		n.rejected++
		s.respond(id, outRejected, n.pool.serve(s.now, s.work(n.pool, s.service))+c.back)
		return
	}
	n.reserved++
	c.gen = n.gen
	switch {
	case s.hsDelay == 0:
		s.upgrade(id)
	case s.now+s.hsDelay+c.back-c.attemptAt >= s.timeout:
		// The client gives up during the delay; the node goes on.
		s.respond(id, outTimeout, c.attemptAt+s.timeout)
		s.schedule(s.now+s.hsDelay, n.index, evUpgradeAbandoned, n.gen)
	default:
		s.schedule(s.now+s.hsDelay, id, evUpgrade, 0)
	}
}

// upgrade queues an admitted request for a worker of its node's pool,
// unless the node stopped during its handshake_delay: its server dropped
// the request then.
func (s *sim) upgrade(id int) {
	c := &s.clients[id]
	if n := s.nodes[c.node]; !n.up || n.gen != c.gen {
		n.reserved--
		s.respond(id, outReset, s.now+c.back)
		return
	}
	p := s.nodes[c.node].pool
	served := p.serve(s.now, s.work(p, s.service))
	if served+c.back-c.attemptAt > s.timeout {
		// The client gives up first; the node does the work regardless.
		s.respond(id, outTimeout, c.attemptAt+s.timeout)
		s.schedule(served, int(c.node), evAbandoned, c.gen)
		return
	}
	s.schedule(served, id, evServed, 0)
}

// served registers a request's connection at its node: the handshake is
// done, unless the node went down meanwhile (the request is dropped).
func (s *sim) served(id int) {
	c := &s.clients[id]
	n := s.nodes[c.node]
	n.reserved--
	if !n.up || n.gen != c.gen {
		// The node stopped meanwhile, and its server dropped the request.
		s.respond(id, outReset, s.now+c.back)
		return
	}
	n.accepted++
	s.nextConn++
	c.conn = s.nextConn
	c.epoch++
	c.pos = int32(len(n.conns))
	n.conns = append(n.conns, int32(id))
	n.pool.open++
	s.respond(id, outOK, s.now+c.back)
}

// respond schedules the end of an attempt as the client sees it, at most a
// handshake timeout after it started.
func (s *sim) respond(id int, out outcome, at int64) {
	c := &s.clients[id]
	if at-c.attemptAt > s.timeout {
		out, at = outTimeout, c.attemptAt+s.timeout
	}
	c.out, c.respAt = out, at
	s.schedule(at, id, evResponse, 0)
}

// response ends an attempt at the client: it frees the dial slot, then
// records and reacts as the fleet's client does.
func (s *sim) response(id int) {
	s.dialing--
	if s.waitHead < len(s.waiting) {
		next := int(s.waiting[s.waitHead])
		s.waitHead++
		if s.waitHead > len(s.waiting)/2 {
			// Compact, so that a long backlog does not grow the queue
			// with every client ever queued.
			s.waiting = s.waiting[:copy(s.waiting, s.waiting[s.waitHead:])]
			s.waitHead = 0
		}
		s.dial(next)
	}
	c := &s.clients[id]
	sh := s.shards[id]
	t := s.at(s.now)
	if c.out == outOK {
		sh.Connect(t, time.Duration(s.now-c.attemptAt))
		if c.recovering {
			sh.Reconnected(t, s.at(c.closedAt), int(c.event), c.parts(s.now))
			// The embedded target's welcome comes with the handshake.
			sh.Recovered(time.Duration(s.now - c.down))
			c.down = -1
		}
		c.recovering, c.event = false, -1
		c.retry.Connected(time.Duration(s.now))
		c.state = connected
		c.since = s.now
		if s.lifetime > 0 {
			s.schedule(s.now+s.lifetime, id, evLifetime, c.epoch)
		}
		return
	}
	var retryAfter time.Duration
	reason, status := stats.Timeout, 0
	switch c.out {
	case outRejected:
		reason, retryAfter, status = stats.HTTPStatus(503), s.retryAfter, 503
	case outRefused:
		reason = stats.Refused
	case outReset:
		reason = stats.Reset
	}
	sh.Failure(t, reason, int(c.event))
	d := s.rules.AfterFailure(&c.retry, time.Duration(s.now), status, retryAfter, c.rng)
	if d.Stop {
		s.stopped(id, d)
		return
	}
	wait := d.Wait
	c.backoff += int64(wait)
	c.state = idle
	s.schedule(s.now+int64(wait), id, evWake, 0)
}

// parts takes apart the reconnect of a client whose handshake completed at
// now: the failed attempts are what the backoffs, the dial slot waits and
// the last handshake leave of it.
func (c *client) parts(now int64) stats.ReconnectParts {
	hs := now - c.attemptAt
	return stats.ReconnectParts{
		Backoff:   time.Duration(c.backoff),
		Lag:       time.Duration(c.lag),
		Failed:    time.Duration(now - c.closedAt - c.backoff - c.lag - hs),
		Handshake: time.Duration(hs),
	}
}

// detach takes a client's connection out of its node's open ones.
func (s *sim) detach(c *client) {
	n := s.nodes[c.node]
	last := n.conns[len(n.conns)-1]
	n.conns[c.pos] = last
	s.clients[last].pos = c.pos
	n.conns = n.conns[:len(n.conns)-1]
	n.pool.open--
	c.pos = -1
	c.epoch++
}

// serverClose sends a client a close frame with code; it reaches the client
// one way later, never before the client has its handshake's response.
func (s *sim) serverClose(id, code int) {
	c := &s.clients[id]
	c.closeCode = int32(code)
	s.detach(c)
	at := s.now + s.net.draw(s.rng)/2
	if c.state == dialing {
		at = max(at, c.respAt+1)
	}
	s.schedule(at, id, evClose, c.epoch)
}

// closeObserved is the client reading the close: it records it, attributed
// to its event, and follows its policy.
func (s *sim) closeObserved(id int) {
	c := &s.clients[id]
	t := s.at(s.now)
	ev := s.rec.Attribute(t, int(c.closeCode), int(c.node))
	s.shards[id].Close(t, int(c.closeCode), ev)
	if c.down < 0 {
		c.down = s.now
	}
	c.recovering, c.closedAt, c.event = true, s.now, int32(ev)
	d := s.rules.AfterClose(&c.retry, time.Duration(s.now), int(c.closeCode), c.rng)
	if d.Stop {
		s.stopped(id, d)
		return
	}
	wait := d.Wait
	c.first, c.backoff, c.lag = true, int64(wait), 0
	c.state = idle
	s.schedule(s.now+int64(wait), id, evWake, 0)
}

// stopped ends a client the rules stopped, counted as a real client
// counts it: it gave up, or a preset stopped it for a reason.
func (s *sim) stopped(id int, d fleet.Decision) {
	switch {
	case d.GaveUp:
		s.shards[id].GaveUp()
	case d.Reason != "":
		s.shards[id].ProtocolStopOnly(d.Reason)
	}
	s.clients[id].state = done
}

// clientEnded is a client closing its session after its lifetime.
func (s *sim) clientEnded(id int) {
	c := &s.clients[id]
	s.detach(c)
	s.shards[id].ClientClose(s.at(s.now))
	c.retry = s.rules.NewRetry(c.rng) // a new app to the library, as the fleet's client
	c.down, c.first = -1, true
	c.state = idle
	s.schedule(s.now+s.pause, id, evWake, 0)
}

func (s *sim) refreshUp() {
	s.up = s.up[:0]
	for i, n := range s.nodes {
		if n.up {
			s.up = append(s.up, i)
		}
	}
}

// sample records the nodes' counters, as the run samples the target's.
func (s *sim) sample() {
	vals := make([]int64, 0, 3*len(s.nodes))
	for _, n := range s.nodes {
		vals = append(vals, int64(len(n.conns)), n.accepted, n.rejected)
	}
	s.rec.Sample(s.at(s.now), vals)
}

// nodeSides is each node's handshake counts and connections now, for the
// target's side of the results.
func (s *sim) nodeSides() []results.NodeSide {
	out := make([]results.NodeSide, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = results.NodeSide{Index: i, Accepted: n.accepted, Rejected: n.rejected, ConnectionsEnd: int64(len(n.conns))}
	}
	return out
}

// finish ends the run at s.now as the fleet's end does: the target's last
// sample, the series closed, attempts under way cancelled, the connected
// clients gone.
func (s *sim) finish() {
	s.sample()
	t := s.at(s.now)
	s.rec.EndSeries(t)
	for id := range s.clients {
		c := &s.clients[id]
		switch c.state {
		case queued:
			// It meant its attempt and waited for a slot until the end:
			// as the fleet does, the attempt counts, late by that wait.
			s.shards[id].Attempt(s.at(c.attemptAt), t, int(c.event), c.first, true)
			s.shards[id].Failure(t, stats.Cancelled, int(c.event))
		case dialing:
			s.shards[id].Failure(t, stats.Cancelled, int(c.event))
		case connected:
			s.shards[id].Leave(t)
		}
	}
}

// simDials is the model's dial slots: fleet.max_dialing, or with 0 one per
// client. The real run's cap then comes from its process's open files
// (storm.AutoDials), which the model has none of: a simulation of a fleet
// too big for one process's files is the fleet spread as it must be.
func simDials(p *profile.Profile) int {
	if p.Fleet.MaxDialing == 0 {
		return max(p.Fleet.Clients, 1)
	}
	return p.Fleet.MaxDialing
}
