package profile

import (
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// chaosRestart is a valid rolling restart for cases that need a chaos step.
const chaosRestart = "[[chaos]]\nat = \"10s\"\naction = \"rolling_restart\"\n"

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the start of the only error; "" for a valid profile
	}{
		{"name with a space", `name = "my storm"`, `v.toml:1: name: "my storm" is not a valid name`},
		{"name dot dot", `name = ".."`, `v.toml:1: name: ".." is not a valid name`},
		{"name empty", `name = ""`, `v.toml:1: name: "" is empty`},
		{"name ok", `name = "a.b_c-1"`, ""},
		{"duration zero", `duration = "0s"`, `v.toml:1: duration: 0s is too short`},
		{"duration over a day", `duration = "25h"`, `v.toml:1: duration: 25h0m0s is longer than the maximum of 24h`},
		{"duration a day", `duration = "24h"`, ""},
		{"mode proxy without upstream", "[target]\nmode = \"proxy\"", `v.toml:1: target.url: missing: the proxy needs the upstream WebSocket URL to forward to`},
		{"mode unknown", "[target]\nmode = \"cloud\"", `v.toml:2: target.mode: "cloud" is not a target mode; use "embedded", "external" or "proxy"`},
		{"mode near miss", "[target]\nmode = \"extrenal\"", `v.toml:2: target.mode: "extrenal" is not a target mode; use "embedded", "external" or "proxy" (did you mean external?)`},
		{"nodes zero", "[target]\nnodes = 0", `v.toml:2: target.nodes: 0 is out of range: use 1 to 64 nodes`},
		{"nodes 65", "[target]\nnodes = 65", `v.toml:2: target.nodes: 65 is out of range`},
		{"nodes 64", "[target]\nnodes = 64", ""},
		{"listen no port", "[target]\nlisten = \"localhost\"", `v.toml:2: target.listen: "localhost" is not host:port`},
		{"listen bad port", "[target]\nlisten = \"127.0.0.1:http\"", `v.toml:2: target.listen: "127.0.0.1:http" is not host:port`},
		{"listen any host", "[target]\nlisten = \":8080\"", ""},
		{"accept_rate negative", "[target.capacity]\naccept_rate = -1", `v.toml:2: target.capacity.accept_rate: -1 is not a rate`},
		{"accept_rate inf", "[target.capacity]\naccept_rate = inf", `v.toml:2: target.capacity.accept_rate: +Inf is not a rate`},
		{"accept_rate nan", "[target.capacity]\naccept_rate = nan", `v.toml:2: target.capacity.accept_rate: NaN is not a rate`},
		{"accept_burst negative", "[target.capacity]\naccept_burst = -1", `v.toml:2: target.capacity.accept_burst: -1 is negative`},
		{"max_conns negative", "[target.capacity]\nmax_conns = -1", `v.toml:2: target.capacity.max_conns: -1 is negative`},
		{"handshake_delay negative", "[target.capacity]\nhandshake_delay = \"-1s\"", `v.toml:2: target.capacity.handshake_delay: -1s is negative`},
		{"retry_after negative", "[target.capacity]\nretry_after = \"-1s\"", `v.toml:2: target.capacity.retry_after: -1s is negative`},
		{"clients zero", "[fleet]\nclients = 0", `v.toml:2: fleet.clients: 0 is out of range: use 1 to 1000000 clients`},
		{"clients too many", "[fleet]\nclients = 1_000_001", `v.toml:2: fleet.clients: 1000001 is out of range`},
		{"clients a million", "[fleet]\nclients = 1_000_000", ""},
		{"max_dialing negative", "[fleet]\nmax_dialing = -1", `v.toml:2: fleet.max_dialing: -1 is negative`},
		{"ramp negative", "[fleet]\nramp = \"-1s\"", `v.toml:2: fleet.ramp: -1s is negative`},
		{"ramp as long as the run", "duration = \"10s\"\n[fleet]\nramp = \"10s\"", `v.toml:3: fleet.ramp: 10s is not shorter than the run's duration 10s`},
		{"default ramp too long", `duration = "3s"`, `v.toml: fleet.ramp: 5s (the default) is not shorter than the run's duration 3s`},
		{"handshake_timeout zero", "[fleet]\nhandshake_timeout = \"0s\"", `v.toml:2: fleet.handshake_timeout: 0s is too short`},
		{"send_interval negative", "[fleet.session]\nsend_interval = \"-1ms\"", `v.toml:2: fleet.session.send_interval: -1ms is negative`},
		{"payload too small", "[fleet.session]\npayload_bytes = 7", `v.toml:2: fleet.session.payload_bytes: 7 is out of range: use 8 to 1048576 bytes`},
		{"payload too large", "[fleet.session]\npayload_bytes = 1048577", `v.toml:2: fleet.session.payload_bytes: 1048577 is out of range`},
		{"payload 8", "[fleet.session]\npayload_bytes = 8", ""},
		{"lifetime negative", "[fleet.session]\nlifetime = \"-1s\"", `v.toml:2: fleet.session.lifetime: -1s is negative`},
		{"pause negative", "[fleet.session]\npause = \"-1s\"", `v.toml:2: fleet.session.pause: -1s is negative`},
		{"strategy unknown", "[fleet.reconnect]\nstrategy = \"fulljitter\"", `v.toml:2: fleet.reconnect.strategy: "fulljitter" is not a strategy: use "none", "constant", "window", "exponential", "full_jitter", "equal_jitter" or "decorrelated_jitter" (did you mean full_jitter?)`},
		{"window min above max", "[fleet.reconnect]\nmin = \"6s\"", `v.toml: fleet.reconnect.max: 5s (the default) is below min 6s: a window needs min ≤ max`},
		{"window min negative", "[fleet.reconnect]\nmin = \"-1s\"", `v.toml:2: fleet.reconnect.min: -1s is negative`},
		{"window min equals max", "[fleet.reconnect]\nmin = \"5s\"", ""},
		{"constant base negative", "[fleet.reconnect]\nstrategy = \"constant\"\nbase = \"-1s\"", `v.toml:3: fleet.reconnect.base: -1s is negative`},
		{"constant base zero", "[fleet.reconnect]\nstrategy = \"constant\"\nbase = \"0s\"", ""},
		{"exponential base zero", "[fleet.reconnect]\nstrategy = \"exponential\"\nbase = \"0s\"", `v.toml:3: fleet.reconnect.base: 0s is too short: exponential needs a base above 0`},
		{"jitter cap below base", "[fleet.reconnect]\nstrategy = \"decorrelated_jitter\"\ncap = \"500ms\"", `v.toml:3: fleet.reconnect.cap: 500ms is below base 1s (the default): decorrelated_jitter needs cap ≥ base`},
		{"none ignores durations", "[fleet.reconnect]\nstrategy = \"none\"\nmin = \"9s\"", ""},
		{"first_delay negative", "[fleet.reconnect]\nfirst_delay = \"-1s\"", `v.toml:2: fleet.reconnect.first_delay: -1s is negative`},
		{"max_attempts negative", "[fleet.reconnect]\nmax_attempts = -1", `v.toml:2: fleet.reconnect.max_attempts: -1 is negative`},
		{"on_close code low", "[fleet.reconnect]\non_close = { 999 = \"stop\" }", `v.toml:2: fleet.reconnect.on_close.999: "999" is not a close code: use an integer from 1000 to 4999`},
		{"on_close code high", "[fleet.reconnect]\non_close = { 5000 = \"stop\" }", `v.toml:2: fleet.reconnect.on_close.5000: "5000" is not a close code`},
		{"on_close code leading zero", "[fleet.reconnect]\non_close = { \"01000\" = \"stop\" }", `v.toml:2: fleet.reconnect.on_close.01000: "01000" is not a close code`},
		{"on_close code word", "[fleet.reconnect]\non_close = { normal = \"stop\" }", `v.toml:2: fleet.reconnect.on_close.normal: "normal" is not a close code`},
		{"on_close action", "[fleet.reconnect]\non_close = { 4000 = \"retry\" }", `v.toml:2: fleet.reconnect.on_close.4000: "retry" is not an action: use "reconnect" or "stop"`},
		{"on_close subtable", "[fleet.reconnect.on_close]\n4001 = \"stop\"\n1006 = \"reconnect\"", ""},
		{"on_close_default", "[fleet.reconnect]\non_close_default = \"never\"", `v.toml:2: fleet.reconnect.on_close_default: "never" is not an action`},

		{"step without action", "[[chaos]]\nat = \"10s\"", `v.toml:1: chaos.0.action: missing: write action = "rolling_restart", "restart", "close", "crash" or "freeze"`},
		{"step without at", "[[chaos]]\naction = \"close\"", `v.toml:1: chaos.0.at: missing: write when the step starts, e.g. at = "10s"`},
		{"step unknown action", "[[chaos]]\nat = \"10s\"\naction = \"restrat\"", `v.toml:3: chaos.0.action: "restrat" is not an action: use "rolling_restart", "restart", "close", "crash" or "freeze" (did you mean restart?)`},
		{"at negative", "[[chaos]]\nat = \"-1s\"\naction = \"close\"", `v.toml:2: chaos.0.at: -1s is negative`},
		{"at the end", "[[chaos]]\nat = \"45s\"\naction = \"close\"", `v.toml:2: chaos.0.at: 45s is not before the end of the run (duration 45s)`},
		{"fraction on a restart", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\nfraction = 0.5", `v.toml:4: chaos.0.fraction: does not apply to a restart step: remove it; a restart takes at, action, node, drain, downtime, code and reason`},
		{"nodes on a restart", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\nnodes = [1]", `v.toml:4: chaos.0.nodes: does not apply to a restart step: remove it (did you mean node?)`},
		{"batch on a restart", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\nbatch = 1", `v.toml:4: chaos.0.batch: does not apply to a restart step`},
		{"interval on a restart", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\ninterval = \"5s\"", `v.toml:4: chaos.0.interval: does not apply to a restart step`},
		{"node on a rolling restart", chaosRestart + "node = 1", `v.toml:4: chaos.0.node: does not apply to a rolling_restart step: remove it (did you mean nodes?)`},
		{"nodes on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nnodes = [0]", `v.toml:4: chaos.0.nodes: does not apply to a close step`},
		{"node on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nnode = 0", `v.toml:4: chaos.0.node: does not apply to a close step`},
		{"drain on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\ndrain = \"1s\"", `v.toml:4: chaos.0.drain: does not apply to a close step`},
		{"downtime on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\ndowntime = \"1s\"", `v.toml:4: chaos.0.downtime: does not apply to a close step`},
		{"batch on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nbatch = 1", `v.toml:4: chaos.0.batch: does not apply to a close step`},
		{"interval on a close", "[[chaos]]\nat = \"10s\"\naction = \"close\"\ninterval = \"1s\"", `v.toml:4: chaos.0.interval: does not apply to a close step`},
		{"rolling node out of range", chaosRestart + "nodes = [0, 3]", `v.toml:4: chaos.0.nodes.1: node 3 is out of range: the target has 3 nodes (0 to 2)`},
		{"rolling node negative", chaosRestart + "nodes = [-1]", `v.toml:4: chaos.0.nodes.0: node -1 is out of range`},
		{"rolling node twice", chaosRestart + "nodes = [1, 0, 1]", `v.toml:4: chaos.0.nodes.2: node 1 is listed twice`},
		{"rolling nodes empty", chaosRestart + "nodes = []", `v.toml:4: chaos.0.nodes: is empty`},
		{"rolling nodes subset", chaosRestart + "nodes = [2, 0]\nbatch = 2", ""},
		{"batch zero", chaosRestart + "batch = 0", `v.toml:4: chaos.0.batch: 0 is out of range: use 1 to 3, the number of nodes this step restarts`},
		{"batch above nodes", chaosRestart + "nodes = [0, 1]\nbatch = 3", `v.toml:5: chaos.0.batch: 3 is out of range: use 1 to 2`},
		{"interval zero", chaosRestart + "interval = \"0s\"", `v.toml:4: chaos.0.interval: 0s is too short`},
		{"interval below drain + downtime", chaosRestart + "interval = \"2s\"\ndrain = \"1s\"", `v.toml:4: chaos.0.interval: 2s is shorter than drain + downtime (3s)`},
		{"interval short, one batch", chaosRestart + "interval = \"1s\"\nbatch = 3", ""},
		{"default interval below drain", chaosRestart + "drain = \"9s\"", `v.toml: chaos.0.interval: 10s (the default) is shorter than drain + downtime (11s)`},
		{"drain negative", chaosRestart + "drain = \"-1s\"", `v.toml:4: chaos.0.drain: -1s is negative`},
		{"downtime negative", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\ndowntime = \"-1s\"", `v.toml:4: chaos.0.downtime: -1s is negative`},
		{"restart node out of range", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\nnode = 3", `v.toml:4: chaos.0.node: 3 is out of range: the target has 3 nodes (0 to 2)`},
		{"close fraction zero", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nfraction = 0", `v.toml:4: chaos.0.fraction: 0 is out of range`},
		{"close fraction above 1", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nfraction = 1.5", `v.toml:4: chaos.0.fraction: 1.5 is out of range`},
		{"close fraction 1", "[[chaos]]\nat = \"10s\"\naction = \"close\"\nfraction = 1", ""},
		{"code 0", chaosRestart + "code = 0", `v.toml:4: chaos.0.code: 0 is not a close code: codes start at 1000; use 1012 (Service Restart) to restart`},
		{"code 999", chaosRestart + "code = 999", `v.toml:4: chaos.0.code: 999 is not a close code: codes start at 1000`},
		{"code 1004", chaosRestart + "code = 1004", `v.toml:4: chaos.0.code: 1004 is reserved by RFC 6455 without a meaning and must not be sent`},
		{"code 1005", chaosRestart + "code = 1005", `v.toml:4: chaos.0.code: 1005 stands for a close frame without a status code and must never be sent`},
		{"code 1006", chaosRestart + "code = 1006", `v.toml:4: chaos.0.code: 1006 is reserved for a connection lost without a close frame and must never be sent`},
		{"code 1015", chaosRestart + "code = 1015", `v.toml:4: chaos.0.code: 1015 is reserved for a failed TLS handshake and must never be sent`},
		{"code 1016", chaosRestart + "code = 1016", `v.toml:4: chaos.0.code: 1016 is reserved for future versions of the WebSocket protocol`},
		{"code 2999", chaosRestart + "code = 2999", `v.toml:4: chaos.0.code: 2999 is reserved for WebSocket extensions`},
		{"code 5000", chaosRestart + "code = 5000", `v.toml:4: chaos.0.code: 5000 is not a close code: codes end at 4999`},
		{"code 1001", chaosRestart + "code = 1001", ""},
		{"code 1007", chaosRestart + "code = 1007", ""},
		{"code 1013", chaosRestart + "code = 1013", ""},
		{"code 1014", chaosRestart + "code = 1014", ""},
		{"code 3000", chaosRestart + "code = 3000", ""},
		{"code 4999", "[[chaos]]\nat = \"10s\"\naction = \"close\"\ncode = 4999", ""},
		{"reason 123 bytes", chaosRestart + `reason = "` + strings.Repeat("r", 123) + `"`, ""},
		{"reason 124 bytes", chaosRestart + `reason = "` + strings.Repeat("r", 124) + `"`, `v.toml:4: chaos.0.reason: is 124 bytes long: a close frame allows at most 123`},
		{"ends after the run", chaosRestart + "interval = \"20s\"", `v.toml:1: chaos.0: ends at 52s, after the run's duration 45s`},
		{"ends at the end", "[[chaos]]\nat = \"10s\"\naction = \"rolling_restart\"\ninterval = \"16s\"\ndowntime = \"3s\"", ""},
		{"restarts overlap",
			chaosRestart + "[[chaos]]\nat = \"20s\"\naction = \"restart\"",
			`v.toml:5: chaos.1.at: 20s overlaps chaos.0 (a rolling_restart from 10s until 32s): restarts must not overlap; start this step at 32s or later`},
		{"restarts in any order",
			"[[chaos]]\nat = \"30s\"\naction = \"restart\"\n" + chaosRestart,
			`v.toml:2: chaos.0.at: 30s overlaps chaos.1 (a rolling_restart from 10s until 32s)`},
		{"restarts back to back", chaosRestart + "[[chaos]]\nat = \"32s\"\naction = \"restart\"", ""},
		{"a close during a restart", chaosRestart + "[[chaos]]\nat = \"20s\"\naction = \"close\"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.src), "v.toml", nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if err := p.Validate(); err != nil {
					t.Errorf("Validate on a parsed profile:\n%v", err)
				}
				return
			}
			got := errorLines(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("errors:\n%s\nwant one starting with:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

func TestNameFromFile(t *testing.T) {
	p, err := Parse([]byte("seed = 2\n"), "dir/storm-1.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "storm-1" {
		t.Errorf("name = %q, want storm-1", p.Name)
	}
	_, err = Parse([]byte("seed = 2\n"), "dir/my storm.toml", nil)
	want := `dir/my storm.toml: name: "my storm", from the file name, is not a valid name: use only letters, digits, '.', '_' and '-', since it names the results directory; add a name key`
	if got := errorLines(t, err); len(got) != 1 || got[0] != want {
		t.Errorf("errors %q, want %q", got, want)
	}
}

// TestValidateNilParams: a step built in code with a nil parameter struct
// is checked as one with every key zero, not a panic.
func TestValidateNilParams(t *testing.T) {
	p := Defaults()
	p.Chaos = []ChaosStep{{At: 10 * time.Second, Action: "restart", Params: (*action.RestartParams)(nil)}}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "chaos.0.code: 0 is not a close code") {
		t.Errorf("Validate with nil params: %v, want the zero code refused", err)
	}
}

func TestValidateInCode(t *testing.T) {
	p := Defaults()
	if err := p.Validate(); err != nil {
		t.Errorf("Defaults().Validate(): %v", err)
	}
	p.Chaos = []ChaosStep{StepDefaults("rolling_restart"), StepDefaults("close")}
	p.Chaos[0].At = 10 * time.Second
	p.Chaos[1].At = 20 * time.Second
	if err := p.Validate(); err != nil {
		t.Errorf("Validate with StepDefaults steps: %v", err)
	}
	// A step built with keys of another action: a close's, and batch.
	p.Chaos[1].Params = &struct {
		Fraction float64 `toml:"fraction"`
		Code     int     `toml:"code"`
		Batch    int     `toml:"batch"`
	}{Fraction: 1, Code: 1000, Batch: 2}
	p.Fleet.Clients = 0
	want := "fleet.clients: 0 is out of range: use 1 to 1000000 clients\n" +
		"chaos.1.batch: does not apply to a close step: remove it; a close takes at, action, fraction, code and reason"
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, want)
	}
}
