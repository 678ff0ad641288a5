package target

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// logged is one event a recordingLog saw.
type logged struct {
	event  string // accept, close, disconnect, reject
	node   int
	conn   uint64
	code   int // close, disconnect
	by     string
	uri    string
	status int
}

// recordingLog is an EventLog that keeps every event.
type recordingLog struct {
	mu     sync.Mutex
	events []logged
}

func (l *recordingLog) add(e logged) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *recordingLog) Accepted(node int, conn uint64, r *http.Request) {
	l.add(logged{event: "accept", node: node, conn: conn, uri: r.URL.RequestURI()})
}

func (l *recordingLog) Closed(node int, conn uint64, code int, by string) {
	l.add(logged{event: "close", node: node, conn: conn, code: code, by: by})
}

func (l *recordingLog) Disconnected(node int, conn uint64, code int) {
	l.add(logged{event: "disconnect", node: node, conn: conn, code: code})
}

func (l *recordingLog) Rejected(node int, status int) {
	l.add(logged{event: "reject", node: node, status: status})
}

func (l *recordingLog) snapshot() []logged {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logged(nil), l.events...)
}

// ends returns each connection's end events (close or disconnect), by id.
func (l *recordingLog) ends() map[uint64][]logged {
	out := map[uint64][]logged{}
	for _, e := range l.snapshot() {
		if e.event == "close" || e.event == "disconnect" {
			out[e.conn] = append(out[e.conn], e)
		}
	}
	return out
}

// dialAs dials with ?client=id and finds the connection's id in the log.
func dialAs(t *testing.T, tg *Target, log *recordingLog, id int) (*client, uint64) {
	t.Helper()
	uri := fmt.Sprintf("/?client=%d", id)
	c := dial(t, strings.TrimSuffix(tg.URL(), "/")+uri)
	for _, e := range log.snapshot() {
		if e.event == "accept" && e.uri == uri {
			if e.node != c.node {
				t.Errorf("client %d: accept logged on node %d, welcome from node %d", id, e.node, c.node)
			}
			return c, e.conn
		}
	}
	t.Fatalf("client %d: no accept logged for %s", id, uri)
	return nil, 0
}

// TestEventLogSeesEveryEnd: every accepted connection is logged with its
// URI, and ends exactly once: a close the node sent (with its code and
// cause) or a disconnect (with the client's code, 1006 without one).
func TestEventLogSeesEveryEnd(t *testing.T) {
	t.Parallel()
	log := &recordingLog{}
	tg := startTarget(t, Options{Nodes: 2, Log: log})
	type dialled struct {
		c  *client
		id uint64
	}
	byNode := map[int][]dialled{}
	for i := 0; len(byNode[0]) < 3 || len(byNode[1]) < 2; i++ {
		if i == 200 {
			t.Fatalf("after 200 dials clients per node are %d and %d", len(byNode[0]), len(byNode[1]))
		}
		c, id := dialAs(t, tg, log, i)
		byNode[c.node] = append(byNode[c.node], dialled{c, id})
	}
	want := map[uint64]logged{} // the end expected for each connection
	clientsOf := func(ds []dialled) []*client {
		var out []*client
		for _, d := range ds {
			out = append(out, d.c)
		}
		return out
	}

	// The client closes: the node logs the client's code.
	quitter := byNode[0][0]
	quitter.c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "done"))
	want[quitter.id] = logged{event: "disconnect", node: 0, code: 4001}
	// The connection breaks: 1006.
	dropper := byNode[0][1]
	dropper.c.conn.Close()
	want[dropper.id] = logged{event: "disconnect", node: 0, code: websocket.CloseAbnormalClosure}
	waitFor(t, "the two disconnects", func() bool { return len(log.ends()) == 2 })

	closed, err := action.RestartNode(context.Background(), tg, 0, restartSpec(0, 50*time.Millisecond))
	if err != nil || closed != len(byNode[0])-2 {
		t.Fatalf("Restart = %d, %v; want %d closed", closed, err, len(byNode[0])-2)
	}
	for _, d := range byNode[0][2:] {
		d.c.closedWith(t, websocket.CloseServiceRestart, "restart")
		want[d.id] = logged{event: "close", node: 0, code: websocket.CloseServiceRestart, by: ByRestart}
	}
	closed, err = closeShare(context.Background(), tg, closeSpec(0.5, websocket.CloseNormalClosure, 1))
	if wantClosed := action.CloseCount(0.5, len(byNode[1])); err != nil || closed != wantClosed {
		t.Fatalf("Close = %d, %v; want %d closed", closed, err, wantClosed)
	}
	waitFor(t, "the closed clients to see their close", func() bool {
		return len(byNode[1])-int(perNode(clientsOf(byNode[1]), 2)[1]) == closed
	})
	for _, d := range byNode[1] {
		code, by := websocket.CloseGoingAway, ByShutdown
		if !d.c.isOpen() {
			code, by = websocket.CloseNormalClosure, ByClose
		}
		want[d.id] = logged{event: "close", node: 1, code: code, by: by}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := tg.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	ends := log.ends()
	for id, w := range want {
		got := ends[id]
		if len(got) != 1 {
			t.Errorf("conn %d: ends logged %+v, want one %+v", id, got, w)
			continue
		}
		g := got[0]
		if g.event != w.event || g.node != w.node || g.code != w.code || g.by != w.by {
			t.Errorf("conn %d: end logged %+v, want %+v", id, g, w)
		}
	}
	if len(ends) != len(want) {
		t.Errorf("%d connections ended in the log, want %d", len(ends), len(want))
	}
	// An accept comes before its end.
	seen := map[uint64]bool{}
	for _, e := range log.snapshot() {
		switch e.event {
		case "accept":
			seen[e.conn] = true
		case "close", "disconnect":
			if !seen[e.conn] {
				t.Errorf("conn %d: %s logged before its accept", e.conn, e.event)
			}
		}
	}
}

