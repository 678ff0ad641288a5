package real_test

import (
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/test/real/realtest"
)

// TestGraphQLWSRollingRestart: profiles/real/graphqlws.toml as a user runs
// it: 2,000 clients each holding a subscription through nginx to three
// graphql-ws 6.4.2 backends, each restarted for real (SIGTERM, dispose():
// 1001 "Going away", started again). wsstorm's figures agree with the
// servers' own, as for Socket.IO (checkNodeRun), and every reconnected
// client has its subscription back (a recovery per reconnect).
func TestGraphQLWSRollingRestart(t *testing.T) {
	// Not parallel: the rolling restarts run one at a time (see rollingAlone).
	s := realtest.Start(t, realtest.GraphQLWS, 3, 2000)
	held := scrapeLater(t, s, 40*time.Second, realtest.NodeConnected)
	r := storm(t, s, "profiles/real/graphqlws.toml", 2*time.Minute)
	if r.code != 0 {
		t.Fatalf("wsstorm exited %d, want 0 (thresholds: %+v)", r.code, r.rs.Summary.Thresholds)
	}
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	checkNodeRun(t, s, r, held)
	l := r.rs.Summary.LatencyMS
	if l.Recovery.Count != l.Reconnect.Count {
		t.Errorf("%d recoveries for %d reconnects: every client is back when its subscription's first result comes", l.Recovery.Count, l.Reconnect.Count)
	}
	subs := 0
	for _, b := range s.Backends {
		evs, err := s.NodeLog(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Ev == "subscribe" {
				subs++
			}
		}
	}
	if int64(subs) != r.rs.Summary.Counters.Connects {
		t.Errorf("the servers logged %d subscriptions, wsstorm %d connects (each subscribes once)", subs, r.rs.Summary.Counters.Connects)
	}
}
