package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/target"
)

// startParts starts targets sharing one port, as wsstorm serve processes
// with --share-port and --first-node do, each with its admin API: the
// first on a free port, the others joining it. sizes are their nodes.
func startParts(t *testing.T, sizes ...int) []*server {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("sharing a port needs SO_REUSEPORT (Linux)")
	}
	var parts []*server
	first := 0
	for _, n := range sizes {
		opts := target.Options{Nodes: n, FirstNode: first, Balancer: target.BalancerReusePort}
		if len(parts) > 0 {
			opts.Listen, opts.SharePort = parts[0].tg.Addr(), true
		}
		parts = append(parts, startWith(t, opts))
		first += n
	}
	return parts
}

func dialRemote(t *testing.T, urls ...string) *admin.Remote {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r, err := admin.Dial(ctx, urls, nil)
	if err != nil {
		t.Fatalf("Dial(%v): %v", urls, err)
	}
	return r
}

// TestRemoteIsOneTarget: two servers with nodes 0-1 and 2-3 on one port
// are one target of 4 nodes: clients of the shared URL land on both,
// Stats lists the four in order, a restart of node 3 goes to the second
// and closes only its clients, and a close reaches both, with a seed of
// its own each.
func TestRemoteIsOneTarget(t *testing.T) {
	t.Parallel()
	parts := startParts(t, 2, 2)
	a, b := parts[0], parts[1]
	r := dialRemote(t, b.http.URL, a.http.URL+"/") // any order, with or without the slash
	if r.Nodes() != 4 || r.URL() != a.tg.URL() {
		t.Fatalf("Nodes() %d, URL() %q; want 4 and %q", r.Nodes(), r.URL(), a.tg.URL())
	}
	if got := r.AdminURLs(); len(got) != 2 || got[0] != a.http.URL+"/" || got[1] != b.http.URL+"/" {
		t.Errorf("AdminURLs() = %q, want %s/ then %s/", got, a.http.URL, b.http.URL)
	}

	var clients []*client
	count := make([]int, 4)
	for range 200 {
		c := dial(t, r.URL())
		clients = append(clients, c)
		count[c.node]++
	}
	for node, n := range count {
		if n == 0 {
			t.Fatalf("200 clients per node %v: none on node %d", count, node)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := r.Stats(ctx)
	if err != nil || len(st) != 4 {
		t.Fatalf("Stats() = %+v, %v; want 4 nodes", st, err)
	}
	for i, n := range st {
		if n.Index != i || !n.Up || n.Conns != int64(count[i]) || n.Accepted != int64(count[i]) {
			t.Errorf("Stats()[%d] = %+v, want node %d up with %d connections", i, n, i, count[i])
		}
	}

	closed, err := action.RestartNode(ctx, r, 3, action.RestartParams{Code: 1012, Reason: "deploy", Downtime: 50 * time.Millisecond})
	if err != nil || closed != count[3] {
		t.Fatalf("Restart(3) = (%d, %v), want (%d, nil)", closed, err, count[3])
	}
	for _, c := range onNode(clients, 3) {
		c.closedWith(t, websocket.CloseServiceRestart, "deploy")
	}
	for _, c := range clients {
		if c.node != 3 && !c.isOpen() {
			t.Errorf("a client of node %d was closed by the restart of node 3", c.node)
		}
	}
	if st := b.tg.NodeStatus()[1]; st.State != nodes.StateUp {
		t.Errorf("node 3 after Restart returned: %+v, want up", st)
	}
	// The restart was the second server's alone: node 3 taken down, its
	// connections ended, node 3 back.
	waitFor(t, "node_up in the second's log", func() bool { return len(b.events("node_up")) == 1 })
	down, ends, up := b.events("node_down"), b.events("end_start"), b.events("node_up")
	if len(down) != 1 || down[0]["node"] != 3.0 || down[0]["code"] != 1012.0 || len(ends) != 1 || ends[0]["node"] != 3.0 || up[0]["node"] != 3.0 {
		t.Errorf("the second logged %v, %v, %v; want node 3 down with 1012, its connections ended, node 3 up", down, ends, up)
	}
	if e := append(a.events("node_down"), a.events("end_start")...); len(e) != 0 {
		t.Errorf("the first logged %v, want nothing of the restart", e)
	}

	openA, openB := count[0]+count[1], count[2]
	want := action.CloseCount(0.5, openA) + action.CloseCount(0.5, openB)
	closed, err = action.CloseShare(ctx, r, action.CloseParams{Fraction: 0.5, Code: 4001, Reason: "bye"}, 7)
	if err != nil || closed != want {
		t.Fatalf("Close(0.5) = (%d, %v), want (%d, nil): half of %d and of %d", closed, err, want, openA, openB)
	}
	st, err = r.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := int64(0)
	for _, n := range st {
		left += n.Conns
	}
	if left != int64(openA+openB-want) {
		t.Errorf("after Close, %d connections are open, want %d", left, openA+openB-want)
	}
	waitFor(t, "the close's end_start in both logs", func() bool {
		return len(a.events("end_start")) == 1 && len(b.events("end_start")) == 2
	})
	ea, eb := a.events("end_start")[0], b.events("end_start")[1]
	if ea["seed"] != 7.0 || eb["seed"] == 7.0 || eb["fraction"] != 0.5 || eb["code"] != 4001.0 || eb["reason"] != "bye" || eb["node"] != -1.0 {
		t.Errorf("end_start logged %v and %v, want fraction 0.5, code 4001, reason bye on every node, seed 7 on the first and another on the second", ea, eb)
	}
}

// TestRemoteErrors: a restart of a node no server has, or one a server
// refuses, fails with the server's message and the admin URL; a cancelled
// context abandons a restart, which the server finishes alone.
func TestRemoteErrors(t *testing.T) {
	t.Parallel()
	parts := startParts(t, 1, 1)
	r := dialRemote(t, parts[0].http.URL, parts[1].http.URL)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	for _, tc := range []struct {
		node   int
		spec   action.RestartParams
		closed int
		want   []string
	}{
		{2, action.RestartParams{}, 0, []string{"restart node 2: the target has nodes 0 to 1"}},
		{-1, action.RestartParams{}, 0, []string{"the target has nodes 0 to 1"}},
		{1, action.RestartParams{Downtime: -time.Second}, 0, []string{"must not be negative"}},
		{1, action.RestartParams{Code: 1006}, 0, []string{
			"restart node 1: admin API at " + parts[1].http.URL + "/: POST /nodes/1/refuse: 400 Bad Request: ",
			`code "1006" cannot be sent in a close frame`,
		}},
		{0, action.RestartParams{Drain: 10 * time.Minute, Downtime: 11 * time.Minute}, 0, []string{parts[0].http.URL, "POST /nodes/0/refuse: 400 Bad Request: for 2", "is out of range: use 0s to 20m0s"}},
	} {
		closed, err := action.RestartNode(ctx, r, tc.node, tc.spec)
		if err == nil || closed != tc.closed {
			t.Errorf("restart(%d, %+v) = (%d, %v), want (%d, an error)", tc.node, tc.spec, closed, err, tc.closed)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("restart(%d, %+v): %q, want it to say %q", tc.node, tc.spec, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("restart(%d, %+v): %q is more than one line", tc.node, tc.spec, err)
		}
	}

	// A restart under way: a second one is refused with 409; cancelling the
	// first puts the node back at once, as the embedded target's restart
	// does: the run that drove it owns its timeline.
	rctx, rcancel := context.WithCancel(ctx)
	type result struct {
		closed int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		closed, err := action.RestartNode(rctx, r, 1, action.RestartParams{Downtime: time.Minute})
		done <- result{closed, err}
	}()
	waitFor(t, "node 1 down", func() bool { return parts[1].tg.NodeStatus()[0].State == nodes.StateDown })
	closed, err := action.RestartNode(ctx, r, 1, action.RestartParams{})
	if err == nil || closed != 0 || !strings.Contains(err.Error(), "409 Conflict: node 1 is already down") {
		t.Errorf("a second restart of node 1 = (%d, %v), want (0, 409 already down)", closed, err)
	}
	rcancel()
	select {
	case res := <-done:
		if res.closed != 0 || !errors.Is(res.err, context.Canceled) {
			t.Errorf("cancelled restart = (%d, %v), want (0, context.Canceled)", res.closed, res.err)
		}
	case <-time.After(testTimeout):
		t.Fatal("restart did not return when its context was cancelled")
	}
	if st, err := r.Stats(ctx); err != nil || len(st) != 2 || !st[0].Up || !st[1].Up {
		t.Errorf("Stats() after the restart was cancelled = %+v, %v; want both nodes up", st, err)
	}

	if closed, err := action.CloseShare(ctx, r, action.CloseParams{Fraction: 1.5}, 0); err == nil || closed != 0 {
		t.Errorf("close(1.5) = (%d, %v), want (0, an error)", closed, err)
	}
	if closed, err := action.CloseShare(ctx, r, action.CloseParams{Fraction: 0}, 0); err != nil || closed != 0 {
		t.Errorf("close(0) = (%d, %v), want (0, nil)", closed, err)
	}
}

// TestDialRefusesWhatIsNotOneTarget: Dial refuses admin APIs whose nodes
// leave a gap, overlap or do not start at 0, that serve different client
// URLs, that are not reachable or not an admin API, saying which and what
// to change.
func TestDialRefusesWhatIsNotOneTarget(t *testing.T) {
	t.Parallel()
	// On one port: nodes 0-1, 3, 1-2.
	shared := startParts(t, 2)
	a := shared[0]
	on := func(first, nodes int) *server {
		return startWith(t, target.Options{Nodes: nodes, FirstNode: first, Listen: a.tg.Addr(), SharePort: true})
	}
	three, oneTwo := on(3, 1), on(1, 2)
	elsewhere := startWith(t, target.Options{Nodes: 2, FirstNode: 2}) // its own port
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	notAdmin := httptest.NewServer(http.NotFoundHandler())
	defer notAdmin.Close()

	for _, tc := range []struct {
		name string
		urls []string
		want []string
	}{
		{"none", nil, []string{"no admin API to dial"}},
		{"no scheme", []string{strings.TrimPrefix(a.http.URL, "http://")}, []string{"want http://HOST:PORT/"}},
		{"gap", []string{a.http.URL, three.http.URL}, []string{
			"no admin API has node 2: " + a.http.URL + "/ has nodes 0 to 1 and " + three.http.URL + "/ has nodes 3 to 3",
			"--first-node 2",
		}},
		{"overlap", []string{oneTwo.http.URL, a.http.URL}, []string{"node 1 is served twice: " + a.http.URL + "/ has nodes 0 to 1 and " + oneTwo.http.URL + "/ has nodes 1 to 2"}},
		{"twice", []string{a.http.URL, a.http.URL}, []string{"node 0 is served twice"}},
		{"no node 0", []string{three.http.URL}, []string{"no admin API has node 0", "--first-node 0"}},
		{"other URL", []string{a.http.URL, elsewhere.http.URL}, []string{"serve different client URLs, " + a.tg.URL() + " and " + elsewhere.tg.URL(), "--share-port"}},
		{"down", []string{a.http.URL, down.URL}, []string{"admin API at " + down.URL + "/: GET /status: ", "connection refused", "check that its wsstorm serve is running"}},
		{"not admin", []string{notAdmin.URL}, []string{"admin API at " + notAdmin.URL + "/: GET /status: 404 Not Found: 404 page not found"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		r, err := admin.Dial(ctx, tc.urls, nil)
		cancel()
		if err == nil {
			t.Errorf("%s: Dial(%v) = %d nodes, want an error", tc.name, tc.urls, r.Nodes())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Dial: %q, want it to say %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Dial: %q is more than one line", tc.name, err)
		}
	}
}

// TestRemoteFreeze: a freeze through the API of the part that serves the
// node, on a lease; its node counts as up, as the embedded target counts it
// (it stalls handshakes and refuses none), and a thaw brings it back.
func TestRemoteFreeze(t *testing.T) {
	t.Parallel()
	parts := startParts(t, 1, 1)
	r := dialRemote(t, parts[0].http.URL, parts[1].http.URL)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := r.Freeze(ctx, 1, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := parts[1].tg.NodeStatus()[0]; st.State != nodes.StateFrozen {
		t.Fatalf("node 1 after the freeze: %+v", st)
	}
	if st, err := r.Stats(ctx); err != nil || len(st) != 2 || !st[0].Up || !st[1].Up {
		t.Errorf("Stats() with node 1 frozen = %+v, %v; want both up", st, err)
	}
	if err := r.Thaw(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := parts[1].tg.NodeStatus()[0]; st.State != nodes.StateUp {
		t.Errorf("node 1 after the thaw: %+v", st)
	}
}
