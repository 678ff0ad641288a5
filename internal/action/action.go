// Package action defines the chaos actions that a profile's [[chaos]] steps
// name (restart, rolling_restart, close, crash, freeze) as types. Each
// action is one file that owns its keys and their defaults (a parameter
// struct), its checks, the events it plans, how it acts on a target by
// composing the target's primitive capabilities, and how the simulator
// models it. A static table maps a step's action name to its Action.
//
// The package sits below internal/profile, which decodes a step's keys into
// the action's parameter struct and checks the step through the table, and
// below internal/chaos, which runs the planned events on the run's clock.
// Targets (the embedded one, the chaos proxy, the admin API's client, the
// external target's hooks) implement the capabilities declared in target.go;
// the simulator implements Sim.
package action

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Action is one kind of chaos step.
type Action interface {
	// Name is the action's name in a profile: action = "restart".
	Name() string
	// Params returns a new parameter struct of the action with every key at
	// its default: a pointer to a struct whose toml tags are the step's keys
	// besides at and action, in the order the docs list them.
	Params() Params
	// Check reports what is wrong with a step of the action. It is called
	// with the step's keys decoded (those left out at their defaults).
	Check(s Step, c Checker)
	// Plan expands a valid step into its events.
	Plan(s Step, env Env) []Event
	// Run carries out one of the action's events on a target by composing
	// the target's capabilities. It returns once the event's effects are
	// over, or when ctx ends (the target is then put back as it was).
	Run(ctx context.Context, t Target, ev Event) (Effect, error)
	// Simulate models one of the action's events in a simulation, starting
	// at the simulated now.
	Simulate(sim Sim, ev Event) error
}

// Hooked is an Action that a node of an external target can carry out
// through a hook its profile declares: a command or an HTTP request.
type Hooked interface {
	Action
	// Hook names the hook and its template variables besides {{node}} and
	// {{name}}, which every hook has.
	Hook() HookSpec
	// HookVars are the values of the hook's variables for ev.
	HookVars(ev Event) map[string]string
}

// HookSpec names an action's hook and the template variables it takes.
type HookSpec struct {
	// Name is the hook's name: "restart" is a node's own command or http
	// request; any other is the node's [target.nodes.hooks.NAME].
	Name string
	Vars []string
}

// Params is an action's parameter struct, as Action.Params returns it: the
// keys of one step.
type Params any

// Step is one [[chaos]] entry of a profile.
type Step struct {
	At     time.Duration `toml:"at"`     // when the step starts, from the run's start
	Action string        `toml:"action"` // the action's name
	Params Params        `toml:"-"`      // the action's keys: a pointer to its parameter struct
}

// HasParams reports whether p holds parameters: neither nil nor a nil
// pointer.
func HasParams(p Params) bool {
	if p == nil {
		return false
	}
	v := reflect.ValueOf(p)
	return v.Kind() != reflect.Pointer || !v.IsNil()
}

// Event is one thing a step does to the target at one time: one node's
// restart (a rolling restart is an event per node), a close, a crash, a
// freeze.
type Event struct {
	Index  int           // its place in the run's plan, in start order
	Step   int           // the [[chaos]] step it comes from
	Action string        // the step's action
	At     time.Duration // planned start, from the run's start
	Node   int           // the node it acts on; -1: every node
	// Code is the close code the event's clients observe: the code sent, or
	// 1006 when connections end without a close frame.
	Code int
	// Window is how long after its start the event may still end clients'
	// connections, as the clients observe it.
	Window time.Duration
	// Settle is how long after its start the event's effects last.
	Settle time.Duration
	// Spread is how long the target takes, by plan, to end the event's
	// connections: a restart's drain; 0 when it ends them at once.
	Spread time.Duration
	Seed   uint64 // picks connections, so a run is reproducible
	Params Params // the event's keys, of the action's own type
}

