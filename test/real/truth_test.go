package real_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// nodeTruth is what a stack's Node backends logged of a run: the server's
// side, to hold wsstorm's figures against.
type nodeTruth struct {
	upgrades int // WebSocket upgrades completed ("connect")
	// serverCloses are the closes the servers started, by the code their
	// close frame carried (1005: none), and reasons the same by the
	// library's words for them.
	serverCloses map[int]int
	reasons      map[string]int
	// clientCloses are the closes the clients started, by the code their
	// close frame carried.
	clientCloses map[int]int
	// reconnects are, for each close a server started, the time from its
	// close frame going out (sent_t) to the same client's next upgrade on
	// any backend: the reconnect as the servers saw it.
	reconnects []time.Duration
	// unreturned are the server-closed clients that never came back.
	unreturned int
}

// readNodeTruth reads the logs of s's backends.
func readNodeTruth(t *testing.T, s *realtest.Stack) nodeTruth {
	t.Helper()
	var all []realtest.NodeEvent
	for _, b := range s.Backends {
		evs, err := s.NodeLog(b)
		if err != nil {
			t.Fatalf("%s's log: %v", b, err)
		}
		all = append(all, evs...)
	}
	// One clock: the backends run on this machine, and each logs wall time
	// from its start plus its monotonic clock (performance.timeOrigin +
	// performance.now()). A server's close is placed when its close frame
	// went out: its log line comes at the 'close' event, which in a
	// shutdown of hundreds can follow the client's reconnect elsewhere.
	at := func(e realtest.NodeEvent) time.Time {
		if e.Ev == "disconnect" && e.Initiator == "server" {
			return sentAt(t, e)
		}
		return e.T
	}
	slices.SortStableFunc(all, func(a, b realtest.NodeEvent) int { return at(a).Compare(at(b)) })
	tr := nodeTruth{serverCloses: map[int]int{}, reasons: map[string]int{}, clientCloses: map[int]int{}}
	closedAt := map[int]time.Time{} // client → when a server's close went out, until it is back
	for _, e := range all {
		switch {
		case e.Ev == "connect":
			tr.upgrades++
			if at, ok := closedAt[e.Client]; ok {
				tr.reconnects = append(tr.reconnects, e.T.Sub(at))
				delete(closedAt, e.Client)
			}
		case e.Ev == "disconnect" && e.Initiator == "server":
			tr.serverCloses[e.Sent]++
			tr.reasons[e.Reason]++
			closedAt[e.Client] = sentAt(t, e)
		case e.Ev == "disconnect":
			tr.clientCloses[e.Code]++
		}
	}
	tr.unreturned = len(closedAt)
	slices.Sort(tr.reconnects)
	return tr
}

// sentAt is when the close frame of a server-started disconnect went out.
func sentAt(t *testing.T, e realtest.NodeEvent) time.Time {
	v, ok := e.Fields["sent_t"].(float64)
	if !ok {
		t.Fatalf("%s: a server-started disconnect of client %d without sent_t: %v", e.Backend, e.Client, e.Fields)
	}
	return time.UnixMicro(int64(v * 1000))
}

// checkCloses holds wsstorm's closes by code against the closes the
// servers started: the same codes, the same counts.
func checkCloses(t *testing.T, tr nodeTruth, r *stormRun) {
	t.Helper()
	got := map[int]int{}
	for code, n := range r.rs.Summary.Counters.Closes {
		got[code] = int(n)
	}
	if !maps.Equal(got, tr.serverCloses) {
		t.Errorf("closes by code: wsstorm %v, the servers' logs %v (reasons %v)", got, tr.serverCloses, tr.reasons)
	}
}

// checkReconnects holds wsstorm's reconnect percentiles against the
// servers' (their close frame out → the client's next upgrade), within
// max(5 ms, 5%), and their counts exactly.
func checkReconnects(t *testing.T, tr nodeTruth, r *stormRun) {
	t.Helper()
	l := r.rs.Summary.LatencyMS.Reconnect
	if int(l.Count) != len(tr.reconnects) || tr.unreturned != 0 {
		t.Errorf("reconnects: wsstorm %d, the servers' logs %d (%d server-closed clients not back)", l.Count, len(tr.reconnects), tr.unreturned)
	}
	checkPercentiles(t, "servers", tr.reconnects, r)
}

// checkAccessSessions holds nginx's count of WebSocket sessions (101s, logged
// as each connection ends) against wsstorm's connects.
func checkAccessSessions(t *testing.T, s *realtest.Stack, connects int64) {
	t.Helper()
	access, err := s.AccessLog()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range access {
		if a.Status == 101 {
			n++
		}
	}
	if int64(n) != connects {
		t.Errorf("nginx logged %d WebSocket sessions (101), wsstorm %d connects", n, connects)
	}
}

// checkRestartScrapes holds each restart's clients, as the backend's
// metrics counted them right before its SIGTERM, against the clients
// wsstorm saw its event close: one restart per backend, each of some
// clients.
func checkRestartScrapes(t *testing.T, s *realtest.Stack, r *stormRun, gauge string) {
	t.Helper()
	evs := r.rs.Summary.Events
	if len(evs) != len(s.Backends) {
		t.Fatalf("wsstorm ran %d chaos events, want a restart of each of the %d backends", len(evs), len(s.Backends))
	}
	for i, ev := range evs {
		if ev.Node == nil || *ev.Node < 0 || *ev.Node >= len(s.Backends) {
			t.Fatalf("event %d on node %v: not one backend", i, ev.Node)
		}
		name := s.Backends[*ev.Node]
		scrapes := s.Scrapes(name)
		if len(scrapes) == 0 {
			t.Fatalf("no metrics saved for %s's restart", name)
		}
		m, err := realtest.ReadMetrics(scrapes[0])
		if err != nil {
			t.Fatal(err)
		}
		if n := int64(m.Sum(gauge, nil)); n != ev.Affected || n == 0 {
			t.Errorf("event %d (%s): its metrics counted %d clients before SIGTERM, wsstorm %d affected; want the same, not 0", i, name, n, ev.Affected)
		}
	}
}

// codes writes close codes for a message.
func codes(m map[int]int) string {
	var out string
	for _, c := range slices.Sorted(maps.Keys(m)) {
		out += strconv.Itoa(c) + "=" + strconv.Itoa(m[c]) + " "
	}
	return out
}
