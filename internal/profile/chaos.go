package profile

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// chaos checks the [[chaos]] steps: each one through its action, then their
// timing across steps.
func (c *checker) chaos() {
	p := c.p
	if p.Target.Mode == ModeExternal && len(p.Chaos) > 0 && len(p.Target.NodeHooks) == 0 {
		msg := `an external target's nodes need restart hooks for [[chaos]] steps: add a [[target.nodes]] table per node with its command or http request, or watch restarts you run yourself with [detect] enabled = true and no steps`
		if src, ok := c.d.seen[keyString([]string{"target", "mode"})]; ok && src.set {
			msg += " (on the command line: --set chaos=[])"
		}
		c.bad([]string{"chaos"}, "%s", msg)
		return
	}
	var spans []span
	for i := range p.Chaos {
		if sp, ok := c.step(i); ok {
			spans = append(spans, sp)
		}
	}
	c.overlaps(spans)
}

// span is the time a step holds nodes: from its first event's start until
// its last event's effects are over.
type span struct {
	step       int
	action     string
	restart    bool // a restart or rolling_restart
	start, end time.Duration
}

// step checks step i, and returns its span when it is sound and holds
// nodes (a close holds none: it is over as it starts).
func (c *checker) step(i int) (span, bool) {
	before := len(c.d.errs)
	s := c.p.Chaos[i]
	key := func(name ...string) []string { return stepKey(i, name...) }
	if !c.d.given(key("at")...) {
		c.badAt(key("at"), key(), `missing: write when the step starts, e.g. at = "10s"`)
	}
	if !c.d.given(key("action")...) {
		c.badAt(key("action"), key(), `missing: write action = %s`, actionList())
		return span{}, false
	}
	a, ok := action.Lookup(s.Action)
	if !ok {
		c.bad(key("action"), "%q is not an action: use %s%s", s.Action, actionList(), didYouMean(s.Action, action.Names()))
		return span{}, false
	}
	c.foreignKeys(i, a)
	switch at := s.At; {
	case at < 0:
		c.bad(key("at"), "%v is negative: use 0s or more", at)
	case c.durationOK() && at >= c.p.Duration.D():
		c.bad(key("at"), "%v is not before the end of the run (duration %v): start the step earlier or lengthen duration", at, c.p.Duration.D())
	}
	c.stepParams(i, a)
	a.Check(c.p.Chaos[i], stepChecker{c: c, step: i})

	// Planning needs a sound step; timing across steps a sound run too.
	if len(c.d.errs) > before || c.failedUnder(key()) || !c.nodesOK() {
		return span{}, false
	}
	events := a.Plan(c.p.Chaos[i], action.Env{Step: i, Nodes: c.p.Target.Nodes})
	if !c.stepHooks(i, a, events) || !c.durationOK() {
		return span{}, false
	}
	return c.stepSpan(i, a, events)
}

// stepHooks reports whether the nodes step i's events act on have the
// hook of its action a, when the target is external, and says what to add
// when one has not.
func (c *checker) stepHooks(i int, a action.Action, events []action.Event) bool {
	h, hooked := a.(action.Hooked)
	if !hooked || c.p.Target.Mode != ModeExternal {
		return true
	}
	for _, ev := range events {
		if ev.Node >= 0 && !c.hasHook(i, ev.Node, h.Hook().Name) {
			return false
		}
	}
	return true
}

// foreignKeys reports the keys step i was given that belong to another
// action than its own, a.
func (c *checker) foreignKeys(i int, a action.Action) {
	keys := action.Keys(a)
	var missing []string // keys of the action the step leaves out, for suggestions
	for _, name := range keys {
		if !c.d.given(stepKey(i, name)...) {
			missing = append(missing, name)
		}
	}
	kept := c.d.steps[keyString(stepKey(i))]
	all := allStepKeys()
	for _, name := range c.d.keptKeys(stepKey(i), kept) {
		if !slices.Contains(keys, name) && slices.Contains(all, name) {
			c.bad(stepKey(i, name), "does not apply to a %s step: remove it%s; a %s takes %s",
				a.Name(), didYouMean(name, missing), a.Name(), andList(keys))
		}
	}
}

// stepSpan returns the span of sound step i of action a, whose events are
// events, when it holds nodes.
func (c *checker) stepSpan(i int, a action.Action, events []action.Event) (span, bool) {
	p := c.p
	h, hooked := a.(action.Hooked)
	sp := span{step: i, action: a.Name(), restart: hooked && h.Hook().Name == RestartHook, start: -1}
	for _, ev := range events {
		if ev.Node < 0 {
			continue
		}
		if sp.start < 0 || ev.At < sp.start {
			sp.start = ev.At
		}
		sp.end = max(sp.end, ev.At+ev.Settle)
	}
	if sp.start < 0 {
		return span{}, false
	}
	if sp.end > p.Duration.D() {
		c.bad(stepKey(i), "ends at %v, after the run's duration %v: start it earlier, make it shorter, or lengthen duration", sp.end, p.Duration.D())
		return span{}, false
	}
	return sp, true
}

// hasHook reports whether node of an external target has the hook of the
// name that step i needs, and says what to add when it has not.
func (c *checker) hasHook(i, node int, name string) bool {
	hooks := c.p.Target.NodeHooks
	if node < 0 || node >= len(hooks) {
		return true // the step's own check reported the node
	}
	if _, ok := hooks[node].Hook(name); ok {
		return true
	}
	n := strconv.Itoa(node)
	if name == RestartHook {
		c.bad(stepKey(i, "action"), "node %d (%s) has no restart hook: give target.nodes.%s a command or an http request", node, hooks[node].Name, n)
		return false
	}
	c.bad(stepKey(i, "action"), `node %d (%s) has no %s hook: add [target.nodes.hooks.%s] with a command or an http request to target.nodes.%s, or run the step with mode = "embedded" or "proxy"`,
		node, hooks[node].Name, name, name, n)
	return false
}

// overlaps reports steps that hold nodes at the same time: the herd of one
// would hide in the other's.
func (c *checker) overlaps(spans []span) {
	slices.SortStableFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		if cur.start < prev.end {
			what := "restarts"
			if !prev.restart || !cur.restart {
				what = "steps that act on nodes"
			}
			c.bad(stepKey(cur.step, "at"),
				"%v overlaps chaos.%d (a %s from %v until %v): %s must not overlap; start this step at %v or later",
				cur.start, prev.step, prev.action, prev.start, prev.end, what, prev.end)
			if cur.end < prev.end { // keep the later end for the next comparison
				spans[i] = prev
			}
		}
	}
}
