package real_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

const socketIOProfile = "profiles/real/socketio.toml"

// TestSocketIORollingRestart: profiles/real/socketio.toml as a user runs
// it: 2,000 clients speaking Socket.IO through nginx to three socket.io
// 4.8.4 backends, each restarted for real (SIGTERM, io.close(), started
// again). wsstorm's figures agree with the servers' own: upgrades and
// nginx's sessions with its connects, the closes the servers started
// (1005: io.close() sends no code) with its closes by code, each backend's
// clients before its SIGTERM with its event's, the clients the servers
// held after the last herd with its connected count, and the reconnect
// percentiles within max(5 ms, 5%).
func TestSocketIORollingRestart(t *testing.T) {
	// Not parallel: the rolling restarts run one at a time (see rollingAlone).
	s := realtest.Start(t, realtest.SocketIO, 3, 2000)
	// After the last restart's herd (30 s + at most 3 s of backoff), before
	// the run's end (45 s).
	held := scrapeLater(t, s, 40*time.Second, realtest.NodeConnected)
	r := storm(t, s, socketIOProfile, 2*time.Minute)
	if r.code != 0 {
		t.Fatalf("wsstorm exited %d, want 0 (thresholds: %+v)", r.code, r.rs.Summary.Thresholds)
	}
	if err := s.Down(); err != nil { // nginx logs a session as it ends
		t.Fatal(err)
	}
	checkNodeRun(t, s, r, held)
}

// checkNodeRun holds a rolling restart's wsstorm figures against a Node
// stack's logs, metrics and access log; held is the servers' scrape after
// the last herd.
func checkNodeRun(t *testing.T, s *realtest.Stack, r *stormRun, held <-chan scrape) {
	t.Helper()
	sum := r.rs.Summary
	c := sum.Counters
	tr := readNodeTruth(t, s)
	if len(c.ConnectFailures) != 0 || int64(tr.upgrades) != c.Connects {
		t.Errorf("the servers logged %d upgrades, wsstorm %d connects (failures %v)", tr.upgrades, c.Connects, c.ConnectFailures)
	}
	checkAccessSessions(t, s, c.Connects)
	checkCloses(t, tr, r)
	checkReconnects(t, tr, r)
	checkRestartScrapes(t, s, r, realtest.NodeConnected)
	var affected int64
	for _, ev := range sum.Events {
		affected += ev.Affected
	}
	if affected == 0 || int64(len(tr.reconnects)) != affected {
		t.Errorf("the servers logged %d reconnects after their closes, wsstorm's events %d clients affected: want the same, not 0", len(tr.reconnects), affected)
	}
	h := <-held
	if h.err != nil {
		t.Fatal(h.err)
	}
	n, steady := r.connectedAt(h.at)
	if int64(h.value) != n || !steady {
		t.Errorf("after the herds the servers held %v clients, wsstorm counted %d connected (steady: %v)", h.value, n, steady)
	}
	// The run's end: every client still connected leaves with 1001.
	end, _ := r.connectedAt(sum.StartedAt.Add(time.Duration((sum.DurationS - 1) * float64(time.Second))))
	if got := tr.clientCloses[1001]; int64(got) != end || len(tr.clientCloses) != 1 {
		t.Errorf("clients' closes the servers logged: %s; want 1001=%d, the clients connected at the run's end", codes(tr.clientCloses), end)
	}
	t.Logf("servers: %d upgrades, closes %s(%v), %d reconnects; held %v after the herds", tr.upgrades, codes(tr.serverCloses), tr.reasons, len(tr.reconnects), h.value)
}

// TestSocketIOKeepAlive: against a Socket.IO server that pings every
// second and drops a client whose pong is a second late, the preset's
// clients stay connected 30 s and more with no drop; the same profile
// without the preset (raw WebSocket, answering nothing) is dropped at the
// server's timeout, pingInterval + pingTimeout after each connect.
func TestSocketIOKeepAlive(t *testing.T) {
	t.Parallel()
	const clients = 200
	s := realtest.Start(t, realtest.SocketIO, 1, 2*clients, "PING_INTERVAL_MS=1000", "PING_TIMEOUT_MS=1000")
	alone := []string{"fleet.clients=" + fmt.Sprint(clients), "chaos=[]"}
	r := storm(t, s, socketIOProfile, time.Minute, append(alone, "duration=35s", "fleet.ramp=2s")...)
	c := r.rs.Summary.Counters
	if len(c.Closes) != 0 || c.Connects != clients || c.Reconnects != 0 {
		t.Errorf("with the preset: closes %v, %d connects, %d reconnects; want no close, %d connects", c.Closes, c.Connects, c.Reconnects, clients)
	}
	// Each client answered a ping a second for at least 30 s.
	if c.MessagesSent < 30*clients {
		t.Errorf("with the preset: %d messages sent, want at least %d pongs", c.MessagesSent, 30*clients)
	}
	if n, steady := r.connectedAt(r.rs.Summary.StartedAt.Add(33 * time.Second)); n != clients || !steady {
		t.Errorf("with the preset: %d connected at 33 s (steady %v), want %d", n, steady, clients)
	}
	raw := append(alone, "duration=10s", "fleet.protocol=", "fleet.session.send_interval=0s",
		"target.url=ws://127.0.0.1:18400/socket.io/?EIO=4&transport=websocket&client={{client}}")
	before := len(mustNodeLog(t, s))
	r = storm(t, s, socketIOProfile, time.Minute, raw...)
	checkPingTimeouts(t, mustNodeLog(t, s)[before:], r, 2*time.Second)
}

