package profile

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

func TestSet(t *testing.T) {
	tests := []struct {
		set   string
		check func(p *Profile) bool
	}{
		{"fleet.clients=5000", func(p *Profile) bool { return p.Fleet.Clients == 5000 }},
		{"fleet.clients = 5_000", func(p *Profile) bool { return p.Fleet.Clients == 5000 }},
		{"duration=1m", func(p *Profile) bool { return p.Duration.D() == time.Minute }},
		{`duration="60s"`, func(p *Profile) bool { return p.Duration.D() == time.Minute }},
		{"fleet.reconnect.strategy=full_jitter", func(p *Profile) bool { return p.Fleet.Reconnect.Strategy == StrategyFullJitter }},
		{"fleet.reconnect.honor_retry_after=false", func(p *Profile) bool { return !p.Fleet.Reconnect.HonorRetryAfter }},
		{"target.capacity.accept_rate=500", func(p *Profile) bool { return p.Target.Capacity.AcceptRate == 500 }},
		{"target.capacity.accept_rate=0.5", func(p *Profile) bool { return p.Target.Capacity.AcceptRate == 0.5 }},
		{"chaos.0.at=12s", func(p *Profile) bool { return p.Chaos[0].At == 12*time.Second }},
		{"chaos.1.code=4000", func(p *Profile) bool { return p.Chaos[1].Params.(*action.CloseParams).Code == 4000 }},
		{"chaos.0.nodes=[2, 0, 1]", func(p *Profile) bool {
			return reflect.DeepEqual(p.Chaos[0].Params.(*action.RollingRestartParams).Nodes, []int{2, 0, 1})
		}},
		{"chaos.1.reason=maintenance", func(p *Profile) bool { return p.Chaos[1].Params.(*action.CloseParams).Reason == "maintenance" }},
		{"chaos=[]", func(p *Profile) bool { return len(p.Chaos) == 0 }},
		{`chaos=[{at="5s", action="close"}]`, func(p *Profile) bool {
			c, ok := p.Chaos[0].Params.(*action.CloseParams)
			return len(p.Chaos) == 1 && ok && c.Code == 1000 && c.Fraction == 1 // step defaults
		}},
		{"fleet.reconnect.on_close.3001=stop", func(p *Profile) bool {
			oc := p.Fleet.Reconnect.OnClose
			return oc["3001"] == OnCloseStop && oc["1000"] == OnCloseStop && oc["1012"] == OnCloseReconnect
		}},
		{"fleet.reconnect.on_close.1000=reconnect", func(p *Profile) bool { return p.Fleet.Reconnect.OnClose["1000"] == OnCloseReconnect }},
		{`target.capacity={max_conns=100}`, func(p *Profile) bool {
			c := p.Target.Capacity // an inline table merges into the table
			return c.MaxConns == 100 && c.AcceptRate == 2000
		}},
		{"name=2024", func(p *Profile) bool { return p.Name == "2024" }}, // a string key keeps the text
		{`name="quoted"`, func(p *Profile) bool { return p.Name == "quoted" }},
		{"target.listen=127.0.0.2:9000", func(p *Profile) bool { return p.Target.Listen == "127.0.0.2:9000" }},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			p, err := Load("", []string{tt.set})
			if err != nil {
				t.Fatalf("Load with --set %s: %v", tt.set, err)
			}
			if !tt.check(p) {
				t.Errorf("--set %s not applied: %+v", tt.set, *p)
			}
			if !reflect.DeepEqual(p.Overrides, []string{tt.set}) {
				t.Errorf("Overrides = %q", p.Overrides)
			}
		})
	}
}

func TestSetKeepsHash(t *testing.T) {
	a, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load("", []string{"fleet.clients=10"})
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 {
		t.Error("SHA256 changed with --set: it must hash the file as read")
	}
}

