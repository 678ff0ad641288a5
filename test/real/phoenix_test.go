package real_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/protocol/protocoltest"
	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// No Phoenix or Rails server can be installed here (hex is unreachable,
// Debian's ActionCable is 6.1), so these tests run the servers of
// internal/protocol/protocoltest, which speak each protocol as the real
// servers' source says and are shown to by the real JS clients from npm
// (phoenix 1.8.17, @rails/actioncable 8.1.400). Their ports are fixed, as
// the profiles name them, and their own: these tests run in parallel with
// the other real tests, each kind's on its own ports, which a lock across
// processes keeps to one test at a time.

const phoenixProfile = "profiles/real/phoenix.toml"

// TestPhoenixRollingRestart: profiles/real/phoenix.toml as a user runs it:
// 600 clients, each joined to a channel of its own, on three Phoenix
// nodes, each restarted through the profile's HTTP hook (the drainer's
// phx_drain and close 1012 to every joined socket, the port closed for the
// downtime, then open again). wsstorm's figures agree with the servers'
// logs: connects, the drain's closes by code, each restart's clients, the
// clients held after the last herd, the clients' own closes at the run's
// end, and the reconnect percentiles within max(5 ms, 5%).
func TestPhoenixRollingRestart(t *testing.T) {
	// Not parallel: the rolling restarts run one at a time (see rollingAlone).
	lockPorts(t, "phoenix")
	var nodes []protoServer
	for i := range 3 {
		p, err := protocoltest.NewPhoenix(protocoltest.PhoenixOptions{
			Addr:     "127.0.0.1:" + strconv.Itoa(18431+i),
			Channels: []string{"room:*"},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		nodes = append(nodes, p)
	}
	admin := serveRestarts(t, "127.0.0.1:18430", nodes)
	// After the last restart's herd (30 s + 2 s down + at most 2 × 3 s of
	// backoff), before the run's end (45 s).
	held := openLater(t, nodes, 40*time.Second)
	r := storm(t, &realtest.Stack{Dir: t.TempDir()}, phoenixProfile, 90*time.Second)
	if r.code != 0 {
		t.Fatalf("wsstorm exited %d, want 0 (thresholds: %+v)", r.code, r.rs.Summary.Thresholds)
	}
	tr := readProtoTruth(t, nodes)
	c := r.rs.Summary.Counters
	if want := map[int]int64{1012: int64(tr.serverEnds[1012])}; !maps.Equal(c.Closes, want) || tr.reasons["drain"] != tr.serverEnds[1012] || len(tr.serverEnds) != 1 {
		t.Errorf("closes by code: wsstorm %v, the servers' logs %s(%v); want every close a drain's 1012", c.Closes, codes(tr.serverEnds), tr.reasons)
	}
	if len(c.ProtocolStops) != 0 || len(c.ProtocolReconnects) != 0 {
		t.Errorf("protocol stops %v, reconnects %v: Phoenix sends no message that ends a session", c.ProtocolStops, c.ProtocolReconnects)
	}
	checkProtoRun(t, r, tr, admin, held)
}

// lockPorts holds the ports of name's tests (realtest.Lock) until the test
// ends: taken before the servers start, it is given back after they close.
func lockPorts(t *testing.T, name string) {
	t.Helper()
	unlock, err := realtest.Lock(name, realtest.LockWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
}

// protoServer is a protocoltest server as these tests drive it.
type protoServer interface {
	Shutdown(context.Context) error
	Resume() error
	Counters() protocoltest.Counters
	Events() []protocoltest.Event
}

// restartRecord is one restart the admin endpoint carried out.
type restartRecord struct {
	node int
	open int // the node's open sessions as its shutdown began
}

// restartAdmin serves the profiles' restart hooks: POST
// /restart?node=N&downtime=D shuts node N down as its server does, keeps
// its port closed for D, opens it again, and answers 200 once it is back.
type restartAdmin struct {
	nodes []protoServer

	mu       sync.Mutex
	restarts []restartRecord
}

// serveRestarts serves a restartAdmin of nodes on addr until the test ends.
func serveRestarts(t *testing.T, addr string, nodes []protoServer) *restartAdmin {
	t.Helper()
	a := &restartAdmin{nodes: nodes}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return a
}

func (a *restartAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("node"))
	down, derr := time.ParseDuration(q.Get("downtime"))
	if r.URL.Path != "/restart" || r.Method != http.MethodPost || err != nil || derr != nil || n < 0 || n >= len(a.nodes) || down < 0 {
		http.Error(w, "want POST /restart?node=N&downtime=D", http.StatusBadRequest)
		return
	}
	if err := a.restart(r.Context(), n, down); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "restarted", n)
}

// restart shuts node n down, waits down, and resumes it.
func (a *restartAdmin) restart(ctx context.Context, n int, down time.Duration) error {
	node := a.nodes[n]
	rec := restartRecord{node: n, open: node.Counters().Open}
	a.mu.Lock()
	a.restarts = append(a.restarts, rec)
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := node.Shutdown(ctx); err != nil {
		return fmt.Errorf("node %d's shutdown: %w", n, err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return node.Resume()
}

// done returns the restarts carried out, in order.
func (a *restartAdmin) done() []restartRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.restarts)
}

// heldCount is the servers' open sessions at a moment.
type heldCount struct {
	at   time.Time
	open int
}

// openLater sums the servers' open sessions d after the run's start. It
// builds wsstorm first, so that d counts from the run's start and not from
// a build's.
func openLater(t *testing.T, nodes []protoServer, d time.Duration) <-chan heldCount {
	wsstormBinary(t)
	out := make(chan heldCount, 1)
	go func() {
		time.Sleep(d)
		h := heldCount{at: time.Now()}
		for _, n := range nodes {
			h.open += n.Counters().Open
		}
		out <- h
	}()
	return out
}

// protoTruth is what a run's test servers logged: the server's side, to
// hold wsstorm's figures against.
type protoTruth struct {
	connects int // sessions begun
	// serverEnds are the sessions the servers ended, by the close code
	// they sent, and reasons the same by the server's cause; perNode the
	// same by node.
	serverEnds map[int]int
	reasons    map[string]int
	perNode    []int
	stops      int // server ends that told the client not to come back
	// clientCloses are the sessions the clients closed, by their code.
	clientCloses map[int]int
	lost         int // sessions that ended without a close frame
	// reconnects are, for each session a server ended, the time from its
	// close frame (or disconnect message) going out to the same client's
	// next connect: the reconnect as the servers saw it. unreturned are the
	// clients not back.
	reconnects []time.Duration
	unreturned int
}

// readProtoTruth reads the servers' logs, once every session has ended
// (the clients' last closes reach the servers as wsstorm exits).
func readProtoTruth(t *testing.T, nodes []protoServer) protoTruth {
	t.Helper()
	tr := protoTruth{serverEnds: map[int]int{}, reasons: map[string]int{}, clientCloses: map[int]int{}, perNode: make([]int, len(nodes))}
	for i, n := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for n.Counters().Open > 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if open := n.Counters().Open; open > 0 {
			t.Errorf("node %d: %d sessions still open after the run", i, open)
		}
		tr.add(i, n.Events())
	}
	slices.Sort(tr.reconnects)
	return tr
}