// TestEventLogRejects: a handshake refused at capacity is logged with 503.
func TestEventLogRejects(t *testing.T) {
	t.Parallel()
	log := &recordingLog{}
	tg := startTarget(t, Options{Nodes: 1, Log: log, Capacity: profile.Capacity{MaxConns: 1}})
	dial(t, tg.URL())
	_, resp, err := tryDial(tg.URL())
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second dial: %v, want 503", err)
	}
	var rejects []logged
	for _, e := range log.snapshot() {
		if e.event == "reject" {
			rejects = append(rejects, e)
		}
	}
	if len(rejects) != 1 || rejects[0].node != 0 || rejects[0].status != http.StatusServiceUnavailable {
		t.Errorf("rejects logged: %+v, want one 503 on node 0", rejects)
	}
}

// TestNodeStatusFollowsARestart: a restarting node is draining while it
// closes its clients, down for its downtime, and up again after; the
// counters match the clients.
func TestNodeStatusFollowsARestart(t *testing.T) {
	t.Parallel()
	const drain, downtime = 600 * time.Millisecond, 600 * time.Millisecond
	tg := startTarget(t, Options{Nodes: 2})
	clients := dialUntil(t, tg, 2)
	count := perNode(clients, 2)
	st := tg.NodeStatus()
	for i, s := range st {
		if s.Index != i || s.State != nodes.StateUp || s.Conns != count[i] || s.Accepted != count[i] || s.Rejected != 0 {
			t.Errorf("NodeStatus()[%d] = %+v, want up with %d connections", i, s, count[i])
		}
	}

	start := time.Now()
	done := restartAsync(context.Background(), tg, 0, restartSpec(drain, downtime))
	var victims []*client
	for _, c := range clients {
		if c.node == 0 {
			victims = append(victims, c)
		}
	}
	// The first is closed at once, the last at the end of the drain.
	victims[0].ended(t)
	if s := tg.NodeStatus()[0]; s.State != nodes.StateDraining && time.Since(start) < drain {
		t.Errorf("during the drain node 0 is %+v, want draining", s)
	}
	for _, c := range victims {
		c.ended(t)
	}
	waitFor(t, "the drain to end", func() bool { return tg.NodeStatus()[0].State != nodes.StateDraining })
	if s := tg.NodeStatus()[0]; s.State != nodes.StateDown && time.Since(start) < drain+downtime {
		t.Errorf("during the downtime node 0 is %+v, want down", s)
	}
	if s := tg.NodeStatus()[1]; s.State != nodes.StateUp {
		t.Errorf("node 1 is %+v during node 0's restart, want up", s)
	}
	if r := waitRestart(t, done); r.err != nil {
		t.Fatal(r.err)
	}
	if s := tg.NodeStatus()[0]; s.State != nodes.StateUp || s.Conns != 0 || s.Accepted != count[0] {
		t.Errorf("after the restart node 0 is %+v, want up with no connections, %d accepted", s, count[0])
	}
}

// BenchmarkConnectWithEventLog is one client's whole session (handshake,
// welcome, close) with and without an event log.
func BenchmarkConnectWithEventLog(b *testing.B) {
	for _, withLog := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", withLog), func(b *testing.B) {
			opts := Options{Nodes: 2, Listen: "127.0.0.1:0"}
			var elog *admin.EventLog
			if withLog {
				elog = admin.NewEventLog(io.Discard)
				opts.Log = elog
			}
			tg, err := Start(context.Background(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				tg.Shutdown(context.Background())
				elog.Close()
			}()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, _, err := tryDial(tg.URL())
					if err != nil {
						b.Error(err)
						return
					}
					c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
					<-c.done
					c.conn.Close()
				}
			})
		})
	}
}

// TestEndSaysWhy: an End of a node that refuses is its restart's, and an
// End of every node is a close's, whatever state each node is in (a close
// step may come during a restart); a drop says so.
func TestEndSaysWhy(t *testing.T) {
	t.Parallel()
	l := &recordingLog{}
	// Round-robin hands out the connections in turn, so the close below
	// picks the same ones every run.
	tg := startTarget(t, Options{Nodes: 2, Log: l, Balancer: BalancerDispatch})
	clients := dialUntil(t, tg, 3)
	ctx := context.Background()
	if err := tg.Refuse(ctx, 0, action.Ending{Code: 1012}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A close of half of every node's connections during node 0's restart.
	if _, err := tg.End(ctx, action.Pick{Node: -1, Fraction: 0.5, Seed: 1}, action.Ending{Code: 1000}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.End(ctx, action.All(0), action.Ending{Code: 1012}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.End(ctx, action.All(1), action.Ending{Drop: true}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Accept(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every connection's end logged", func() bool {
		n := 0
		for _, e := range l.snapshot() {
			if e.event == "close" {
				n++
			}
		}
		return n == len(clients)
	})
	seen := map[string]int{} // by node and code
	for _, e := range l.snapshot() {
		if e.event != "close" {
			continue
		}
		seen[fmt.Sprintf("node %d %d", e.node, e.code)]++
		want := map[int]string{1000: ByClose, 1012: ByRestart, 1006: ByDrop}[e.code]
		if e.by != want {
			t.Errorf("close of conn %d on node %d with %d logged by %q, want %q", e.conn, e.node, e.code, e.by, want)
		}
	}
	// Every case met: a close of the refusing node's connections, its
	// restart's, and a drop of the other node's.
	for _, k := range []string{"node 0 1000", "node 0 1012", "node 1 1006"} {
		if seen[k] == 0 {
			t.Errorf("no close on %s logged: %v", k, seen)
		}
	}
}
