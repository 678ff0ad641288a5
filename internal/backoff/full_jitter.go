package backoff

import (
	"math/rand/v2"
	"time"
)

// The jittered strategies follow Marc Brooker, "Exponential Backoff and
// Jitter" (AWS Architecture Blog, 2015). The blog's attempt counts from 0;
// ours counts from 1, so its base·2^attempt is our base·2^(attempt-1) and the
// first attempt draws against base. U(a, b) is a uniform draw in whole
// nanoseconds with both ends included.

// FullJitter is the strategy that waits U(0, t), t = min(cap,
// base·2^(attempt-1)): the mean is t/2.
const FullJitter = "full_jitter"

type fullJitter struct{ steps }

func (b fullJitter) Delay(attempt int, _ time.Duration, rng *rand.Rand) time.Duration {
	return uniform(rng, 0, b.step(attempt))
}

// The first attempt's step is base (cap ≥ base).
func (b fullJitter) firstBound() Bound { return Bound{Delay: b.step(1), Of: "base"} }

func (b fullJitter) problem() *Problem { return b.check(FullJitter) }
