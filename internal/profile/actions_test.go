package profile

import (
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// TestNewActionsLoad: crash and freeze steps load with their keys and
// defaults; a node's hooks for them load with theirs, ${NAME} expanded.
func TestNewActionsLoad(t *testing.T) {
	src := `
duration = "40s"
[fleet]
ping_interval = "2s"
pong_timeout = "1s"
[[chaos]]
at = "5s"
action = "crash"
node = 1
[[chaos]]
at = "15s"
action = "freeze"
node = 2
for = "6s"
`
	p, err := Parse([]byte(src), "new.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.Chaos[0].Params.(*action.CrashParams)
	if !ok || c.Node != 1 || c.Downtime != 2*time.Second {
		t.Errorf("crash step %+v", p.Chaos[0].Params)
	}
	f, ok := p.Chaos[1].Params.(*action.FreezeParams)
	if !ok || f.Node != 2 || f.For != 6*time.Second {
		t.Errorf("freeze step %+v", p.Chaos[1].Params)
	}
	if p.Fleet.PongTimeout.D() != time.Second {
		t.Errorf("pong_timeout %v", p.Fleet.PongTimeout.D())
	}

	ext := `
[target]
mode = "external"
url = "ws://127.0.0.1:9/"
[[target.nodes]]
name = "ws-1"
command = ["systemctl", "restart", "ws@1"]
[target.nodes.hooks.crash]
command = ["systemctl", "kill", "--signal=KILL", "ws@1", "{{downtime}}"]
window = "3s"
[target.nodes.hooks.freeze]
http = { url = "http://127.0.0.1:9900/freeze?for={{for}}&node={{name}}", headers = { Authorization = "Bearer ${HOOK_TOKEN}" } }
[[chaos]]
at = "5s"
action = "crash"
[[chaos]]
at = "15s"
action = "freeze"
for = "4s"
[fleet]
ping_interval = "2s"
pong_timeout = "1s"
`
	env := environment{
		lookupEnv: func(name string) (string, bool) { return "t0ken", name == "HOOK_TOKEN" },
		readFile:  readRegularFile,
	}
	p, err = parse([]byte(ext), "ext.toml", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Target.NodeHooks[0]
	crash, ok := n.Hook("crash")
	if !ok || crash.Window.D() != 3*time.Second || crash.Timeout.D() != DefaultHookTimeout {
		t.Errorf("crash hook %+v", crash)
	}
	freeze, ok := n.Hook("freeze")
	if !ok || freeze.HTTP.Method != DefaultHookMethod || freeze.HTTP.Headers["Authorization"] != "Bearer t0ken" {
		t.Errorf("freeze hook %+v", freeze)
	}
	if _, ok := n.Hook(RestartHook); !ok {
		t.Error("the node's command is not its restart hook")
	}
}

// TestNewActionsRefused: what a crash or a freeze step cannot be, each
// with its message.
func TestNewActionsRefused(t *testing.T) {
	external := "[target]\nmode = \"external\"\nurl = \"ws://127.0.0.1:9/\"\n[[target.nodes]]\nname = \"ws-1\"\ncommand = [\"true\"]\n"
	for _, tc := range []struct {
		name, src string
		sets      []string
		want      []string
	}{
		{"freeze nothing notices", "[fleet.session]\nsend_interval = \"0s\"\n[[chaos]]\nat = \"5s\"\naction = \"freeze\"\n", nil,
			[]string{`f.toml:5: chaos.0.action: nothing would notice a freeze: the clients do not ping`}},
		{"freeze no longer than the pong timeout", "[fleet]\nping_interval = \"1s\"\n[[chaos]]\nat = \"5s\"\naction = \"freeze\"\nfor = \"3s\"\n", nil,
			[]string{`f.toml:6: chaos.0.for: 3s is not longer than the clients' pong timeout 5s`}},
		{"pong without pings", "[fleet]\npong_timeout = \"1s\"\n", nil,
			[]string{`f.toml:2: fleet.pong_timeout: 1s waits for the pong of a ping, but fleet.ping_interval (the default) is 0s`}},
		{"crash without a hook", external + "[[chaos]]\nat = \"5s\"\naction = \"crash\"\n", nil,
			[]string{`chaos.0.action: node 0 (ws-1) has no crash hook: add [target.nodes.hooks.crash] with a command or an http request to target.nodes.0`}},
		{"crash without a hook in a run with another problem", "duration = \"0s\"\n" + external + "[[chaos]]\nat = \"5s\"\naction = \"crash\"\n", nil,
			[]string{`duration: 0s`, `chaos.0.action: node 0 (ws-1) has no crash hook`}},
		{"restart without a restart hook", strings.Replace(external, "command = [\"true\"]", "hooks.crash = { command = [\"true\"] }", 1) + "[[chaos]]\nat = \"5s\"\naction = \"restart\"\n", nil,
			[]string{`chaos.0.action: node 0 (ws-1) has no restart hook: give target.nodes.0 a command or an http request`}},
		{"a hook for no action", external + "hooks.crsh = { command = [\"true\"] }\n", nil,
			[]string{`target.nodes.0.hooks.crsh: "crsh" is not an action with a hook: use "crash" or "freeze" (did you mean crash?)`}},
		{"a hook's request without a URL", external + "hooks.crash = { http = { method = \"POST\" } }\n", nil,
			[]string{`target.nodes.0.hooks.crash.http.url: missing: write the URL that carries out a crash of the node, e.g. url = "http://127.0.0.1:9900/nodes/{{node}}/crash"`}},
		{"a restart hook among the hooks", external + "hooks.restart = { command = [\"true\"] }\n", nil,
			[]string{`target.nodes.0.hooks.restart: the restart hook is the node's own command or http request: move it there`}},
		{"a hook's unknown variable", external + "hooks.freeze = { command = [\"x\", \"{{downtime}}\"] }\n", nil,
			[]string{`target.nodes.0.hooks.freeze.command.1: "{{downtime}}" is not a template variable here: use "{{node}}", "{{name}}" or "{{for}}"`}},
		{"crash overlaps a restart", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\n[[chaos]]\nat = \"11s\"\naction = \"crash\"\n", nil,
			[]string{`chaos.1.at: 11s overlaps chaos.0 (a restart from 10s until 12s): steps that act on nodes must not overlap; start this step at 12s or later`}},
		{"a restart made a crash", "[[chaos]]\nat = \"10s\"\naction = \"restart\"\nnode = 1\ncode = 4000\n", []string{"chaos.0.action=crash"},
			[]string{`f.toml:5: chaos.0.code: does not apply to a crash step: remove it; a crash takes at, action, node and downtime`}},
	} {
		_, err := Parse([]byte(tc.src), "f.toml", tc.sets)
		got := errorLines(t, err)
		for _, w := range tc.want {
			found := false
			for _, g := range got {
				found = found || strings.Contains(g, w)
			}
			if !found {
				t.Errorf("%s: errors %q, want one with %q", tc.name, got, w)
			}
		}
	}
}
