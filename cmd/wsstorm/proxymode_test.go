package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestProxyMode runs a storm through the chaos proxy (mode = "proxy") in
// front of an upstream server that counts its handshakes and the closes it
// gets: a rolling restart of the proxy's nodes reaches the clients as 1012,
// the upstream sees those connections end with 1001 and then sees the
// clients come back, and the results show each restart as an event.
func TestProxyMode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs through the chaos proxy (~8 s): the full suite runs it")
	}
	var handshakes, goingAway atomic.Int64
	var badClient atomic.Value
	up := websocket.Upgrader{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("client") == "" || strings.Contains(r.URL.RawQuery, "{{") {
			badClient.Store(r.URL.RequestURI())
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		handshakes.Add(1)
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) && ce.Code == websocket.CloseGoingAway {
					goingAway.Add(1)
				}
				return
			}
			if c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	}))
	defer upstream.Close()

	prof := filepath.Join(t.TempDir(), "proxy.toml")
	body := fmt.Sprintf(`name = "through-proxy"
duration = "8s"
[target]
mode = "proxy"
url = "ws://%s/socket?client={{client}}"
nodes = 2
[fleet]
clients = 100
ramp = "500ms"
[fleet.reconnect]
strategy = "window"
min = "100ms"
max = "300ms"
[[chaos]]
at = "2s"
action = "rolling_restart"
interval = "2s"
downtime = "300ms"
`, strings.TrimPrefix(upstream.URL, "http://"))
	if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := wsstorm(t, "run", prof, "--quiet", "--out", out)
	if code != exitPassed {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	s, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if v := badClient.Load(); v != nil {
		t.Errorf("the upstream got %q: the client's path and query did not come through the proxy", v)
	}
	if len(s.Events) != 2 {
		t.Fatalf("%d events, want one per proxy node:\n%s", len(s.Events), stdout)
	}
	var affected int64
	for _, e := range s.Events {
		if e.Affected == 0 || e.Reconnected != e.Affected || e.Node == nil || *e.Node != e.Index {
			t.Errorf("event %+v", e)
		}
		affected += e.Affected
	}
	// Every connection the clients made went through to the upstream, and
	// every client a restart closed left the upstream with 1001.
	if h := handshakes.Load(); h != s.Counters.Connects {
		t.Errorf("upstream handshakes %d, client connects %d", h, s.Counters.Connects)
	}
	if g := goingAway.Load(); g < affected {
		t.Errorf("the upstream saw %d connections go away, the restarts closed %d", g, affected)
	}
	if s.Counters.Closes[1012] != affected || s.Counters.Reconnects != affected {
		t.Errorf("closes %v, reconnects %d, affected %d", s.Counters.Closes, s.Counters.Reconnects, affected)
	}
}