// Effect is what the target says an event did.
type Effect struct {
	// Closed is how many connections the target ended; -1 when it cannot
	// know (a hook) or when the clients end them themselves (a freeze).
	Closed int
	// Frozen is how many connections a freeze held.
	Frozen int
}

// Env is what planning a step needs to know of the profile.
type Env struct {
	Step  int    // the step's index
	Nodes int    // the target's nodes
	Seed  uint64 // the step's seed, for picking connections
	// HookWindow is, for an external target, how long after a node's hook
	// starts the node's clients may be closed by it (a rollout outlasts the
	// command that starts it); nil for other targets.
	HookWindow func(node int, hook string) time.Duration
}

// hookWindow is env's hook window of node, or 0.
func (env Env) hookWindow(node int, hook string) time.Duration {
	if env.HookWindow == nil {
		return 0
	}
	return env.HookWindow(node, hook)
}

// Checker is where a step's checks report, and what they know of the rest
// of the profile. Keys are the step's own, dotted below it ("nodes.1").
type Checker interface {
	// Given says whether the profile wrote the step's key rather than
	// leaving it at its default.
	Given(key string) bool
	// Bad reports a problem with the step's key; "" is the step itself.
	Bad(key, format string, args ...any)
	// BadAt reports a problem with key at the line of where.
	BadAt(key, where, format string, args ...any)
	// Default is " (the default)" when the step left key out, else "".
	Default(key string) string
	// Profile is what the checks know of the rest of the profile.
	Profile() Facts
}

// Facts are what a step's checks know of the rest of the profile. A fact
// whose own key failed its check is zero.
type Facts struct {
	Nodes    int  // target.nodes; 0 when out of range
	External bool // the target is external: nodes act through hooks
	Pings    bool // the clients ping (fleet.ping_interval above 0)
	// PongTimeout is how long a client's ping waits for its pong (0 when
	// the clients do not ping).
	PongTimeout time.Duration
}

// table is the static table of actions, in the order the docs and messages
// list them: a new action is one file and one line here. A function rather
// than a variable, so that no package state exists to be changed.
func table() []Action {
	return []Action{
		rollingRestart{},
		restart{},
		closeAction{},
		crash{},
		freeze{},
	}
}

// Lookup returns the action named name.
func Lookup(name string) (Action, bool) {
	for _, a := range table() {
		if a.Name() == name {
			return a, true
		}
	}
	return nil, false
}

// Names lists the actions' names in table order.
func Names() []string {
	actions := table()
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = a.Name()
	}
	return out
}

// Keys lists the keys a step of a takes: at, action, then its own.
func Keys(a Action) []string {
	return append([]string{"at", "action"}, KeysOf(a.Params())...)
}

// KeysOf lists the toml keys of a struct (or a pointer to one), in field
// order: an action's parameter struct, or any table of a profile.
func KeysOf(v any) []string {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		if name := TOMLName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// TOMLName is the key of a struct field: its toml tag's name, or "" for a
// field that is not a key.
func TOMLName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

// Carry carries out ev on t: through t's hook when t runs whole actions
// (an external target), else by the action's own composition of t's
// capabilities.
func Carry(ctx context.Context, t Target, ev Event) (Effect, error) {
	a, ok := Lookup(ev.Action)
	if !ok {
		return Effect{Closed: -1}, fmt.Errorf("unknown action %q", ev.Action)
	}
	if hr, ok := t.(HookRunner); ok {
		h, ok := a.(Hooked)
		if !ok {
			return Effect{Closed: -1}, fmt.Errorf("a %s cannot run through a hook", a.Name())
		}
		return Effect{Closed: -1}, hr.RunHook(ctx, ev, h.Hook().Name, h.HookVars(ev))
	}
	return a.Run(ctx, t, ev)
}

// params returns ev's parameters as the type its action planned.
func params[P any](ev Event) (*P, error) {
	p, ok := ev.Params.(*P)
	if !ok || p == nil {
		var zero P
		return nil, fmt.Errorf("a %s event carries %T, not %T", ev.Action, ev.Params, &zero)
	}
	return p, nil
}
