// Package real_test checks the real-server stacks of test/real end to end:
// backends behind nginx, a backend restarted by restart.sh while clients
// hold sessions, and what the logs, metrics and access log say about it.
package real_test

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// shutdownCodes are the close codes a client sees when its backend shuts
// down on SIGTERM. socket.io 4.8.4's io.close() ends each Engine.IO
// WebSocket with a close frame without a code (engine.io 6.6.13
// build/transports/websocket.js doClose: ws.close()); graphql-ws 6.4.2's
// dispose() closes with 1001 "Going away" (dist/use/ws.js); Centrifugo's
// node shutdown with 3001 "shutdown" (centrifuge
// v0.38.1-0.20260711082514-84d40cc4dbf6 hub.go connShard.shutdown,
// disconnect.go DisconnectShutdown).
var shutdownCodes = map[realtest.Kind]int{
	realtest.SocketIO:   1005,
	realtest.GraphQLWS:  1001,
	realtest.Centrifugo: 3001,
}

func TestStackSocketIO(t *testing.T)   { testStack(t, realtest.SocketIO) }
func TestStackGraphQLWS(t *testing.T)  { testStack(t, realtest.GraphQLWS) }
func TestStackCentrifugo(t *testing.T) { testStack(t, realtest.Centrifugo) }

// testStack holds 6 clients on 3 backends, restarts the second backend,
// sees its clients come back through the others, and checks that the
// backends' logs and metrics and nginx's access log agree with the clients.
func testStack(t *testing.T, kind realtest.Kind) {
	const clients = 6
	s := realtest.Start(t, kind, 3, 50)
	f := startFleet(t, s, clients)
	f.waitFor(t, "every client connected", func(opened map[int]int) bool { return len(opened) == clients })

	restarted := s.Backends[1]
	moved := clientsOn(t, s, restarted)
	if len(moved) == 0 {
		t.Fatalf("no client on %s: nginx's round robin should have put %d there", restarted, clients/3)
	}
	if err := s.Restart(restarted); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "the clients of "+restarted+" back", func(opened map[int]int) bool {
		for _, c := range moved {
			if opened[c] < 2 {
				return false
			}
		}
		return true
	})
	f.stop()
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	if len(f.errs) > 0 {
		t.Errorf("clients failed to connect: %v", f.errs)
	}

	// The clients' side: one close with the shutdown's code for each client
	// of the restarted backend, then everyone's own 1000.
	want := map[int][]int{}
	for c := range clients {
		want[c] = []int{1000}
		if slices.Contains(moved, c) {
			want[c] = []int{shutdownCodes[kind], 1000}
		}
	}
	if fmt.Sprint(f.closes) != fmt.Sprint(want) {
		t.Errorf("close codes by client = %v, want %v", f.closes, want)
	}
	checkAccessLog(t, s, want, restarted)
	checkRestartedScrape(t, s, restarted, len(moved))
	checkFinalScrapes(t, s, clients+len(moved))
	checkShutdownLog(t, s, restarted, moved)
}

// clientsOn lists the clients whose upgrades backend name logged.
func clientsOn(t *testing.T, s *realtest.Stack, name string) []int {
	t.Helper()
	var out []int
	if s.Kind == realtest.Centrifugo {
		lines, err := s.CentrifugoLog(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			var c int
			if l.Message == "http request" && l.Status == 101 {
				if _, err := fmt.Sscan(l.Addr, &c); err == nil {
					out = append(out, c)
				}
			}
		}
	} else {
		events, err := s.NodeLog(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Ev == "connect" && e.Client >= 0 {
				out = append(out, e.Client)
			}
		}
	}
	sort.Ints(out)
	return out
}

// checkAccessLog: nginx logged one 101 per session, and every reconnect
// went to a backend other than the restarted one.
func checkAccessLog(t *testing.T, s *realtest.Stack, sessions map[int][]int, restarted string) {
	t.Helper()
	entries, err := s.AccessLog()
	if err != nil {
		t.Fatal(err)
	}
	byClient := map[int][]realtest.Access{}
	for _, e := range entries {
		if e.Status != 101 {
			t.Errorf("access log: %s ended with status %d", e.RequestURI, e.Status)
		}
		byClient[e.Client()] = append(byClient[e.Client()], e)
	}
	restartedAddr := fmt.Sprintf("127.0.0.1:%d", s.Port(restarted))
	for c, codes := range sessions {
		got := byClient[c]
		if len(got) != len(codes) {
			t.Errorf("access log: client %d has %d connections, want %d", c, len(got), len(codes))
			continue
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Start().Before(got[j].Start()) })
		if len(got) == 2 && (got[0].Backend() != restartedAddr || got[1].Backend() == restartedAddr) {
			t.Errorf("access log: client %d went to %s then %s; want %s then another", c, got[0].Backend(), got[1].Backend(), restartedAddr)
		}
	}
}

