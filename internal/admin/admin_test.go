package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/target"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// server is an embedded target behind the admin API.
type server struct {
	tg   *target.Target
	h    *admin.Handler
	http *httptest.Server
	log  *syncBuffer
	elog *admin.EventLog
	stop context.CancelFunc // ends the lifetime
}

// syncBuffer is a bytes.Buffer safe for the log's writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a target of nodes nodes and the admin API over it, both
// stopped when the test ends.
func start(t *testing.T, nodes int) *server {
	t.Helper()
	return startWith(t, target.Options{Nodes: nodes})
}

// startLeased is start with a lease grace of grace.
func startLeased(t *testing.T, nodes int, grace time.Duration) *server {
	t.Helper()
	return startWith(t, target.Options{Nodes: nodes}, admin.WithLeaseGrace(grace))
}

// startWith is start with the target's options; an empty Listen is
// 127.0.0.1:0, and the log is the server's.
func startWith(t *testing.T, opts target.Options, hopts ...admin.Option) *server {
	t.Helper()
	s := &server{log: &syncBuffer{}}
	s.elog = admin.NewEventLog(s.log)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	opts.Log = s.elog
	tg, err := target.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	life, stop := context.WithCancel(context.Background())
	s.tg, s.stop = tg, stop
	s.h = admin.NewHandler(tg, append([]admin.Option{admin.WithURL(tg.URL()), admin.WithEventLog(s.elog), admin.WithLifetime(life)}, hopts...)...)
	s.http = httptest.NewServer(s.h)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := tg.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		s.http.Close()
		s.h.Wait()
		s.elog.Close()
	})
	return s
}

// call sends a request to the admin API and decodes its JSON answer.
func (s *server) call(t *testing.T, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s %s: %d %q is not a JSON object: %v", method, path, resp.StatusCode, data, err)
	}
	return resp.StatusCode, v
}

func (s *server) post(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	return s.call(t, http.MethodPost, path, "", "")
}