// checkPingTimeouts checks that the server dropped every session of a run
// whose clients answered nothing, each timeout after its connect, and that
// wsstorm saw each drop as the close it was.
func checkPingTimeouts(t *testing.T, evs []realtest.NodeEvent, r *stormRun, timeout time.Duration) {
	t.Helper()
	opened := map[int]time.Time{}
	// A drop in the run's last moments may reach a client already leaving:
	// the count of closes lies between the drops before then and all.
	sum := r.rs.Summary
	end := sum.StartedAt.Add(time.Duration(sum.DurationS*float64(time.Second)) - 200*time.Millisecond)
	drops, late := 0, 0
	for _, e := range evs {
		switch {
		case e.Ev == "connect":
			opened[e.Client] = e.T
		case e.Ev == "disconnect" && e.Initiator == "server":
			if e.Reason != "ping timeout" {
				t.Errorf("client %d: the server dropped it for %q, want ping timeout", e.Client, e.Reason)
				continue
			}
			drops++
			if sentAt(t, e).After(end) {
				late++
			}
			// Node's timers fire late on a loaded machine: up to 500 ms
			// late, which still tells the 2 s timeout from a 1 s interval
			// more or less. 100 ms early is slack: engine.io starts the
			// ping timer just before the connection event logs the connect.
			if life := sentAt(t, e).Sub(opened[e.Client]); life < timeout-100*time.Millisecond || life > timeout+500*time.Millisecond {
				t.Errorf("client %d: dropped %v after its connect, want %v (pingInterval + pingTimeout)", e.Client, life, timeout)
			}
		}
	}
	c := sum.Counters
	if seen := int(c.Closes[1005]); drops == 0 || seen < drops-late || seen > drops || len(c.Closes) != 1 {
		t.Errorf("without the preset: the server dropped %d sessions (%d in the run's last 200 ms), wsstorm saw closes %v; want each drop as a 1005", drops, late, c.Closes)
	}
	t.Logf("without the preset: the server dropped %d sessions at its ping timeout, wsstorm saw %d closes 1005", drops, c.Closes[1005])
}

// TestSocketIOServerDisconnect: a server-side disconnect (the app's
// socket.disconnect(true): the DISCONNECT packet, then the close) ends
// every session, and wsstorm counts them as stopped by the protocol, not
// as closes, and none comes back.
func TestSocketIOServerDisconnect(t *testing.T) {
	t.Parallel()
	const clients = 200
	s := realtest.Start(t, realtest.SocketIO, 1, clients)
	wsstormBinary(t) // built before the wait's minute starts
	kicked := make(chan error, 1)
	go func() {
		err := waitConnected(s, clients, func(m realtest.Metrics) float64 {
			return m.Sum(realtest.SocketIONamespaceConnects, nil) - m.Sum(realtest.SocketIONamespaceDisconnects, nil)
		})
		if err != nil {
			kicked <- err
			return
		}
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/admin/disconnect", s.Port(s.Backends[0])), "", nil)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) != fmt.Sprint(clients) {
				err = fmt.Errorf("/admin/disconnect disconnected %q, want %d", body, clients)
			}
		}
		kicked <- err
	}()
	r := storm(t, s, socketIOProfile, time.Minute, "fleet.clients="+fmt.Sprint(clients), "chaos=[]", "duration=12s", "fleet.ramp=2s")
	if err := <-kicked; err != nil {
		t.Fatal(err)
	}
	c := r.rs.Summary.Counters
	if c.ProtocolStops["io server disconnect"] != clients || len(c.ProtocolStops) != 1 || len(c.Closes) != 0 || c.Reconnects != 0 || c.Connects != clients {
		t.Errorf("counters: protocol stops %v, closes %v, %d reconnects, %d connects; want %d stops by \"io server disconnect\" and nothing else",
			c.ProtocolStops, c.Closes, c.Reconnects, c.Connects, clients)
	}
	if n, _ := r.connectedAt(r.rs.Summary.StartedAt.Add(10 * time.Second)); n != 0 {
		t.Errorf("%d clients connected after the disconnect, want none", n)
	}
	tr := readNodeTruth(t, s)
	if tr.reasons["server namespace disconnect"] != clients {
		t.Errorf("the server logged disconnects %v, want %d by server namespace disconnect", tr.reasons, clients)
	}
}

// mustNodeLog reads the first backend's log.
func mustNodeLog(t *testing.T, s *realtest.Stack) []realtest.NodeEvent {
	t.Helper()
	evs, err := s.NodeLog(s.Backends[0])
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// scrape is a sum of one metric over a stack's backends, and when it was
// read.
type scrape struct {
	at    time.Time
	value float64
	err   error
}

// scrapeLater sums metric over s's backends d after the run's start, as
// the servers count it then. It builds wsstorm first, so that d counts
// from the run's start and not from a build's.
func scrapeLater(t *testing.T, s *realtest.Stack, d time.Duration, metric string) <-chan scrape {
	wsstormBinary(t)
	out := make(chan scrape, 1)
	go func() {
		time.Sleep(d)
		res := scrape{at: time.Now()}
		for _, b := range s.Backends {
			m, err := s.Metrics(b)
			if err != nil {
				res.err = err
				break
			}
			res.value += m.Sum(metric, nil)
		}
		out <- res
	}()
	return out
}

// waitConnected polls s's backends until count, summed over their metrics,
// is want: a server-side disconnect then finds every client. It gives up
// after a minute.
func waitConnected(s *realtest.Stack, want float64, count func(realtest.Metrics) float64) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var got float64
		var err error
		for _, b := range s.Backends {
			var m realtest.Metrics
			if m, err = s.Metrics(b); err != nil {
				break
			}
			got += count(m)
		}
		if err == nil && got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v of %v clients connected after a minute (last scrape's error: %v)", got, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
