package real_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

const (
	centrifugoProfile = "profiles/real/centrifugo.toml"
	// centrifugoUser is the token's sub: every client connects as this user.
	centrifugoUser = "wsstorm"
	// centrifugoSecret signs the tokens of these tests' stacks: one secret,
	// so one token, whichever test sets it in the environment.
	centrifugoSecret = "wsstorm-real-centrifugo"
)

// centrifugoStack starts n Centrifugo backends behind nginx and puts a
// connection token in CENTRIFUGO_TOKEN, which the profile takes as
// "${CENTRIFUGO_TOKEN}". t.Setenv is not for parallel tests; the value is the
// same for every stack of these tests, so setting it again is harmless.
func centrifugoStack(t *testing.T, n, clients int) *realtest.Stack {
	t.Helper()
	s := realtest.Start(t, realtest.Centrifugo, n, clients, "HMAC_SECRET="+centrifugoSecret)
	if err := os.Setenv("CENTRIFUGO_TOKEN", s.ConnectionToken(centrifugoUser)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCentrifugoRollingRestart: profiles/real/centrifugo.toml as a user
// runs it: 2,000 clients each holding a subscription through nginx to three
// Centrifugo v6.9.1 backends, each restarted for real (SIGTERM: 3001
// "shutdown" to every session, then started again). wsstorm's figures agree
// with Centrifugo's metrics (sessions accepted, each backend's clients
// before its SIGTERM, the clients held after the last herd) and with
// nginx's access log (sessions, and each client's reconnect).
func TestCentrifugoRollingRestart(t *testing.T) {
	// Not parallel: the rolling restarts run one at a time (see rollingAlone).
	s := centrifugoStack(t, 3, 2000)
	// After the last restart's herd (30 s + at most 3 s of backoff), before
	// the run's end (45 s).
	held := scrapeLater(t, s, 40*time.Second, realtest.CentrifugoInflight)
	r := storm(t, s, centrifugoProfile, 2*time.Minute)
	if r.code != 0 {
		t.Fatalf("wsstorm exited %d, want 0 (thresholds: %+v)", r.code, r.rs.Summary.Thresholds)
	}
	if err := s.Down(); err != nil { // the final scrapes; nginx logs a session as it ends
		t.Fatal(err)
	}
	checkCentrifugoCounts(t, s, r)
	checkRestartScrapes(t, s, r, realtest.CentrifugoInflight)
	h := <-held
	if h.err != nil {
		t.Fatal(h.err)
	}
	if n, steady := r.connectedAt(h.at); int64(h.value) != n || !steady {
		t.Errorf("after the herds Centrifugo held %v clients, wsstorm counted %d connected (steady: %v)", h.value, n, steady)
	}
	checkAccessReconnects(t, s, r)
	l := r.rs.Summary.LatencyMS
	if l.Recovery.Count != l.Reconnect.Count {
		t.Errorf("%d recoveries for %d reconnects: every client is back when its subscription is confirmed", l.Recovery.Count, l.Reconnect.Count)
	}
	for _, e := range r.rs.Summary.Events {
		t.Logf("event %d (node %d): %d affected, t50 %v s, t99 %v s, peak %.1f/s", e.Index, *e.Node, e.Affected, deref(e.T50S), deref(e.T99S), e.PeakAttemptRate)
	}
	t.Logf("Centrifugo held %v clients after the herds", h.value)
}

// checkCentrifugoCounts holds wsstorm's connects and closes against
// Centrifugo's counters: each process's sessions accepted at its last scrape
// (before its SIGTERM, or down.sh's), and its clients then. A shutdown's
// 3001 closes come after the last scrape a process allows, so a restart's
// closes are its clients before SIGTERM.
func checkCentrifugoCounts(t *testing.T, s *realtest.Stack, r *stormRun) {
	t.Helper()
	c := r.rs.Summary.Counters
	var accepted, beforeTerm float64
	for _, b := range s.Backends {
		scrapes := s.Scrapes(b)
		if len(scrapes) == 0 || !strings.HasSuffix(scrapes[len(scrapes)-1], ".final") {
			t.Fatalf("%s: scrapes %v, want one per process and a final one", b, scrapes)
		}
		for i, path := range scrapes {
			m, err := realtest.ReadMetrics(path)
			if err != nil {
				t.Fatal(err)
			}
			accepted += m.Sum(realtest.CentrifugoAccepted, nil)
			final := i == len(scrapes)-1
			if final {
				if n := m.Sum(realtest.CentrifugoInflight, nil); n != 0 {
					t.Errorf("%s held %v clients after the run, want none", b, n)
				}
			} else {
				beforeTerm += m.Sum(realtest.CentrifugoInflight, nil)
			}
			for code, n := range m.ByLabel(realtest.CentrifugoDisconnects, "code") {
				if n != 0 {
					t.Errorf("%s (%s): Centrifugo ended %v sessions with %s, want none but its shutdown's", b, path, n, code)
				}
			}
		}
	}
	if len(c.ConnectFailures) != 0 || int64(accepted) != c.Connects {
		t.Errorf("Centrifugo accepted %v sessions, wsstorm counted %d connects (failures %v)", accepted, c.Connects, c.ConnectFailures)
	}
	checkAccessSessions(t, s, c.Connects)
	want := map[int]int64{3001: int64(beforeTerm)}
	if !maps.Equal(c.Closes, want) || len(c.ProtocolStops) != 0 {
		t.Errorf("closes by code: wsstorm %v (protocol stops %v); Centrifugo held %v clients before its SIGTERMs, each closed with 3001", c.Closes, c.ProtocolStops, beforeTerm)
	}
	t.Logf("Centrifugo: %v sessions accepted, %v clients before the SIGTERMs; wsstorm: %d connects, closes %v, %d reconnects", accepted, beforeTerm, c.Connects, c.Closes, c.Reconnects)
}

// checkAccessReconnects holds wsstorm's reconnects against nginx's access
// log: for each client, the time from the end of one of its WebSocket
// sessions to the start of its next, within max(5 ms, 5%). Centrifugo's log
// cannot give them (whole seconds, dropped lines). nginx's moments are a
// little inside wsstorm's: the old session ends in nginx when Centrifugo
// closes TCP, once the client's close reply reached it (wsstorm's reconnect
// starts when it read the close frame and sent that reply), and the new one
// starts when nginx reads the upgrade request, after the TCP connect and
// before the 101 (wsstorm's ends at the 101). On this 2-core machine that
// made nginx's shorter by about 2 ms with 20 clients and 11 ms under 2,000,
// where the close tail grows with the herd: well within 5% of reconnects of
// 0.5–3 s.
func checkAccessReconnects(t *testing.T, s *realtest.Stack, r *stormRun) {
	t.Helper()
	gaps := accessReconnects(t, s)
	l := r.rs.Summary.LatencyMS.Reconnect
	if int64(len(gaps)) != l.Count {
		t.Errorf("reconnects: nginx's access log %d, wsstorm %d", len(gaps), l.Count)
	}
	checkPercentiles(t, "nginx", gaps, r)
}

// accessReconnects reads, from nginx's access log, each client's gaps
// between one WebSocket session's end ($msec) and its next one's start
// ($msec - $request_time), sorted.
func accessReconnects(t *testing.T, s *realtest.Stack) []time.Duration {
	t.Helper()
	access, err := s.AccessLog()
	if err != nil {
		t.Fatal(err)
	}
	sessions := map[int][]realtest.Access{}
	for _, a := range access {
		if a.Status == 101 {
			sessions[a.Client()] = append(sessions[a.Client()], a)
		}
	}
	var gaps []time.Duration
	for _, ss := range sessions {
		slices.SortFunc(ss, func(a, b realtest.Access) int { return a.Start().Compare(b.Start()) })
		for i := 1; i < len(ss); i++ {
			gaps = append(gaps, ss[i].Start().Sub(ss[i-1].End))
		}
	}
	slices.Sort(gaps)
	return gaps
}

// TestCentrifugoServerDisconnect: the server API's disconnect of the
// clients' user ends every session with 3503 "force disconnect", which
// forbids reconnecting: wsstorm counts each as a close with that code and a
// stop by that reason, and none comes back.
func TestCentrifugoServerDisconnect(t *testing.T) {
	t.Parallel()
	const clients = 200
	s := centrifugoStack(t, 1, clients)
	wsstormBinary(t) // built before the wait's minute starts
	kicked := make(chan error, 1)
	go func() {
		err := waitConnected(s, clients, func(m realtest.Metrics) float64 { return m.Sum(realtest.CentrifugoInflight, nil) })
		if err == nil {
			err = centrifugoDisconnect(s, s.Backends[0], centrifugoUser)
		}
		kicked <- err
	}()
	r := storm(t, s, centrifugoProfile, time.Minute, "fleet.clients="+fmt.Sprint(clients), "chaos=[]", "duration=12s", "fleet.ramp=2s")
	if err := <-kicked; err != nil {
		t.Fatal(err)
	}
	c := r.rs.Summary.Counters
	if c.ProtocolStops["force disconnect"] != clients || len(c.ProtocolStops) != 1 || c.Closes[3503] != clients || len(c.Closes) != 1 ||
		c.Reconnects != 0 || c.Connects != clients {
		t.Errorf("counters: protocol stops %v, closes %v, %d reconnects, %d connects; want %d closes 3503, each a stop by \"force disconnect\", and nothing else",
			c.ProtocolStops, c.Closes, c.Reconnects, c.Connects, clients)
	}
	if n, _ := r.connectedAt(r.rs.Summary.StartedAt.Add(10 * time.Second)); n != 0 {
		t.Errorf("%d clients connected after the disconnect, want none", n)
	}
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	m, err := realtest.ReadMetrics(s.Path(s.Backends[0] + ".metrics.final"))
	if err != nil {
		t.Fatal(err)
	}
	accepted, ended := m.Sum(realtest.CentrifugoAccepted, nil), m.ByLabel(realtest.CentrifugoDisconnects, "code")
	if accepted != clients || ended["3503"] != clients || m.Sum(realtest.CentrifugoDisconnects, nil) != clients {
		t.Errorf("Centrifugo accepted %v sessions and ended %v by code; want %d accepted, %d ended with 3503", accepted, ended, clients, clients)
	}
	t.Logf("Centrifugo: %v accepted, ended by code %v; wsstorm: closes %v, protocol stops %v", accepted, ended, c.Closes, c.ProtocolStops)
}

// centrifugoDisconnect calls the server API's disconnect of user on
// backend name: POST /api/disconnect (centrifugo v6.9.1
// internal/api/handler_gen.go), whose default is 3503 "force disconnect"
// (internal/api/api.go Executor.Disconnect: centrifuge.DisconnectForceNoReconnect).
func centrifugoDisconnect(s *realtest.Stack, name, user string) error {
	body := fmt.Sprintf(`{"user":%q}`, user)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/api/disconnect", s.Port(name)), bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", s.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"error"`)) {
		return fmt.Errorf("/api/disconnect: %s %s", resp.Status, out)
	}
	return nil
}

// deref is a summary's optional figure, or 0.
func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