// checkRestartedScrape: the metrics saved before the restart count the
// restarted backend's clients, connected and open.
func checkRestartedScrape(t *testing.T, s *realtest.Stack, restarted string, clients int) {
	t.Helper()
	scrapes := s.Scrapes(restarted)
	if len(scrapes) != 2 {
		t.Fatalf("%s's scrapes: %v, want one before the restart and the final one", restarted, scrapes)
	}
	m, err := realtest.ReadMetrics(scrapes[0])
	if err != nil {
		t.Fatal(err)
	}
	connects, open := realtest.NodeConnects, realtest.NodeConnected
	if s.Kind == realtest.Centrifugo {
		connects, open = realtest.CentrifugoAccepted, realtest.CentrifugoInflight
	}
	if got := m.Sum(connects, nil); got != float64(clients) {
		t.Errorf("%s before its restart: %s = %v, want %d", restarted, connects, got, clients)
	}
	if got := m.Sum(open, nil); got != float64(clients) {
		t.Errorf("%s before its restart: %s = %v, want %d", restarted, open, got, clients)
	}
}

// checkFinalScrapes: the backends' counters at the end add up to every
// session the clients opened since their last start.
func checkFinalScrapes(t *testing.T, s *realtest.Stack, sessions int) {
	t.Helper()
	connects := realtest.NodeConnects
	if s.Kind == realtest.Centrifugo {
		connects = realtest.CentrifugoAccepted
	}
	total := 0.0
	for i, name := range s.Backends {
		scrapes := s.Scrapes(name)
		m, err := realtest.ReadMetrics(scrapes[len(scrapes)-1])
		if err != nil {
			t.Fatal(err)
		}
		total += m.Sum(connects, nil)
		if i == 1 {
			// The restarted backend's first life is in its first scrape.
			first, err := realtest.ReadMetrics(scrapes[0])
			if err != nil {
				t.Fatal(err)
			}
			total += first.Sum(connects, nil)
		}
	}
	if total != float64(sessions) {
		t.Errorf("the backends' %s add up to %v, want %d sessions", connects, total, sessions)
	}
}

// checkShutdownLog: the restarted backend logged its shutdown and the end
// of each of its clients' sessions, started by the server. Centrifugo's log
// may miss some: it writes these lines from a queue that os.Exit cuts short
// (centrifugo v6.9.1 internal/logging/logging.go and internal/app/run.go),
// so its lines need only name no other client.
func checkShutdownLog(t *testing.T, s *realtest.Stack, restarted string, moved []int) {
	t.Helper()
	var ended map[int]bool
	if s.Kind == realtest.Centrifugo {
		ended = centrifugoShutdownEnded(t, s, restarted)
		for c := range ended {
			if !slices.Contains(moved, c) {
				t.Errorf("%s's log: its shutdown ended client %d's session, which was not on it (%v were)", restarted, c, moved)
			}
		}
		return
	}
	events, err := s.NodeLog(restarted)
	if err != nil {
		t.Fatal(err)
	}
	ended = map[int]bool{}
	shutdowns := 0
	for _, e := range events {
		switch {
		case e.Ev == "shutdown":
			shutdowns++
		case e.Ev == "disconnect" && e.Initiator == "server" && e.Sent == shutdownCodes[s.Kind]:
			ended[e.Client] = true
		}
	}
	if shutdowns != 2 {
		t.Errorf("%s's log has %d shutdowns, want 2 (the restart's and down.sh's)", restarted, shutdowns)
	}
	if got := slices.Sorted(maps.Keys(ended)); fmt.Sprint(got) != fmt.Sprint(moved) {
		t.Errorf("%s's log: sessions its shutdown ended: clients %v, want %v", restarted, got, moved)
	}
}

// centrifugoShutdownEnded reads which clients' sessions Centrifugo's log
// says its shutdown ended: session ids to clients through the channel each
// subscribed to, then "closing client connection" with reason "shutdown".
func centrifugoShutdownEnded(t *testing.T, s *realtest.Stack, name string) map[int]bool {
	t.Helper()
	lines, err := s.CentrifugoLog(name)
	if err != nil {
		t.Fatal(err)
	}
	clientOf := map[string]int{}
	ended := map[int]bool{}
	shutdowns := 0
	for _, l := range lines {
		var c int
		switch {
		case l.Message == "shutting down ...":
			shutdowns++
		case l.Message == "client subscribed to channel":
			if _, err := fmt.Sscanf(l.Channel, "client-%d", &c); err == nil {
				clientOf[l.Client] = c
			}
		case l.Message == "closing client connection" && l.Reason == "shutdown":
			if c, ok := clientOf[l.Client]; ok {
				ended[c] = true
			}
		}
	}
	if shutdowns != 2 {
		t.Errorf("%s's log has %d shutdowns, want 2 (the restart's and down.sh's)", name, shutdowns)
	}
	return ended
}
