package backoff

import (
	"math/rand/v2"
	"time"
)

// EqualJitter is the strategy that waits t/2 + U(0, t/2), t = min(cap,
// base·2^(attempt-1)) (see full_jitter.go for the source): never less than
// half the exponential step, the mean is 3t/4. For an odd t in nanoseconds
// the fixed half is rounded up, so the delay never exceeds t.
const EqualJitter = "equal_jitter"

type equalJitter struct{ steps }

func (b equalJitter) Delay(attempt int, _ time.Duration, rng *rand.Rand) time.Duration {
	t := b.step(attempt)
	half := t / 2
	return t - half + uniform(rng, 0, half)
}

// The first attempt's step is base (cap ≥ base).
func (b equalJitter) firstBound() Bound { return Bound{Delay: b.step(1), Of: "base"} }

func (b equalJitter) problem() *Problem { return b.check(EqualJitter) }
