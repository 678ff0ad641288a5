package profile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

func TestNodeHooks(t *testing.T) {
	src := `
[target]
mode = "external"
urls = ["ws://127.0.0.1:9/ws?client={{client}}", "ws://127.0.0.1:10/ws?client={{client}}"]
subprotocols = ["v2.json"]
origin = "https://app.example.test"
on_hook_failure = "abort"

[[target.nodes]]
name = "web-1"
command = ["kubectl", "rollout", "restart", "deploy/web-{{node}}"]
timeout = "90s"

[[target.nodes]]
http = { url = "http://127.0.0.1:9900/nodes/{{node}}/restart?code={{code}}&token=${HOOK_TOKEN}", headers = { Authorization = "Bearer ${HOOK_TOKEN}" } }
window = "5s"

[[chaos]]
at = "10s"
action = "rolling_restart"
interval = "10s"
`
	env := environment{
		lookupEnv: func(name string) (string, bool) {
			return map[string]string{"HOOK_TOKEN": "t0ken-from-env"}[name], name == "HOOK_TOKEN"
		},
		readFile: readRegularFile,
	}
	p, err := parse([]byte(src), "hooks.toml", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	hooks := p.Target.NodeHooks
	if len(hooks) != 2 || p.Target.Nodes != 2 {
		t.Fatalf("hooks %+v, nodes %d; want 2 and 2", hooks, p.Target.Nodes)
	}
	if h := hooks[0]; h.Name != "web-1" || h.Timeout.D() != 90*time.Second || h.Window.D() != 90*time.Second || h.HTTP.URL != "" {
		t.Errorf("node 0 = %+v", h)
	}
	h := hooks[1]
	if h.Name != "node1" || h.Timeout.D() != DefaultHookTimeout || h.Window.D() != 5*time.Second || h.HTTP.Method != "POST" {
		t.Errorf("node 1 = %+v", h)
	}
	if !strings.Contains(h.HTTP.URL, "token=t0ken-from-env") || h.HTTP.Headers["Authorization"] != "Bearer t0ken-from-env" {
		t.Errorf("node 1's ${HOOK_TOKEN} not expanded: %+v", h.HTTP)
	}
	if !slices.Contains(p.Target.Secrets, "t0ken-from-env") {
		t.Errorf("the hook's token is not a secret: %q", p.Target.Secrets)
	}
	if p.Target.OnHookFailure != OnHookFailureAbort || len(p.Target.URLs) != 2 || p.Target.Origin == "" {
		t.Errorf("target = %+v", p.Target)
	}
	// A rolling restart goes over both hooked nodes.
	a, _ := action.Lookup(p.Chaos[0].Action)
	if ev := a.Plan(p.Chaos[0], action.Env{Nodes: p.Target.Nodes}); len(ev) != 2 || ev[0].Node != 0 || ev[1].Node != 1 {
		t.Errorf("events %+v, want a restart of node 0, then of node 1", ev)
	}
}

func TestDetectDefaults(t *testing.T) {
	p, err := Parse([]byte("[detect]\nenabled = true\n"), "d.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Detect.Enabled || p.Detect.Gap.D() != time.Second || p.Detect.MinCloses != 5 {
		t.Errorf("detect = %+v", p.Detect)
	}
}

func TestTemplateProblem(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want string
	}{
		{"ws://h/?c={{client}}&s={{ session }}", ""},
		{"{{uuid}}-{{key}}-{{seq}}", ""},
		{"{{clinet}}", `"{{clinet}}" is not a template variable here`},
		{"{{node}}", `"{{node}}" is not a template variable here`},
		{"plain {text}", ""},
	} {
		got := templateProblem(tc.s, clientVars)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("templateProblem(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