// status returns GET /status.
func (s *server) status(t *testing.T) (string, []nodes.Status) {
	t.Helper()
	resp, err := http.Get(s.http.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		URL   string         `json:"url"`
		Nodes []nodes.Status `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %s %v", resp.Status, err)
	}
	return st.URL, st.Nodes
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is a WebSocket client that has read its welcome and reads on
// until its connection ends.
type client struct {
	conn *websocket.Conn
	node int
	done chan struct{}
	err  error // why reading ended; set before done is closed
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close() })
	var w struct {
		Node int `json:"node"`
	}
	conn.SetReadDeadline(time.Now().Add(testTimeout))
	if err := conn.ReadJSON(&w); err != nil {
		t.Fatalf("read welcome: %v", err)
	}
	conn.SetReadDeadline(time.Time{})
	c := &client{conn: conn, node: w.Node, done: make(chan struct{})}
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				c.err = err
				close(c.done)
				return
			}
		}
	}()
	return c
}

// dialUntil dials until every node has at least perNode clients.
func dialUntil(t *testing.T, s *server, nodes, perNode int) []*client {
	t.Helper()
	var clients []*client
	count := make([]int, nodes)
	for range 100 * nodes * perNode {
		c := dial(t, s.tg.URL())
		clients = append(clients, c)
		count[c.node]++
		if min(count[0], count[nodes-1]) >= perNode && (nodes < 3 || count[1] >= perNode) {
			return clients
		}
	}
	t.Fatalf("clients per node are %v, want at least %d each", count, perNode)
	return nil
}

func (c *client) isOpen() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// closedWith waits for the connection to end and checks its close frame.
func (c *client) closedWith(t *testing.T, code int, reason string) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(testTimeout):
		t.Fatalf("client of node %d still open after %v", c.node, testTimeout)
	}
	var ce *websocket.CloseError
	if !errors.As(c.err, &ce) || ce.Code != code || ce.Text != reason {
		t.Errorf("client of node %d ended with %v, want close %d %q", c.node, c.err, code, reason)
	}
}

func onNode(clients []*client, node int) (out []*client) {
	for _, c := range clients {
		if c.node == node {
			out = append(out, c)
		}
	}
	return out
}

// events returns the log's lines of one event type, once written.
func (s *server) events(event string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(s.log.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["event"] == event {
			out = append(out, m)
		}
	}
	return out
}

// TestRestartClosesWithTheCodeAndTheNodeComesBack: a restart closes the
// node's clients with the code and reason asked for (1012 by default),
// leaves the other node's alone, answers once the node is up again, and
// the node takes clients again.
func TestRestartClosesWithTheCodeAndTheNodeComesBack(t *testing.T) {
	t.Parallel()
	s := start(t, 2)
	clients := dialUntil(t, s, 2, 2)
	victims := onNode(clients, 0)

	code, resp := s.post(t, "/nodes/0/restart?code=4000&downtime=100ms&reason=deploy")
	if code != http.StatusOK || resp["node"] != 0.0 || resp["closed"] != float64(len(victims)) {
		t.Fatalf("restart: %d %v, want 200 with node 0, closed %d", code, resp, len(victims))
	}
	if d, _ := resp["duration_s"].(float64); d < 0.1 {
		t.Errorf("duration_s %v, want at least the 0.1 s downtime", resp["duration_s"])
	}
	for _, c := range victims {
		c.closedWith(t, 4000, "deploy")
	}
	for _, c := range onNode(clients, 1) {
		if !c.isOpen() {
			t.Errorf("a client of node 1 ended: %v", c.err)
		}
	}
	if _, st := s.status(t); st[0].State != nodes.StateUp || st[0].Conns != 0 {
		t.Errorf("after the restart node 0 is %+v, want up with no connections", st[0])
	}
	for range 100 {
		c := dial(t, s.tg.URL())
		clients = append(clients, c)
		if c.node == 0 {
			break
		}
	}
	if _, st := s.status(t); st[0].Conns == 0 {
		t.Error("no client landed on node 0 after it came back")
	}

	// The defaults, with parameters in a JSON body: 1012, no reason.
	victims = onNode(clients, 1)
	code, resp = s.call(t, http.MethodPost, "/nodes/1/restart", "application/json", `{"downtime": "0s", "wait": true}`)
	if code != http.StatusOK || resp["closed"] != float64(len(victims)) {
		t.Fatalf("restart: %d %v, want 200, closed %d", code, resp, len(victims))
	}
	for _, c := range victims {
		c.closedWith(t, websocket.CloseServiceRestart, "")
	}
}

// TestRestartConflictsAndLifetime: wait=false answers 202 at once; a second
// restart of the same node is a 409 while the first goes on; the end of the
// server's lifetime interrupts it and brings the node back.
func TestRestartConflictsAndLifetime(t *testing.T) {
	t.Parallel()
	s := start(t, 2)
	clients := dialUntil(t, s, 2, 1)

	code, resp := s.post(t, "/nodes/0/restart?wait=false&downtime=5m")
	if code != http.StatusAccepted || resp["node"] != 0.0 || resp["status"] != "restarting" {
		t.Fatalf("restart wait=false: %d %v, want 202", code, resp)
	}
	for _, c := range onNode(clients, 0) {
		c.closedWith(t, websocket.CloseServiceRestart, "")
	}
	code, resp = s.post(t, "/nodes/0/restart?downtime=0s")
	if code != http.StatusConflict || !strings.Contains(fmt.Sprint(resp["error"]), "node 0 is already restarting") {
		t.Errorf("second restart: %d %v, want 409", code, resp)
	}
	// Draining until the last close is sent, then down for the 5m.
	waitFor(t, "node 0 to be down", func() bool { _, st := s.status(t); return st[0].State == nodes.StateDown })
	if _, st := s.status(t); st[1].State != nodes.StateUp {
		t.Errorf("during node 0's downtime node 1 is %+v, want up", st[1])
	}
	// Another node is not in the way.
	if code, resp := s.post(t, "/nodes/1/restart?downtime=0s"); code != http.StatusOK {
		t.Errorf("restart of node 1: %d %v", code, resp)
	}

	s.stop()
	s.h.Wait()
	if _, st := s.status(t); st[0].State != nodes.StateUp {
		t.Errorf("after the lifetime ended node 0 is %+v, want up", st[0])
	}
	if code, resp := s.post(t, "/nodes/0/restart"); code != http.StatusServiceUnavailable {
		t.Errorf("restart after the lifetime: %d %v, want 503", code, resp)
	}
	waitFor(t, "restart_end in the log", func() bool { return len(s.events("restart_end")) == 2 })
	ends := s.events("restart_end")
	if ends[1]["node"] != 0.0 || !strings.Contains(fmt.Sprint(ends[1]["error"]), "context canceled") {
		t.Errorf("restart_end of the interrupted restart: %v", ends[1])
	}
}

// TestRestartOutlivesItsRequest: a client that hangs up does not cut the
// restart short.
func TestRestartOutlivesItsRequest(t *testing.T) {
	t.Parallel()
	s := start(t, 2)
	clients := dialUntil(t, s, 2, 2)
	victims := onNode(clients, 0)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.http.URL+"/nodes/0/restart?drain=300ms&downtime=300ms", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-victims[0].done // the drain has begun
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("request: %v, want it cancelled", err)
	}
	for _, c := range victims {
		c.closedWith(t, websocket.CloseServiceRestart, "")
	}
	waitFor(t, "restart_end in the log", func() bool { return len(s.events("restart_end")) == 1 })
	end := s.events("restart_end")[0]
	if end["closed"] != float64(len(victims)) || end["error"] != nil {
		t.Errorf("restart_end %v, want %d closed and no error", end, len(victims))
	}
	if _, st := s.status(t); st[0].State != nodes.StateUp {
		t.Errorf("node 0 is %+v, want up", st[0])
	}
}

// TestCloseFraction: a close ends round(fraction × open) clients, chosen by
// the seed, with the code and reason asked for.
func TestCloseFraction(t *testing.T) {
	t.Parallel()
	s := start(t, 1)
	var clients []*client
	for range 4 {
		clients = append(clients, dial(t, s.tg.URL()))
	}
	code, resp := s.post(t, "/close?fraction=0.5&code=4001&reason=bye&seed=7")
	if code != http.StatusOK || resp["closed"] != 2.0 || resp["seed"] != 7.0 {
		t.Fatalf("close: %d %v, want 200, closed 2, seed 7", code, resp)
	}
	open := func() (n int) {
		for _, c := range clients {
			if c.isOpen() {
				n++
			}
		}
		return n
	}
	waitFor(t, "two clients to close", func() bool { return open() == 2 })
	for _, c := range clients {
		if !c.isOpen() {
			c.closedWith(t, 4001, "bye")
		}
	}
	if _, st := s.status(t); st[0].Conns != 2 {
		t.Errorf("after the close: %+v, want 2 connections", st[0])
	}
	// The defaults: 1000, a seed chosen and reported; form body.
	var rest []*client
	for _, c := range clients {
		if c.isOpen() {
			rest = append(rest, c)
		}
	}
	code, resp = s.call(t, http.MethodPost, "/close", "application/x-www-form-urlencoded", "fraction=1")
	if code != http.StatusOK || resp["closed"] != 2.0 || resp["seed"] == nil {
		t.Fatalf("close: %d %v, want 200, closed 2", code, resp)
	}
	for _, c := range rest {
		c.closedWith(t, websocket.CloseNormalClosure, "")
	}
	waitFor(t, "close_fraction in the log", func() bool { return len(s.events("close_fraction")) == 2 })
	if e := s.events("close_fraction")[0]; e["fraction"] != 0.5 || e["code"] != 4001.0 || e["seed"] != 7.0 {
		t.Errorf("close_fraction logged %v", e)
	}
}

// TestStatusCounts: /status reports the URL and each node's state and
// counters.
func TestStatusCounts(t *testing.T) {
	t.Parallel()
	s := start(t, 3)
	clients := dialUntil(t, s, 3, 1)
	url, st := s.status(t)
	if url != s.tg.URL() || len(st) != 3 {
		t.Fatalf("status: url %q, %d nodes; want %q and 3", url, len(st), s.tg.URL())
	}
	for i, n := range st {
		want := int64(len(onNode(clients, i)))
		if n.Index != i || n.State != nodes.StateUp || n.Conns != want || n.Accepted != want || n.Rejected != 0 {
			t.Errorf("node %d: %+v, want up with %d connections", i, n, want)
		}
	}
	code, resp := s.call(t, http.MethodGet, "/", "", "")
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(resp["endpoints"]), "POST /nodes/{i}/restart") {
		t.Errorf("GET /: %d %v", code, resp)
	}
}

// TestRequestErrors: bad requests are refused before anything happens,
// with a status that says what is wrong and a message that says what to
// do.
func TestRequestErrors(t *testing.T) {
	t.Parallel()
	s := start(t, 2)
	long := strings.Repeat("x", 124)
	for _, tc := range []struct {
		method, path, ctype, body string
		code                      int
		allow, err                string
	}{
		{method: "POST", path: "/nodes/2/restart", code: 404, err: `no node "2": this server has nodes 0 to 1`},
		{method: "POST", path: "/nodes/-1/restart", code: 404, err: `no node "-1"`},
		{method: "POST", path: "/nodes/x/restart", code: 404, err: `no node "x"`},
		{method: "POST", path: "/nodes/0/restart?code=1006", code: 400, err: `code "1006" cannot be sent in a close frame: use 1000-1003, 1007-1014 or 3000-4999`},
		{method: "POST", path: "/nodes/0/restart?code=1005", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?code=1015", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?code=2000", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?code=999", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?code=5000", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?code=abc", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?drain=-1s", code: 400, err: "drain -1s is out of range: use 0s to 10m0s"},
		{method: "POST", path: "/nodes/0/restart?downtime=11m", code: 400, err: "downtime 11m is out of range"},
		{method: "POST", path: "/nodes/0/restart?downtime=2", code: 400, err: `downtime "2" is not a duration: write e.g. 500ms, 2s or 1m`},
		{method: "POST", path: "/nodes/0/restart?reason=" + long, code: 400, err: "reason is 124 bytes: a close frame holds at most 123"},
		{method: "POST", path: "/nodes/0/restart?reason=%ff", code: 400, err: "not valid UTF-8"},
		{method: "POST", path: "/nodes/0/restart?wait=maybe", code: 400, err: `wait "maybe" is not true or false`},
		{method: "POST", path: "/nodes/0/restart?dowtime=2s", code: 400, err: `unknown parameter "dowtime": use code, drain, downtime, reason, wait`},
		{method: "POST", path: "/nodes/0/restart?code=1012&code=1000", code: 400, err: `parameter "code" is given 2 times`},
		{method: "POST", path: "/nodes/0/restart?code=1012", ctype: "application/json", body: `{"code": 1000}`, code: 400, err: `parameter "code" is given 2 times`},
		{method: "POST", path: "/nodes/0/restart", ctype: "application/json", body: `{"code": 1006}`, code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart", ctype: "application/json", body: `{"code": [1012]}`, code: 400, err: `parameter "code": want a string, a number or true/false`},
		{method: "POST", path: "/nodes/0/restart", ctype: "application/json", body: `{"code": 1012`, code: 400, err: "the body is not a JSON object"},
		{method: "POST", path: "/nodes/0/restart", body: `{"code": 1006}`, code: 400, err: "cannot be sent"},
		{method: "POST", path: "/nodes/0/restart?%zz", code: 400, err: "the query is malformed"},
		{method: "POST", path: "/close", code: 400, err: "fraction is missing: e.g. fraction=0.1 closes 10% of the connections"},
		{method: "POST", path: "/close?fraction=0", code: 400, err: `fraction "0" is not a share in (0, 1]`},
		{method: "POST", path: "/close?fraction=1.5", code: 400, err: "not a share"},
		{method: "POST", path: "/close?fraction=NaN", code: 400, err: "not a share"},
		{method: "POST", path: "/close?fraction=-0.1", code: 400, err: "not a share"},
		{method: "POST", path: "/close?fraction=0.1&code=1006", code: 400, err: "cannot be sent"},
		{method: "POST", path: "/close?fraction=0.1&seed=-1", code: 400, err: `seed "-1" is not a whole number`},
		{method: "POST", path: "/close?fraction=0.1&node=1", code: 400, err: `unknown parameter "node": use fraction, code, reason, seed`},
		{method: "GET", path: "/nodes/0/restart", code: 405, allow: "POST", err: "GET /nodes/0/restart: use POST"},
		{method: "GET", path: "/close", code: 405, allow: "POST", err: "use POST"},
		{method: "POST", path: "/status", code: 405, allow: "GET, HEAD", err: "POST /status: use GET, HEAD"},
		{method: "DELETE", path: "/", code: 405, allow: "GET, HEAD"},
		{method: "GET", path: "/nope", code: 404, err: "no endpoint /nope: use GET /status, POST /nodes/{i}/restart or POST /close"},
		{method: "POST", path: "/nodes/0/restart/now", code: 404, err: "no endpoint"},
	} {
		code, resp := s.call(t, tc.method, tc.path, tc.ctype, tc.body)
		msg, _ := resp["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.err) || strings.Contains(msg, "\n") {
			t.Errorf("%s %s %s: %d %q, want %d with %q", tc.method, tc.path, tc.body, code, msg, tc.code, tc.err)
		}
		if tc.allow != "" {
			req, _ := http.NewRequest(tc.method, s.http.URL+tc.path, nil)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: Allow %v, want %q (%v)", tc.method, tc.path, resp.Header, tc.allow, err)
			} else {
				resp.Body.Close()
			}
		}
	}
	// None of them touched a node.
	if _, st := s.status(t); st[0].State != nodes.StateUp || st[1].State != nodes.StateUp {
		t.Errorf("after bad requests: %+v", st)
	}
	if evs := s.events("restart_start"); len(evs) != 0 {
		t.Errorf("bad requests logged restarts: %v", evs)
	}
}

// TestFirstNodeNumbersTheAPI: over a target whose nodes are 2 and 3, the
// API reports first_node 2 and the nodes' numbers, takes those numbers in
// its paths, and refuses the others with 404.
func TestFirstNodeNumbersTheAPI(t *testing.T) {
	t.Parallel()
	s := startWith(t, target.Options{Nodes: 2, FirstNode: 2})
	code, resp := s.call(t, http.MethodGet, "/status", "", "")
	if code != http.StatusOK || resp["first_node"] != 2.0 {
		t.Errorf("GET /status: %d first_node %v, want 200 and 2", code, resp["first_node"])
	}
	_, st := s.status(t)
	if len(st) != 2 || st[0].Index != 2 || st[1].Index != 3 {
		t.Errorf("status nodes %+v, want nodes 2 and 3", st)
	}
	for _, path := range []string{"/nodes/0/restart", "/nodes/1/restart", "/nodes/4/restart"} {
		code, resp := s.post(t, path)
		if msg, _ := resp["error"].(string); code != http.StatusNotFound || !strings.Contains(msg, "this server has nodes 2 to 3") {
			t.Errorf("POST %s: %d %q, want 404 naming nodes 2 to 3", path, code, msg)
		}
	}
	var clients []*client
	count := map[int]int{}
	for range 200 {
		c := dial(t, s.tg.URL())
		clients = append(clients, c)
		count[c.node]++
		if count[2] > 0 && count[3] > 0 {
			break
		}
	}
	if len(count) != 2 || count[2] == 0 || count[3] == 0 {
		t.Fatalf("clients per node %v, want some on nodes 2 and 3 only", count)
	}
	code, resp = s.post(t, "/nodes/3/restart?downtime=0s")
	if code != http.StatusOK || resp["node"] != 3.0 || resp["closed"] != float64(count[3]) {
		t.Fatalf("POST /nodes/3/restart: %d %v, want 200 with node 3, closed %d", code, resp, count[3])
	}
	for _, c := range onNode(clients, 3) {
		c.closedWith(t, websocket.CloseServiceRestart, "")
	}
	for _, c := range onNode(clients, 2) {
		if !c.isOpen() {
			t.Error("a client of node 2 was closed by the restart of node 3")
		}
	}
	waitFor(t, "restart_end in the log", func() bool { return len(s.events("restart_end")) == 1 })
	if e := s.events("restart_start"); len(e) != 1 || e[0]["node"] != 3.0 {
		t.Errorf("restart_start logged %v, want node 3", e)
	}
}