// add takes in node i's log. A client always connects to the same node
// (urls[client % 3]), so one node's log, on its one monotonic clock, holds
// each of its clients' ends and returns.
func (tr *protoTruth) add(i int, evs []protocoltest.Event) {
	endedAt := map[string]time.Duration{} // client → its server end, until it is back
	for _, e := range evs {
		switch {
		case e.Kind == protocoltest.EventConnect:
			tr.connects++
			if at, ok := endedAt[e.Client]; ok {
				tr.reconnects = append(tr.reconnects, e.At-at)
				delete(endedAt, e.Client)
			}
		case e.Kind != protocoltest.EventDisconnect:
		case e.Reason == "client":
			tr.clientCloses[e.Code]++
		case e.Reason == "lost":
			tr.lost++
		default:
			tr.serverEnds[e.Code]++
			tr.reasons[e.Reason]++
			tr.perNode[i]++
			if e.Stop {
				tr.stops++
				continue
			}
			// From when the server sent its close (or ActionCable's
			// message before it), not the handshake's end (e.At).
			endedAt[e.Client] = e.Sent
		}
	}
	tr.unreturned += len(endedAt)
}

// checkProtoRun holds a rolling restart's wsstorm figures against the
// servers' logs and the admin endpoint's restarts: connects, each
// restart's clients, reconnects and their percentiles, the clients held
// after the last herd, and the clients' closes at the run's end.
func checkProtoRun(t *testing.T, r *stormRun, tr protoTruth, admin *restartAdmin, held <-chan heldCount) {
	t.Helper()
	sum := r.rs.Summary
	c := sum.Counters
	if int64(tr.connects) != c.Connects || tr.lost != 0 {
		t.Errorf("the servers logged %d connects (%d sessions lost), wsstorm %d connects", tr.connects, tr.lost, c.Connects)
	}
	restarts := admin.done()
	if len(restarts) != len(sum.Events) {
		t.Fatalf("the admin endpoint restarted %d nodes, wsstorm ran %d events", len(restarts), len(sum.Events))
	}
	for i, ev := range sum.Events {
		rs := restarts[i]
		if ev.Node == nil || *ev.Node != rs.node || ev.Affected != int64(rs.open) || tr.perNode[rs.node] != rs.open || ev.NeverReconnected != 0 {
			t.Errorf("event %d on node %v: %d affected, %d never back; node %d held %d sessions at its shutdown, which ended %d",
				i, ev.Node, ev.Affected, ev.NeverReconnected, rs.node, rs.open, tr.perNode[rs.node])
		}
	}
	checkProtoReconnects(t, tr, r)
	h := <-held
	n, steady := r.connectedAt(h.at)
	if int64(h.open) != n || !steady || n != int64(sum.Clients) {
		t.Errorf("after the herds the servers held %d sessions, wsstorm counted %d connected (steady: %v) of %d clients", h.open, n, steady, sum.Clients)
	}
	// The run's end: every client still connected leaves with 1001.
	end, _ := r.connectedAt(sum.StartedAt.Add(time.Duration((sum.DurationS - 1) * float64(time.Second))))
	if got := tr.clientCloses[1001]; int64(got) != end || len(tr.clientCloses) != 1 {
		t.Errorf("clients' closes the servers logged: %s; want 1001=%d, the clients connected at the run's end", codes(tr.clientCloses), end)
	}
	t.Logf("servers: %d connects, ends %s(%v), per restart %v, %d reconnects; held %d after the herds; wsstorm: connect failures %v",
		tr.connects, codes(tr.serverEnds), tr.reasons, restarts, len(tr.reconnects), h.open, c.ConnectFailures)
}

// checkProtoReconnects holds wsstorm's reconnect count and percentiles
// against the servers' (a session's end → the client's next connect),
// within max(5 ms, 5%).
func checkProtoReconnects(t *testing.T, tr protoTruth, r *stormRun) {
	t.Helper()
	l := r.rs.Summary.LatencyMS.Reconnect
	if int(l.Count) != len(tr.reconnects) || tr.unreturned != 0 {
		t.Errorf("reconnects: wsstorm %d, the servers' logs %d (%d clients the servers sent away not back)", l.Count, len(tr.reconnects), tr.unreturned)
	}
	checkPercentiles(t, "servers", tr.reconnects, r)
}
