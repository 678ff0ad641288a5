// Package backoff holds the reconnect strategies: their names, the checks of
// their parameters and the delays they give. Each strategy is one file; a
// static table maps the name a profile uses (fleet.reconnect.strategy) to
// it. The profile checks a profile's parameters here and the fleet (and so
// the simulator) draws its delays here, so the two cannot disagree.
package backoff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Backoff maps a reconnect attempt to the delay before it. Implementations are
// pure: the same inputs and rng state give the same delay, so a run replays
// from its seed.
type Backoff interface {
	// Delay returns the wait before attempt (1 = the first attempt after a
	// close or a failure). prev is the delay Delay returned for the previous
	// attempt, 0 before the first. The result is never negative.
	Delay(attempt int, prev time.Duration, rng *rand.Rand) time.Duration
}

// Params are the durations a strategy is configured with, named as
// fleet.reconnect names them; each strategy reads only its own.
type Params struct {
	Min, Max  time.Duration // window: the delay is uniform in [Min, Max]
	Base, Cap time.Duration // constant: the delay is Base; exponential and jitter: the first step and the largest
}

// strategy is a strategy configured with its Params: a Backoff that can say
// what is wrong with the Params it was configured with.
type strategy interface {
	Backoff
	// problem returns what is wrong with the parameters, or nil.
	problem() *Problem
	// firstBound is the longest delay before the first attempt after a
	// close (Delay(1, 0, ...)), and the parameter it comes from.
	firstBound() Bound
}

// entry is one row of the strategies table: a name and how to configure
// the strategy.
type entry struct {
	name      string
	configure func(Params) strategy
}

// strategies is the static table of strategies, in the order the docs give
// them: a new strategy is one file and one row here. A function rather than
// a variable, so that no package state exists to be changed.
func strategies() []entry {
	return []entry{
		{None, func(Params) strategy { return none{} }},
		{Constant, func(p Params) strategy { return constant{delay: p.Base} }},
		{Window, func(p Params) strategy { return window{lo: p.Min, hi: p.Max} }},
		{Exponential, func(p Params) strategy { return exponential{stepsOf(p)} }},
		{FullJitter, func(p Params) strategy { return fullJitter{stepsOf(p)} }},
		{EqualJitter, func(p Params) strategy { return equalJitter{stepsOf(p)} }},
		{DecorrelatedJitter, func(p Params) strategy { return decorrelatedJitter{stepsOf(p)} }},
	}
}

// Names returns the names of the strategies, in a fixed order: the order the
// docs give them.
func Names() []string {
	all := strategies()
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.name
	}
	return out
}

// Known reports whether name is a strategy's name.
func Known(name string) bool {
	_, ok := configure(name, Params{})
	return ok
}

// configure returns the strategy name configured with p, and false when no
// strategy has that name.
func configure(name string, p Params) (strategy, bool) {
	for _, s := range strategies() {
		if s.name == name {
			return s.configure(p), true
		}
	}
	return nil, false
}

// Check returns what is wrong with p for the strategy name, or nil; nil as
// well when name is no strategy's (see Known).
func Check(name string, p Params) *Problem {
	s, ok := configure(name, p)
	if !ok {
		return nil
	}
	return s.problem()
}

// New returns the Backoff of the strategy name configured with p. The error
// says that the strategy is unknown, or is the *Problem with p.
func New(name string, p Params) (Backoff, error) {
	s, ok := configure(name, p)
	if !ok {
		return nil, fmt.Errorf("reconnect strategy %q is unknown: want one of %s", name, strings.Join(Names(), ", "))
	}
	if pr := s.problem(); pr != nil {
		return nil, pr
	}
	return s, nil
}

// Bound is the longest delay a strategy gives before the first attempt
// after a close, and where it comes from.
type Bound struct {
	Delay time.Duration
	// Of says which parameter sets it, as fleet.reconnect names it: "max",
	// "base", "3 × base", "cap"; "" for a strategy with no delay.
	Of string
}

// FirstBound returns the longest delay the strategy name, configured with
// p, waits before the first attempt after a close: how long a closed
// client may stay away before it even tries. false when name is no
// strategy's.
func FirstBound(name string, p Params) (Bound, bool) {
	s, ok := configure(name, p)
	if !ok {
		return Bound{}, false
	}
	return s.firstBound(), true
}

// Problem is what is wrong with one parameter of a strategy.
type Problem struct {
	Strategy string        // the strategy's name
	Param    string        // the parameter at fault: "min", "max", "base" or "cap"
	Value    time.Duration // its value
	// Floor names the parameter that Param may not be below ("min" for a
	// window's max, "base" for a cap), or is "" when Value is wrong on its
	// own.
	Floor      string
	FloorValue time.Duration
	need       string // what the strategy needs, in words
}

// negative is the problem of a parameter that must not be negative.
func negative(strategy, param string, v time.Duration) *Problem {
	return &Problem{Strategy: strategy, Param: param, Value: v, need: "negative: use 0s or more"}
}

// below is the problem of a parameter below the one it may not be below.
func below(strategy, param string, v time.Duration, floor string, fv time.Duration, need string) *Problem {
	return &Problem{Strategy: strategy, Param: param, Value: v, Floor: floor, FloorValue: fv, need: need}
}

// Message says what is wrong, for a profile's reader, without naming the
// parameter (the caller names it, with the profile's key). note, if not
// nil, returns what to write after a parameter's value, e.g. that the value
// is the default.
func (p *Problem) Message(note func(param string) string) string {
	if note == nil {
		note = func(string) string { return "" }
	}
	if p.Floor == "" {
		return fmt.Sprintf("%v is %s", p.Value, p.need)
	}
	return fmt.Sprintf("%v%s is below %s %v%s: %s", p.Value, note(p.Param), p.Floor, p.FloorValue, note(p.Floor), p.need)
}

// Error names the strategy and the parameter and says what is wrong.
func (p *Problem) Error() string {
	return fmt.Sprintf("reconnect strategy %s: %s %s", p.Strategy, p.Param, p.Message(nil))
}

// FirstDelay returns the extra random delay before the first reconnect
// attempt after a close, uniform in [0, maxDelay], so that clients closed
// together do not dial together (RFC 6455 §7.2.3). It is 0 when maxDelay <= 0.
func FirstDelay(maxDelay time.Duration, rng *rand.Rand) time.Duration {
	if maxDelay <= 0 {
		return 0
	}
	return uniform(rng, 0, maxDelay)
}

// uniform returns a duration uniform in [lo, hi], both ends included, drawn in
// whole nanoseconds; lo when hi <= lo. It expects 0 <= lo.
func uniform(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	// hi-lo+1 is at most 2^63, which fits a uint64 but not an int64.
	return lo + time.Duration(rng.Uint64N(uint64(hi-lo)+1))
}
