package real_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/protocol/protocoltest"
	"github.com/wsstorm/wsstorm/test/real/realtest"
)

const actionCableProfile = "profiles/real/actioncable.toml"

// cableServers starts three ActionCable test servers that route
// ChatChannel, on ports first, first+1, first+2 (0: the system's choice).
func cableServers(t *testing.T, first int) []*protocoltest.ActionCable {
	t.Helper()
	var out []*protocoltest.ActionCable
	for i := range 3 {
		addr := "127.0.0.1:0"
		if first != 0 {
			addr = "127.0.0.1:" + strconv.Itoa(first+i)
		}
		a, err := protocoltest.NewActionCable(protocoltest.ActionCableOptions{Addr: addr, Channels: []string{"ChatChannel"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		out = append(out, a)
	}
	return out
}

// TestActionCableRollingRestart: profiles/real/actioncable.toml as a user
// runs it: 600 clients, each subscribed to ChatChannel with a room of its
// own, on three ActionCable servers, each restarted through the profile's
// HTTP hook (ActionCable.server.restart's disconnect message, server_restart
// with reconnect true, then close 1000; the port closed for the downtime,
// then open again). wsstorm counts each client's end as a protocol
// reconnect, not as a close, and its figures agree with the servers' logs:
// connects, the disconnects sent, each restart's clients, the clients held
// after the last herd, the clients' own closes at the run's end, and the
// reconnect percentiles within max(5 ms, 5%).
func TestActionCableRollingRestart(t *testing.T) {
	// Not parallel: the rolling restarts run one at a time (see rollingAlone).
	lockPorts(t, "actioncable")
	var nodes []protoServer
	for _, a := range cableServers(t, 18441) {
		nodes = append(nodes, a)
	}
	admin := serveRestarts(t, "127.0.0.1:18440", nodes)
	held := openLater(t, nodes, 40*time.Second)
	r := storm(t, &realtest.Stack{Dir: t.TempDir()}, actionCableProfile, 90*time.Second)
	if r.code != 0 {
		t.Fatalf("wsstorm exited %d, want 0 (thresholds: %+v)", r.code, r.rs.Summary.Thresholds)
	}
	tr := readProtoTruth(t, nodes)
	c := r.rs.Summary.Counters
	sent := tr.reasons["server_restart"]
	got := c.ProtocolReconnects["actioncable disconnect: server_restart"]
	if got != int64(sent) || len(c.ProtocolReconnects) != 1 || sent != tr.serverEnds[1000] || len(tr.serverEnds) != 1 {
		t.Errorf("protocol reconnects %v; the servers sent %d server_restart disconnects (ends %s%v): want one each", c.ProtocolReconnects, sent, codes(tr.serverEnds), tr.reasons)
	}
	if len(c.Closes) != 0 || len(c.ProtocolStops) != 0 || tr.stops != 0 {
		t.Errorf("closes %v, protocol stops %v (servers' stops %d): want none, the 1000 after each message no close of its own", c.Closes, c.ProtocolStops, tr.stops)
	}
	checkProtoRun(t, r, tr, admin, held)
}

// TestActionCableRemoteDisconnect: the profile with its chaos left out,
// against three servers that disconnect every client mid-run as
// ActionCable.server.remote_connections.where(...).disconnect(reconnect:
// false) does: wsstorm counts each client stopped by the protocol, under
// "actioncable disconnect: remote", with no close and no reconnect, and
// none comes back to the servers.
func TestActionCableRemoteDisconnect(t *testing.T) {
	t.Parallel()
	const clients = 600
	servers := cableServers(t, 0)
	var urls []string
	for _, a := range servers {
		urls = append(urls, strconv.Quote(strings.TrimSuffix(a.URL(), "/cable")+"/?client={{client}}"))
	}
	kicked := make(chan error, 1)
	go func() { kicked <- disconnectAll(servers, clients) }()
	r := storm(t, &realtest.Stack{Dir: t.TempDir()}, actionCableProfile, 90*time.Second,
		"target.urls=["+strings.Join(urls, ",")+"]", "chaos=[]", "duration=12s")
	if err := <-kicked; err != nil {
		t.Fatal(err)
	}
	c := r.rs.Summary.Counters
	var nodes []protoServer
	for _, a := range servers {
		nodes = append(nodes, a)
	}
	tr := readProtoTruth(t, nodes)
	if c.ProtocolStops["actioncable disconnect: remote"] != clients || len(c.ProtocolStops) != 1 || len(c.ProtocolReconnects) != 0 ||
		len(c.Closes) != 0 || c.Reconnects != 0 || c.Connects != clients {
		t.Errorf("counters: protocol stops %v, protocol reconnects %v, closes %v, %d reconnects, %d connects; want %d stops by \"actioncable disconnect: remote\" and nothing else",
			c.ProtocolStops, c.ProtocolReconnects, c.Closes, c.Reconnects, c.Connects, clients)
	}
	if tr.connects != clients || tr.stops != clients || tr.reasons["remote"] != clients || len(tr.clientCloses) != 0 {
		t.Errorf("the servers logged %d connects, %d stops, ends %v, clients' closes %s; want %d connects, each told by remote not to come back",
			tr.connects, tr.stops, tr.reasons, codes(tr.clientCloses), clients)
	}
	if n, _ := r.connectedAt(r.rs.Summary.StartedAt.Add(11 * time.Second)); n != 0 {
		t.Errorf("%d clients connected after the disconnect, want none", n)
	}
	t.Logf("servers: %d connects, %d told to stay away (%v); wsstorm: protocol stops %v", tr.connects, tr.stops, tr.reasons, c.ProtocolStops)
}

// disconnectAll waits until the servers have subscribed clients, then has
// each disconnect its clients with reconnect false.
func disconnectAll(servers []*protocoltest.ActionCable, clients int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		joins := 0
		for _, a := range servers {
			joins += a.Counters().Joins
		}
		if joins == clients {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d clients subscribed: %w", joins, clients, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	n := 0
	for _, a := range servers {
		n += a.Disconnect(0, false)
	}
	if n != clients {
		return fmt.Errorf("disconnected %d clients, want %d", n, clients)
	}
	return nil
}
