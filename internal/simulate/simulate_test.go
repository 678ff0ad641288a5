package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/fleet"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// load returns the shipped profile name with sets applied.
func load(t testing.TB, path string, sets ...string) *profile.Profile {
	t.Helper()
	p, err := profile.Load(path, sets)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return p
}

// loadText loads a profile written out in a test.
func loadText(t *testing.T, text string) *profile.Profile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profile.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, path)
}

func simulate(t *testing.T, p *profile.Profile, m Model) *results.Run {
	t.Helper()
	run, err := Run(context.Background(), p, m, Options{})
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	return run
}

// A constant backoff of D on an idle target: every client's reconnect takes
// D plus one handshake, never less than D.
func TestConstantBackoffOnIdleTarget(t *testing.T) {
	const d = 1500 * time.Millisecond
	p := load(t, "../../profiles/default.toml",
		"fleet.clients=500", "fleet.reconnect.strategy=constant", "fleet.reconnect.base=1.5s",
		"target.capacity.accept_rate=0")
	m := Model{NetworkMedianMS: 0.4, NetworkP99MS: 2, ServiceTimeMS: 0.1, Pool: PoolTarget}
	run := simulate(t, p, m)
	h := run.Results.Histogram(stats.Reconnect)
	if h.TotalCount() == 0 {
		t.Fatal("no reconnects")
	}
	lo, hi := time.Duration(h.Min())*time.Microsecond, time.Duration(h.Max())*time.Microsecond
	// One handshake: the wire (lognormal, p99 2 ms) and 0.1 ms of work; the
	// histogram rounds to 3 significant digits (1 ms at 1.5 s).
	if lo < d-time.Millisecond || hi > d+15*time.Millisecond {
		t.Errorf("reconnect latency from %v to %v: want just above %v", lo, hi, d)
	}
	for _, e := range run.Results.Events {
		if e.Action != "rolling_restart" {
			continue
		}
		if e.Reconnected != e.Affected || e.Affected == 0 {
			t.Errorf("event %d: %d of %d affected reconnected", e.Index, e.Reconnected, e.Affected)
		}
		// All the event's clients come back D after its start, the
		// closes reaching them at once.
		if e.T50 == nil || *e.T50 < d || *e.T50 > d+10*time.Millisecond {
			t.Errorf("event %d: t50 %v, want just above %v", e.Index, e.T50, d)
		}
	}
}

// Every client is accounted for: attempts are connects or failures, the
// target's counts agree with the clients', and an event's clients are back
// or not.
func TestAccounting(t *testing.T) {
	p := load(t, "../../profiles/no-jitter.toml",
		"fleet.clients=6000", "target.capacity.accept_rate=500", "target.capacity.accept_burst=100",
		"target.capacity.max_conns=2600", "fleet.reconnect.max_attempts=4")
	m := Model{NetworkMedianMS: 0.5, NetworkP99MS: 4, ServiceTimeMS: 0.3, Workers: 2, Pool: PoolTarget}
	run := simulate(t, p, m)
	c := run.Results.Counters
	var failures int64
	for _, n := range c.ConnectFailures {
		failures += n
	}
	if c.ConnectAttempts != c.Connects+failures {
		t.Errorf("attempts %d != connects %d + failures %d", c.ConnectAttempts, c.Connects, failures)
	}
	if c.ConnectFailures["http_503"] == 0 || c.GaveUp == 0 {
		t.Errorf("503s %d, gave up %d: want the capacity limits to bite", c.ConnectFailures["http_503"], c.GaveUp)
	}
	var accepted, rejected int64
	for _, n := range run.Target.Nodes {
		accepted += n.Accepted
		rejected += n.Rejected
	}
	if rejected != c.ConnectFailures["http_503"] {
		t.Errorf("target rejected %d, clients saw %d 503s", rejected, c.ConnectFailures["http_503"])
	}
	// Every connect was accepted; the target also accepted handshakes whose
	// client had given up or whose run ended.
	if accepted < c.Connects || accepted > c.Connects+c.ConnectFailures["timeout"]+c.ConnectFailures["cancelled"] {
		t.Errorf("target accepted %d, clients connected %d (+%d timed out, %d cancelled)", accepted, c.Connects, c.ConnectFailures["timeout"], c.ConnectFailures["cancelled"])
	}
	var affected int64
	for _, e := range run.Results.Events {
		if e.Reconnected+e.NeverReconnected != e.Affected {
			t.Errorf("event %d: reconnected %d + never %d != affected %d", e.Index, e.Reconnected, e.NeverReconnected, e.Affected)
		}
		if e.Code == 1012 {
			affected += e.Affected
		}
	}
	if affected != c.Closes[1012] {
		t.Errorf("restart events affected %d, clients saw %d 1012 closes", affected, c.Closes[1012])
	}
	for _, n := range run.Target.Nodes {
		if n.ConnectionsEnd > 2600 {
			t.Errorf("node %d holds %d connections, above max_conns 2600", n.Index, n.ConnectionsEnd)
		}
	}
}

