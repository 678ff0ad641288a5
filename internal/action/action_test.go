package action

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTable: every action is found by its name, in the documented order,
// with the keys the docs list and the defaults of a profile's steps.
func TestTable(t *testing.T) {
	if got, want := Names(), []string{"rolling_restart", "restart", "close", "crash", "freeze"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name     string
		keys     string
		defaults Params
	}{
		{"rolling_restart", "at action nodes batch interval drain downtime code reason",
			&RollingRestartParams{Batch: 1, Interval: 10 * time.Second, Downtime: 2 * time.Second, Code: 1012}},
		{"restart", "at action node drain downtime code reason", &RestartParams{Downtime: 2 * time.Second, Code: 1012}},
		{"close", "at action fraction code reason", &CloseParams{Fraction: 1, Code: 1000}},
		{"crash", "at action node downtime", &CrashParams{Downtime: 2 * time.Second}},
		{"freeze", "at action node for", &FreezeParams{For: 10 * time.Second}},
	} {
		a, ok := Lookup(tc.name)
		if !ok || a.Name() != tc.name {
			t.Errorf("Lookup(%q) = %v, %v", tc.name, a, ok)
			continue
		}
		if got := strings.Join(Keys(a), " "); got != tc.keys {
			t.Errorf("%s keys %q, want %q", tc.name, got, tc.keys)
		}
		if got := a.Params(); !reflect.DeepEqual(got, tc.defaults) {
			t.Errorf("%s defaults %+v, want %+v", tc.name, got, tc.defaults)
		}
		if a.Params() == a.Params() {
			t.Errorf("%s: Params returns the same struct twice: steps would share their keys", tc.name)
		}
	}
	if _, ok := Lookup("restrat"); ok {
		t.Error(`Lookup("restrat") found an action`)
	}
}

// TestHooks: every action with a hook gives a value for each variable its
// hook takes.
func TestHooks(t *testing.T) {
	for _, name := range Names() {
		a, _ := Lookup(name)
		h, ok := a.(Hooked)
		if !ok {
			continue
		}
		for _, ev := range plan(t, name, 0, a.Params(), Env{Nodes: 3}) {
			vals := h.HookVars(ev)
			for _, v := range h.Hook().Vars {
				if _, ok := vals[v]; !ok {
					t.Errorf("%s: hook variable %s has no value", name, v)
				}
			}
			if len(vals) != len(h.Hook().Vars) {
				t.Errorf("%s: values %v for variables %v", name, vals, h.Hook().Vars)
			}
		}
	}
	if _, ok := Action(closeAction{}).(Hooked); ok {
		t.Error("close has a hook: wsstorm must be between the clients and the server to close a share")
	}
}

// TestCodeProblem: the close codes a server may send, RFC 6455 §7.4 and the
// IANA registry.
func TestCodeProblem(t *testing.T) {
	for code, sendable := range map[int]bool{
		999: false, 1000: true, 1001: true, 1003: true, 1004: false, 1005: false, 1006: false,
		1007: true, 1012: true, 1014: true, 1015: false, 1016: false, 2999: false,
		3000: true, 4999: true, 5000: false,
	} {
		if got := CodeProblem(code) == ""; got != sendable {
			t.Errorf("CodeProblem(%d) = %q, want sendable %v", code, CodeProblem(code), sendable)
		}
	}
}

// TestMissingCapability: an action on a target that lacks what it needs
// fails, saying what the target cannot do.
func TestMissingCapability(t *testing.T) {
	bare := struct{ Target }{newFakeTarget(2)}
	for name, want := range map[string]string{
		"restart": "cannot take a node down", "crash": "cannot take a node down",
		"freeze": "cannot freeze a node", "close": "cannot close connections",
	} {
		a, _ := Lookup(name)
		ev := plan(t, name, 0, a.Params(), Env{Nodes: 2})[0]
		if _, err := Carry(context.Background(), bare, ev); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s on a bare target: %v, want %q", name, err, want)
		}
	}
}
