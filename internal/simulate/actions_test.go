package simulate

import (
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// TestCrashAgainstRestart: the shipped crash-vs-restart profile simulated:
// both events hit the whole fleet of the one node, the restart's clients
// see 1012 and the crash's 1006, and everyone comes back after both.
func TestCrashAgainstRestart(t *testing.T) {
	p := load(t, "../../profiles/crash-vs-restart.toml")
	m := Model{NetworkMedianMS: 0.3, NetworkP99MS: 2, ServiceTimeMS: 0.1, Pool: PoolTarget}
	res := simulate(t, p, m).Results
	if len(res.Events) != 2 {
		t.Fatalf("%d events, want the restart and the crash", len(res.Events))
	}
	clients := int64(p.Fleet.Clients)
	for i, want := range []struct {
		action string
		code   int
	}{{"restart", 1012}, {"crash", 1006}} {
		e := res.Events[i]
		if e.Action != want.action || e.Code != want.code || e.Affected != clients || e.Reconnected != clients {
			t.Errorf("event %d: %s code %d affected %d reconnected %d; want %s with %d, all %d back",
				i, e.Action, e.Code, e.Affected, e.Reconnected, want.action, want.code, clients)
		}
	}
	if res.Counters.Closes[1012] != clients || res.Counters.Closes[1006] != clients {
		t.Errorf("closes %v", res.Counters.Closes)
	}
}

// TestFreezeModel: in a simulated freeze, the frozen node's clients notice
// pong_timeout after their first ping past its start, between W and P+W,
// and the other node's clients notice nothing; the event counts the
// connections frozen; clients that do not ping never notice.
func TestFreezeModel(t *testing.T) {
	const text = `
name = "freeze"
duration = "20s"
[target]
nodes = 2
[fleet]
clients = 400
ramp = "2s"
ping_interval = "1s"
pong_timeout = "400ms"
[fleet.reconnect]
strategy = "constant"
base = "100ms"
[[chaos]]
at = "5s"
action = "freeze"
node = 0
for = "5s"
`
	m := Model{NetworkMedianMS: 0.3, NetworkP99MS: 2, ServiceTimeMS: 0.1, Pool: PoolTarget}
	res := simulate(t, loadText(t, text), m).Results
	e := res.Events[0]
	if e.Affected < 150 || e.Affected > 250 || e.Reconnected != e.Affected {
		t.Fatalf("affected %d, reconnected %d; want about half of 400, all back", e.Affected, e.Reconnected)
	}
	// A 5 s freeze outlasts every client's ping and pong timeout: each
	// connection it held is noticed, and the event says how many it held,
	// as a target's count does.
	if e.Frozen != e.Affected {
		t.Errorf("frozen %d, want the %d affected", e.Frozen, e.Affected)
	}
	lo, hi := time.Duration(e.CloseAt.Min())*time.Microsecond, time.Duration(e.CloseAt.Max())*time.Microsecond
	if lo < 400*time.Millisecond || hi > 1400*time.Millisecond || e.CloseAt.TotalCount() != e.Affected {
		t.Errorf("noticed %v to %v after the freeze (%d closes), want within [400ms, 1.4s]", lo, hi, e.CloseAt.TotalCount())
	}
	res = simulate(t, loadText(t, text+"\n"), m).Results // the same again: a simulation repeats
	if res.Events[0].Affected != e.Affected {
		t.Errorf("a second simulation gave %d affected, the first %d", res.Events[0].Affected, e.Affected)
	}
	// Clients that send but do not ping (a profile refuses such a freeze;
	// the model is asked directly): their messages fit the socket buffers,
	// and nothing tells them.
	silent := loadText(t, text)
	silent.Fleet.PingInterval = profile.Dur(0)
	res = simulate(t, silent, m).Results
	if e := res.Events[0]; e.Affected != 0 {
		t.Errorf("clients that do not ping: %d noticed the freeze, want none", e.Affected)
	}
}
