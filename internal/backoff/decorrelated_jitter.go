package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// DecorrelatedJitter is the strategy that waits min(cap, U(base, 3·sleep)),
// where sleep is the previous delay and is base before the first attempt:
// the blog's sleep = min(cap, random_between(base, sleep * 3)) with sleep
// starting at base (see full_jitter.go for the source). The next delay
// depends on the previous one, not on the attempt number; the cap applies
// after the draw, so draws above it land on cap exactly. A prev below base
// (0 before the first attempt), or any prev at attempt 1, counts as base.
const DecorrelatedJitter = "decorrelated_jitter"

type decorrelatedJitter struct{ steps }

func (b decorrelatedJitter) Delay(attempt int, prev time.Duration, rng *rand.Rand) time.Duration {
	last := prev // the blog's sleep
	if attempt <= 1 || last < b.base {
		last = b.base
	}
	// 3·last saturates at MaxInt64 (292 years) instead of overflowing; only
	// a prev above 97 years sees the difference.
	hi := time.Duration(math.MaxInt64)
	if last <= math.MaxInt64/3 {
		hi = 3 * last
	}
	return min(b.limit, uniform(rng, b.base, hi))
}

func (b decorrelatedJitter) problem() *Problem { return b.check(DecorrelatedJitter) }

// The first draw is uniform in [base, 3·base], then capped.
func (b decorrelatedJitter) firstBound() Bound {
	if b.base > b.limit/3 {
		return Bound{Delay: b.limit, Of: "cap"}
	}
	return Bound{Delay: 3 * b.base, Of: "3 × base"}
}
