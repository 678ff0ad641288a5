package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/nodes"
)

// TestPrimitives: the target's capabilities one by one through the API: a
// node taken down and back, its connections ended, frozen and thawed, each
// logged; and what a capability refuses, refused with a one-line reason.
func TestPrimitives(t *testing.T) {
	t.Parallel()
	s := start(t, 2)
	clients := dialUntil(t, s, 2, 2)

	if code, resp := s.post(t, "/nodes/1/refuse?code=4002&reason=moving"); code != 200 || resp["node"] != 1.0 {
		t.Fatalf("refuse: %d %v", code, resp)
	}
	if _, st := s.status(t); st[1].State != nodes.StateDown {
		t.Errorf("node 1 after refuse: %+v", st[1])
	}
	if code, resp := s.post(t, "/nodes/1/refuse"); code != 409 || !strings.Contains(resp["error"].(string), "already down") {
		t.Errorf("a second refuse: %d %v, want 409 already down", code, resp)
	}
	on1 := onNode(clients, 1)
	if code, resp := s.post(t, "/nodes/1/end?code=4002&reason=moving&spread=50ms"); code != 200 || resp["ended"] != float64(len(on1)) {
		t.Fatalf("end node 1: %d %v, want %d ended", code, resp, len(on1))
	}
	for _, c := range on1 {
		c.closedWith(t, 4002, "moving")
	}
	if code, resp := s.post(t, "/nodes/1/accept"); code != 200 || resp["late"] != 0.0 {
		t.Errorf("accept: %d %v", code, resp)
	}
	if _, st := s.status(t); st[1].State != nodes.StateUp {
		t.Errorf("node 1 after accept: %+v", st[1])
	}

	if code, resp := s.post(t, "/nodes/0/freeze"); code != 200 || resp["frozen"] != float64(len(onNode(clients, 0))) {
		t.Errorf("freeze: %d %v", code, resp)
	}
	if code, _ := s.post(t, "/nodes/0/freeze"); code != 409 {
		t.Errorf("a second freeze: %d, want 409", code)
	}
	if _, st := s.status(t); st[0].State != nodes.StateFrozen {
		t.Errorf("node 0 after freeze: %+v", st[0])
	}
	if code, _ := s.post(t, "/nodes/0/thaw"); code != 200 {
		t.Errorf("thaw: %d", code)
	}
	on0 := onNode(clients, 0)
	if code, resp := s.post(t, "/end?drop=true"); code != 200 || resp["ended"] != float64(len(on0)) {
		t.Fatalf("drop every connection: %d %v, want %d", code, resp, len(on0))
	}
	for _, c := range on0 {
		waitFor(t, "the dropped connection's end", func() bool { return !c.isOpen() })
		var ce *websocket.CloseError
		if !errors.As(c.err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
			t.Errorf("a dropped client ended with %v, want 1006 (no close frame)", c.err)
		}
	}
	for _, ev := range []string{"node_down", "end_start", "end_done", "node_up", "freeze", "thaw"} {
		waitFor(t, ev+" in the log", func() bool { return len(s.events(ev)) > 0 })
	}

	for _, tc := range []struct{ path, err string }{
		{"/nodes/0/refuse?drop=true&code=1012", "give no code or reason with it"},
		{"/nodes/0/end?seed=3", "seed picks a share: give fraction with it"},
		{"/nodes/0/end?fraction=2", "not a share"},
		{"/nodes/0/end?spread=11m", "spread 11m is out of range"},
		{"/nodes/0/refuse?for=x", `for "x" is not a duration`},
		{"/nodes/5/freeze", "no node"},
		{"/nodes/0/thaw?x=1", `unknown parameter "x"`},
	} {
		code, resp := s.post(t, tc.path)
		if msg, _ := resp["error"].(string); code/100 != 4 || !strings.Contains(msg, tc.err) {
			t.Errorf("POST %s: %d %q, want a 4xx with %q", tc.path, code, msg, tc.err)
		}
	}
}

// TestLeases: a node refused or frozen with a for comes back on its own a
// grace after it was due, when nothing accepts or thaws it (its driver is
// gone); one that was accepted in time is left alone.
func TestLeases(t *testing.T) {
	t.Parallel()
	s := startLeased(t, 2, 100*time.Millisecond)
	if code, _ := s.post(t, "/nodes/0/refuse?for=100ms"); code != 200 {
		t.Fatalf("refuse: %d", code)
	}
	if code, _ := s.post(t, "/nodes/1/freeze?for=100ms"); code != 200 {
		t.Fatalf("freeze: %d", code)
	}
	waitFor(t, "both nodes back on their own", func() bool {
		_, st := s.status(t)
		return st[0].State == nodes.StateUp && st[1].State == nodes.StateUp
	})
	waitFor(t, "the lease's lines in the log", func() bool {
		up, thaw := s.events("node_up"), s.events("thaw")
		return len(up) == 1 && up[0]["by"] == "lease" && len(thaw) == 1 && thaw[0]["by"] == "lease"
	})
	// Accepted in time: the lease ends, and nothing else happens.
	if code, _ := s.post(t, "/nodes/0/refuse?for=50ms"); code != 200 {
		t.Fatalf("refuse: %d", code)
	}
	if code, _ := s.post(t, "/nodes/0/accept"); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	time.Sleep(300 * time.Millisecond)
	if up := s.events("node_up"); len(up) != 2 || up[1]["by"] != nil {
		t.Errorf("node_up lines %v, want the lease's and the accept's, and no other", up)
	}
}

// TestLeaseBounds: a for of 0s is a lease too (a crash without downtime is
// due back at once, and must come back if its driver is gone), and a
// freeze's for may be as long as a run, 24 h, where a refusal's stays within
// 20 m, a restart's longest drain (10 m) plus its longest downtime.
func TestLeaseBounds(t *testing.T) {
	t.Parallel()
	s := startLeased(t, 2, 100*time.Millisecond)
	if code, _ := s.post(t, "/nodes/0/refuse?for=0s"); code != 200 {
		t.Fatalf("refuse for 0s: %d", code)
	}
	waitFor(t, "node 0 back on its own", func() bool {
		_, st := s.status(t)
		return st[0].State == nodes.StateUp
	})
	if code, resp := s.post(t, "/nodes/1/freeze?for=15m"); code != 200 {
		t.Fatalf("freeze for 15m: %d %v", code, resp)
	}
	if code, _ := s.post(t, "/nodes/1/thaw"); code != 200 {
		t.Fatalf("thaw: %d", code)
	}
	code, resp := s.post(t, "/nodes/1/freeze?for=25h")
	if msg, _ := resp["error"].(string); code != 400 || !strings.Contains(msg, "use 0s to 24h0m0s") {
		t.Errorf("freeze for 25h: %d %q, want 400 naming the bound", code, msg)
	}
	code, resp = s.post(t, "/nodes/1/refuse?for=21m")
	if msg, _ := resp["error"].(string); code != 400 || !strings.Contains(msg, "use 0s to 20m0s") {
		t.Errorf("refuse for 21m: %d %q, want 400 naming the bound", code, msg)
	}
}