func TestSetLaterWins(t *testing.T) {
	p, err := Load("", []string{"fleet.clients=10", "fleet.clients=20"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fleet.Clients != 20 {
		t.Errorf("clients = %d, want the last --set, 20", p.Fleet.Clients)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		sets []string
		want []string
	}{
		{[]string{"fleet.clinets=5000"}, []string{`--set fleet.clinets: unknown key (did you mean fleet.clients?)`}},
		{[]string{"fleet.session.bytes=64"}, []string{`--set fleet.session.bytes: unknown key: fleet.session takes send_interval, payload_bytes, message, echo, lifetime, pause, script, reply, heartbeat`}},
		{[]string{"path=x.toml"}, []string{`--set path: unknown key: the top level takes name, duration, seed, target, fleet, chaos, thresholds, detect, compare, sweep`}},
		{[]string{"chaos.5.at=1s"}, []string{`--set chaos.5: index 5 is out of range: chaos has 2 entries (0 to 1)`}},
		{[]string{"chaos=[]", "chaos.0.at=1s"}, []string{`--set chaos.0: index 0 is out of range: chaos has 0 entries`}},
		{[]string{"chaos.first.at=1s"}, []string{`--set chaos.first: "first" is not an index: write an index from 0, e.g. chaos.0`}},
		{[]string{"chaos.-1.at=1s"}, []string{`--set chaos.-1: "-1" is not an index: write an index from 0, e.g. chaos.0`}},
		{[]string{"fleet.clients=abc"}, []string{`--set fleet.clients: expected an integer, found the string "abc"`}},
		{[]string{`fleet.clients="5000"`}, []string{`--set fleet.clients: expected an integer, found the string "5000": remove the quotes`}},
		{[]string{"fleet.clients=1.5"}, []string{`--set fleet.clients: expected an integer, found the float 1.5`}},
		{[]string{"fleet.reconnect.honor_retry_after=yes"}, []string{`--set fleet.reconnect.honor_retry_after: expected true or false, found the string "yes"`}},
		{[]string{"chaos.0.nodes=1"}, []string{`--set chaos.0.nodes: expected an array of integers, found the integer 1`}},
		{[]string{"fleet=5"}, []string{`--set fleet: expected a table, found the integer 5`}},
		{[]string{"duration=45"}, []string{`--set duration: "45" is not a duration: write a Go duration such as "500ms", "5s" or "1m30s"`}},
		{[]string{"fleet.clients.max=3"}, []string{`--set fleet.clients.max: fleet.clients is an integer and has no key max`}},
		{[]string{"fleet.reconnect.on_close.1000.x=stop"}, []string{`--set fleet.reconnect.on_close.1000.x: fleet.reconnect.on_close.1000 is a string and has no key x`}},
		{[]string{"fleet.clients"}, []string{`--set fleet.clients: malformed override: write key=value, e.g. fleet.clients=5000 or chaos.0.at=12s`}},
		{[]string{"=5"}, []string{`--set: malformed override: write key=value, e.g. fleet.clients=5000 or chaos.0.at=12s`}},
		{[]string{"fleet..clients=5"}, []string{`--set fleet..clients: malformed override: write key=value, e.g. fleet.clients=5000 or chaos.0.at=12s`}},
		// Values an override sets are validated like the file's.
		{[]string{"fleet.clients=0"}, []string{`--set fleet.clients: 0 is out of range: use 1 to 1000000 clients`}},
		{[]string{"fleet.reconnect.on_close.99=stop"}, []string{`--set fleet.reconnect.on_close.99: "99" is not a close code: use an integer from 1000 to 4999, e.g. "4000" = "stop"`}},
		{[]string{"chaos.0.at=44s"}, []string{`(built-in):48: chaos.0: ends at 1m2s, after the run's duration 45s: start it earlier, make it shorter, or lengthen duration`}},
		{[]string{"chaos.1.code=1006"}, []string{`--set chaos.1.code: 1006 is reserved for a connection lost without a close frame and must never be sent; use 1012 (Service Restart) to restart, 1000 (Normal Closure) to end sessions, or 4000–4999 for your own codes`}},
		// A key the file gave and an override made wrong is reported at the file's line.
		{[]string{"chaos.1.action=restart"}, []string{
			`(built-in):60: chaos.1.fraction: does not apply to a restart step: remove it; a restart takes at, action, node, drain, downtime, code and reason`,
		}},
		{[]string{"chaos.1.fraction=0.5", "chaos.0.fraction=0.5"}, []string{
			`--set chaos.0.fraction: does not apply to a rolling_restart step: remove it; a rolling_restart takes at, action, nodes, batch, interval, drain, downtime, code and reason`,
		}},
		// A part of a step's key, as a part of any other key.
		{[]string{"chaos.1.code.x=1"}, []string{`--set chaos.1.code.x: chaos.1.code is an integer and has no key x`}},
		{[]string{"chaos.0.nodes=[0, 1, 2]", "chaos.0.nodes.5=1"}, []string{`--set chaos.0.nodes.5: index 5 is out of range: chaos.0.nodes has 3 entries (0 to 2)`}},
		{[]string{"chaos.0.nodes=[0, 1, 2]", "chaos.0.nodes.1=7"}, []string{`--set chaos.0.nodes.1: node 7 is out of range: the target has 3 nodes (0 to 2)`}},
		// An unknown key of a step, given by an override, is the override's.
		{[]string{"chaos.0.zzz=3"}, []string{`--set chaos.0.zzz: unknown key: chaos.0 takes at, action, nodes, batch, interval, drain, downtime, code, reason`}},
		// Every problem, not only the first.
		{[]string{"fleet.clinets=1", "chaos.9.at=1s", "fleet.clients=x", "oops"}, []string{
			`--set fleet.clinets: unknown key (did you mean fleet.clients?)`,
			`--set chaos.9: index 9 is out of range: chaos has 2 entries (0 to 1)`,
			`--set fleet.clients: expected an integer, found the string "x"`,
			`--set oops: malformed override: write key=value, e.g. fleet.clients=5000 or chaos.0.at=12s`,
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.sets, " "), func(t *testing.T) {
			_, err := Load("", tt.sets)
			got := errorLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestSetReportsAfterFileErrors(t *testing.T) {
	_, err := Parse([]byte("[fleet]\nclients = 0\n"), "f.toml", []string{"fleet.ramp=-1s"})
	want := []string{
		"f.toml:2: fleet.clients: 0 is out of range: use 1 to 1000000 clients",
		"--set fleet.ramp: -1s is negative: use 0s or more",
	}
	if got := errorLines(t, err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSetPartOfStepKey: an override may set an element of a step's list, as
// of any other list, in order with the overrides around it: a later value
// of the whole key replaces it.
func TestSetPartOfStepKey(t *testing.T) {
	for _, tt := range []struct {
		sets []string
		want []int
	}{
		{[]string{"chaos.0.nodes=[0, 1, 2]", "chaos.0.nodes.0=2", "chaos.0.nodes.2=0"}, []int{2, 1, 0}},
		{[]string{"chaos.0.nodes=[0, 1, 2]", "chaos.0.nodes.0=2", "chaos.0.nodes=[1]"}, []int{1}},
	} {
		p, err := Load("", tt.sets)
		if err != nil {
			t.Fatalf("%q: %v", tt.sets, err)
		}
		if got := p.Chaos[0].Params.(*action.RollingRestartParams).Nodes; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: nodes %v, want %v", tt.sets, got, tt.want)
		}
	}
}
