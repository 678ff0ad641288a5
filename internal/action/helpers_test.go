package action

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTarget records the capabilities an action calls on it, with when.
type fakeTarget struct {
	start time.Time
	nodes int
	open  int // connections each End ends, each Freeze holds
	// stuck makes Refuse and Freeze wait for their context's end and
	// fail with it: a target in another process that does not answer.
	stuck bool

	mu          sync.Mutex
	calls       []string
	thawedAfter time.Duration // from start to the last Thaw
}

func newFakeTarget(nodes int) *fakeTarget {
	return &fakeTarget{start: time.Now(), nodes: nodes, open: 3}
}

func (f *fakeTarget) Nodes() int { return f.nodes }

func (f *fakeTarget) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeTarget) Refuse(ctx context.Context, node int, e Ending, back time.Time) error {
	f.record("refuse %d %s back+%v", node, ending(e), back.Sub(f.start).Round(100*time.Millisecond))
	return f.answer(ctx)
}

// answer is nil, or when f is stuck, ctx's error once it ends.
func (f *fakeTarget) answer(ctx context.Context) error {
	if !f.stuck {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeTarget) Accept(ctx context.Context, node int) (int, error) {
	f.record("accept %d", node)
	return 1, nil
}

func (f *fakeTarget) End(ctx context.Context, p Pick, e Ending, spread time.Duration) (int, error) {
	f.record("end %+v %s over %v", p, ending(e), spread)
	return f.open, nil
}

func (f *fakeTarget) Freeze(ctx context.Context, node int, back time.Time) (int, error) {
	f.record("freeze %d", node)
	if err := f.answer(ctx); err != nil {
		return 0, err
	}
	return f.open, nil
}

func (f *fakeTarget) Thaw(ctx context.Context, node int) error {
	f.record("thaw %d", node)
	f.mu.Lock()
	f.thawedAfter = time.Since(f.start)
	f.mu.Unlock()
	return nil
}

func ending(e Ending) string {
	if e.Drop {
		return "drop"
	}
	return fmt.Sprintf("%d %q", e.Code, e.Reason)
}

func (f *fakeTarget) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "\n")
}

// fakeSim records what an action's Simulate does, on a clock that After
// advances.
type fakeSim struct {
	nodes int
	now   time.Duration
	calls []string
	later []func()
}

func (s *fakeSim) Nodes() int { return s.nodes }

func (s *fakeSim) End(p Pick, e Ending, spread time.Duration) {
	s.calls = append(s.calls, fmt.Sprintf("%v end %+v %s over %v", s.now, p, ending(e), spread))
}

func (s *fakeSim) Refuse(node int) error {
	s.calls = append(s.calls, fmt.Sprintf("%v refuse %d", s.now, node))
	return nil
}

func (s *fakeSim) Accept(node int) {
	s.calls = append(s.calls, fmt.Sprintf("%v accept %d", s.now, node))
}

func (s *fakeSim) Freeze(node int) error {
	s.calls = append(s.calls, fmt.Sprintf("%v freeze %d", s.now, node))
	return nil
}

func (s *fakeSim) Thaw(node int) { s.calls = append(s.calls, fmt.Sprintf("%v thaw %d", s.now, node)) }

func (s *fakeSim) After(d time.Duration, f func()) {
	s.later = append(s.later, func() { s.now += d; f() })
}

// run runs what After scheduled, in order.
func (s *fakeSim) run() string {
	for len(s.later) > 0 {
		f := s.later[0]
		s.later = s.later[1:]
		f()
	}
	return strings.Join(s.calls, "\n")
}

// plan plans one step of the action named name with p's keys.
func plan(t *testing.T, name string, at time.Duration, p Params, env Env) []Event {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("no action %q", name)
	}
	return a.Plan(Step{At: at, Action: name, Params: p}, env)
}

// checker is an action.Checker that records what a step's checks report.
type checker struct {
	facts Facts
	given map[string]bool
	bad   []string
}

func (c *checker) Given(key string) bool { return c.given[key] }
func (c *checker) Bad(key, format string, args ...any) {
	c.bad = append(c.bad, key+": "+fmt.Sprintf(format, args...))
}
func (c *checker) BadAt(key, where, format string, args ...any) { c.Bad(key, format, args...) }
func (c *checker) Default(key string) string {
	if c.given[key] {
		return ""
	}
	return " (the default)"
}
func (c *checker) Profile() Facts { return c.facts }

// check checks a step of action name with p's keys against facts.
func check(t *testing.T, name string, p Params, facts Facts) []string {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("no action %q", name)
	}
	c := &checker{facts: facts, given: map[string]bool{}}
	a.Check(Step{Action: name, Params: p}, c)
	return c.bad
}