// The same profile, seed and model give the same results, to the byte.
func TestDeterministic(t *testing.T) {
	p := load(t, "../../profiles/full-jitter.toml", "fleet.clients=3000")
	m := DefaultModel()
	m.Workers = 2
	summary := func() []byte {
		run := simulate(t, p, m)
		run.Simulated.WallS = 0
		run.Results.Started = time.Time{}
		var b bytes.Buffer
		if err := json.NewEncoder(&b).Encode(report.Summarize(p, run)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := summary(), summary()
	if !bytes.Equal(a, b) {
		t.Errorf("two simulations of one seed differ:\n%s\n%s", a, b)
	}
}

// A 503 with Retry-After holds an honouring client back for at least that
// long: no client of the capped node attempts again sooner.
func TestRetryAfterHonoured(t *testing.T) {
	p := load(t, "../../profiles/no-jitter.toml",
		"fleet.clients=3000", "target.capacity.accept_rate=200", "target.capacity.accept_burst=50",
		"target.capacity.retry_after=3s", "fleet.reconnect.strategy=constant", "fleet.reconnect.base=100ms")
	run := simulate(t, p, DefaultModel())
	ev := run.Results.Events[0]
	if ev.FailedAttempts["http_503"] == 0 {
		t.Fatalf("event 0 has no 503s: %+v", ev.FailedAttempts)
	}
	// A constant 100 ms backoff would retry at once; Retry-After (under
	// the 30 s cap) holds the rejected clients back 3 s a time.
	if ev.T100 == nil || *ev.T100 < 3*time.Second {
		t.Errorf("t100 %v: want at least the 3s Retry-After", ev.T100)
	}
	p2 := load(t, "../../profiles/no-jitter.toml",
		"fleet.clients=3000", "target.capacity.accept_rate=200", "target.capacity.accept_burst=50",
		"target.capacity.retry_after=3s", "fleet.reconnect.strategy=constant", "fleet.reconnect.base=100ms",
		"fleet.reconnect.honor_retry_after=false")
	ev2 := simulate(t, p2, DefaultModel()).Results.Events[0]
	if ev2.Attempts <= ev.Attempts {
		t.Errorf("attempts without Retry-After %d, with %d: want more without", ev2.Attempts, ev.Attempts)
	}
}

// A node restarted with a drain closes its clients over the drain; clients
// then come back as their backoff says.
func TestDrainSpreadsCloses(t *testing.T) {
	p := load(t, "../../profiles/no-jitter.toml", "fleet.clients=1200", "chaos.0.drain=2s", "chaos.0.interval=6s")
	run := simulate(t, p, DefaultModel())
	ev := run.Results.Events[0]
	// Constant 1 s after each close; closes spread over 2 s: the last
	// client is back about 3 s after the start, the first after 1 s.
	if ev.T100 == nil || *ev.T100 < 2900*time.Millisecond || *ev.T100 > 3100*time.Millisecond {
		t.Errorf("t100 %v: want about 3s (2s drain + 1s backoff)", ev.T100)
	}
	if ev.T50 == nil || *ev.T50 < 1900*time.Millisecond || *ev.T50 > 2100*time.Millisecond {
		t.Errorf("t50 %v: want about 2s", ev.T50)
	}
}

// A session lifetime ends sessions on the client's side, which come back
// after the pause and count as client closes, not closes.
func TestLifetime(t *testing.T) {
	p := load(t, "../../profiles/default.toml", "fleet.clients=400", "fleet.session.lifetime=10s", "fleet.session.pause=1s")
	run := simulate(t, p, DefaultModel())
	c := run.Results.Counters
	if c.ClientCloses == 0 {
		t.Fatal("no client closes with a 10s lifetime")
	}
	if c.Closes[1012]+c.Closes[1000]+c.ClientCloses > c.Connects {
		t.Errorf("more sessions ended (%d) than began (%d)", c.Closes[1012]+c.Closes[1000]+c.ClientCloses, c.Connects)
	}
}

// Interrupting a simulation returns what it simulated so far, marked.
func TestInterrupted(t *testing.T) {
	p := load(t, "../../profiles/simulate-1m.toml", "fleet.clients=200000")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run, err := Run(ctx, p, DefaultModel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Interrupted {
		t.Fatal("not interrupted")
	}
	if run.Results.Elapsed >= p.Duration.D() {
		t.Errorf("elapsed %v: want less than the duration %v", run.Results.Elapsed, p.Duration.D())
	}
}

func TestModelValidate(t *testing.T) {
	good := DefaultModel()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*Model){
		"negative median": func(m *Model) { m.NetworkMedianMS = -1 },
		"NaN service":     func(m *Model) { m.ServiceTimeMS = math.NaN() },
		"p99 below":       func(m *Model) { m.NetworkP99MS = m.NetworkMedianMS / 2 },
		"workers":         func(m *Model) { m.Workers = -1 },
		"pool":            func(m *Model) { m.Pool = "cluster" },
		"close rate":      func(m *Model) { m.CloseRate = math.Inf(1) },
		"close rate < 1":  func(m *Model) { m.CloseRate = 0.001 },
		"message time":    func(m *Model) { m.MessageTimeMS = -0.1 },
	} {
		m := good
		f(&m)
		if err := m.Validate(); err == nil {
			t.Errorf("%s: no error for %+v", name, m)
		}
	}
}

func TestLoadModel(t *testing.T) {
	dir := t.TempDir()
	m := DefaultModel()
	m.Workers, m.CloseRate = 8, 20000
	path := dir + "/model.json"
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModel(path)
	if err != nil || got != m {
		t.Fatalf("LoadModel = %+v, %v; want %+v", got, err, m)
	}
	for name, text := range map[string]string{
		"unknown key": `{"network_median_ms": 1, "cpus": 2}`,
		"bad pool":    `{"pool": "rack"}`,
		"not json":    `network_median_ms = 1`,
	} {
		p := dir + "/" + name + ".json"
		if err := writeFile(p, text); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadModel(p); err == nil {
			t.Errorf("%s: LoadModel accepted %s", name, text)
		}
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

// Work booked for later does not hold up requests of now: a drain's closes
// take workers when each is due, not all at the restart.
func TestWorkersServeInTimeOrder(t *testing.T) {
	p := load(t, "../../profiles/default.toml", "fleet.clients=3000", "chaos.0.drain=4s", "chaos.0.interval=8s",
		"target.capacity.handshake_delay=5ms")
	m := Model{NetworkMedianMS: 0.3, NetworkP99MS: 1, ServiceTimeMS: 0.1, Workers: 2, Pool: PoolTarget, CloseRate: 50000}
	run := simulate(t, p, m)
	h := run.Results.Histogram(stats.Connect)
	// Idle but for 40 ms of closing spread over 4 s: a connect takes the
	// wire, 0.1 ms of work and the 5 ms delay.
	if p99 := time.Duration(h.ValueAtQuantile(99)) * time.Microsecond; p99 > 20*time.Millisecond {
		t.Errorf("connect p99 %v: requests waited behind work booked for later", p99)
	}
}

// overlapProfile: a restart whose drain is still closing when a close of
// every client with another code comes.
const overlapProfile = `
name = "overlap"
duration = "20s"
seed = 3
[target]
mode = "embedded"
nodes = 1
[target.capacity]
accept_rate = 0
[fleet]
clients = 1000
ramp = "1s"
[fleet.session]
send_interval = "0s"
[fleet.reconnect]
strategy = "constant"
base = "30s"
[[chaos]]
at = "5s"
action = "restart"
node = 0
drain = "4s"
downtime = "0s"
code = 1012
[[chaos]]
at = "6s"
action = "close"
fraction = 1.0
code = 1000
`

// Each close carries its own event's code, whichever comes first.
func TestOverlappingClosesKeepTheirCodes(t *testing.T) {
	p := loadText(t, overlapProfile)
	for _, rate := range []float64{0, 100, 1000, 100000} {
		m := Model{NetworkMedianMS: 0.3, NetworkP99MS: 1, ServiceTimeMS: 0.1, Workers: 2, Pool: PoolTarget, CloseRate: rate}
		run := simulate(t, p, m)
		c := run.Results.Counters
		ev := run.Results.Events
		if c.Closes[1012] != ev[0].Affected || c.Closes[1012]+c.Closes[1000] != 1000 {
			t.Errorf("close rate %v: closes %v, restart affected %d", rate, c.Closes, ev[0].Affected)
		}
		// At 100 closes/s the close's 750 take 7.5 s, past its window and
		// grace: the late ones belong to no event, as in a real run.
		if rate != 100 && c.Closes[1000] != ev[1].Affected {
			t.Errorf("close rate %v: %d closes with 1000, the close event affected %d", rate, c.Closes[1000], ev[1].Affected)
		}
		// The drain reached about a quarter of the clients in its first
		// second; the close took the rest.
		if ev[0].Affected < 200 || ev[0].Affected > 300 {
			t.Errorf("close rate %v: the restart closed %d, want about 250 before the close took the rest", rate, ev[0].Affected)
		}
	}
}

// A node that stops drops the requests it admitted and has not upgraded:
// their clients see a reset, and the node's count of them comes back to
// what is still in flight.
func TestStopDropsAdmittedRequests(t *testing.T) {
	p := load(t, "../../profiles/default.toml", "fleet.clients=3000", "target.capacity.handshake_delay=300ms",
		"target.capacity.accept_rate=0", "fleet.reconnect.min=0s", "fleet.reconnect.max=1s", "chaos.0.downtime=0s", "chaos.0.interval=600ms")
	m := Model{NetworkMedianMS: 0.3, NetworkP99MS: 1, ServiceTimeMS: 0.1, Workers: 2, Pool: PoolTarget}
	rules, err := fleet.RulesFromProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(p, m, &rules, io.Discard)
	s.run(context.Background())
	res := s.rec.Results(s.start, time.Duration(s.now))
	if res.Counters.ConnectFailures["reset"] == 0 {
		t.Errorf("no resets: %v; want the requests a restarting node held to fail", res.Counters.ConnectFailures)
	}
	inFlight := 0
	for i := range s.clients {
		if s.clients[i].state == dialing {
			inFlight++
		}
	}
	for _, n := range s.nodes {
		if n.reserved < 0 || n.reserved > inFlight {
			t.Errorf("node %d has %d requests reserved, %d attempts in flight", n.index, n.reserved, inFlight)
		}
	}
}

// A close code a protocol preset says forbids reconnecting stops a
// simulated client, and is counted as a protocol stop, as in a real run.
func TestProtocolStopSimulated(t *testing.T) {
	p := loadText(t, `
duration = "20s"
[target]
mode = "external"
url = "ws://127.0.0.1:9/"
[[target.nodes]]
command = ["true"]
[fleet]
clients = 200
ramp = "1s"
protocol = "centrifugo"
[[chaos]]
at = "5s"
action = "restart"
code = 3501
`)
	run := simulate(t, p, Model{NetworkMedianMS: 0.3, NetworkP99MS: 1, ServiceTimeMS: 0.1, Workers: 2, Pool: PoolTarget})
	c := run.Results.Counters
	var stops int64
	for _, n := range c.ProtocolStops {
		stops += n
	}
	if c.Closes[3501] == 0 || stops != c.Closes[3501] || c.Reconnects != 0 {
		t.Errorf("closes %v, protocol stops %v, %d reconnects: want every 3501 a stop", c.Closes, c.ProtocolStops, c.Reconnects)
	}
}
