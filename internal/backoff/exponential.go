package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Exponential is the strategy that waits min(cap, base·2^(attempt-1)):
// base, 2·base, 4·base, ... up to cap, with no jitter, so clients closed
// together stay in lockstep.
const Exponential = "exponential"

type exponential struct{ steps }

func (b exponential) Delay(attempt int, _ time.Duration, _ *rand.Rand) time.Duration {
	return b.step(attempt)
}

// The first attempt's step is base (cap ≥ base).
func (b exponential) firstBound() Bound { return Bound{Delay: b.step(1), Of: "base"} }

func (b exponential) problem() *Problem { return b.check(Exponential) }

// steps are the base and the cap that the exponential strategies share.
type steps struct{ base, limit time.Duration }

func stepsOf(p Params) steps { return steps{base: p.Base, limit: p.Cap} }

// check says what is wrong with the steps of the strategy name: they need
// 0 < base <= cap.
func (s steps) check(name string) *Problem {
	switch {
	case s.base <= 0:
		return &Problem{Strategy: name, Param: "base", Value: s.base,
			need: fmt.Sprintf(`too short: %s needs a base above 0, e.g. "1s"`, name)}
	case s.limit < s.base:
		return below(name, "cap", s.limit, "base", s.base, name+" needs cap ≥ base")
	}
	return nil
}

// step returns min(limit, base·2^(attempt-1)), with attempts below 1 counted
// as 1. It compares against limit>>n before shifting, so a large attempt
// saturates at limit instead of overflowing. It expects 0 <= base <= limit.
func (s steps) step(attempt int) time.Duration {
	n := max(attempt-1, 0)
	if n >= 63 || s.base > s.limit>>n {
		return s.limit
	}
	return s.base << n
}
