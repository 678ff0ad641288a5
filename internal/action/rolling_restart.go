package action

import (
	"context"
	"strconv"
	"time"
)

// rollingRestart restarts nodes one batch after another, as a rolling
// deploy does: each node's restart is a restart (an event of its own), and
// the batches start an interval apart.
type rollingRestart struct{}

// RollingRestartParams are the keys of a rolling_restart step.
type RollingRestartParams struct {
	Nodes    []int         `toml:"nodes"`    // which nodes, in order (default: all)
	Batch    int           `toml:"batch"`    // nodes restarted together
	Interval time.Duration `toml:"interval"` // between the starts of two batches
	Drain    time.Duration `toml:"drain"`
	Downtime time.Duration `toml:"downtime"`
	Code     int           `toml:"code"`
	Reason   string        `toml:"reason"`
}

func (rollingRestart) Name() string { return "rolling_restart" }

func (rollingRestart) Params() Params {
	return &RollingRestartParams{Batch: 1, Interval: 10 * time.Second, Downtime: 2 * time.Second, Code: 1012}
}

func (rollingRestart) Check(s Step, c Checker) {
	p := s.Params.(*RollingRestartParams)
	n := c.Profile().Nodes
	if c.Given("nodes") && len(p.Nodes) == 0 {
		c.Bad("nodes", "is empty: list the nodes to restart in order, e.g. [0, 2], or remove the key to restart every node")
	}
	listed := map[int]bool{}
	for j, node := range p.Nodes {
		at := "nodes." + strconv.Itoa(j)
		switch {
		case n > 0 && (node < 0 || node >= n):
			c.BadAt(at, "nodes", "node %d is out of range: the target has %s%s", node, NodeCount(n), IndexRange(n))
		case listed[node]:
			c.BadAt(at, "nodes", "node %d is listed twice: restart each node once per step", node)
		}
		listed[node] = true
	}
	count := len(p.Nodes)
	if count == 0 {
		count = n
	}
	if n > 0 && (p.Batch < 1 || p.Batch > count) {
		c.Bad("batch", "%d is out of range: use 1 to %d, the number of nodes this step restarts", p.Batch, count)
	}
	notNegative(c, "drain", p.Drain)
	notNegative(c, "downtime", p.Downtime)
	batches := 1
	if p.Batch >= 1 {
		batches = (count + p.Batch - 1) / p.Batch
	}
	switch gap := p.Drain + p.Downtime; {
	case p.Interval <= 0:
		c.Bad("interval", `%v is too short: use the time between batches, above 0, e.g. "10s"`, p.Interval)
	case batches > 1 && p.Interval < gap:
		c.Bad("interval", "%v%s is shorter than drain + downtime (%v): a batch would go down before the one before it is back; use %v or more",
			p.Interval, c.Default("interval"), gap, gap)
	}
	checkCode(c, p.Code)
	checkReason(c, p.Reason)
}

// batches returns the node batches p restarts, in order, on a target of
// nodes nodes.
func (p *RollingRestartParams) batches(nodes int) [][]int {
	order := p.Nodes
	if len(order) == 0 {
		order = make([]int, nodes)
		for i := range order {
			order[i] = i
		}
	}
	batch := max(p.Batch, 1)
	var out [][]int
	for i := 0; i < len(order); i += batch {
		out = append(out, order[i:min(i+batch, len(order))])
	}
	return out
}

func (rollingRestart) Plan(s Step, env Env) []Event {
	p := s.Params.(*RollingRestartParams)
	node := RestartParams{Drain: p.Drain, Downtime: p.Downtime, Code: p.Code, Reason: p.Reason}
	var out []Event
	for bi, batch := range p.batches(env.Nodes) {
		at := s.At + time.Duration(bi)*p.Interval
		for _, n := range batch {
			out = append(out, restartEvent(s, env, at, n, node))
		}
	}
	return out
}

func (rollingRestart) Run(ctx context.Context, t Target, ev Event) (Effect, error) {
	return runRestart(ctx, t, ev)
}

func (rollingRestart) Simulate(sim Sim, ev Event) error { return simRestart(sim, ev) }

func (rollingRestart) Hook() HookSpec { return restartHook() }

func (rollingRestart) HookVars(ev Event) map[string]string { return restartVars(ev) }
