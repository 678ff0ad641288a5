package storm

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// TestFreezeDetection holds the freeze action to a known input: with
// pings every P and a pong timeout W, a client notices a frozen node when
// the first ping it sends after the freeze began goes unanswered for W, so
// every client of the node notices between W and P+W after the freeze
// starts, ends the connection itself (1006) and comes back on the other
// node, and the clients of the other node notice nothing.
func TestFreezeDetection(t *testing.T) {
	if testing.Short() {
		t.Skip("a 5 s run")
	}
	const (
		ping = 400 * time.Millisecond
		pong = 300 * time.Millisecond
		// slack covers timers firing late on a loaded machine and the
		// client's close reaching the recorder.
		slack = 150 * time.Millisecond
	)
	p := profile.Defaults()
	p.Duration = profile.Dur(5 * time.Second)
	p.Target.Nodes = 2
	p.Fleet.Clients = 60
	p.Fleet.Ramp = profile.Dur(500 * time.Millisecond)
	p.Fleet.PingInterval = profile.Dur(ping)
	p.Fleet.PongTimeout = profile.Dur(pong)
	p.Fleet.Session.SendInterval = profile.Dur(0)
	p.Fleet.Reconnect = profile.Reconnect{Strategy: profile.StrategyConstant, Base: profile.Dur(50 * time.Millisecond),
		OnClose: map[string]string{"1000": "stop"}, OnCloseDefault: "reconnect"}
	p.Chaos = []profile.ChaosStep{{At: 1500 * time.Millisecond, Action: "freeze", Params: &action.FreezeParams{Node: 0, For: 2 * time.Second}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	run, err := Run(context.Background(), &p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := run.Results
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want the freeze", len(res.Events))
	}
	ev := res.Events[0]
	// The frozen node's connections when the freeze began: its gauge in
	// the last sample before.
	col := slices.Index(res.GaugeNames, "node0_conns")
	frozen := int64(-1)
	for _, b := range res.Series {
		if b.Start+res.BucketWidth <= ev.At && b.Gauges[col] >= 0 {
			frozen = b.Gauges[col]
		}
	}
	if ev.Frozen != frozen {
		t.Errorf("the event says the freeze held %d connections, the node's gauge %d", ev.Frozen, frozen)
	}
	if frozen <= 0 || ev.Affected != frozen || res.Counters.Closes[1006] != frozen {
		t.Fatalf("node 0 held %d connections; the freeze affected %d, closes %v: want every one noticed, with 1006", frozen, ev.Affected, res.Counters.Closes)
	}
	if ev.Reconnected != ev.Affected {
		t.Errorf("%d of %d came back", ev.Reconnected, ev.Affected)
	}
	if ev.CloseAt == nil || ev.CloseAt.TotalCount() != ev.Affected {
		t.Fatalf("detection histogram %v, want %d values", ev.CloseAt, ev.Affected)
	}
	lo := time.Duration(ev.CloseAt.Min()) * time.Microsecond
	hi := time.Duration(ev.CloseAt.Max()) * time.Microsecond
	t.Logf("%d clients noticed the freeze %v to %v after it began (bounds %v, %v)", ev.Affected, lo, hi, pong, ping+pong)
	if lo < pong-slack || hi > ping+pong+slack {
		t.Errorf("detection in [%v, %v], want within [%v, %v] give or take %v", lo, hi, pong, ping+pong, slack)
	}
}
